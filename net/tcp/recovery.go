package tcp

// caState is the sender's loss-recovery state (Linux: enum
// tcp_ca_state, icsk_ca_state).
type caState uint8

const (
	caOpen     caState = iota // nothing suspicious
	caDisorder                // SACKs or duplicate ACKs seen, nothing lost yet
	caCWR                     // cwnd being reduced after a loss a probe repaired
	caRecovery                // fast recovery (RFC 6675 / RFC 6582)
	caLoss                    // after a retransmission timeout
)

// ackFlag describes what one ACK did (Linux: the FLAG_* bits of tcp_ack).
type ackFlag uint16

const (
	flagDataAcked      ackFlag = 1 << iota // new data acknowledged
	flagSndUnaAdvanced                     // SND.UNA moved
	flagDataSacked                         // new data SACKed
	flagOrigSackAcked                      // never-retransmitted data (S)ACKed
	flagDSACK                              // the ACK carried a D-SACK
	flagDSACKTLP                           // ... covering the loss probe
	flagWinUpdate                          // the window changed
	flagLostRetrans                        // a retransmission was lost again
)

// flagNotDup: the ACK is not a duplicate (Linux: FLAG_NOT_DUP).
const flagNotDup = flagDataAcked | flagWinUpdate

// tcpAckIsDubiousLocked says whether the ACK needs loss-recovery
// processing (Linux: tcp_ack_is_dubious).
func (s *Sock) tcpAckIsDubiousLocked(f ackFlag) bool {
	return f&flagNotDup == 0 || f&(flagDataSacked|flagDSACK) != 0 || s.caState != caOpen
}

// tcpFastretransAlertLocked is the loss-recovery state machine run on a
// dubious ACK (Linux: tcp_fastretrans_alert): leave a finished state, undo
// a reduction that D-SACKs or timestamps prove spurious, find lost
// segments (RACK, RFC 6675 IsLost, NewReno's head), enter recovery. It
// returns what to retransmit once cwnd is updated.
func (s *Sock) tcpFastretransAlertLocked(prevUna seqnum, f ackFlag, dupAck bool) rexmit {
	// Exit a state once everything outstanding at its start is acknowledged.
	if s.caState == caOpen {
		s.retransStamp = 0
	} else if s.sndUna.geq(s.highSeq) {
		switch s.caState {
		case caCWR:
			if s.sndUna != s.highSeq || s.rtxq.packetsOut() == 0 {
				s.tcpEndCwndReductionLocked()
				s.caState = caOpen
			}
		case caRecovery:
			s.rtxq.renoSacked = 0
			if s.tcpTryUndoRecoveryLocked() {
				return rexmitNone
			}
			s.tcpEndCwndReductionLocked()
		}
	}
	switch s.caState {
	case caRecovery:
		if f&flagSndUnaAdvanced == 0 {
			s.tcpAddRenoSackLocked(dupAck)
		} else if s.tcpTryUndoPartialLocked() {
			return rexmitNone
		}
		if s.tcpTryUndoDsackLocked() {
			s.tcpTryKeepOpenLocked()
		}
		s.tcpIdentifyPacketLossLocked(&f)
		if s.caState != caRecovery {
			if !s.tcpTimeToRecoverLocked() {
				return rexmitNone
			}
			s.tcpEnterRecoveryLocked()
		}
		return rexmitLost
	case caLoss:
		r := s.tcpProcessLossLocked(f, dupAck)
		if r != rexmitLost {
			return r
		}
		s.tcpIdentifyPacketLossLocked(&f)
		if s.caState != caOpen && f&flagLostRetrans == 0 {
			return rexmitLost
		}
	}
	if !s.sackOK {
		if f&flagSndUnaAdvanced != 0 {
			s.rtxq.renoSacked = 0
		}
		s.tcpAddRenoSackLocked(dupAck)
	}
	if s.caState <= caDisorder {
		s.tcpTryUndoDsackLocked()
	}
	s.tcpIdentifyPacketLossLocked(&f)
	if !s.tcpTimeToRecoverLocked() {
		s.tcpTryToOpenLocked()
		return rexmitNone
	}
	s.tcpEnterRecoveryLocked()
	return rexmitLost
}

