package stack

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"gomenuos/net/header"
)

// ICMP error rate limit: a token bucket of icmpMsgsPerSec with a burst of
// icmpMsgsBurst (Linux: net.ipv4.icmp_msgs_per_sec, icmp_msgs_burst).
const (
	icmpMsgsPerSec = 1000
	icmpMsgsBurst  = 50
	// Per destination, an error costs icmpRateLimit of credit and credit
	// saves up to icmpHostBurst errors (Linux: icmp_ratelimit = 1000 ms,
	// XRLIM_BURST_FACTOR = 6, kept in the inet_peer of each host).
	icmpRateLimit = time.Second
	icmpHostBurst = 6
	icmpMaxPeers  = 1024
	// icmpQuoteMax keeps an error within 576 bytes (RFC 1812 §4.3.2.3).
	icmpQuoteMax = 576 - ipHdrLen - header.ICMPv4HeaderLen
)

// icmpState holds the error rate limiters and the ping waiters.
// Lock contract: mu guards every field.
type icmpState struct {
	s       *Stack
	mu      sync.Mutex
	tokens  float64
	refill  time.Time
	peers   map[netip.Addr]*peerCredit
	waiters map[echoKey]*pingWaiter
}

// peerCredit is the per-destination limiter (Linux: inet_peer.rate_tokens
// and rate_last).
type peerCredit struct {
	credit time.Duration
	last   time.Time
}

func (c *icmpState) init(s *Stack) {
	c.s = s
	c.tokens = icmpMsgsBurst
	c.refill = s.clock.Now()
	c.waiters = map[echoKey]*pingWaiter{}
	c.peers = map[netip.Addr]*peerCredit{}
}

// icmpRcv handles one ICMP message addressed to us (Linux: icmp_rcv).
func (s *Stack) icmpRcv(ifc *Interface, p *PacketInfo, bcast bool) {
	s.icmpMIB.InMsgs.Add(1)
	m, err := header.ParseICMPv4(p.Payload)
	if err != nil {
		s.icmpMIB.InErrors.Add(1)
		if err == header.ErrChecksum {
			s.icmpMIB.InCsumErrors.Add(1)
			s.drop(DropICMPCsum)
			return
		}
		s.drop(DropICMPInvalid)
		return
	}
	s.icmpMIB.InType[m.Type()].Add(1)
	switch m.Type() {
	case header.ICMPv4Echo:
		if bcast {
			return // Linux: icmp_echo_ignore_broadcasts=1 (smurf defence)
		}
		s.icmpEcho(p, m)
	case header.ICMPv4EchoReply:
		s.icmp.deliver(echoKey{m.Ident(), m.Seq()}, pingResult{reply: EchoReply{From: p.Src, Seq: m.Seq(),
			TTL: p.TTL, Payload: append([]byte(nil), m.Body()...)}})
	case header.ICMPv4DestUnreach, header.ICMPv4TimeExceeded, header.ICMPv4ParamProblem, header.ICMPv4SourceQuench:
		s.icmpUnreach(p, m)
	}
}

// icmpEcho answers an echo request with the same identifier, sequence and
// data (Linux: icmp_echo; RFC 792, RFC 1122 §3.2.2.6).
func (s *Stack) icmpEcho(p *PacketInfo, m header.ICMPv4) {
	reply := append([]byte(nil), m...)
	header.PutICMPv4(reply, header.ICMPv4EchoReply, 0, binary.BigEndian.Uint32(m[4:8]))
	s.icmpOut(p.Dst, p.Src, p.TOS, reply)
}

func (s *Stack) icmpOut(src, dst netip.Addr, tos uint8, msg []byte) {
	s.icmpMIB.OutMsgs.Add(1)
	s.icmpMIB.OutType[msg[0]].Add(1)
	if err := s.ipSend(src, dst, header.ProtocolICMP, tos, msg); err != nil {
		s.icmpMIB.OutErrors.Add(1)
	}
}

// quotedIPv4 checks the datagram quoted by an ICMP error: a plausible IPv4
// header followed by at least 8 bytes of its payload, or all of a shorter
// one (RFC 792), sent by this host.
func (s *Stack) quotedIPv4(body []byte) (header.IPv4, bool) {
	if len(body) < ipHdrLen || body[0]>>4 != 4 {
		return nil, false
	}
	hl := int(body[0]&0x0f) * 4
	q := header.IPv4(body)
	if hl < ipHdrLen || q.TotalLength() < hl || len(body) < min(hl+8, q.TotalLength()) {
		return nil, false
	}
	return q, s.IsLocal(q.Src())
}

// icmpUnreach routes an ICMP error to whoever sent the quoted datagram
// (Linux: icmp_unreach → icmp_socket_deliver → the protocol's err_handler).
func (s *Stack) icmpUnreach(p *PacketInfo, m header.ICMPv4) {
	q, ok := s.quotedIPv4(m.Body())
	if !ok {
		s.drop(DropICMPInvalid)
		return
	}
	if m.Type() == header.ICMPv4DestUnreach && m.Code() == header.ICMPv4FragNeeded {
		s.updatePMTU(q.Dst(), int(m.NextHopMTU())) // RFC 1191 §6.1
	}
	if q.Protocol() == header.ProtocolICMP {
		s.pingError(p.Src, m, q)
		return
	}
	t := s.transport(q.Protocol())
	if t == nil {
		s.drop(DropIPNoProto)
		return
	}
	p.Payload = m
	t.ReceiveICMPError(p, m.Type(), m.Code(), q)
}

