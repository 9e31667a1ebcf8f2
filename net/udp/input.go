package udp

import (
	"net/netip"

	"gomenuos/net/header"
	"gomenuos/net/stack"
)

// Receive is net_protocol.handler for UDP (Linux: udp_rcv). It runs on
// the receiving device's goroutine; pi.Payload is valid only during the
// call.
func (p *Proto) Receive(pi *stack.PacketInfo) { p.udpRcv(pi) }

// udpRcv: Linux udp_rcv → __udp4_lib_rcv with the UDP table.
func (p *Proto) udpRcv(pi *stack.PacketInfo) { p.udp4LibRcv(pi) }

// udp4LibRcv validates a datagram and hands it to the socket it is for
// (Linux: __udp4_lib_rcv): a short or over-long datagram is an InError; a
// broadcast goes to every matching socket; a unicast datagram nobody
// listens for is counted in NoPorts and answered with ICMP port
// unreachable (RFC 1122 §4.1.3.1), once its checksum is known good.
func (p *Proto) udp4LibRcv(pi *stack.PacketInfo) {
	u, err := header.ParseUDP(pi.Payload)
	if err != nil {
		p.MIB.InErrors.Add(1) // Linux: short_packet
		return
	}
	csumOK := pi.ChecksumVerified || u.ChecksumValid(pi.Src, pi.Dst)
	from := netip.AddrPortFrom(pi.Src, u.SrcPort())
	to := netip.AddrPortFrom(pi.Dst, u.DstPort())
	if !csumOK {
		p.csumError()
		return
	}
	if pi.Broadcast {
		p.udp4LibMcastDeliver(from, to, u.Payload())
		return
	}
	p.lock()
	sk := p.udp4LibLookupLocked(from, to)
	if sk != nil {
		sk.udpQueueRcvSkbLocked(from, u.Payload())
	}
	p.unlock()
	if sk == nil {
		p.MIB.NoPorts.Add(1)
		p.ip.SendICMPUnreachable(pi, header.ICMPv4PortUnreach)
	}
}

// csumError counts a datagram dropped for its checksum (Linux:
// csum_error: UDP_MIB_CSUMERRORS and UDP_MIB_INERRORS). Linux checks a
// socket's datagrams when they are read and the others at once; we check
// all at once, which changes when the counters move, not what is dropped.
func (p *Proto) csumError() {
	p.MIB.InCsumErrors.Add(1)
	p.MIB.InErrors.Add(1)
}

// udp4LibLookupLocked finds the socket for a datagram from → to (Linux:
// __udp4_lib_lookup): first among sockets bound to to's address, then
// among wildcard ones, the best computeScore wins; of equal scores the
// socket hashed most recently, as Linux's chains add at the head.
func (p *Proto) udp4LibLookupLocked(from, to netip.AddrPort) *Sock {
	chain := p.table[to.Port()]
	if sk := udp4LibLookup2(chain, from, to.Addr()); sk != nil {
		return sk
	}
	return udp4LibLookup2(chain, from, netip.IPv4Unspecified())
}

// udp4LibLookup2 picks the best socket of chain bound to laddr (Linux:
// udp4_lib_lookup2).
func udp4LibLookup2(chain []*Sock, from netip.AddrPort, laddr netip.Addr) *Sock {
	var best *Sock
	bestScore := -1
	for _, s := range chain {
		if sc := s.computeScoreLocked(from, laddr); sc > bestScore {
			best, bestScore = s, sc
		}
	}
	return best
}

// computeScoreLocked rates how well s matches a datagram from from to
// laddr: -1 for no match, more for each connected field that matches
// (Linux: compute_score).
func (s *Sock) computeScoreLocked(from netip.AddrPort, laddr netip.Addr) int {
	if s.boundAddr() != laddr {
		return -1
	}
	score := 2 // PF_INET
	if s.raddr.IsValid() {
		if s.raddr != from.Addr() {
			return -1
		}
		score += 4
	}
	if s.rport != 0 {
		if s.rport != from.Port() {
			return -1
		}
		score += 4
	}
	return score
}

// boundAddr is inet_rcv_saddr with "unset" spelled 0.0.0.0.
func (s *Sock) boundAddr() netip.Addr {
	if !s.laddr.IsValid() {
		return netip.IPv4Unspecified()
	}
	return s.laddr
}

// udp4LibMcastDeliver gives a copy of a broadcast datagram to every socket
// it matches; nobody matching is counted as IgnoredMulti, never answered
// with ICMP (Linux: __udp4_lib_mcast_deliver). SO_BROADCAST is only
// needed to send.
func (p *Proto) udp4LibMcastDeliver(from, to netip.AddrPort, payload []byte) {
	p.lock()
	n := 0
	for _, s := range p.table[to.Port()] {
		if s.udpIsMcastSockLocked(from, to.Addr()) {
			s.udpQueueRcvSkbLocked(from, payload)
			n++
		}
	}
	p.unlock()
	if n == 0 {
		p.MIB.IgnoredMulti.Add(1)
	}
}

// udpIsMcastSockLocked: Linux __udp_is_mcast_sock — any connected peer
// must be the sender, and a bound address must be the one the datagram
// was sent to.
func (s *Sock) udpIsMcastSockLocked(from netip.AddrPort, dst netip.Addr) bool {
	if s.raddr.IsValid() && s.raddr != from.Addr() || s.rport != 0 && s.rport != from.Port() {
		return false
	}
	return s.boundAddr().IsUnspecified() || s.laddr == dst
}

// udpQueueRcvSkbLocked queues a copy of payload on s (Linux:
// udp_queue_rcv_skb → __udp_enqueue_schedule_skb): a datagram that finds
// the queue already past SO_RCVBUF is dropped and counted in RcvbufErrors,
// InErrors and the socket's drops; one that fits even partly is taken, so
// the queue may pass SO_RCVBUF by one datagram, as on Linux.
func (s *Sock) udpQueueRcvSkbLocked(from netip.AddrPort, payload []byte) {
	p := s.proto
	if s.rmem > s.rcvBuf {
		s.drops++
		p.MIB.RcvbufErrors.Add(1)
		p.MIB.InErrors.Add(1)
		return
	}
	d := datagram{from: from, data: append([]byte(nil), payload...), truesize: skbOverhead + len(payload)}
	s.rcvQ = append(s.rcvQ, d)
	s.rmem += d.truesize
	s.wakeLocked()
}
