package tcp

import (
	"slices"

	"gomenuos/net/buf"
	"gomenuos/net/header"
)

// oooSeg is a segment that arrived ahead of RCV.NXT (Linux: an skb on
// out_of_order_queue). data is our own copy.
type oooSeg struct {
	seq  seqnum
	data []byte
	fin  bool
}

func (o *oooSeg) end() seqnum { return o.seq.add(len(o.data)) }

// maxOOOSegs bounds the out-of-order queue; more are dropped and counted.
const maxOOOSegs = 512

// tcpDataQueueLocked queues the text of an acceptable segment and its FIN
// in sequence order (RFC 9293 §3.10.7.4 seventh and eighth steps; Linux:
// tcp_data_queue).
func (s *Sock) tcpDataQueueLocked(g *segment) {
	data, seq, fin := g.data, g.seq, g.has(flagFin)
	if g.has(flagSyn) {
		seq = seq.add(1)
	}
	if len(data) == 0 && !fin {
		return
	}
	// Trim what we already have.
	if d := s.rcvNxt.sub(seq); d > 0 {
		if d > len(data) || (d == len(data) && !fin) {
			// A pure duplicate: tell the sender where we are, and
			// which octets came twice (RFC 2883 §4).
			s.tcpDsackSetLocked(seq, seq.add(len(data)))
			s.ackNow = true
			return
		}
		s.tcpDsackSetLocked(seq, s.rcvNxt)
		data, seq = data[d:], s.rcvNxt
	}
	// Trim what lies past the window we announced (its FIN too).
	if over := seq.add(len(data)).sub(s.rcvNxt.add(int(s.rcvWindowLocked()))); over > 0 {
		data, fin = data[:len(data)-over], false
	}
	if s.rcvShut {
		data = nil // SHUT_RD: consume and discard, as Linux does
	}
	if seq != s.rcvNxt {
		s.tcpOfoQueueLocked(seq, data, fin)
		return
	}
	s.tcpRcvRttMeasureTsLocked(g)
	s.rcvq.push(data)
	s.rcvNxt = s.rcvNxt.add(len(data))
	if len(data) > 0 {
		// A segment GRO or the host merged counts as the full-sized
		// segments it holds (Linux: more than rcv_mss since the last
		// ACK means ACK now, in __tcp_ack_snd_check).
		s.segsSinceAck += max(1, len(data)/max(s.advMSS, 1))
		if len(s.ooo) > 0 {
			s.ackNow = true // RFC 5681 §4.2: a segment filling a gap is ACKed at once
		}
		s.wakeLocked()
	}
	if fin {
		s.tcpFinLocked()
	}
	s.tcpOfoDrainLocked()
}

// tcpOfoQueueLocked keeps an out-of-order segment and asks for an
// immediate (duplicate, SACK-carrying) ACK (RFC 5681 §4.2; Linux:
// tcp_data_queue_ofo).
func (s *Sock) tcpOfoQueueLocked(seq seqnum, data []byte, fin bool) {
	s.ackNow = true
	if len(data) == 0 && !fin {
		return
	}
	if len(s.ooo) >= maxOOOSegs {
		s.proto.MIB.TCPOFODrop.Add(1)
		return
	}
	s.proto.MIB.TCPOFOQueue.Add(1)
	end := seq.add(len(data))
	for i := range s.ooo {
		if o := &s.ooo[i]; o.seq.lt(end) && seq.lt(o.end()) {
			s.tcpDsackSetLocked(seqMax(seq, o.seq), seqMin(end, o.end()))
			break
		}
	}
	o := oooSeg{seq: seq, data: buf.Append(nil, data), fin: fin}
	i, _ := slices.BinarySearchFunc(s.ooo, seq, func(e oooSeg, t seqnum) int { return e.seq.sub(t) })
	s.ooo = slices.Insert(s.ooo, i, o)
	s.lastOOO = o.seq
}

// tcpDsackSetLocked reports [start, end) as received twice in the next
// ACK's first SACK block (RFC 2883 §4; Linux: tcp_dsack_set).
func (s *Sock) tcpDsackSetLocked(start, end seqnum) {
	if !s.sackOK || !start.lt(end) {
		return
	}
	if start.lt(s.rcvNxt) {
		s.proto.MIB.TCPDSACKOldSent.Add(1)
	} else {
		s.proto.MIB.TCPDSACKOfoSent.Add(1)
	}
	s.dsack, s.dsackOn = sackRange{start, end}, true
}

