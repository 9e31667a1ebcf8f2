package tcp

// Acknowledging once per burst of received frames. Linux's GRO merges the
// in-order segments of one flow that a NAPI poll collects into one before
// TCP sees them, so a burst costs one ACK where every second segment would
// have cost one each; under TCG every ACK is a frame to build and a device
// notification, which made a third of a receive over QEMU's user networking
// (MSS-sized frames, no offloads). Here the driver brackets its burst
// (link.BatchReceiver → BeginBatch, EndBatch) and the every-second-segment
// ACK waits for the end of it, unless a quarter of the window is already
// unacknowledged. Out-of-order data, FINs and quick ACKs still go at once.

// BeginBatch marks the start of a device's burst of frames.
func (p *Proto) BeginBatch() {
	p.lock()
	p.batch++
	p.unlock()
}

// EndBatch ends the burst: every socket whose ACK waited for it sends one
// now (Linux: napi_gro_flush, then tcp_ack_snd_check of the merged
// segment).
func (p *Proto) EndBatch() {
	p.lock()
	if p.batch--; p.batch == 0 {
		for i, s := range p.batchHeld {
			s.tcpFlushHeldAckLocked()
			p.batchHeld[i] = nil
		}
		p.batchHeld = p.batchHeld[:0]
		for i, s := range p.batchAcks {
			s.ackDeferred = false
			if s.segsSinceAck > 0 && !s.done && s.state.synchronized() && s.state != StateTimeWait {
				if s.tcpWindowShrinksLocked() {
					s.scheduleAckLocked() // the reader sends it (tcpCleanupRbufLocked)
				} else {
					s.tcpSendAckLocked()
				}
			}
			p.batchAcks[i] = nil
		}
		p.batchAcks = p.batchAcks[:0]
	}
	p.unlock()
}

// tcpWindowShrinksLocked reports whether the window an ACK would announce
// now is smaller than the one last announced: the reader has not taken
// what arrived. Linux then holds the ACK (__tcp_ack_snd_check acks at once
// only when __tcp_select_window is at least rcv_wnd) until the reader
// frees room and tcp_cleanup_rbuf sends it with the window reopened, or
// the delayed-ACK timer fires: one ACK where there would have been the
// burst's and then the reader's window update, each a device notification.
func (s *Sock) tcpWindowShrinksLocked() bool {
	return s.rcvFreeWindowLocked() < int(s.rcvWnd)
}

// tcpDeferAckLocked reports whether the every-second-segment ACK may wait
// for the end of the burst, and queues the socket for it.
func (s *Sock) tcpDeferAckLocked() bool {
	p := s.proto
	if p.batch == 0 || s.rcvNxt.sub(s.rcvWup) >= int(s.rcvWnd)/4 {
		return false
	}
	if !s.ackDeferred {
		s.ackDeferred = true
		p.batchAcks = append(p.batchAcks, s)
	}
	return true
}

// Coalescing the pure ACKs of a burst. Over QEMU's user networking the
// peer acknowledges every segment we send, and the driver hands them up
// in bursts (about 45 a burst in a 64 MiB send): processing each one
// (Linux: tcp_ack, then tcp_data_snd_check) cost a pass through the
// retransmission queue, congestion control, a wakeup of the writer and a
// transmit of one segment. Within a burst only the newest cumulative ACK
// matters for those that carry nothing else, so the socket holds the
// newest and processes it once, at the end of the burst or before any
// other segment of the connection. Linux's GRO does not merge pure ACKs;
// this is closer to what a NAPI poll's worth of ACKs arriving while the
// socket is owned by the user does (they wait in the backlog, and
// tcp_ack acts on the state the newest leaves).
//
// Only an ACK that advances SND.UNA beyond what the held one did is held
// in its place, so no duplicate ACK (which fast retransmit counts) is
// ever dropped; one with text, SACK blocks, any flag but ACK (FIN, RST,
// SYN, URG, ECE, CWR, PSH), out of sequence, failing PAWS, or arriving
// outside the Open congestion state goes up as before, after the held one.

// tcpHoldAckLocked holds g if it is a pure ACK that can wait for the end
// of the burst and reports so; otherwise it processes the held ACK, if
// any, so that g follows it in order, and reports false.
func (s *Sock) tcpHoldAckLocked(g *segment) bool {
	if !s.tcpAckHoldableLocked(g) {
		s.tcpFlushHeldAckLocked()
		return false
	}
	if s.ackHeld {
		s.proto.MIB.TCPAckCoalesced.Add(1)
	} else {
		s.ackHeld = true
		s.proto.batchHeld = append(s.proto.batchHeld, s)
	}
	s.heldAck = *g
	s.heldAck.data = nil // no reference to the driver's buffer
	return true
}

// tcpAckHoldableLocked reports whether g is a pure in-order ACK that
// advances SND.UNA past the held ACK's, during a burst, in ESTABLISHED and
// the Open state.
func (s *Sock) tcpAckHoldableLocked(g *segment) bool {
	if s.proto.batch == 0 || s.state != StateEstablished || s.caState != caOpen || s.done ||
		g.flags != flagAck || len(g.data) != 0 || g.opts.NumSACK != 0 ||
		g.seq != s.rcvNxt || len(s.ooo) != 0 || !s.tsAcceptableLocked(g) ||
		!g.ack.gt(s.sndUna) || !g.ack.leq(s.sndMax) {
		return false
	}
	h := &s.heldAck
	return !s.ackHeld || (g.seq == h.seq && g.ack.gt(h.ack) && g.src == h.src && g.srcPort == h.srcPort)
}

// tcpFlushHeldAckLocked processes the held ACK, if any.
func (s *Sock) tcpFlushHeldAckLocked() {
	if !s.ackHeld {
		return
	}
	s.ackHeld = false
	g := s.heldAck
	s.heldAck = segment{}
	if !s.done {
		s.tcpV4DoRcvLocked(&g)
	}
}
