package tcp

import "time"

// rackState is RFC 8985's per-connection RACK state (Linux: tcp_sock.rack).
type rackState struct {
	xmitTS        time.Time     // send time of the most recently sent segment delivered (RACK.xmit_ts)
	endSeq        seqnum        // its end (RACK.end_seq)
	rtt           time.Duration // its RTT (RACK.rtt)
	advanced      bool          // a delivery moved xmitTS since the last detection
	reord         bool          // reordering was observed (RACK.reordering_seen)
	dsackSeen     bool          // a D-SACK arrived since the window was last widened
	reoWndSteps   int           // RACK.reo_wnd_mult
	reoWndPersist int           // recoveries left before the multiplier resets
}

// rackSentAfter: segment (t1, seq1) was sent after (t2, seq2); a tie in
// time is broken by sequence (RFC 8985 §6.2 RACK_sent_after).
func rackSentAfter(t1, t2 time.Time, seq1, seq2 seqnum) bool {
	return t1.After(t2) || (t1.Equal(t2) && seq1.gt(seq2))
}

// tcpRackAdvanceLocked records the delivery of t (RFC 8985 §6.2 step 2,
// RACK_update; Linux: tcp_rack_advance). A retransmission whose RTT is
// shorter than the minimum RTT may have been the original's ACK: ignore it.
func (s *Sock) tcpRackAdvanceLocked(t *txSeg) {
	rtt := s.proto.now().Sub(t.sent)
	if t.has(segEverRetrans) && (rtt < s.rtt.minRTT || (s.tsOK && s.ackTSEcr != 0 && int32(s.ackTSEcr-s.tsAt(t.sent)) < 0)) {
		return
	}
	s.rack.advanced = true
	s.rack.rtt = rtt
	if rackSentAfter(t.sent, s.rack.xmitTS, t.end, s.rack.endSeq) {
		s.rack.xmitTS, s.rack.endSeq = t.sent, t.end
	}
}

// tsAt converts a send time to our TSval clock.
func (s *Sock) tsAt(t time.Time) uint32 {
	return uint32(t.Sub(s.proto.start)/time.Millisecond) + s.tsOffset
}

// tcpRackReoWndLocked is the reordering window (RFC 8985 §6.2 step 4;
// Linux: tcp_rack_reo_wnd): zero until reordering is seen once DupThresh
// segments are SACKed or recovery started, else min_RTT/4 per step,
// never more than SRTT.
func (s *Sock) tcpRackReoWndLocked() time.Duration {
	if !s.rack.reord && (s.caState >= caRecovery || s.rtxq.sackedOut >= s.reordering) {
		return 0
	}
	return min(s.rtt.minRTT/4*time.Duration(max(s.rack.reoWndSteps, 1)), s.rtt.srtt)
}

// tcpRackUpdateReoWndLocked widens the window by a step per round trip
// with D-SACKs, and resets it after 16 recoveries without (RFC 8985 §6.2
// step 4; Linux: tcp_rack_update_reo_wnd).
func (s *Sock) tcpRackUpdateReoWndLocked() {
	if s.rack.dsackSeen {
		s.rack.dsackSeen = false
		s.rack.reoWndSteps = min(max(s.rack.reoWndSteps, 1)+1, 255)
		s.rack.reoWndPersist = 16
	} else if s.caState == caOpen && s.rack.reoWndPersist == 0 {
		s.rack.reoWndSteps = 1
	}
}

// tcpRackDetectLossLocked marks lost every segment sent before the last
// delivered one and outstanding longer than RACK.rtt + reo_wnd (RFC 8985
// §6.2 step 5, RACK_detect_loss; Linux: tcp_rack_detect_loss). It
// returns how long until the next one could be, or 0.
func (s *Sock) tcpRackDetectLossLocked() time.Duration {
	reoWnd := s.tcpRackReoWndLocked()
	now := s.proto.now()
	var wait time.Duration
	segs := s.rtxq.live()
	for i := range segs {
		t := &segs[i]
		if t.has(segSacked) || (t.has(segLost) && !t.has(segRetrans)) {
			continue
		}
		if !rackSentAfter(s.rack.xmitTS, t.sent, s.rack.endSeq, t.end) {
			continue
		}
		remaining := t.sent.Add(s.rack.rtt + reoWnd).Sub(now)
		if remaining <= 0 {
			s.tcpMarkSkbLostLocked(t)
		} else {
			wait = max(wait, remaining)
		}
	}
	return wait
}

