package inet

import (
	"net/netip"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/net/udp"
	"gomenuos/sched"
)

// The operations of a datagram socket (Linux: inet_dgram_ops with
// udp_prot). UDP itself never blocks; receiving sleeps here.

// inetDgramConnect sets or, for the zero AddrPort (AF_UNSPEC), clears the
// peer; it never waits (Linux: inet_dgram_connect → ip4_datagram_connect,
// or udp_disconnect).
func (s *Socket) inetDgramConnect(_ *sched.Task, dst netip.AddrPort) error {
	return s.dsk.Connect(dst)
}

// sockNoListen: Linux sock_no_listen.
func (s *Socket) sockNoListen(int) error { return syscall.EOPNOTSUPP }

// sockNoAccept: Linux sock_no_accept.
func (s *Socket) sockNoAccept(*sched.Task, bool) (*Socket, error) { return nil, syscall.EOPNOTSUPP }

// udpPoll: Linux udp_poll; UDP's bits have the EPOLL values fs uses.
func (s *Socket) udpPoll() fs.PollMask { return fs.PollMask(s.dsk.Poll()) }

// udpSendmsg sends one datagram (Linux: udp_sendmsg). It never sleeps: a
// datagram goes to IP at once and holds no send buffer here.
func (s *Socket) udpSendmsg(_ *sched.Task, b []byte, to netip.AddrPort, flags int) (int, error) {
	return s.dsk.Sendmsg(b, to, flags)
}

// udpRecvmsg takes one datagram, sleeping until one comes, an error is
// pending, or SHUT_RD, after which an empty queue reads as 0 (Linux:
// udp_recvmsg → __skb_recv_udp → __skb_wait_for_more_packets).
// MSG_ERRQUEUE finds nothing: no IP_RECVERR queue is kept.
func (s *Socket) udpRecvmsg(t *sched.Task, b []byte, flags int) (int, netip.AddrPort, int, error) {
	if flags&MsgErrQueue != 0 {
		return 0, netip.AddrPort{}, 0, ErrAgain
	}
	for {
		n, from, mf, err := s.dsk.Recvmsg(b, flags)
		if err != udp.ErrWouldBlock {
			return n, from, mf, err
		}
		if flags&MsgDontWait != 0 || s.nonblock.Load() {
			return 0, netip.AddrPort{}, 0, ErrAgain
		}
		if s.dsk.RcvShutdown() {
			return 0, netip.AddrPort{}, 0, nil
		}
		readable := func() bool { return s.dsk.Poll()&(udp.PollIn|udp.PollErr) != 0 }
		if err := s.wait(t, time.Duration(s.rcvTimeo.Load()), readable); err != nil {
			return 0, netip.AddrPort{}, 0, err
		}
	}
}

// udpLibClose releases the UDP sock: its port and queued datagrams
// (Linux: inet_release → udp_lib_close).
func (s *Socket) udpLibClose(*sched.Task) error {
	s.dsk.Close()
	return nil
}

var udpOptions = map[[2]int]udp.Option{
	{SolSocket, SoReuseAddr}: udp.OptReuseAddr,
	{SolSocket, SoBroadcast}: udp.OptBroadcast,
	{SolSocket, SoRcvBuf}:    udp.OptRcvBuf,
	{SolSocket, SoSndBuf}:    udp.OptSndBuf,
}

// udpSetsockopt: Linux sock_setsockopt for a UDP socket (UDP's own
// SOL_UDP options are not kept: ENOPROTOOPT).
func (s *Socket) udpSetsockopt(level, name, v int) error {
	o, ok := udpOptions[[2]int{level, name}]
	if !ok {
		return syscall.ENOPROTOOPT
	}
	return s.dsk.SetOption(o, v)
}

// udpGetsockopt: Linux sock_getsockopt for a UDP socket; SO_ERROR
// returns and clears the error an ICMP message left.
func (s *Socket) udpGetsockopt(level, name int) (int, error) {
	if level == SolSocket && name == SoError {
		return int(s.dsk.TakeError()), nil
	}
	o, ok := udpOptions[[2]int{level, name}]
	if !ok {
		return 0, syscall.ENOPROTOOPT
	}
	return s.dsk.GetOption(o)
}
