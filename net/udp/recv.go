package udp

import "net/netip"

// Recvmsg takes the first queued datagram into b (Linux: inet_recvmsg →
// udp_recvmsg). It returns the bytes copied — or, with MSG_TRUNC in
// flags, the datagram's real length — the sender, and MsgTrunc in
// msgFlags when b was too short (the rest of the datagram is lost).
// MSG_PEEK leaves the datagram queued. A pending ICMP error comes first;
// an empty queue is ErrWouldBlock, and the caller sleeps.
func (s *Sock) Recvmsg(b []byte, flags int) (n int, from netip.AddrPort, msgFlags int, err error) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.udpRecvmsgLocked(b, flags)
}

func (s *Sock) udpRecvmsgLocked(b []byte, flags int) (int, netip.AddrPort, int, error) {
	if flags&msgErrQueue != 0 {
		return 0, netip.AddrPort{}, 0, ErrWouldBlock // no IP_RECVERR queue is kept
	}
	// Linux: __skb_recv_udp starts with sock_error.
	if e := s.takeErrorLocked(); e != 0 {
		return 0, netip.AddrPort{}, 0, e
	}
	if len(s.rcvQ) == 0 {
		return 0, netip.AddrPort{}, 0, ErrWouldBlock
	}
	d := s.rcvQ[0]
	n := copy(b, d.data)
	msgFlags := 0
	if n < len(d.data) {
		msgFlags |= MsgTrunc
	}
	if flags&msgTrunc != 0 {
		n = len(d.data)
	}
	if flags&msgPeek == 0 {
		s.rcvQ[0] = datagram{}
		s.rcvQ = s.rcvQ[1:]
		s.rmem -= d.truesize
		s.proto.MIB.InDatagrams.Add(1) // Linux counts a datagram when it is read
	}
	return n, d.from, msgFlags, nil
}
