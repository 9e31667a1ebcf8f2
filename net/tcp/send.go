package tcp

import "gomenuos/net/header"

// unsentLocked is the number of queued octets not yet sent.
func (s *Sock) unsentLocked() int {
	return s.sndBufSeq.add(len(s.sndBuf)).sub(s.sndNxt)
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
// Nagle allow, then a FIN if one is queued (Linux: tcp_write_xmit).
func (s *Sock) tcpWriteXmitLocked() {
	if !s.state.canXmit() {
		return
	}
	for s.tcpXmitOneLocked() {
	}
}

// tcpXmitOneLocked sends one segment at SND.NXT if allowed.
func (s *Sock) tcpXmitOneLocked() bool {
	if blk, ok := s.sacked.covering(s.sndNxt); ok {
		s.sndNxt = blk.end // the peer has it: skip
	}
	dataEnd := s.sndBufSeq.add(len(s.sndBuf))
	unsent := dataEnd.sub(s.sndNxt)
	finPending := s.finQueued && s.sndNxt.leq(dataEnd)
	if unsent <= 0 && !finPending {
		return false
	}
	room := s.segRoomLocked()
	if s.gsoMax > 0 && room == s.sndMSS {
		room = s.gsoMax // one segment of many MSS; the device cuts it (GSO)
	}
	n := min(room, max(unsent, 0))
	if next, ok := s.sacked.nextStart(s.sndNxt); ok {
		n = min(n, next.sub(s.sndNxt))
	}
	wndLeft := s.sndUna.add(int(s.sndWnd)).sub(s.sndNxt)
	if n > wndLeft {
		if wndLeft <= 0 {
			s.armPersistLocked()
			return false
		}
		n = wndLeft
	}
	inflight := s.inFlightLocked()
	if avail := int(s.cwnd)*s.sndMSS - inflight; inflight > 0 && n > avail {
		if n <= s.sndMSS || avail < s.sndMSS {
			return false // RFC 5681 §3.1: cwnd limits what is in flight
		}
		n = avail // an offloaded segment shrinks to what cwnd allows
	}
	if n > s.sndMSS && s.sndNxt.add(n) != dataEnd {
		n -= n % s.sndMSS // offloaded segments end on an MSS boundary unless they end the data
	}
	fin := finPending && s.sndNxt.add(n) == dataEnd
	if n < s.sndMSS && !fin && s.tcpNagleBlockedLocked(n, unsent) {
		return false
	}
	s.tcpSendSegmentLocked(s.sndNxt, n, fin)
	return true
}

// segRoomLocked is the payload that fits beside the options this segment
// will carry: SACK blocks eat into the MSS (Linux: tcp_current_mss).
func (s *Sock) segRoomLocked() int {
	if !s.sackOK || len(s.ooo) == 0 {
		return s.sndMSS
	}
	blocks := min(len(s.ooo), 4)
	if s.tsOK {
		blocks = min(blocks, header.MaxSACKBlocks)
	}
	return s.sndMSS - 4 - 8*blocks
}

// tcpNagleBlockedLocked applies Nagle's algorithm (RFC 896, RFC 1122
// §4.2.3.4; Linux: tcp_nagle_check): hold a small segment while data is
// unacknowledged, unless TCP_NODELAY.
func (s *Sock) tcpNagleBlockedLocked(n, unsent int) bool {
	if s.noDelay {
		return false
	}
	if n < unsent {
		return false // window-limited, not a small write
	}
	return s.sndNxt != s.sndUna
}

// tcpSendSegmentLocked transmits [seq, seq+n) of the send buffer (plus FIN)
// and advances SND.NXT (Linux: tcp_transmit_skb from tcp_write_xmit).
func (s *Sock) tcpSendSegmentLocked(seq seqnum, n int, fin bool) {
	off := seq.sub(s.sndBufSeq)
	data := s.sndBuf[off : off+n]
	flags := flagAck
	if seq.add(n) == s.sndBufSeq.add(len(s.sndBuf)) && n > 0 {
		flags |= flagPsh
	}
	if fin {
		flags |= flagFin
	}
	end := seq.add(n)
	if fin {
		end = end.add(1)
	}
	if seq.lt(s.sndMax) {
		s.proto.MIB.RetransSegs.Add(1)
		if s.rttTiming && seq.lt(s.rttSeq) {
			s.rttTiming = false // Karn
		}
	} else if !s.rttTiming && !s.tsOK {
		s.rttTiming, s.rttSeq, s.rttStart = true, end, s.proto.now()
	}
	s.tcpTransmitSkbLocked(seq, flags, data)
	s.sndNxt = end
	s.sndMax = seqMax(s.sndMax, end)
	s.armRtoLocked()
}

// tcpRetransmitOneLocked resends one segment at seq without moving SND.NXT
// (Linux: tcp_retransmit_skb).
func (s *Sock) tcpRetransmitOneLocked(seq seqnum) {
	dataEnd := s.sndBufSeq.add(len(s.sndBuf))
	// Only what was sent before: running past SND.MAX would let the peer
	// acknowledge data we believe unsent, and we would drop its ACKs.
	sentEnd := seqMin(dataEnd, s.sndMax)
	n := min(s.segRoomLocked(), max(sentEnd.sub(seq), 0))
	if next, ok := s.sacked.nextStart(seq); ok {
		n = min(n, next.sub(seq))
	}
	fin := s.finQueued && seq.add(n) == dataEnd && dataEnd.lt(s.sndMax)
	if n <= 0 && !fin {
		return
	}
	nxt, sndMax := s.sndNxt, s.sndMax
	s.tcpSendSegmentLocked(seq, n, fin)
	s.sndNxt, s.sndMax = nxt, sndMax
	s.highRxt = seqMax(s.highRxt, seq.add(n))
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
	space := s.sndBufSize - len(s.sndBuf)
	if space <= 0 {
		return 0, ErrWouldBlock
	}
	n := min(space, len(b))
	s.sndBuf = append(s.sndBuf, b[:n]...)
	s.tcpWriteXmitLocked()
	return n, nil
}