// tcpRackMarkLostLocked runs detection after deliveries and arms the
// reordering timer for segments not yet overdue (Linux: tcp_rack_mark_lost).
func (s *Sock) tcpRackMarkLostLocked() {
	if !s.rack.advanced {
		return
	}
	s.rack.advanced = false
	s.tcpRackUpdateReoWndLocked()
	if wait := s.tcpRackDetectLossLocked(); wait > 0 {
		s.armXmitTimerLocked(timerReo, wait+time.Millisecond)
	}
}

// tcpRackReoTimeoutLocked: the reordering window ran out; whatever is
// still missing is lost (RFC 8985 §6.3; Linux: tcp_rack_reo_timeout).
func (s *Sock) tcpRackReoTimeoutLocked() {
	// Compare what is in flight, not lostOut: a retransmission found lost
	// leaves lostOut alone (its segment was lost already) but no longer
	// counts in the pipe, and must go again.
	inflight := s.rtxq.pipe()
	if wait := s.tcpRackDetectLossLocked(); wait > 0 {
		s.armXmitTimerLocked(timerReo, wait+time.Millisecond)
	}
	if s.rtxq.pipe() != inflight {
		if s.caState != caRecovery && s.caState != caLoss {
			s.tcpEnterRecoveryLocked()
		}
		s.tcpXmitRetransmitQueueLocked()
	}
	if !s.rtxT.armed {
		s.tcpRearmRtoLocked()
	}
}

// tcpScheduleLossProbeLocked arms a tail loss probe instead of the RTO
// when in Open state with SACK (RFC 8985 §7.2: PTO = 2·SRTT, plus the
// delayed-ACK allowance with one segment in flight, never after the RTO;
// Linux: tcp_schedule_loss_probe). It reports whether it armed one.
func (s *Sock) tcpScheduleLossProbeLocked() bool {
	if s.rtxq.packetsOut() == 0 || !s.sackOK || (s.caState != caOpen && s.caState != caCWR) {
		return false
	}
	pto := tcpTimeoutInit
	if s.rtt.valid {
		pto = 2 * s.rtt.srtt
		if s.rtxq.packetsOut() == 1 {
			pto += tcpRtoMin // RFC 8985 §7.2 WCDelAckT; Linux uses TCP_RTO_MIN
		} else {
			pto += 2 * time.Millisecond
		}
	}
	pto = min(pto, s.currentRtoLocked())
	s.armXmitTimerLocked(timerLossProbe, pto)
	return true
}

// tcpSendLossProbeLocked sends the probe: new data if the window allows,
// else the last segment again, once per tail-loss episode (RFC 8985 §7.3;
// Linux: tcp_send_loss_probe).
func (s *Sock) tcpSendLossProbeLocked() {
	if s.tlpHighSeq == 0 {
		s.tlpRetrans = false
		sent := false
		if s.unsentLocked() > 0 && s.sndUna.add(int(s.sndWnd)).gt(s.sndNxt) {
			sent = s.tcpXmitOneLocked(true)
		}
		if !sent {
			if n := s.rtxq.packetsOut(); n > 0 && !s.rtxq.live()[n-1].has(segSacked) {
				s.tcpRetransmitSkbLocked(n - 1)
				s.tlpRetrans, sent = true, true
			}
		}
		if sent {
			s.proto.MIB.TCPLossProbes.Add(1)
			s.tlpHighSeq = s.sndNxt
		}
	}
	s.tcpRearmRtoLocked()
}

// tcpProcessTlpAckLocked ends a probe episode: if the probe, not the
// original, repaired a loss, cwnd is reduced once (RFC 8985 §7.4; Linux:
// tcp_process_tlp_ack → TCPLossProbeRecovery).
func (s *Sock) tcpProcessTlpAckLocked(f ackFlag) {
	if s.tlpHighSeq == 0 || s.sndUna.lt(s.tlpHighSeq) {
		return
	}
	switch {
	case !s.tlpRetrans, f&flagDSACKTLP != 0, f&(flagSndUnaAdvanced|flagNotDup|flagDataSacked) == 0:
		// New data was acknowledged, or both copies arrived (a D-SACK,
		// or a pure duplicate ACK): nothing was lost.
		s.tlpHighSeq = 0
	default:
		s.tcpInitCwndReductionLocked()
		s.caState = caCWR
		s.tcpEndCwndReductionLocked()
		s.tcpTryKeepOpenLocked()
		s.proto.MIB.TCPLossProbeRecovery.Add(1)
	}
}