// tcpTimeToRecoverLocked: a segment is judged lost (Linux:
// tcp_time_to_recover).
func (s *Sock) tcpTimeToRecoverLocked() bool { return s.rtxq.lostOut > 0 }

// tcpTryToOpenLocked returns to Open, or Disorder while SACKs or
// retransmissions are outstanding (Linux: tcp_try_to_open/tcp_try_keep_open).
func (s *Sock) tcpTryToOpenLocked() {
	if s.caState == caCWR {
		return
	}
	s.tcpTryKeepOpenLocked()
}

// tcpTryKeepOpenLocked picks Open, or Disorder while segments are SACKed
// or judged lost or a retransmission is outstanding, as Linux decides
// (tcp_try_keep_open: tcp_left_out, tcp_any_retrans_done). Not while a
// past reduction could still be undone: that kept the sender out of Open,
// and so without tail loss probes, for good after its first recovery.
func (s *Sock) tcpTryKeepOpenLocked() {
	st := caOpen
	if s.rtxq.sackedOut+s.rtxq.renoSacked+s.rtxq.lostOut > 0 || s.tcpAnyRetransDoneLocked() {
		st = caDisorder
	}
	if s.caState != st {
		s.caState = st
		s.highSeq = s.sndNxt
	}
}

// tcpAnyRetransDoneLocked: a retransmission is in flight, or the oldest
// outstanding segment was retransmitted (Linux: tcp_any_retrans_done).
func (s *Sock) tcpAnyRetransDoneLocked() bool {
	if s.rtxq.retransOut > 0 {
		return true
	}
	segs := s.rtxq.live()
	return len(segs) > 0 && segs[0].has(segEverRetrans)
}

// tcpAddRenoSackLocked counts a duplicate ACK as one segment that left
// the network when the peer cannot SACK (RFC 5681 §3.2 step 4's
// inflation, expressed in "pipe"; Linux: tcp_add_reno_sack).
func (s *Sock) tcpAddRenoSackLocked(dupAck bool) {
	if s.sackOK || !dupAck {
		return
	}
	s.rtxq.renoSacked = min(s.rtxq.renoSacked+1, max(s.rtxq.packetsOut()-1, 0))
}

// tcpIdentifyPacketLossLocked marks lost segments (Linux:
// tcp_identify_packet_loss): RACK (RFC 8985 §6.2) and RFC 6675's IsLost
// with SACK, NewReno's rule without (RFC 6582 §3.2: the head after
// DupThresh duplicates, and again on each partial ACK).
func (s *Sock) tcpIdentifyPacketLossLocked(f *ackFlag) {
	if s.rtxq.packetsOut() == 0 {
		return
	}
	before := s.proto.MIB.TCPLostRetransmit.Load()
	if !s.sackOK {
		q := &s.rtxq
		if (s.caState < caRecovery && q.renoSacked >= s.reordering) ||
			(s.caState == caRecovery && *f&flagSndUnaAdvanced != 0) {
			q.markLost(&q.live()[0])
		}
		return
	}
	s.tcpRackMarkLostLocked()
	s.tcpUpdateScoreboardLocked()
	if s.proto.MIB.TCPLostRetransmit.Load() != before {
		*f |= flagLostRetrans
	}
}

// tcpUpdateScoreboardLocked applies RFC 6675 §4 IsLost(): a segment with
// DupThresh SACKed segments above it is lost (DupThresh grows with the
// reordering seen; Linux: tcp_update_scoreboard → tcp_mark_head_lost).
func (s *Sock) tcpUpdateScoreboardLocked() {
	segs := s.rtxq.live()
	above := 0
	for i := len(segs) - 1; i >= 0; i-- {
		t := &segs[i]
		if t.has(segSacked) {
			above++
			continue
		}
		if above >= s.reordering && !t.has(segLost|segRetrans) {
			s.tcpMarkSkbLostLocked(t)
		}
	}
}

