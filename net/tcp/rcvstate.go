package tcp

// tcpRcvStateProcessLocked is the receive state machine for every state
// but ESTABLISHED's fast path and TIME_WAIT, organised as RFC 9293
// §3.10.7's steps (Linux: tcp_rcv_state_process). It returns true when the
// caller must answer with a RST.
func (s *Sock) tcpRcvStateProcessLocked(g *segment) bool {
	switch s.state {
	case StateClose:
		// RFC 9293 §3.10.7.1: CLOSED answers everything but RST with RST.
		return !g.has(flagRst)
	case StateListen:
		return s.tcpListenRcvLocked(g)
	case StateSynSent:
		return s.tcpRcvSynSentStateProcessLocked(g)
	}
	s.noteRecvLocked(g)
	// First: check the sequence number (and PAWS, RFC 7323 §5).
	if !s.stepCheckSeqLocked(g) {
		return false
	}
	// Second: check the RST bit.
	if g.has(flagRst) {
		s.stepRstLocked(g)
		return false
	}
	// Third (security) does not apply. Fourth: check the SYN bit.
	if g.has(flagSyn) {
		s.stepSynLocked()
		return false
	}
	// Fifth: check the ACK field.
	if !g.has(flagAck) {
		return false
	}
	if reset, ok := s.stepAckLocked(g); !ok {
		return reset
	}
	// Sixth: the URG bit is not supported (RFC 6093 discourages its use).
	// Seventh: process the segment text. Eighth: check the FIN bit.
	s.stepTextAndFinLocked(g)
	s.tcpDataSndCheckLocked()
	s.tcpAckSndCheckLocked()
	return false
}

// tcpListenRcvLocked handles a segment for a listener (RFC 9293 §3.10.7.2).
func (s *Sock) tcpListenRcvLocked(g *segment) bool {
	switch {
	case g.has(flagRst):
		return false // an incoming RST is ignored
	case g.has(flagAck):
		return true // any acknowledgment is bad: <SEQ=SEG.ACK><CTL=RST>
	case g.has(flagSyn) && !g.has(flagFin):
		s.tcpV4ConnRequestLocked(g)
		return false
	}
	// Linux (tcp_rcv_state_process, SKB_DROP_REASON_TCP_FLAGS): a SYN
	// with FIN, or a segment with none of SYN, ACK, RST, is dropped
	// unanswered — a SYN-ACK here would confirm the port to a scanner.
	s.proto.MIB.DropBadFlags.Add(1)
	return false
}

// stepCheckSeqLocked is the first step: PAWS, then the acceptability test
// of RFC 9293 §3.10.7.4; an unacceptable segment gets an ACK unless it
// is a RST.
func (s *Sock) stepCheckSeqLocked(g *segment) bool {
	if !s.tsAcceptableLocked(g) {
		// RFC 7323 §5.3 R1: a PAWS failure is acknowledged and dropped.
		s.proto.MIB.PAWSEstabRejected.Add(1)
		if !g.has(flagRst) && !s.tcpOowRateLimitedLocked(g, &s.proto.MIB.TCPACKSkippedPAWS) {
			s.tcpSendDupackLocked(g)
		}
		return false
	}
	// RFC 7323 Appendix D: TS.Recent is updated before the acceptability
	// test, so a duplicate's ACK echoes the fresh TSval and the sender's
	// RTT sample stays honest.
	s.tcpStoreTsRecentLocked(g)
	if !s.tcpSequenceOKLocked(g) {
		s.proto.MIB.DropOutOfWindow.Add(1)
		if g.has(flagRst) {
			return false
		}
		// RFC 9293 §3.10.7.4: with a zero receive window "special
		// allowance should be made to accept valid ACKs".
		if s.rcvWindowLocked() == 0 && g.has(flagAck) && !g.has(flagSyn) && s.state.synchronized() {
			if s.tcpAckLocked(g) {
				s.tcpDataSndCheckLocked()
			}
		}
		if !s.tcpOowRateLimitedLocked(g, &s.proto.MIB.TCPACKSkippedSeq) {
			s.tcpSendDupackLocked(g)
		}
		return false
	}
	return true
}

// tcpSendDupackLocked answers an unacceptable segment with an ACK; one
// that repeats data we have also reports it as a D-SACK (RFC 2883 §4;
// Linux: tcp_send_dupack).
func (s *Sock) tcpSendDupackLocked(g *segment) {
	if len(g.data) > 0 && g.seq.lt(s.rcvNxt) {
		s.tcpDsackSetLocked(g.seq, seqMin(g.seq.add(len(g.data)), s.rcvNxt))
	}
	s.tcpSendAckLocked()
}