// icmpSend sends an ICMP error about datagram orig (Linux: __icmp_send),
// following RFC 1122 §3.2.2: never about an ICMP error, a non-first
// fragment, or a datagram to or from a broadcast/multicast/unspecified
// address; and within the global and per-host rate limits.
func (s *Stack) icmpSend(orig header.IPv4, typ, code uint8, info uint32) {
	src, dst := orig.Src(), orig.Dst()
	if orig.FragmentOffset() != 0 || src.IsUnspecified() || src.IsMulticast() || src == limitedBroadcast ||
		dst.IsMulticast() || dst == limitedBroadcast || isICMPError(orig) {
		return
	}
	if !s.icmp.allow(src, s.IsLocal(src)) {
		s.drop(DropICMPRateLimit)
		return
	}
	from := dst
	if !s.IsLocal(from) {
		var err error
		if from, _, err = s.Route(src); err != nil {
			s.drop(DropNoRoute)
			return
		}
	}
	quote := orig[:min(len(orig), icmpQuoteMax)]
	msg := make([]byte, header.ICMPv4HeaderLen+len(quote))
	copy(msg[header.ICMPv4HeaderLen:], quote)
	header.PutICMPv4(msg, typ, code, info)
	s.icmpOut(from, src, orig.TOS(), msg)
}

func isICMPError(ip header.IPv4) bool {
	pl := ip.Payload()
	return ip.Protocol() == header.ProtocolICMP && len(pl) > 0 && header.ICMPv4TypeIsError(pl[0])
}

// allow applies both limits to an error for dst (Linux: icmp_global_allow,
// then icmpv4_xrlim_allow, then icmp_global_consume): the global bucket is
// only spent once the per-host limit also agrees. Errors to ourselves are
// not limited per host, as Linux exempts loopback.
func (c *icmpState) allow(dst netip.Addr, local bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.s.clock.Now()
	c.tokens = min(icmpMsgsBurst, c.tokens+now.Sub(c.refill).Seconds()*icmpMsgsPerSec)
	c.refill = now
	if c.tokens < 1 {
		c.s.icmpMIB.OutRateLimitGlobal.Add(1)
		return false
	}
	if !local && !c.peerAllowLocked(dst, now) {
		c.s.icmpMIB.OutRateLimitHost.Add(1)
		return false
	}
	c.tokens--
	return true
}

// peerAllowLocked spends icmpRateLimit of dst's credit (Linux:
// inet_peer_xrlim_allow).
func (c *icmpState) peerAllowLocked(dst netip.Addr, now time.Time) bool {
	p := c.peers[dst]
	if p == nil {
		if len(c.peers) >= icmpMaxPeers {
			c.prunePeersLocked(now)
		}
		p = &peerCredit{credit: icmpHostBurst * icmpRateLimit, last: now}
		c.peers[dst] = p
	}
	p.credit = min(icmpHostBurst*icmpRateLimit, p.credit+now.Sub(p.last))
	p.last = now
	if p.credit < icmpRateLimit {
		return false
	}
	p.credit -= icmpRateLimit
	return true
}

// prunePeersLocked forgets peers whose credit has refilled (they are
// indistinguishable from new ones), or one arbitrary peer if none has.
func (c *icmpState) prunePeersLocked(now time.Time) {
	for a, p := range c.peers {
		if p.credit+now.Sub(p.last) >= icmpHostBurst*icmpRateLimit {
			delete(c.peers, a)
		}
	}
	for a := range c.peers {
		if len(c.peers) < icmpMaxPeers {
			break
		}
		delete(c.peers, a)
	}
}

// SendICMPUnreachable sends destination unreachable with code (e.g.
// header.ICMPv4PortUnreach) about the datagram p was delivered from. A
// transport with no listener for p (UDP) calls it from Receive.
func (s *Stack) SendICMPUnreachable(p *PacketInfo, code uint8) {
	if p.ip != nil {
		s.icmpSend(p.ip, header.ICMPv4DestUnreach, code, 0)
	}
}

// ipv4LinkFailure tells the sender of a datagram that its neighbour could
// not be resolved (Linux: ipv4_link_failure → icmp_send host unreachable
// to ourselves), delivering the error without a round trip through lo.
func (s *Stack) ipv4LinkFailure(b []byte) {
	ip, err := header.ParseIPv4(b)
	if err != nil || ip.IsFragment() && ip.FragmentOffset() != 0 {
		return
	}
	quote := ip[:min(len(ip), icmpQuoteMax)]
	msg := make([]byte, header.ICMPv4HeaderLen+len(quote))
	copy(msg[header.ICMPv4HeaderLen:], quote)
	header.PutICMPv4(msg, header.ICMPv4DestUnreach, header.ICMPv4HostUnreach, 0)
	s.icmpUnreach(&PacketInfo{Src: ip.Src(), Dst: ip.Src(), TTL: s.defaultTTL, Payload: msg}, header.ICMPv4(msg))
}
