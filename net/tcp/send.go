package tcp

import "gomenuos/net/header"

// unsentLocked is the number of queued octets not yet sent.
func (s *Sock) unsentLocked() int {
	return s.sndBufSeq.add(s.sndq.len()).sub(s.sndNxt)
}

// canXmit reports whether the state lets queued data and FIN go out.
func (s State) canXmit() bool {
	switch s {
	case StateEstablished, StateCloseWait, StateFinWait1, StateClosing, StateLastAck:
		return true
	}
	return false
}

// tcpWriteXmitLocked sends what the send window, congestion window and
// Nagle allow, then a FIN if one is queued, and arms a loss probe for the
// tail (Linux: tcp_write_xmit).
func (s *Sock) tcpWriteXmitLocked() {
	if !s.state.canXmit() {
		return
	}
	sent := false
	for s.tcpXmitOneLocked(false) {
		sent = true
	}
	if sent && s.xmitTimer != timerLossProbe {
		s.tcpScheduleLossProbeLocked()
	}
}

// tcpXmitOneLocked sends one new segment at SND.NXT if the windows allow;
// a loss probe ignores cwnd (RFC 8985 §7.3).
func (s *Sock) tcpXmitOneLocked(probe bool) bool {
	dataEnd := s.sndBufSeq.add(s.sndq.len())
	unsent := dataEnd.sub(s.sndNxt)
	finPending := s.finQueued && s.sndNxt.leq(dataEnd) && s.sndNxt == s.sndMax
	if unsent <= 0 && !finPending {
		return false
	}
	room := s.segRoomLocked()
	if s.gsoMax > 0 && room == s.sndMSS && !probe {
		room = s.gsoMax // one segment of many MSS; the device cuts it (GSO)
	}
	n := min(room, max(unsent, 0))
	wndLeft := s.sndUna.add(int(s.sndWnd)).sub(s.sndNxt)
	if n > wndLeft {
		if wndLeft <= 0 {
			s.armPersistLocked()
			return false
		}
		n = wndLeft
	}
	// RFC 5681 §3.1, RFC 6675 §5: cwnd bounds the segments in the pipe.
	if quota := int(s.cwnd) - s.rtxq.pipe(); !probe {
		if quota <= 0 {
			return false
		}
		n = min(n, quota*s.sndMSS) // an offloaded segment shrinks to what cwnd allows
	}
	if n > s.sndMSS && s.sndNxt.add(n) != dataEnd {
		n -= n % s.sndMSS // offloaded segments end on an MSS boundary unless they end the data
	}
	fin := finPending && s.sndNxt.add(n) == dataEnd
	if n < s.sndMSS && !fin && !probe && s.tcpNagleBlockedLocked(n, unsent) {
		return false
	}
	s.tcpSendSegmentLocked(s.sndNxt, n, fin)
	return true
}

// segRoomLocked is the payload that fits beside the options this segment
// will carry: SACK blocks eat into the MSS (Linux: tcp_current_mss).
func (s *Sock) segRoomLocked() int {
	if !s.sackOK || (len(s.ooo) == 0 && !s.dsackOn) {
		return s.sndMSS
	}
	blocks := len(s.ooo)
	if s.dsackOn {
		blocks++
	}
	blocks = min(blocks, 4)
	if s.tsOK {
		blocks = min(blocks, header.MaxSACKBlocks)
	}
	return s.sndMSS - 4 - 8*blocks
}

// tcpNagleBlockedLocked applies Nagle's algorithm with Minshall's
// refinement, as Linux does (RFC 896, RFC 1122 §4.2.3.4; Linux:
// tcp_nagle_check + tcp_minshall_check): hold a small segment while an
// earlier small one is unacknowledged, unless TCP_NODELAY. Full-sized
// segments in flight do not hold back the small tail of a write; under
// loss that tail's SACK is what lets RACK see a lost retransmission
// before the RTO would.
func (s *Sock) tcpNagleBlockedLocked(n, unsent int) bool {
	if s.noDelay {
		return false
	}
	if n < unsent {
		return false // window-limited, not a small write
	}
	return s.sndSml.gt(s.sndUna) && s.sndSml.leq(s.sndNxt)
}

