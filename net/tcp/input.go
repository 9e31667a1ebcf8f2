package tcp

import (
	"net/netip"

	"gomenuos/net/checksum"
	"gomenuos/net/header"
	"gomenuos/sched/trace"
)

// segment is a received segment, parsed once (Linux: struct tcp_skb_cb).
// data aliases the IP layer's buffer and is valid only during processing.
type segment struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	seq, ack         seqnum
	flags            uint8
	wnd              uint16
	opts             header.TCPOptions
	data             []byte
}

func (g *segment) has(f uint8) bool { return g.flags&f != 0 }

// seqLen is the sequence space the segment occupies (RFC 9293 §3.4).
func (g *segment) seqLen() int {
	n := len(g.data)
	if g.has(flagSyn) {
		n++
	}
	if g.has(flagFin) {
		n++
	}
	return n
}

func (g *segment) tuple() fourTuple {
	return fourTuple{laddr: g.dst, raddr: g.src, lport: g.dstPort, rport: g.srcPort}
}

// Rcv is the IP layer's entry point for one TCP segment from src to dst
// (Linux: tcp_v4_rcv via net_protocol.handler).
func (p *Proto) Rcv(src, dst netip.Addr, payload []byte) {
	p.lock()
	p.tcpV4RcvLocked(src, dst, payload, false)
	p.unlock()
}

// RcvVerified is Rcv for a segment whose checksum the device or loopback
// already vouched for (Linux: skb_csum_unnecessary), so it is not summed
// again.
func (p *Proto) RcvVerified(src, dst netip.Addr, payload []byte) {
	p.lock()
	p.tcpV4RcvLocked(src, dst, payload, true)
	p.unlock()
}

// parseSegment validates header, checksum and options (Linux: the checks
// at the top of tcp_v4_rcv).
func (p *Proto) parseSegment(src, dst netip.Addr, payload []byte, verified bool, g *segment) bool {
	h, err := header.ParseTCP(payload)
	if err != nil {
		p.MIB.InErrs.Add(1)
		p.MIB.DropBadHeader.Add(1)
		return false
	}
	ph := checksum.PseudoHeaderIPv4(src.As4(), dst.As4(), 6, uint16(len(payload)))
	if !verified && !h.ChecksumValid(ph) {
		p.MIB.InErrs.Add(1)
		p.MIB.InCsumErrors.Add(1)
		return false
	}
	if header.ParseTCPOptions(h.Options(), &g.opts) != nil {
		p.MIB.InErrs.Add(1)
		p.MIB.DropBadHeader.Add(1)
		return false
	}
	g.src, g.dst = src, dst
	g.srcPort, g.dstPort = h.SrcPort(), h.DstPort()
	g.seq, g.ack = seqnum(h.Seq()), seqnum(h.Ack())
	g.flags, g.wnd, g.data = h.Flags(), h.Window(), h.Payload()
	return true
}

// tcpV4RcvLocked demultiplexes a segment: established hash, then a
// request sock of the listener, then the listener, else RST (Linux:
// tcp_v4_rcv).
func (p *Proto) tcpV4RcvLocked(src, dst netip.Addr, payload []byte, verified bool) {
	p.MIB.InSegs.Add(1)
	var g segment
	if !p.parseSegment(src, dst, payload, verified, &g) {
		return
	}
	if !src.Is4() || src.IsMulticast() || dst.IsMulticast() {
		return
	}
	if s := p.lookupEstablishedLocked(g.tuple()); s != nil {
		if !s.tcpHoldAckLocked(&g) {
			s.tcpV4DoRcvLocked(&g)
		}
		return
	}
	if tw := p.twhash[twKeyOf(g.tuple())]; tw != nil {
		(*Sock)(nil).traceRcv(&g, trace.SiteTimewait) // a timewait sock is no Sock
		if !p.tcpTimewaitStateProcessLocked(tw, &g) {
			return // else a new SYN ended TIME_WAIT: it goes to the listener
		}
	}
	l := p.lookupListenerLocked(dst, g.dstPort)
	if l == nil {
		(*Sock)(nil).traceRcv(&g, trace.SiteNoSocket)
		p.MIB.DropNoSocket.Add(1)
		p.tcpV4SendResetLocked(&g)
		return
	}
	if req := l.listen.synQueue[g.tuple()]; req != nil {
		l.traceRcv(&g, trace.SiteCheckReq)
		if child := l.tcpCheckReqLocked(req, &g); child != nil {
			l.tcpChildProcessLocked(child, &g)
		}
		return
	}
	l.tcpV4DoRcvLocked(&g)
}

// tcpV4DoRcvLocked processes a segment for a socket: the established
// fast path or the state machine (Linux: tcp_v4_do_rcv).
func (s *Sock) tcpV4DoRcvLocked(g *segment) {
	s.traceRcv(g, trace.SiteNone)
	if s.state == StateEstablished {
		s.tcpRcvEstablishedLocked(g)
		return
	}
	if s.state == StateListen && g.has(flagAck) && !g.has(flagSyn|flagRst) {
		// Linux: tcp_v4_cookie_check, a third ACK with no request sock.
		if child := s.cookieV4CheckLocked(g); child != nil {
			s.tcpChildProcessLocked(child, g)
			return
		}
	}
	if s.tcpRcvStateProcessLocked(g) {
		s.proto.tcpV4SendResetLocked(g)
	}
}

// tcpRcvEstablishedLocked handles a segment in ESTABLISHED; an in-order
// segment with only ACK/PSH set and an expected timestamp takes the fast
// path (Linux: tcp_rcv_established header prediction).
func (s *Sock) tcpRcvEstablishedLocked(g *segment) {
	s.traceProbe(g)
	if g.flags&^(flagPsh) == flagAck && g.seq == s.rcvNxt && len(s.ooo) == 0 &&
		s.tsAcceptableLocked(g) && len(g.data) <= int(s.rcvWindowLocked()) && s.caState == caOpen &&
		g.ack.gt(s.sndUna.add(-1)) && g.ack.leq(s.sndMax) {
		s.noteRecvLocked(g)
		s.tcpStoreTsRecentLocked(g)
		if s.tcpAckLocked(g) {
			s.tcpDataQueueLocked(g)
			s.tcpDataSndCheckLocked()
			s.tcpAckSndCheckLocked()
		}
		return
	}
	s.tcpRcvStateProcessLocked(g)
}

// noteRecvLocked records activity for keepalive.
func (s *Sock) noteRecvLocked(g *segment) {
	s.lastRecvAt = s.proto.now()
	if s.keepOpen {
		s.probesOut = 0
	}
}