// tcpOfoDrainLocked moves segments that became in-order to the receive
// buffer (Linux: tcp_ofo_queue).
func (s *Sock) tcpOfoDrainLocked() {
	for len(s.ooo) > 0 && s.ooo[0].seq.leq(s.rcvNxt) {
		o := s.ooo[0]
		s.ooo = s.ooo[1:]
		if d := s.rcvNxt.sub(o.seq); d < len(o.data) {
			s.rcvq.push(o.data[d:])
			s.rcvNxt = o.end()
			s.wakeLocked()
		}
		if o.fin && o.end() == s.rcvNxt && !s.finRcvd {
			s.tcpFinLocked()
		}
	}
	if len(s.ooo) == 0 {
		s.ooo = nil
	}
}

// sackBlocksLocked fills dst with SACK blocks for the out-of-order queue,
// the block holding the latest arrival first (RFC 2018 §4).
func (s *Sock) sackBlocksLocked(dst []header.SACKBlock) int {
	var ranges []sackRange
	for _, o := range s.ooo {
		end := o.end()
		if o.fin {
			end = end.add(1)
		}
		if n := len(ranges); n > 0 && o.seq.leq(ranges[n-1].end) {
			ranges[n-1].end = seqMax(ranges[n-1].end, end)
			continue
		}
		ranges = append(ranges, sackRange{o.seq, end})
	}
	for i, r := range ranges {
		if s.lastOOO.inRange(r.start, r.end) {
			ranges[0], ranges[i] = ranges[i], ranges[0]
			break
		}
	}
	n := min(len(ranges), len(dst))
	for i := range n {
		dst[i] = header.SACKBlock{Start: uint32(ranges[i].start), End: uint32(ranges[i].end)}
	}
	return n
}

// tcpMaxQuickAcks is Linux's TCP_MAX_QUICKACKS.
const tcpMaxQuickAcks = 16

// tcpAckSndCheckLocked decides between an immediate and a delayed ACK:
// immediate for out-of-order data, FINs, every second segment and in
// quickack mode (RFC 5681 §4.2, RFC 9293 §3.8.6.3; Linux:
// __tcp_ack_snd_check).
func (s *Sock) tcpAckSndCheckLocked() {
	if !s.state.synchronized() || s.state == StateTimeWait {
		return
	}
	switch {
	case s.ackNow:
		s.tcpSendAckLocked()
	case s.segsSinceAck >= 2 && s.tcpDeferAckLocked():
		// batch.go: sent at the end of the device's burst
	case s.segsSinceAck >= 2:
		s.tcpSendAckLocked()
	case s.segsSinceAck > 0 && s.quickAcks > 0:
		s.quickAcks--
		s.tcpSendAckLocked()
	case s.segsSinceAck > 0:
		s.scheduleAckLocked()
	}
}

// tcpCleanupRbufLocked sends a window update after the reader freed
// enough space, so the sender is not left on a small window (Linux:
// tcp_cleanup_rbuf).
func (s *Sock) tcpCleanupRbufLocked() {
	if !s.state.synchronized() || s.state == StateTimeWait || s.finRcvd {
		return
	}
	if s.delackT.armed && s.segsSinceAck > 0 && s.rcvNxt.sub(s.rcvWup) > s.advMSS {
		// An ACK held back while the reader lagged (batch.go): it goes
		// now, with the room this read made (Linux: tcp_cleanup_rbuf's
		// time_to_ack for a scheduled ACK).
		s.tcpSendAckLocked()
		return
	}
	cur := int(s.rcvWindowLocked())
	free := s.rcvFreeWindowLocked()
	if free >= 2*cur && free-cur >= s.advMSS {
		s.tcpSendAckLocked()
	}
}

// rcvFreeWindowLocked is the window the free room in the receive buffer
// allows us to announce: no more than the window field can carry (without
// window scaling, 64 KiB; Linux: window_clamp). A window update for room
// beyond it would announce the same window again: over user networking,
// whose TCP does not scale windows, that was every second ACK we sent.
func (s *Sock) rcvFreeWindowLocked() int {
	return max(min(s.rcvBufSize-s.rcvq.len(), 65535<<s.rcvWS), 0)
}

// tcpRecvmsgLocked copies received data into b without blocking (Linux:
// tcp_recvmsg). It returns 0, nil at end of stream.
func (s *Sock) tcpRecvmsgLocked(b []byte, peek bool) (int, error) {
	if s.state == StateListen {
		return 0, ErrNotConnected
	}
	if s.rcvq.len() > 0 {
		n := s.rcvq.read(b, peek)
		if !peek {
			s.tcpRcvSpaceAdjustLocked(n)
			s.tcpCleanupRbufLocked()
		}
		return n, nil
	}
	if s.err != nil {
		err := s.err
		s.err = nil // Linux: sock_error consumes sk_err
		return 0, err
	}
	if s.finRcvd || s.rcvShut || (s.state == StateClose && s.done) {
		return 0, nil
	}
	if s.state == StateClose {
		return 0, ErrNotConnected
	}
	return 0, ErrWouldBlock
}
