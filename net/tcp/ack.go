package tcp

import "time"

// tcpAckLocked processes the acknowledgment field of an incoming segment
// (RFC 9293 §3.10.7.4 fifth step; Linux: tcp_ack). It returns false when
// the segment must be dropped.
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
	if s.sackOK && g.opts.NumSACK > 0 {
		s.sacked.update(g.opts.SACK[:g.opts.NumSACK], s.sndUna, s.sndMax)
	}
	wndChanged := s.tcpAckUpdateWindowLocked(g)
	switch {
	case ack.gt(s.sndUna):
		s.tcpAckNewDataLocked(g)
	case ack == s.sndUna && s.isDupAckLocked(g, wndChanged):
		s.tcpDupAckLocked()
	}
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

// tcpAckNewDataLocked handles an ACK that advances SND.UNA.
func (s *Sock) tcpAckNewDataLocked(g *segment) {
	acked := g.ack.sub(s.sndUna)
	s.tcpCleanRtxQueueLocked(g.ack)
	s.tcpAckRttLocked(g)
	s.retrans, s.backoff, s.probesOut = 0, 0, 0
	if s.sndUna == s.sndMax {
		s.rtxT.stop()
	} else {
		s.resetRtoLocked() // RFC 6298 §5.3
	}
	segs := uint32((acked + s.sndMSS - 1) / max(s.sndMSS, 1))
	if s.inRecovery {
		s.tcpRecoveryAckLocked(segs)
	} else {
		s.dupAcks = 0
		if s.state == StateEstablished || s.state == StateCloseWait {
			s.cc.CongAvoid(&s.ccState, segs, s.proto.now(), s.rtt.srtt)
		}
	}
	s.wakeLocked()
}

// tcpCleanRtxQueueLocked drops acknowledged octets from the send buffer
// and notes an acknowledged FIN (Linux: tcp_clean_rtx_queue).
func (s *Sock) tcpCleanRtxQueueLocked(ack seqnum) {
	dataEnd := s.sndBufSeq.add(len(s.sndBuf))
	if ack.gt(s.sndBufSeq) {
		n := min(ack.sub(s.sndBufSeq), len(s.sndBuf))
		s.sndBuf = s.sndBuf[n:]
		s.sndBufSeq = s.sndBufSeq.add(n)
		if len(s.sndBuf) == 0 {
			s.sndBuf = nil
		}
	}
	if s.finQueued && ack == dataEnd.add(1) {
		s.finAcked = true
	}
	s.sndUna = ack
	if s.sndNxt.lt(ack) {
		s.sndNxt = ack
	}
	s.sacked.ackedTo(ack)
}

// tcpAckRttLocked takes an RTT sample from the echoed timestamp, or from
// the timed segment when timestamps are off (RFC 7323 §4.1, RFC 6298 §3).
func (s *Sock) tcpAckRttLocked(g *segment) {
	if s.tsOK && g.opts.HasTS && g.opts.TSEcr != 0 {
		ms := s.tsValLocked() - g.opts.TSEcr
		if ms < 1<<30 {
			s.rtt.sample(time.Duration(ms) * time.Millisecond)
		}
		return
	}
	if s.rttTiming && g.ack.geq(s.rttSeq) {
		s.rttTiming = false
		s.rtt.sample(s.proto.now().Sub(s.rttStart))
	}
}

// tcpDupAckLocked counts duplicate ACKs: the third starts fast retransmit
// (RFC 5681 §3.2); in recovery each one inflates cwnd (RFC 6582 §3.2 step 4).
func (s *Sock) tcpDupAckLocked() {
	s.dupAcks++
	if s.inRecovery {
		s.cwnd++
		s.tcpSackRetransmitLocked()
		return
	}
	// RFC 6582 §3.2 step 2: only when the ACK covers more than "recover".
	if s.dupAcks == 3 && s.sndUna.gt(s.recover) {
		s.tcpEnterRecoveryLocked()
	}
}

// tcpEnterRecoveryLocked is fast retransmit and the start of NewReno
// fast recovery (RFC 5681 §3.2 steps 2-3; RFC 6582 §3.2).
func (s *Sock) tcpEnterRecoveryLocked() {
	s.ssthresh = s.cc.SSThresh(&s.ccState)
	s.cwnd = s.ssthresh + 3
	s.recover = s.sndMax
	s.inRecovery = true
	s.highRxt = s.sndUna
	s.rttTiming = false
	if s.sackOK {
		s.proto.MIB.TCPSACKRecovery.Add(1)
	} else {
		s.proto.MIB.TCPRenoRecovery.Add(1)
	}
	s.proto.MIB.TCPFastRetrans.Add(1)
	s.tcpRetransmitOneLocked(s.sndUna)
}

// tcpRecoveryAckLocked handles a new ACK during fast recovery: a full ACK
// ends it, a partial ACK retransmits the next hole (RFC 6582 §3.2 step 5).
func (s *Sock) tcpRecoveryAckLocked(segs uint32) {
	if s.sndUna.geq(s.recover) {
		flight := uint32(s.inFlightLocked() / max(s.sndMSS, 1))
		s.cwnd = min(s.ssthresh, max(flight, 1)+1)
		s.inRecovery, s.dupAcks = false, 0
		return
	}
	s.highRxt = seqMax(s.highRxt, s.sndUna)
	s.tcpRetransmitOneLocked(s.sndUna)
	if segs < s.cwnd {
		s.cwnd -= segs
	}
	s.cwnd++
	s.tcpSackRetransmitLocked()
}

// tcpSackRetransmitLocked retransmits the next SACK hole above highRxt
// (RFC 6675 §5 step (C) NextSeg, one segment per ACK).
func (s *Sock) tcpSackRetransmitLocked() {
	if !s.sackOK {
		return
	}
	hole, ok := s.sacked.nextHole(seqMax(s.highRxt, s.sndUna))
	if !ok {
		return
	}
	s.tcpRetransmitOneLocked(hole.start)
}

// enterLossLocked collapses cwnd after an RTO (RFC 5681 §3.1 eq. 4;
// Linux: tcp_enter_loss).
func (s *Sock) enterLossLocked() {
	if s.state.synchronized() {
		s.ssthresh = s.cc.SSThresh(&s.ccState)
	}
	s.cc.OnRTO(&s.ccState)
	s.cwnd = 1
	s.cwndCnt = 0
	s.inRecovery = false
	s.dupAcks = 0
	s.recover = s.sndMax
}

// inFlightLocked estimates octets in the network (RFC 6675 "pipe"):
// sent, not acknowledged, not SACKed.
func (s *Sock) inFlightLocked() int {
	return s.sndNxt.sub(s.sndUna) - s.sacked.sackedBytes(s.sndNxt)
}