// tcpSequenceOKLocked is RFC 9293 §3.10.7.4's four-case acceptability
// table (Linux: tcp_sequence).
func (s *Sock) tcpSequenceOKLocked(g *segment) bool {
	wnd := int(s.rcvWindowLocked())
	end := s.rcvNxt.add(wnd)
	n := g.seqLen()
	switch {
	case n == 0 && wnd == 0:
		return g.seq == s.rcvNxt
	case n == 0:
		return g.seq.inRange(s.rcvNxt, end)
	case wnd == 0:
		return false
	default:
		last := g.seq.add(n - 1)
		return g.seq.inRange(s.rcvNxt, end) || last.inRange(s.rcvNxt, end)
	}
}

// stepRstLocked is the second step with RFC 5961 §3.2: a RST exactly at
// RCV.NXT resets, one elsewhere in the window draws a challenge ACK.
func (s *Sock) stepRstLocked(g *segment) {
	if g.seq != s.rcvNxt {
		s.tcpSendChallengeAckLocked()
		return
	}
	// Linux: tcp_reset picks the errno by state.
	switch s.state {
	case StateSynRecv:
		s.resetLocked(ErrConnRefused)
	case StateCloseWait:
		s.resetLocked(ErrPipe)
	case StateClosing, StateLastAck:
		s.tcpDoneLocked()
	default:
		s.resetLocked(ErrConnReset)
	}
}

// stepSynLocked is the fourth step: RFC 5961 §4.2 answers any SYN in a
// synchronized state with a challenge ACK instead of resetting.
func (s *Sock) stepSynLocked() {
	s.tcpSendChallengeAckLocked()
}

// stepAckLocked is the fifth step. ok is false when processing stops;
// reset then says whether to answer with a RST.
func (s *Sock) stepAckLocked(g *segment) (reset, ok bool) {
	if s.state == StateSynRecv {
		// RFC 9293 §3.10.7.4: SYN-RECEIVED moves to ESTABLISHED on an
		// acceptable ACK, else <SEQ=SEG.ACK><CTL=RST>.
		if !(g.ack.gt(s.sndUna) && g.ack.leq(s.sndMax)) {
			return true, false
		}
		s.tcpSynRecvEstablishLocked(g)
	}
	if !s.tcpAckLocked(g) {
		return false, false
	}
	switch s.state {
	case StateFinWait1:
		if s.finAcked {
			s.setStateLocked(StateFinWait2)
			if s.orphan {
				s.resetKeepaliveLocked(tcpFinTimeout)
			}
		}
	case StateClosing:
		if s.finAcked {
			s.tcpTimeWaitLocked()
			return false, false
		}
	case StateLastAck:
		if s.finAcked {
			s.tcpDoneLocked()
			return false, false
		}
	}
	return false, true
}

// tcpSynRecvEstablishLocked completes a handshake from SYN-RECEIVED
// (Linux: the TCP_SYN_RECV case of tcp_rcv_state_process).
func (s *Sock) tcpSynRecvEstablishLocked(g *segment) {
	s.sndWnd = uint32(g.wnd) << s.sndWS
	s.maxSndWnd = max(s.maxSndWnd, s.sndWnd)
	s.sndWl1, s.sndWl2 = g.seq, g.ack
	s.setStateLocked(StateEstablished)
	if s.keepOpen {
		s.resetKeepaliveLocked(s.keepIdle)
	}
}

// stepTextAndFinLocked is the seventh and eighth steps: queue text in
// states that take it, then process a FIN (both in tcpDataQueueLocked,
// which sees FINs in sequence order). A socket the user closed answers new
// data with a RST (Linux: TCP_MIB_ABORTONDATA).
func (s *Sock) stepTextAndFinLocked(g *segment) {
	if !s.state.canRecvData() {
		return
	}
	if s.orphan && len(g.data) > 0 && g.seq.add(len(g.data)).gt(s.rcvNxt) {
		s.proto.MIB.TCPAbortOnData.Add(1)
		s.sendResetLocked()
		s.resetLocked(ErrConnReset)
		return
	}
	s.tcpDataQueueLocked(g)
}

// tcpFinLocked processes the peer's FIN once all data before it arrived
// (RFC 9293 §3.10.7.4 eighth step; Linux: tcp_fin).
func (s *Sock) tcpFinLocked() {
	s.rcvNxt = s.rcvNxt.add(1)
	s.finRcvd = true
	s.ackNow = true
	switch s.state {
	case StateSynRecv, StateEstablished:
		s.setStateLocked(StateCloseWait)
	case StateFinWait1:
		// Simultaneous close: our FIN is still unacknowledged.
		if s.finAcked {
			s.tcpSendAckLocked()
			s.tcpTimeWaitLocked()
		} else {
			s.setStateLocked(StateClosing)
		}
	case StateFinWait2:
		s.tcpSendAckLocked()
		s.tcpTimeWaitLocked()
	}
	s.wakeLocked()
}