// tcpSendSegmentLocked transmits new data [seq, seq+n) of the send
// buffer (plus FIN), queues it for retransmission and advances SND.NXT
// (Linux: tcp_transmit_skb from tcp_write_xmit, tcp_event_new_data_sent).
func (s *Sock) tcpSendSegmentLocked(seq seqnum, n int, fin bool) {
	end := seq.add(n)
	if fin {
		end = end.add(1)
	}
	if !s.rttTiming && !s.tsOK {
		s.rttTiming, s.rttSeq, s.rttStart = true, end, s.proto.now()
	}
	s.tcpXmitDataLocked(seq, n, fin)
	if n < s.sndMSS {
		s.sndSml = end // Linux: tcp_minshall_update
	}
	s.rtxq.add(seq, end, fin, s.sndMSS, s.proto.now())
	s.sndNxt = end
	s.sndMax = seqMax(s.sndMax, end)
	s.armRtoLocked()
}

// tcpXmitDataLocked puts [seq, seq+n) of the send buffer (plus FIN) on the
// wire, counting what PRR needs.
func (s *Sock) tcpXmitDataLocked(seq seqnum, n int, fin bool) {
	flags := flagAck
	if seq.add(n) == s.sndBufSeq.add(s.sndq.len()) && n > 0 {
		flags |= flagPsh
	}
	if fin {
		flags |= flagFin
	}
	if s.caState == caRecovery || s.caState == caCWR {
		s.prrOut += uint32(max((n+s.sndMSS-1)/max(s.sndMSS, 1), 1))
	}
	s.tcpTransmitSkbLocked(seq, flags, n)
}

// tcpRetransmitSkbLocked resends segment i of the retransmission queue,
// cut to what fits beside this segment's options (Linux:
// tcp_retransmit_skb / __tcp_retransmit_skb).
func (s *Sock) tcpRetransmitSkbLocked(i int) {
	t := &s.rtxq.live()[i]
	if !t.seq.lt(s.sndUna.add(int(s.sndWnd))) && t.seq != s.sndUna {
		return // beyond the peer's window
	}
	dataEnd := t.end
	if t.fin {
		dataEnd = dataEnd.add(-1)
	}
	if room := s.segRoomLocked(); dataEnd.sub(t.seq) > room {
		s.rtxq.split(i, t.seq.add(room))
		t = &s.rtxq.live()[i]
		dataEnd = t.end
	}
	if s.rttTiming && t.seq.lt(s.rttSeq) {
		s.rttTiming = false // Karn: never time a retransmission
	}
	s.tcpXmitDataLocked(t.seq, dataEnd.sub(t.seq), t.fin)
	s.proto.MIB.RetransSegs.Add(1)
	t.sent = s.proto.now()
	s.rtxq.setBits(t, segRetrans|segEverRetrans)
	if s.retransStamp == 0 && s.tsOK {
		s.retransStamp = s.tsValLocked()
	}
	if s.undoActive {
		s.undoRetrans = max(s.undoRetrans, 0) + 1
	}
	s.armRtoLocked()
}

// tcpDataSndCheckLocked pushes queued data after an ACK (Linux:
// tcp_data_snd_check).
func (s *Sock) tcpDataSndCheckLocked() {
	s.tcpWriteXmitLocked()
}

// tcpSendmsgLocked queues b for sending without blocking and pushes it
// (Linux: tcp_sendmsg). It returns ErrWouldBlock when nothing fit.
func (s *Sock) tcpSendmsgLocked(b []byte) (int, error) {
	if s.err != nil {
		err := s.err
		s.err = nil
		return 0, err
	}
	switch {
	case s.state == StateSynSent || s.state == StateSynRecv:
		return 0, ErrWouldBlock
	case s.finQueued:
		return 0, ErrPipe
	case !s.state.canSendData():
		// Linux: sk_stream_wait_connect says EPIPE for any state that is
		// neither connected nor connecting, a fresh socket included.
		return 0, ErrPipe
	}
	space := s.sndBufSize - s.sndq.len()
	if space <= 0 {
		return 0, ErrWouldBlock
	}
	n := min(space, len(b))
	s.sndq.append(b[:n])
	s.tcpWriteXmitLocked()
	return n, nil
}
