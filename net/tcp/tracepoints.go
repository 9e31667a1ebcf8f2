package tcp

import (
	"net/netip"
	"unsafe"

	"gomenuos/net/header"
	"gomenuos/sched/trace"
)

// TCP's tracepoints (sched/trace; docs/tracing.md): Linux's tcp:tcp_probe
// and sock:inet_sock_set_state, and our tcp:tcp_send_segment and
// tcp:tcp_rcv_segment, which record every segment a socket sends or
// receives together with the function that did (the sequence diagrams of
// `make trace` and `make lab` are drawn from them). Each site is one call
// that costs a flag test while its tracepoint is off; the work is in the
// functions below, which run only when it is on.

// cookie is a socket's identity in events (Linux: sock_cookie): its
// address, as a number.
func (s *Sock) cookie() uint64 {
	if s == nil {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(s)))
}

// traceSend records a segment we send: s is the socket it belongs to (nil
// for a RST nobody owns), site the Linux name of the sender.
func (p *Proto) traceSend(s *Sock, src, dst netip.Addr, f *header.TCPFields, n int, site trace.Site) {
	if trace.Enabled(trace.KindTCPSendSegment) {
		p.traceSendSlow(s, src, dst, f, n, site)
	}
}

func (p *Proto) traceSendSlow(s *Sock, src, dst netip.Addr, f *header.TCPFields, n int, site trace.Site) {
	e := trace.Reserve(trace.KindTCPSendSegment, trace.CurG())
	if e == nil {
		return
	}
	g := e.Segment()
	fillSegment(g, s, src, dst, f.SrcPort, f.DstPort, f.Seq, f.Ack, f.Flags, f.Window, f.Options, n, site)
	e.Commit()
}

// traceRcv records a segment received by s (nil: no socket wanted it),
// handed to site (SiteNone: the function tcp_v4_do_rcv picks for s's
// state).
func (s *Sock) traceRcv(g *segment, site trace.Site) {
	if trace.Enabled(trace.KindTCPRcvSegment) {
		s.traceRcvSlow(g, site)
	}
}

func (s *Sock) traceRcvSlow(g *segment, site trace.Site) {
	e := trace.Reserve(trace.KindTCPRcvSegment, trace.CurG())
	if e == nil {
		return
	}
	if site == trace.SiteNone {
		site = s.rcvSite(g)
	}
	fillSegment(e.Segment(), s, g.src, g.dst, g.srcPort, g.dstPort, uint32(g.seq), uint32(g.ack), g.flags, g.wnd,
		&g.opts, len(g.data), site)
	e.Commit()
}

// rcvSite names the function tcp_v4_do_rcv hands a segment to in s's
// state.
func (s *Sock) rcvSite(g *segment) trace.Site {
	switch {
	case s.state == StateEstablished:
		return trace.SiteRcvEstablished
	case s.state == StateSynSent:
		return trace.SiteRcvSynSent
	case s.state == StateListen && g.has(flagSyn) && !g.has(flagAck|flagRst):
		return trace.SiteConnRequest
	}
	return trace.SiteRcvStateProcess
}

func fillSegment(g *trace.Segment, s *Sock, src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags uint8,
	win uint16, o *header.TCPOptions, n int, site trace.Site) {
	g.Sock = s.cookie()
	if s != nil {
		g.State = uint8(s.state)
	}
	g.Saddr, g.Daddr = as4(src), as4(dst)
	g.Sport, g.Dport, g.Seq, g.Ack, g.Flags, g.Win, g.Len, g.Site = sport, dport, seq, ack, flags, win, uint32(n), site
	if o == nil {
		return
	}
	if o.HasMSS {
		g.Opt |= trace.OptMSS
		g.MSS = o.MSS
	}
	if o.HasWS {
		g.Opt |= trace.OptWS
		g.WS = o.WS
	}
	if o.SACKPermitted {
		g.Opt |= trace.OptSACKOK
	}
	if o.HasTS {
		g.Opt |= trace.OptTS
		g.TSVal, g.TSEcr = o.TSVal, o.TSEcr
	}
	g.NSACK = uint8(min(o.NumSACK, len(g.SACK)))
	for i := range g.SACK[:g.NSACK] {
		g.SACK[i] = [2]uint32{o.SACK[i].Start, o.SACK[i].End}
	}
}

// traceProbe is Linux's tcp_probe: the congestion state on each segment
// an established socket receives (Linux: trace_tcp_probe in
// tcp_rcv_established).
func (s *Sock) traceProbe(g *segment) {
	if trace.Enabled(trace.KindTCPProbe) {
		s.traceProbeSlow(g)
	}
}

func (s *Sock) traceProbeSlow(g *segment) {
	e := trace.Reserve(trace.KindTCPProbe, trace.CurG())
	if e == nil {
		return
	}
	a := e.TCPProbe()
	a.Sock, a.State = s.cookie(), uint8(s.state)
	a.Saddr, a.Daddr, a.Sport, a.Dport = as4(s.laddr), as4(s.raddr), s.lport, s.rport
	a.DataLen = uint32(len(g.data))
	a.SndNxt, a.SndUna = uint32(s.sndNxt), uint32(s.sndUna)
	a.SndCwnd, a.Ssthresh = s.cwnd, s.ssthresh
	a.SndWnd, a.RcvWnd = s.sndWnd, s.rcvWnd
	a.SRTTMicros = uint32(s.rtt.srtt.Microseconds())
	e.Commit()
}

// traceSetState is Linux's inet_sock_set_state.
func (s *Sock) traceSetState(old, st State) {
	if trace.Enabled(trace.KindInetSockSetState) {
		s.traceSetStateSlow(old, st)
	}
}

func (s *Sock) traceSetStateSlow(old, st State) {
	e := trace.Reserve(trace.KindInetSockSetState, trace.CurG())
	if e == nil {
		return
	}
	a := e.SetState()
	a.Sock = s.cookie()
	a.Saddr, a.Daddr, a.Sport, a.Dport = as4(s.laddr), as4(s.raddr), s.lport, s.rport
	a.OldState, a.NewState = uint8(old), uint8(st)
	e.Commit()
}

// as4 is a's IPv4 bytes, zero for an unset address.
func as4(a netip.Addr) [4]byte {
	if !a.Is4() {
		return [4]byte{}
	}
	return a.As4()
}
