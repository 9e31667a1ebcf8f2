package inet

import (
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/fs/sockfs"
	"gomenuos/net/tcp"
	"gomenuos/net/udp"
	"gomenuos/net/unix"
	"gomenuos/sched"
)

// Socket is a BSD socket (Linux: struct socket): its type's operations,
// the protocol sock, the wait queue its sleepers use, the file-level
// flags and its inode.
//
// Lock contract: net, ops, sk, dsk, prot and inode are set at creation and
// never change; the file-level flags are atomics, since one task may fcntl
// a socket another is blocked on; the socks have their protocols' locks.
type Socket struct {
	net      *Net
	ops      *protoOps  // inetStreamOps or inetDgramOps (Linux: sock->ops)
	sk       *tcp.Sock  // a stream socket's TCP sock, else nil
	dsk      *udp.Sock  // a datagram socket's UDP sock, else nil
	usk      *unix.Sock // an AF_UNIX stream socket's end of its pair, else nil
	prot     sock       // the address calls of whichever is set (Linux: sock->sk)
	wq       sched.WaitQueue
	nonblock atomic.Bool
	rcvTimeo atomic.Int64 // time.Duration
	sndTimeo atomic.Int64 // time.Duration
	inode    *fs.Inode    // sockfs inode, allocated with the socket
}

// Errors of the socket layer itself.
var (
	ErrAFNoSupport    = syscall.EAFNOSUPPORT
	ErrProtoNoSupport = syscall.EPROTONOSUPPORT
	ErrSockTNoSupport = syscall.ESOCKTNOSUPPORT
	ErrAgain          = tcp.ErrWouldBlock
)

// Socket creates a socket (Linux: sock_create).
// A gdb lab breakpoint: kept out of line so `tcp-lab-trace` stops here.
//
//go:noinline
func (n *Net) Socket(family, typ, proto int) (*Socket, error) {
	return n.sockCreate(family, typ, proto)
}

// sockCreate allocates the socket with its inode and lets the family's
// create function pick the protocol (Linux: __sock_create → sock_alloc +
// inet_create).
func (n *Net) sockCreate(family, typ, proto int) (*Socket, error) {
	if family != AFInet {
		return nil, ErrAFNoSupport
	}
	s := n.sockAlloc()
	if err := n.inetCreate(s, typ, proto); err != nil {
		return nil, err
	}
	return s, nil
}

// sockAlloc allocates a socket together with its sockfs inode (Linux:
// sock_alloc, where struct socket_alloc holds both).
func (n *Net) sockAlloc() *Socket {
	s := &Socket{net: n}
	s.inode = sockfs.NewInode(s)
	return s
}

// MapFd installs a descriptor for the socket in t's file table and
// returns it; read, write, poll and the last close then reach the socket
// (Linux: sock_map_fd).
func (s *Socket) MapFd(t *sched.Task, flags int) (int, error) { return s.sockMapFd(t, flags) }

// sockMapFd: Linux sock_map_fd = sock_alloc_file + fd_install.
func (s *Socket) sockMapFd(t *sched.Task, flags int) (int, error) {
	if flags&fs.O_NONBLOCK != 0 {
		s.nonblock.Store(true)
	}
	return sockfs.MapFd(t, s.inode, flags)
}

// inetCreate is the protocol switch (Linux: inet_create walking inetsw):
// SOCK_STREAM with protocol 0 or IPPROTO_TCP gets TCP, SOCK_DGRAM with 0
// or IPPROTO_UDP gets UDP. Another type is ESOCKTNOSUPPORT, another
// protocol for a known type EPROTONOSUPPORT.
func (n *Net) inetCreate(s *Socket, typ, proto int) error {
	switch {
	case typ == SockStream && (proto == IPProtoIP || proto == IPProtoTCP):
		s.attach(n.tcp.NewSock())
	case typ == SockDgram && n.udp != nil && (proto == IPProtoIP || proto == IPProtoUDP):
		s.attachDgram(n.udp.NewSock())
	case typ == SockStream || typ == SockDgram && n.udp != nil:
		return ErrProtoNoSupport
	default:
		return ErrSockTNoSupport
	}
	return nil
}

// attach binds a TCP sock to this socket: its wake-ups go to our queue
// (Linux: sock_init_data sets sk_wq and sk_data_ready).
func (s *Socket) attach(sk *tcp.Sock) {
	s.ops, s.sk, s.prot = &inetStreamOps, sk, sk
	sk.SetWake(s.wq.WakeUpInterruptible)
	sk.SetInode(s.inode.Ino, 0)
}

