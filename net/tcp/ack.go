package tcp

import "time"

// tcpAckLocked processes the acknowledgment field of an incoming segment
// (RFC 9293 §3.10.7.4 fifth step; Linux: tcp_ack): window update, SACK
// scoreboard, cumulative ACK, loss recovery, then congestion control and
// retransmissions. It returns false when the segment must be dropped.
func (s *Sock) tcpAckLocked(g *segment) bool {
	ack := g.ack
	// RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND draws a
	// challenge ACK; one for data never sent gets an ACK (RFC 9293).
	if ack.lt(s.sndUna.add(-int(s.maxSndWnd))) {
		s.proto.MIB.DropOldAck.Add(1)
		s.tcpSendChallengeAckLocked()
		return false
	}
	if ack.gt(s.sndMax) {
		s.proto.MIB.DropOldAck.Add(1)
		s.tcpSendAckLocked()
		return false
	}
	prevUna := s.sndUna
	s.ackTSEcr = 0
	if s.tsOK && g.opts.HasTS {
		s.ackTSEcr = g.opts.TSEcr
	}
	var f ackFlag
	if s.tcpAckUpdateWindowLocked(g) {
		f |= flagWinUpdate
	}
	sf, sacked := s.tcpSacktagLocked(g, prevUna)
	f |= sf
	delivered := 0 // segments newly acknowledged that were not SACKed before
	if ack.gt(s.sndUna) {
		f |= flagSndUnaAdvanced
		delivered = s.tcpAckNewDataLocked(g, &f)
	}
	dupAck := ack == prevUna && s.isDupAckLocked(g, f&flagWinUpdate != 0)
	if !s.state.synchronized() || s.state == StateSynRecv {
		return true
	}
	s.tcpProcessTlpAckLocked(f)
	if f&flagDataAcked != 0 {
		s.tcpSetXmitTimerLocked()
	}
	rexmit := rexmitNone
	lostBefore := s.rtxq.lostOut
	if s.tcpAckIsDubiousLocked(f) {
		rexmit = s.tcpFastretransAlertLocked(prevUna, f, dupAck)
	}
	s.tcpCongControlLocked(delivered, sacked, f, s.rtxq.lostOut > lostBefore)
	if f&flagDataAcked != 0 {
		s.tcpSndbufExpandLocked()
	}
	s.tcpXmitRecoveryLocked(rexmit)
	return true
}

// tcpAckUpdateWindowLocked applies the send-window update rule (RFC 9293
// §3.10.7.4: SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =<
// SEG.ACK); Linux: tcp_ack_update_window). It reports a change.
func (s *Sock) tcpAckUpdateWindowLocked(g *segment) bool {
	if !(s.sndWl1.lt(g.seq) || (s.sndWl1 == g.seq && s.sndWl2.leq(g.ack))) {
		return false
	}
	wnd := uint32(g.wnd) << s.sndWS
	changed := wnd != s.sndWnd
	s.sndWnd, s.sndWl1, s.sndWl2 = wnd, g.seq, g.ack
	s.maxSndWnd = max(s.maxSndWnd, wnd)
	if wnd > 0 && s.persistT.armed {
		s.persistT.stop()
		s.probesOut, s.backoff = 0, 0
	}
	return changed
}

// isDupAckLocked is RFC 5681 §2's duplicate ACK definition.
func (s *Sock) isDupAckLocked(g *segment, wndChanged bool) bool {
	return len(g.data) == 0 && !g.has(flagSyn|flagFin) && !wndChanged && s.sndMax != s.sndUna
}

// tcpAckNewDataLocked handles an ACK that advances SND.UNA and returns the
// number of segments it delivered: those it acknowledged that were not
// SACKed before, which were counted when their SACK arrived (RFC 6937
// DeliveredData; Linux: tp->delivered, tcp_clean_rtx_queue).
func (s *Sock) tcpAckNewDataLocked(g *segment, f *ackFlag) int {
	priorFack := s.fackLocked()
	a := s.tcpCleanRtxQueueLocked(g.ack)
	if a.reord && a.reordSeq.lt(priorFack) {
		// An original arrived after data sent later was SACKed:
		// reordering (Linux: tcp_clean_rtx_queue → tcp_check_sack_reordering).
		s.tcpCheckSackReorderingLocked(a.reordSeq, priorFack)
	}
	if a.segs > 0 || s.finAcked {
		*f |= flagDataAcked
	}
	if a.origAcked {
		*f |= flagOrigSackAcked
	}
	if a.hasNewest {
		s.tcpRackAdvanceLocked(&a.newest)
	}
	s.tcpAckRttLocked(g)
	s.retrans, s.backoff, s.probesOut = 0, 0, 0
	s.wakeLocked()
	return a.delivered
}

