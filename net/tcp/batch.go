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
