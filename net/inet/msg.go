package inet

import (
	"net/netip"
	"time"

	"gomenuos/net/tcp"
	"gomenuos/sched"
)

// The message calls the system-call layer uses (Linux: sock_sendmsg →
// inet_sendmsg → the protocol's sendmsg, sock_recvmsg → inet_recvmsg),
// with the MSG_* flags of one call. Every socket type answers them; a
// stream socket ignores a destination address (Linux's tcp_sendmsg does)
// and reports its peer as the source; a datagram socket sends to the
// address, or its peer when the address is the zero AddrPort.

// MSG_* flags (Linux values).
const (
	MsgOOB         = 0x1
	MsgPeek        = 0x2
	MsgTrunc       = 0x20
	MsgDontWait    = 0x40
	MsgEOR         = 0x80
	MsgWaitAll     = 0x100
	MsgErrQueue    = 0x2000
	MsgNoSignal    = 0x4000
	MsgCmsgCloexec = 0x40000000
)

// Type is the socket's type: SockStream or SockDgram.
func (s *Socket) Type() int { return s.ops.typ }

// SendMsg sends b (Linux: sock_sendmsg → inet_sendmsg → tcp_sendmsg or
// udp_sendmsg). A stream socket queues all of b unless non-blocking (the
// socket's O_NONBLOCK or MSG_DONTWAIT), interrupted or failed and returns
// what was queued; a datagram socket sends b as one datagram to to, or
// to its peer when to is the zero AddrPort.
func (s *Socket) SendMsg(t *sched.Task, b []byte, to netip.AddrPort, flags int) (int, error) {
	return s.sockSendmsg(t, b, to, flags)
}

// sockSendmsg: Linux sock_sendmsg → inet_sendmsg → sk_prot->sendmsg.
// Kept out of line like sock_recvmsg, so the tracer and gdb see both.
//
//go:noinline
func (s *Socket) sockSendmsg(t *sched.Task, b []byte, to netip.AddrPort, flags int) (int, error) {
	n, err := s.ops.sendmsg(s, t, b, to, flags)
	s.net.doSoftirq()
	return n, err
}

// tcpSendmsg queues b on the TCP sock, sleeping for send-buffer room
// (Linux: tcp_sendmsg with sk_stream_wait_memory); to is ignored.
func (s *Socket) tcpSendmsg(t *sched.Task, b []byte, _ netip.AddrPort, flags int) (int, error) {
	dontWait := flags&MsgDontWait != 0
	sent := 0
	for {
		n, err := s.sk.Send(b[sent:])
		sent += n
		if sent == len(b) && len(b) > 0 {
			return sent, nil
		}
		if err != nil && err != tcp.ErrWouldBlock {
			return partial(sent, err)
		}
		if len(b) == 0 && err == nil {
			return 0, nil
		}
		if n > 0 {
			continue
		}
		writable := func() bool { return s.sk.Poll()&(tcp.PollOut|tcp.PollErr|tcp.PollHup) != 0 }
		if err := s.waitFor(t, time.Duration(s.sndTimeo.Load()), dontWait, writable); err != nil {
			return partial(sent, err)
		}
	}
}

// RecvMsg receives into b (Linux: sock_recvmsg → inet_recvmsg →
// tcp_recvmsg or udp_recvmsg) and returns the source address: MSG_PEEK
// leaves the data queued, MSG_DONTWAIT does not wait at all. On a stream
// MSG_WAITALL waits for all of b (or the end, an error or a signal) and 0
// bytes with no error is the end. A datagram socket takes one datagram;
// past the buffer it is cut, and MSG_TRUNC makes n its real length.
func (s *Socket) RecvMsg(t *sched.Task, b []byte, flags int) (int, netip.AddrPort, error) {
	n, from, _, err := s.sockRecvmsg(t, b, flags)
	return n, from, err
}

// RecvMsgFlags is RecvMsg that also returns recvmsg(2)'s msg_flags:
// MsgTrunc when a datagram was longer than b.
func (s *Socket) RecvMsgFlags(t *sched.Task, b []byte, flags int) (n int, from netip.AddrPort, msgFlags int, err error) {
	return s.sockRecvmsg(t, b, flags)
}

// sockRecvmsg: Linux sock_recvmsg → inet_recvmsg → sk_prot->recvmsg.
func (s *Socket) sockRecvmsg(t *sched.Task, b []byte, flags int) (int, netip.AddrPort, int, error) {
	n, from, mf, err := s.ops.recvmsg(s, t, b, flags)
	s.net.doSoftirq() // a window update may have gone out
	return n, from, mf, err
}

// tcpRecvmsg reads the stream (Linux: tcp_recvmsg): what is queued, or
// with MSG_WAITALL all of b, sleeping for data as sk_wait_data does.
func (s *Socket) tcpRecvmsg(t *sched.Task, b []byte, flags int) (int, netip.AddrPort, int, error) {
	n, err := s.tcpRecvmsgAll(t, b, flags)
	from, _ := s.sk.RemoteAddr()
	return n, from, 0, err
}

func (s *Socket) tcpRecvmsgAll(t *sched.Task, b []byte, flags int) (int, error) {
	if flags&MsgOOB != 0 {
		return 0, tcp.ErrInvalid // no urgent data is kept (Linux: EINVAL without SO_OOBINLINE data)
	}
	if flags&MsgWaitAll == 0 || flags&(MsgPeek|MsgDontWait) != 0 {
		return s.tcpRecvWait(t, b, flags)
	}
	got := 0
	for got < len(b) {
		n, err := s.tcpRecvWait(t, b[got:], flags)
		got += n
		if err != nil || n == 0 {
			return partial(got, err)
		}
	}
	return got, nil
}

// tcpRecvWait copies what is queued, sleeping until there is something
// (Linux: tcp_recvmsg_locked with sk_wait_data).
func (s *Socket) tcpRecvWait(t *sched.Task, b []byte, flags int) (int, error) {
	for {
		n, err := s.sk.Recv(b, flags&MsgPeek != 0)
		if err != tcp.ErrWouldBlock {
			return n, err
		}
		readable := func() bool { return s.sk.Poll()&(tcp.PollIn|tcp.PollErr|tcp.PollHup) != 0 }
		if err := s.waitFor(t, time.Duration(s.rcvTimeo.Load()), flags&MsgDontWait != 0, readable); err != nil {
			return 0, err
		}
	}
}

// waitFor is wait with a per-call MSG_DONTWAIT.
func (s *Socket) waitFor(t *sched.Task, timeout time.Duration, dontWait bool, cond func() bool) error {
	if dontWait {
		return ErrAgain
	}
	return s.wait(t, timeout, cond)
}

// PollQueue is the queue a poller sleeps on for this socket.
func (s *Socket) PollQueue() *sched.WaitQueue { return &s.wq }
