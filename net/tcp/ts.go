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
	if int32(g.opts.TSVal-s.tsRecent) >= 0 {
		return true
	}
	return s.proto.now().Sub(s.tsRecentAt) > pawsIdle
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
