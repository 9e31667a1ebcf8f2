package inet

import (
	"net/netip"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/net/unix"
	"gomenuos/sched"
)

// AF_UNIX stream sockets as socketpair(2) makes them (Linux:
// unix_stream_ops): the same Socket methods as the inet types, so the
// system-call layer treats them alike. They have no addresses: names in
// the file system (bind, listen, connect) are not implemented.

// AFUnix is AF_UNIX (AF_LOCAL).
const AFUnix = 1

// SocketPair creates two connected sockets (Linux: __sys_socketpair →
// sock_create twice → unix_socketpair). Only AF_UNIX SOCK_STREAM is
// supported; AF_INET has no pairs (EOPNOTSUPP, sock_no_socketpair).
func (n *Net) SocketPair(family, typ, proto int) (*Socket, *Socket, error) {
	switch {
	case family == AFInet:
		return nil, nil, syscall.EOPNOTSUPP
	case family != AFUnix:
		return nil, nil, ErrAFNoSupport
	case typ != SockStream:
		return nil, nil, ErrSockTNoSupport
	case proto != 0 && proto != AFUnix:
		return nil, nil, ErrProtoNoSupport
	}
	a, b := n.sockAlloc(), n.sockAlloc()
	ua, ub := unix.Pair()
	a.attachUnix(ua)
	b.attachUnix(ub)
	return a, b, nil
}

// attachUnix binds one end of a pair to this socket, as attach does for TCP.
func (s *Socket) attachUnix(sk *unix.Sock) {
	s.ops, s.usk, s.prot = &unixStreamOps, sk, &unixProt{sk: sk}
	sk.SetWake(s.wq.WakeUpInterruptible)
}

// Family is the socket's address family: AFInet or AFUnix.
func (s *Socket) Family() int { return s.ops.family }

// unixProt answers the address calls for an end of a pair: it has no
// name, and its peer is always there (Linux: unix_getname of an unbound
// socket gives just the family).
type unixProt struct {
	sk       *unix.Sock
	lingerOn bool
	linger   time.Duration
}

func (u *unixProt) Bind(netip.AddrPort) error           { return syscall.EOPNOTSUPP }
func (u *unixProt) LocalAddr() netip.AddrPort           { return netip.AddrPort{} }
func (u *unixProt) RemoteAddr() (netip.AddrPort, error) { return netip.AddrPort{}, nil }
func (u *unixProt) Shutdown(how int) error              { return u.sk.Shutdown(how) }
func (u *unixProt) SetLinger(on bool, d time.Duration)  { u.lingerOn, u.linger = on, d }
func (u *unixProt) Linger() (bool, time.Duration)       { return u.lingerOn, u.linger }

// unixStreamConnect: a pair is connected already (Linux: EISCONN).
func (s *Socket) unixStreamConnect(*sched.Task, netip.AddrPort) error { return syscall.EISCONN }

// unixListen / unixAccept: an unbound, non-listening socket (Linux: EINVAL).
func (s *Socket) unixListen(int) error                          { return syscall.EINVAL }
func (s *Socket) unixAccept(*sched.Task, bool) (*Socket, error) { return nil, syscall.EINVAL }
func (s *Socket) unixPoll() fs.PollMask                         { return fs.PollMask(s.usk.Poll()) }
func (s *Socket) unixRelease(*sched.Task) error                 { s.usk.Close(); return nil }

// unixStreamSendmsg writes all of b into the peer's queue, sleeping for
// room unless non-blocking (Linux: unix_stream_sendmsg); an address is
// EISCONN, MSG_OOB EOPNOTSUPP.
func (s *Socket) unixStreamSendmsg(t *sched.Task, b []byte, to netip.AddrPort, flags int) (int, error) {
	if to.IsValid() {
		return 0, syscall.EISCONN
	}
	if flags&MsgOOB != 0 {
		return 0, syscall.EOPNOTSUPP
	}
	sent := 0
	for {
		n, err := s.usk.Sendmsg(b[sent:])
		sent += n
		switch {
		case err == nil && sent == len(b):
			return sent, nil
		case err == nil:
			continue
		case err != unix.ErrWouldBlock:
			return partial(sent, err)
		}
		if err := s.waitFor(t, time.Duration(s.sndTimeo.Load()), flags&MsgDontWait != 0, s.usk.WriteWouldProceed); err != nil {
			return partial(sent, err)
		}
	}
}

// unixStreamRecvmsg reads what is queued, or with MSG_WAITALL all of b,
// sleeping for data (Linux: unix_stream_recvmsg →
// unix_stream_read_generic). 0 bytes with no error is the end.
func (s *Socket) unixStreamRecvmsg(t *sched.Task, b []byte, flags int) (int, netip.AddrPort, int, error) {
	if flags&MsgOOB != 0 {
		return 0, netip.AddrPort{}, 0, syscall.EINVAL
	}
	got := 0
	for {
		n, err := s.usk.Recvmsg(b[got:], flags&MsgPeek != 0)
		got += n
		done := got == len(b) || flags&MsgWaitAll == 0 || flags&MsgPeek != 0
		switch {
		case err == nil && (n == 0 || done):
			return got, netip.AddrPort{}, 0, nil
		case err == nil:
			continue
		case err != unix.ErrWouldBlock:
			n, err := partial(got, err)
			return n, netip.AddrPort{}, 0, err
		case got > 0 && flags&MsgWaitAll == 0:
			return got, netip.AddrPort{}, 0, nil
		}
		readable := func() bool { return s.usk.Poll()&(unix.PollIn|unix.PollErr) != 0 }
		if err := s.waitFor(t, time.Duration(s.rcvTimeo.Load()), flags&MsgDontWait != 0, readable); err != nil {
			n, err := partial(got, err)
			return n, netip.AddrPort{}, 0, err
		}
	}
}

// unixSetsockopt keeps SO_SNDBUF, which bounds what the peer's queue holds.
func (s *Socket) unixSetsockopt(level, name, v int) error {
	if level == SolSocket && name == SoSndBuf {
		s.usk.SetSndBuf(v)
		return nil
	}
	return syscall.ENOPROTOOPT
}

// unixGetsockopt reads SO_SNDBUF and SO_ERROR.
func (s *Socket) unixGetsockopt(level, name int) (int, error) {
	switch {
	case level == SolSocket && name == SoSndBuf:
		return s.usk.SndBuf(), nil
	case level == SolSocket && name == SoError:
		return int(Errno(s.usk.TakeError())), nil
	}
	return 0, syscall.ENOPROTOOPT
}
