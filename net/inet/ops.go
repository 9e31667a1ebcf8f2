package inet

import (
	"net/netip"
	"time"

	"gomenuos/fs"
	"gomenuos/sched"
)

// protoOps is what one socket type does differently (Linux: struct
// proto_ops — inet_stream_ops for TCP, inet_dgram_ops for UDP,
// unix_stream_ops for socketpair's AF_UNIX streams — with the
// protocol's own entries of struct proto folded in where Linux's
// inet_sendmsg and inet_recvmsg call sk->sk_prot). Socket's exported
// methods call through it, so the system-call layer calls the same
// methods on any socket.
type protoOps struct {
	family     int
	typ        int
	connect    func(s *Socket, t *sched.Task, dst netip.AddrPort) error
	listen     func(s *Socket, backlog int) error
	accept     func(s *Socket, t *sched.Task, dontWait bool) (*Socket, error)
	poll       func(s *Socket) fs.PollMask
	sendmsg    func(s *Socket, t *sched.Task, b []byte, to netip.AddrPort, flags int) (int, error)
	recvmsg    func(s *Socket, t *sched.Task, b []byte, flags int) (int, netip.AddrPort, int, error)
	release    func(s *Socket, t *sched.Task) error
	setsockopt func(s *Socket, level, name, v int) error
	getsockopt func(s *Socket, level, name int) (int, error)
}

// The tables are filled in by init: inet_accept's new socket refers
// back to inetStreamOps, a cycle Go's initialisation order refuses.
var inetStreamOps, inetDgramOps, unixStreamOps protoOps

func init() {
	// inetStreamOps: SOCK_STREAM over TCP (Linux: inet_stream_ops + tcp_prot).
	inetStreamOps = protoOps{
		family:     AFInet,
		typ:        SockStream,
		connect:    (*Socket).inetStreamConnect,
		listen:     (*Socket).inetListen,
		accept:     (*Socket).inetAccept,
		poll:       (*Socket).tcpPoll,
		sendmsg:    (*Socket).tcpSendmsg,
		recvmsg:    (*Socket).tcpRecvmsg,
		release:    (*Socket).tcpClose,
		setsockopt: (*Socket).tcpSetsockopt,
		getsockopt: (*Socket).tcpGetsockopt,
	}

	// inetDgramOps: SOCK_DGRAM over UDP (Linux: inet_dgram_ops + udp_prot).
	inetDgramOps = protoOps{
		family:     AFInet,
		typ:        SockDgram,
		connect:    (*Socket).inetDgramConnect,
		listen:     (*Socket).sockNoListen,
		accept:     (*Socket).sockNoAccept,
		poll:       (*Socket).udpPoll,
		sendmsg:    (*Socket).udpSendmsg,
		recvmsg:    (*Socket).udpRecvmsg,
		release:    (*Socket).udpLibClose,
		setsockopt: (*Socket).udpSetsockopt,
		getsockopt: (*Socket).udpGetsockopt,
	}
	// unixStreamOps: AF_UNIX SOCK_STREAM pairs (Linux: unix_stream_ops).
	unixStreamOps = protoOps{
		family:     AFUnix,
		typ:        SockStream,
		connect:    (*Socket).unixStreamConnect,
		listen:     (*Socket).unixListen,
		accept:     (*Socket).unixAccept,
		poll:       (*Socket).unixPoll,
		sendmsg:    (*Socket).unixStreamSendmsg,
		recvmsg:    (*Socket).unixStreamRecvmsg,
		release:    (*Socket).unixRelease,
		setsockopt: (*Socket).unixSetsockopt,
		getsockopt: (*Socket).unixGetsockopt,
	}
}

// sock is what the socket layer asks of any protocol sock, the calls
// Linux's inet_bind, inet_getname and inet_shutdown make through
// sk->sk_prot; *tcp.Sock and *udp.Sock both answer them.
type sock interface {
	Bind(a netip.AddrPort) error
	LocalAddr() netip.AddrPort
	RemoteAddr() (netip.AddrPort, error)
	Shutdown(how int) error
	SetLinger(on bool, d time.Duration)
	Linger() (bool, time.Duration)
}