// attachDgram binds a UDP sock to this socket, as attach does for TCP.
func (s *Socket) attachDgram(sk *udp.Sock) {
	s.ops, s.dsk, s.prot = &inetDgramOps, sk, sk
	sk.SetWake(s.wq.WakeUpInterruptible)
	sk.SetInode(s.inode.Ino, 0)
}

// Ino is the socket's inode number (shown in /proc/net/tcp and udp).
func (s *Socket) Ino() uint64 { return s.inode.Ino }

// Inode returns the socket's sockfs inode.
func (s *Socket) Inode() *fs.Inode { return s.inode }

// Sock returns the TCP sock underneath; nil for a datagram socket.
func (s *Socket) Sock() *tcp.Sock { return s.sk }

// SetNonblock sets O_NONBLOCK.
func (s *Socket) SetNonblock(on bool) { s.nonblock.Store(on) }

// wait sleeps until cond holds: ErrAgain for non-blocking sockets or an
// expired timeout, sched.ErrRestartSys when t is interrupted (Linux:
// sk_wait_event with sock_rcvtimeo/sock_sndtimeo).
func (s *Socket) wait(t *sched.Task, timeout time.Duration, cond func() bool) error {
	s.net.doSoftirq() // what we sent may be what we wait for
	if s.nonblock.Load() {
		return ErrAgain
	}
	if timeout <= 0 {
		return s.wq.WaitEventInterruptible(t, cond)
	}
	_, err := s.wq.WaitEventInterruptibleTimeout(t, cond, timeout)
	if err == sched.ErrTimedOut {
		return ErrAgain
	}
	return err
}

// Bind binds a local address (Linux: inet_bind).
func (s *Socket) Bind(a netip.AddrPort) error { return s.inetBind(a) }

// inetBind: Linux inet_bind → __inet_bind → the protocol's get_port
// (inet_csk_get_port, udp_v4_get_port).
// A gdb lab breakpoint: kept out of line so `tcp-lab-trace` stops here.
//
//go:noinline
func (s *Socket) inetBind(a netip.AddrPort) error { return s.prot.Bind(a) }

// Listen starts listening (Linux: inet_listen); EOPNOTSUPP for datagrams.
func (s *Socket) Listen(backlog int) error { return s.ops.listen(s, backlog) }

// inetListen: Linux inet_listen → inet_csk_listen_start.
// A gdb lab breakpoint: kept out of line so `tcp-lab-trace` stops here.
//
//go:noinline
func (s *Socket) inetListen(backlog int) error { return s.sk.Listen(backlog) }

// Accept waits for a connection (Linux: inet_accept → inet_csk_accept);
// EOPNOTSUPP for datagrams.
func (s *Socket) Accept(t *sched.Task) (*Socket, error) { return s.ops.accept(s, t, false) }

// AcceptFlags is Accept for accept4: nonblock makes a listener without
// O_NONBLOCK not wait this once (the accept4 flags themselves apply to the
// new socket).
func (s *Socket) AcceptFlags(t *sched.Task, dontWait bool) (*Socket, error) {
	return s.ops.accept(s, t, dontWait)
}

// inetAccept takes a child from the accept queue and gives it a socket of
// its own (Linux: inet_accept → inet_csk_accept, then sock_graft).
func (s *Socket) inetAccept(t *sched.Task, dontWait bool) (*Socket, error) {
	var sk *tcp.Sock
	var err error
	if dontWait {
		if sk, err = s.sk.Accept(); err == tcp.ErrWouldBlock {
			err = ErrAgain
		}
	} else {
		sk, err = s.inetCskAccept(t)
	}
	if err != nil {
		return nil, err
	}
	ns := s.net.sockAlloc()
	ns.attach(sk)
	return ns, nil
}

// AcceptFrom is Accept that also returns the peer's address, as accept(2)
// fills its address argument: known even when the peer reset the
// connection before accept returned, when GetPeerName says ENOTCONN
// (Linux: __sys_accept4 → inet_getname(newsock, addr, 2)).
func (s *Socket) AcceptFrom(t *sched.Task) (*Socket, netip.AddrPort, error) {
	ns, err := s.Accept(t)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	return ns, ns.sk.PeerAddr(), nil
}

// inetCskAccept waits on the listener's queue for a child (Linux:
// inet_csk_accept with inet_csk_wait_for_connect).
func (s *Socket) inetCskAccept(t *sched.Task) (*tcp.Sock, error) {
	for {
		sk, err := s.sk.Accept()
		if err != tcp.ErrWouldBlock {
			return sk, err
		}
		ready := func() bool {
			return s.sk.Poll()&(tcp.PollIn|tcp.PollErr|tcp.PollHup) != 0 || s.sk.State() != tcp.StateListen
		}
		if err := s.wait(t, time.Duration(s.rcvTimeo.Load()), ready); err != nil {
			return nil, err
		}
	}
}