// tcpMarkSkbLostLocked marks one segment lost, counting a retransmission
// lost again (Linux: tcp_mark_skb_lost, LINUX_MIB_TCPLOSTRETRANSMIT).
func (s *Sock) tcpMarkSkbLostLocked(t *txSeg) {
	if s.rtxq.markLost(t) {
		s.proto.MIB.TCPLostRetransmit.Add(1)
	}
}

// tcpInitCwndReductionLocked starts a reduction: ssthresh from the
// congestion control, PRR's counters from zero (RFC 6937 §3 "on entering
// recovery"; Linux: tcp_init_cwnd_reduction).
func (s *Sock) tcpInitCwndReductionLocked() {
	s.highSeq = s.sndNxt
	s.tlpHighSeq = 0
	s.cwndCnt = 0
	s.priorCwnd = s.cwnd
	s.prrDelivered, s.prrOut = 0, 0
	s.ssthresh = s.cc.SSThresh(&s.ccState)
}

// tcpCwndReductionLocked sets cwnd during recovery by Proportional Rate
// Reduction (RFC 6937 §3.1, with the slow-start reduction bound PRR-SSRB;
// Linux: tcp_cwnd_reduction). RecoverFS is the cwnd at the start.
func (s *Sock) tcpCwndReductionLocked(newlyAckedSacked int, f ackFlag, newlyLost bool) {
	if newlyAckedSacked <= 0 || s.priorCwnd == 0 {
		return
	}
	s.prrDelivered += uint32(newlyAckedSacked)
	pipe := s.rtxq.pipe()
	delta := int(s.ssthresh) - pipe
	var sndcnt int
	if delta < 0 {
		// Proportional part: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out.
		sndcnt = int((uint64(s.ssthresh)*uint64(s.prrDelivered)+uint64(s.priorCwnd)-1)/uint64(s.priorCwnd)) - int(s.prrOut)
	} else {
		// PRR-SSRB: grow back towards ssthresh at most one segment
		// faster than the ACKs deliver.
		sndcnt = max(int(s.prrDelivered)-int(s.prrOut), newlyAckedSacked)
		if f&flagSndUnaAdvanced != 0 && !newlyLost {
			sndcnt++
		}
		sndcnt = min(delta, sndcnt)
	}
	if s.prrOut == 0 {
		sndcnt = max(sndcnt, 1) // the fast retransmit always goes
	}
	s.cwnd = uint32(max(pipe+sndcnt, 1))
}

// tcpEndCwndReductionLocked finishes a reduction at ssthresh (RFC 6937
// §3.1 "on exiting recovery"; Linux: tcp_end_cwnd_reduction): in CWR, or
// at the end of recovery unless it was undone. That end comes after
// tcpTryUndoRecoveryLocked has set Open, so, as Linux tests undo_marker,
// this tests undoActive rather than the state.
func (s *Sock) tcpEndCwndReductionLocked() {
	if s.ssthresh < infiniteSSThresh && (s.caState == caCWR || s.undoActive) {
		s.cwnd = s.ssthresh
	}
}

// tcpEnterRecoveryLocked starts fast recovery (RFC 6675 §5 step (4.2);
// Linux: tcp_enter_recovery).
func (s *Sock) tcpEnterRecoveryLocked() {
	m := &s.proto.MIB
	if s.sackOK {
		m.TCPSACKRecovery.Add(1)
	} else {
		m.TCPRenoRecovery.Add(1)
	}
	m.TCPFastRetrans.Add(1)
	s.priorSSThresh = 0
	s.tcpInitUndoLocked()
	if s.caState != caCWR {
		s.priorSSThresh = s.tcpCurrentSSThreshLocked()
		s.tcpInitCwndReductionLocked()
	}
	s.caState = caRecovery
	s.rttTiming = false
}

// tcpCurrentSSThreshLocked is what undo restores ssthresh to (Linux:
// tcp_current_ssthresh).
func (s *Sock) tcpCurrentSSThreshLocked() uint32 {
	return max(s.ssthresh, s.cwnd*3/4)
}

