package tcp

// tcpTimewaitStateProcessLocked handles a segment for a TIME_WAIT socket
// (RFC 9293 §3.10.7.4 for TIME-WAIT; Linux: tcp_timewait_state_process).
// It returns true when a new SYN ended TIME_WAIT and should go to the
// listener.
func (s *Sock) tcpTimewaitStateProcessLocked(g *segment) bool {
	p := s.proto
	if g.has(flagRst) {
		// Linux with tcp_rfc1337 = 0: a RST ends TIME_WAIT early.
		if g.seq == s.rcvNxt {
			s.tcpDoneLocked()
		}
		return false
	}
	if g.has(flagSyn) && !g.has(flagAck) {
		// RFC 9293 §3.10.7.4 / RFC 6191: a SYN beyond the old sequence
		// space, or with a newer timestamp, may reopen the connection;
		// one whose timestamp is older fails PAWS (Linux:
		// tcp_timewait_state_process accepts seq-after OR ts-newer).
		ts := s.tsOK && g.opts.HasTS
		pawsReject := ts && int32(g.opts.TSVal-s.tsRecent) < 0
		newer := g.seq.gt(s.rcvNxt) || (ts && int32(g.opts.TSVal-s.tsRecent) > 0)
		if newer && !pawsReject {
			p.MIB.TWRecycled.Add(1)
			s.tcpDoneLocked()
			return true
		}
	}
	if g.has(flagFin) && g.seq.add(len(g.data)) == s.rcvNxt.add(-1) {
		// A retransmitted FIN: our last ACK was lost. Restart 2MSL.
		s.twT.arm(p, p.cfg.TimeWait, func() func() { return s.fire(&s.twT, s.tcpDoneLocked) })
	}
	// Linux: tcp_v4_timewait_ack.
	s.tcpSendAckLocked()
	return false
}