// Connect connects to dst (Linux: sock->ops->connect). A stream socket
// waits for the handshake unless non-blocking (inet_stream_connect →
// tcp_v4_connect); a datagram socket sets its peer at once, and the zero
// AddrPort (AF_UNSPEC) disconnects it (inet_dgram_connect).
func (s *Socket) Connect(t *sched.Task, dst netip.AddrPort) error {
	err := s.ops.connect(s, t, dst)
	s.net.doSoftirq()
	return err
}

func (s *Socket) inetStreamConnect(t *sched.Task, dst netip.AddrPort) error {
	err := s.sk.Connect(dst)
	if err == tcp.ErrAlready && !s.nonblock.Load() {
		err = tcp.ErrInProgress // a second blocking connect waits for the first
	}
	if err != tcp.ErrInProgress {
		return err
	}
	if s.nonblock.Load() {
		return tcp.ErrInProgress
	}
	done := func() bool { d, _ := s.sk.ConnectResult(); return d }
	if err := s.wait(t, time.Duration(s.sndTimeo.Load()), done); err != nil {
		if err == ErrAgain {
			return tcp.ErrInProgress // Linux: a connect timeout returns EINPROGRESS
		}
		return err
	}
	_, err = s.sk.ConnectResult()
	return err
}

// Send is SendMsg without an address or flags, as write(2) on the socket:
// a stream socket writes all of b unless non-blocking, interrupted or an
// error ends it early; a datagram socket sends b as one datagram to its
// peer (Linux: sock_write_iter → sock_sendmsg).
func (s *Socket) Send(t *sched.Task, b []byte) (int, error) {
	return s.sockSendmsg(t, b, netip.AddrPort{}, 0)
}

// partial returns a short count instead of an error once something was
// transferred, as Linux does.
func partial(n int, err error) (int, error) {
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// Recv waits for data and copies what is there, as read(2) on the socket
// (Linux: sock_read_iter → sock_recvmsg): for a stream 0, nil is the end;
// a datagram socket takes one datagram.
func (s *Socket) Recv(t *sched.Task, b []byte) (int, error) {
	n, _, _, err := s.sockRecvmsg(t, b, 0)
	return n, err
}

// Peek is Recv with MSG_PEEK.
func (s *Socket) Peek(t *sched.Task, b []byte) (int, error) {
	n, _, _, err := s.sockRecvmsg(t, b, MsgPeek)
	return n, err
}

// Shutdown half-closes (Linux: inet_shutdown → tcp_shutdown, or the
// datagram socket's flags).
func (s *Socket) Shutdown(how int) error {
	err := s.prot.Shutdown(how)
	s.net.doSoftirq()
	return err
}

// Close releases the socket (Linux: inet_release → the protocol's close).
func (s *Socket) Close(t *sched.Task) error {
	err := s.ops.release(s, t)
	s.net.doSoftirq()
	return err
}

// tcpClose closes the TCP sock; with SO_LINGER on and a timeout it waits
// until our FIN is acknowledged (Linux: tcp_close, whose linger wait is
// sk_stream_wait_close).
func (s *Socket) tcpClose(t *sched.Task) error {
	s.sk.Close()
	on, d := s.sk.Linger()
	if !on || d == 0 || s.nonblock.Load() {
		return nil
	}
	finAcked := func() bool { return !s.sk.StreamClosing() }
	_, err := s.wq.WaitEventInterruptibleTimeout(t, finAcked, d)
	if err == sched.ErrTimedOut {
		return nil
	}
	return err
}

// GetSockName returns the local address (Linux: inet_getname).
func (s *Socket) GetSockName() netip.AddrPort { return s.prot.LocalAddr() }

// GetPeerName returns the peer's address or ENOTCONN.
func (s *Socket) GetPeerName() (netip.AddrPort, error) { return s.prot.RemoteAddr() }

// Poll returns the socket's readiness (Linux: sock_poll → tcp_poll or
// udp_poll).
func (s *Socket) Poll() fs.PollMask {
	s.net.doSoftirq()
	return s.ops.poll(s)
}

// tcpPoll: Linux tcp_poll; TCP's bits have the EPOLL values fs uses.
func (s *Socket) tcpPoll() fs.PollMask { return fs.PollMask(s.sk.Poll()) }