// tcpInitUndoLocked remembers where a reduction began, for undo (Linux:
// tcp_init_undo).
func (s *Sock) tcpInitUndoLocked() {
	s.undoMarker, s.undoActive = s.sndUna, true
	s.undoRetrans = s.rtxq.retransOut
	if s.undoRetrans == 0 {
		s.undoRetrans = -1
	}
}

// tcpPacketDelayedLocked is the Eifel test (RFC 3522): the ACK echoes a
// timestamp older than our first retransmission, so the original made it
// (Linux: tcp_packet_delayed).
func (s *Sock) tcpPacketDelayedLocked() bool {
	return s.tsOK && s.retransStamp != 0 && s.ackTSEcr != 0 && int32(s.ackTSEcr-s.retransStamp) < 0
}

// tcpMayUndoLocked: every retransmission was D-SACKed, or the ACK came
// from an original transmission (Linux: tcp_may_undo).
func (s *Sock) tcpMayUndoLocked() bool {
	return s.undoActive && (s.undoRetrans == 0 || s.tcpPacketDelayedLocked())
}

// tcpUndoCwndReductionLocked restores cwnd and ssthresh from before a
// spurious reduction, and after an RTO forgets the loss marks (Linux:
// tcp_undo_cwnd_reduction).
func (s *Sock) tcpUndoCwndReductionLocked(unmarkLoss bool) {
	if unmarkLoss {
		segs := s.rtxq.live()
		for i := range segs {
			s.rtxq.clearBits(&segs[i], segLost)
		}
	}
	if s.priorSSThresh != 0 {
		s.cwnd = max(s.cwnd, s.priorCwnd)
		s.ssthresh = max(s.ssthresh, s.priorSSThresh)
	}
	s.undoActive = false
}

// tcpTryUndoRecoveryLocked runs when recovery ends: undo if it was
// spurious (TCPFullUndo, TCPLossUndo after an RTO; Linux:
// tcp_try_undo_recovery). NewReno holds the state until data above the
// recovery point is acknowledged (RFC 6582 §3.2 step 5).
func (s *Sock) tcpTryUndoRecoveryLocked() bool {
	if s.tcpMayUndoLocked() {
		s.tcpUndoCwndReductionLocked(false)
		if s.caState == caLoss {
			s.proto.MIB.TCPLossUndo.Add(1)
		} else {
			s.proto.MIB.TCPFullUndo.Add(1)
		}
	}
	if s.sndUna == s.highSeq && !s.sackOK {
		return true
	}
	s.caState = caOpen
	return false
}

// tcpTryUndoPartialLocked undoes on a partial ACK the timestamps prove
// came from an original (Linux: tcp_try_undo_partial).
func (s *Sock) tcpTryUndoPartialLocked() bool {
	if !s.undoActive || !s.tcpPacketDelayedLocked() {
		return false
	}
	// The reordering was as deep as the acknowledged span; retransmit no more.
	s.tcpUndoCwndReductionLocked(true)
	s.proto.MIB.TCPPartialUndo.Add(1)
	if s.rtxq.retransOut > 0 {
		return true // keep the state until the retransmissions are accounted for
	}
	s.tcpTryKeepOpenLocked()
	return true
}

// tcpTryUndoDsackLocked undoes once D-SACKs covered every retransmission
// (Linux: tcp_try_undo_dsack).
func (s *Sock) tcpTryUndoDsackLocked() bool {
	if s.undoActive && s.undoRetrans == 0 {
		s.rack.reoWndPersist = min(s.rack.reoWndPersist+1, 16)
		s.tcpUndoCwndReductionLocked(false)
		s.proto.MIB.TCPDSACKUndo.Add(1)
		return true
	}
	return false
}