// tcpCleanRtxQueueLocked drops acknowledged octets from the send buffer
// and the retransmission queue and notes an acknowledged FIN (Linux:
// tcp_clean_rtx_queue).
func (s *Sock) tcpCleanRtxQueueLocked(ack seqnum) ackedInfo {
	dataEnd := s.sndBufSeq.add(s.sndq.len())
	if ack.gt(s.sndBufSeq) {
		n := min(ack.sub(s.sndBufSeq), s.sndq.len())
		s.sndq.trim(n)
		s.sndBufSeq = s.sndBufSeq.add(n)
	}
	if s.finQueued && ack == dataEnd.add(1) {
		s.finAcked = true
	}
	s.sndUna = ack
	if s.sndNxt.lt(ack) {
		s.sndNxt = ack
	}
	s.fackEnd = seqMax(s.fackEnd, ack)
	return s.rtxq.cleanAcked(ack)
}

// tcpAckRttLocked takes an RTT sample from the echoed timestamp, or from
// the timed segment when timestamps are off (RFC 7323 §4.1, RFC 6298 §3).
func (s *Sock) tcpAckRttLocked(g *segment) {
	if s.tsOK && g.opts.HasTS && g.opts.TSEcr != 0 {
		ms := s.tsValLocked() - g.opts.TSEcr
		if ms < 1<<30 {
			s.rttSampleLocked(time.Duration(ms) * time.Millisecond)
		}
		return
	}
	if s.rttTiming && g.ack.geq(s.rttSeq) {
		s.rttTiming = false
		s.rttSampleLocked(s.proto.now().Sub(s.rttStart))
	}
}

// rttSampleLocked feeds one RTT measurement to the estimator and the
// congestion control (Linux: tcp_ack_update_rtt → icsk_ca_ops->pkts_acked).
func (s *Sock) rttSampleLocked(m time.Duration) {
	s.rtt.sample(m)
	if pa, ok := s.cc.(rttObserver); ok && pa.PktsAcked(&s.ccState, m, s.sndUna, s.sndNxt) {
		s.proto.MIB.TCPHystartDelayDetect.Add(1)
		s.proto.MIB.TCPHystartDelayCwnd.Add(uint64(s.cwnd))
	}
}

// tcpSetXmitTimerLocked re-arms the loss probe or the RTO after an ACK
// that acknowledged data (Linux: tcp_set_xmit_timer; RFC 6298 §5.2-5.3).
func (s *Sock) tcpSetXmitTimerLocked() {
	if !s.tcpScheduleLossProbeLocked() {
		s.tcpRearmRtoLocked()
	}
}

// tcpCongControlLocked adjusts cwnd after an ACK: PRR while reducing,
// else the congestion control's growth when data was delivered in order
// (Linux: tcp_cong_control, tcp_may_raise_cwnd), in whatever state.
// acked+sacked is what the ACK delivered, each segment counted once
// (Linux: acked_sacked, tp->delivered's growth).
func (s *Sock) tcpCongControlLocked(acked, sacked int, f ackFlag, newlyLost bool) {
	if s.caState == caCWR || s.caState == caRecovery {
		s.tcpCwndReductionLocked(acked+sacked, f, newlyLost)
		return
	}
	progress := f&flagDataAcked != 0
	if s.reordering > tcpDupThresh {
		progress = f&(flagDataAcked|flagDataSacked) != 0
	}
	// Any synchronized state (tcpAckLocked returned before this for the
	// others): after Close the rest of the send buffer still goes out in
	// FIN-WAIT-1, CLOSING or LAST-ACK, and cwnd must grow there too.
	if progress {
		s.cc.CongAvoid(&s.ccState, uint32(max(acked+sacked, 1)), s.proto.now(), s.rtt.srtt)
	}
}

// rexmit is what an ACK leaves to retransmit (Linux: REXMIT_*).
type rexmit uint8

const (
	rexmitNone rexmit = iota
	rexmitLost        // retransmit segments judged lost
	rexmitNew         // F-RTO: send new data instead (RFC 5682 §3.1 step 2b)
)

// tcpXmitRecoveryLocked sends what loss recovery asked for, after cwnd
// was updated (Linux: tcp_xmit_recovery).
func (s *Sock) tcpXmitRecoveryLocked(r rexmit) {
	switch r {
	case rexmitNone:
		return
	case rexmitNew:
		s.tcpWriteXmitLocked()
		if s.sndNxt.gt(s.highSeq) {
			return
		}
		s.frto = false
	}
	s.tcpXmitRetransmitQueueLocked()
}

// inFlightLocked is RFC 6675's "pipe" in octets, for callers that count
// octets.
func (s *Sock) inFlightLocked() int { return s.rtxq.pipe() * s.sndMSS }
