package tcp

import "time"

// pawsIdle is RFC 7323 §5.5's 24 days after which TS.Recent is stale.
const pawsIdle = 24 * 24 * time.Hour

// tsAcceptableLocked is the PAWS test (RFC 7323 §5.3 R1; Linux:
// tcp_paws_discard): a segment whose TSval is older than TS.Recent is a
// duplicate from an earlier incarnation of the sequence space. RSTs pass.
func (s *Sock) tsAcceptableLocked(g *segment) bool {
	if !s.tsOK || !g.opts.HasTS || g.has(flagRst) {
		return true
	}
	if int32(g.opts.TSVal-s.tsRecent) >= -1 { // Linux: TCP_PAWS_WINDOW
		return true
	}
	return s.proto.now().Sub(s.tsRecentAt) > pawsIdle || s.tcpDisorderedAckLocked(g)
}

// tcpDisorderedAckLocked lets through a duplicate ACK that was merely
// reordered behind a newer one: it changes nothing but the SACK
// information it carries, which loss recovery needs (RFC 7323 §5.3 R1
// would drop it; Linux: tcp_disordered_ack).
func (s *Sock) tcpDisorderedAckLocked(g *segment) bool {
	if !g.has(flagAck) || g.seqLen() != 0 || g.seq != s.rcvNxt || g.ack != s.sndUna {
		return false
	}
	wnd := uint32(g.wnd) << s.sndWS
	if g.seq.gt(s.sndWl1) || (g.seq == s.sndWl1 && (wnd > s.sndWnd || wnd == 0)) {
		return false // it may update the window
	}
	return int32(s.tsRecent-g.opts.TSVal) <= int32(s.rtt.rto/time.Millisecond)
}

// tcpStoreTsRecentLocked updates TS.Recent when the segment covers
// Last.ACK.sent (RFC 7323 §4.3; Linux: tcp_replace_ts_recent).
func (s *Sock) tcpStoreTsRecentLocked(g *segment) {
	if s.tsOK && g.opts.HasTS && g.seq.leq(s.rcvWup) && int32(g.opts.TSVal-s.tsRecent) >= 0 {
		s.tsRecent = g.opts.TSVal
		s.tsRecentAt = s.proto.now()
	}
}

// rcvWindowLocked is what is left of the window we announced (Linux:
// tcp_receive_window).
func (s *Sock) rcvWindowLocked() uint32 {
	return uint32(max(s.rcvWup.add(int(s.rcvWnd)).sub(s.rcvNxt), 0))
}