// tcpTryUndoLossLocked undoes an RTO's reduction, counting F-RTO's
// detection as a spurious RTO (RFC 5682 §3.1 step 3b; Linux:
// tcp_try_undo_loss).
func (s *Sock) tcpTryUndoLossLocked(frtoUndo bool) bool {
	if !frtoUndo && !s.tcpMayUndoLocked() {
		return false
	}
	s.tcpUndoCwndReductionLocked(true)
	s.proto.MIB.TCPLossUndo.Add(1)
	if frtoUndo {
		s.proto.MIB.TCPSpuriousRTOs.Add(1)
	}
	s.retrans = 0
	if frtoUndo || s.sackOK {
		s.caState = caOpen
	}
	return true
}

// tcpEnterLossLocked handles an RTO (RFC 5681 §3.1 eq. 4, RFC 6298 §5;
// Linux: tcp_enter_loss): ssthresh from the congestion control unless this
// is a repeated timeout, every segment not SACKed judged lost, cwnd to
// what is in flight plus one, and F-RTO armed (RFC 5682 §3.1 step 1).
func (s *Sock) tcpEnterLossLocked() {
	newRecovery := s.caState < caRecovery
	if s.caState <= caDisorder || !s.highSeq.gt(s.sndUna) || (s.caState == caLoss && s.retrans <= 1) {
		s.priorSSThresh = s.tcpCurrentSSThreshLocked()
		s.priorCwnd = s.cwnd
		if s.state.synchronized() {
			s.ssthresh = s.cc.SSThresh(&s.ccState)
		}
		s.cc.OnRTO(&s.ccState)
		s.tcpInitUndoLocked()
	}
	s.rtxq.renoSacked = 0
	segs := s.rtxq.live()
	for i := range segs {
		s.tcpMarkSkbLostLocked(&segs[i])
	}
	s.cwnd = uint32(s.rtxq.pipe() + 1)
	s.cwndCnt = 0
	s.caState = caLoss
	s.highSeq = s.sndNxt
	s.tlpHighSeq = 0
	s.frto = newRecovery || s.retrans > 1
}

// tcpProcessLossLocked handles an ACK after an RTO: undo when it proves
// the timeout spurious, F-RTO's probing with new data (RFC 5682 §3.1
// steps 2-3, the SACK-enhanced version), else conventional recovery
// (Linux: tcp_process_loss).
func (s *Sock) tcpProcessLossLocked(f ackFlag, dupAck bool) rexmit {
	recovered := s.sndUna.geq(s.highSeq)
	if f&flagSndUnaAdvanced != 0 && s.tcpTryUndoLossLocked(false) {
		return rexmitNone
	}
	if s.frto {
		// Step 3b: never-retransmitted data (S)ACKed — not all was lost.
		if f&flagOrigSackAcked != 0 && s.tcpTryUndoLossLocked(true) {
			return rexmitNone
		}
		if s.sndNxt.gt(s.highSeq) {
			if f&flagDataSacked != 0 || dupAck {
				s.frto = false // step 3a: the loss was real
			}
		} else if f&flagSndUnaAdvanced != 0 && !recovered {
			s.highSeq = s.sndNxt
			// Step 2b: send new data rather than retransmitting, if any.
			if s.unsentLocked() > 0 && s.sndUna.add(int(s.sndWnd)).gt(s.sndNxt) {
				return rexmitNew
			}
			s.frto = false
		}
	}
	if recovered {
		s.tcpTryUndoRecoveryLocked()
		return rexmitNone
	}
	return rexmitLost
}

// tcpXmitRetransmitQueueLocked retransmits segments judged lost, oldest
// first, while cwnd leaves room (RFC 6675 §4 NextSeg rule 1, §5 step (C);
// Linux: tcp_xmit_retransmit_queue).
func (s *Sock) tcpXmitRetransmitQueueLocked() {
	if s.rtxq.lostOut == 0 {
		return
	}
	for i := 0; i < s.rtxq.packetsOut(); i++ {
		if s.rtxq.pipe() >= int(s.cwnd) {
			return
		}
		t := &s.rtxq.live()[i]
		if !t.has(segLost) || t.has(segRetrans|segSacked) {
			continue
		}
		s.tcpRetransmitSkbLocked(i)
		if s.rtxq.lostOut == 0 {
			return
		}
	}
}
