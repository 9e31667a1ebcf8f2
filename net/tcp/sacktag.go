package tcp

import "gomenuos/net/header"

// tcpSacktagLocked applies the SACK blocks of an ACK to the retransmission
// queue (RFC 2018, RFC 6675 §5 "Update()"; Linux: tcp_sacktag_write_queue).
// A D-SACK (RFC 2883) in the first block reports a duplicate instead and
// feeds undo; it never marks anything SACKed. It returns the ACK flags
// it learned and the number of segments newly SACKed.
func (s *Sock) tcpSacktagLocked(g *segment, prevUna seqnum) (flags ackFlag, newly int) {
	blks := g.opts.SACK[:g.opts.NumSACK]
	if len(blks) == 0 || !s.sackOK {
		return 0, 0
	}
	if s.tcpCheckDsackLocked(g, blks, prevUna) {
		flags |= flagDSACK
		if s.tlpHighSeq != 0 && !seqnum(blks[0].End).lt(s.tlpHighSeq) {
			flags |= flagDSACKTLP // the probe and the original both arrived
		}
		s.tcpDsackUndoMarkLocked(blks[0], prevUna)
		blks = blks[1:]
	}
	priorFack := s.fackLocked()
	reordAt, reord := seqnum(0), false
	for _, b := range blks {
		start, end := seqnum(b.Start), seqnum(b.End)
		if !start.lt(end) || !start.geq(g.ack) || end.gt(s.sndMax) {
			continue // RFC 2018 §3: invalid, or already covered by the ACK
		}
		segs := s.rtxq.live()
		for i := s.rtxq.index(start); i < len(segs) && segs[i].end.leq(end); i++ {
			t := &segs[i]
			if t.seq.lt(start) || t.has(segSacked) {
				continue
			}
			if t.end.leq(priorFack) && !t.has(segEverRetrans) && (!reord || t.seq.lt(reordAt)) {
				reordAt, reord = t.seq, true
			}
			s.rtxq.setBits(t, segSacked)
			s.rtxq.clearBits(t, segLost|segRetrans)
			s.tcpRackAdvanceLocked(t)
			if !t.has(segEverRetrans) {
				flags |= flagOrigSackAcked
			}
			newly++
		}
		if end.gt(s.fackEnd) {
			s.fackEnd = end
		}
	}
	if newly > 0 {
		flags |= flagDataSacked
	}
	if reord {
		s.tcpCheckSackReorderingLocked(reordAt, priorFack)
	}
	return flags, newly
}

// fackLocked is the highest sequence number SACKed or acknowledged (Linux:
// tcp_highest_sack_seq).
func (s *Sock) fackLocked() seqnum { return s.fackEnd }

// tcpCheckDsackLocked reports whether the first block is a D-SACK: below
// the cumulative ACK, or inside the second block (RFC 2883 §4; Linux:
// tcp_check_dsack).
func (s *Sock) tcpCheckDsackLocked(g *segment, blks []header.SACKBlock, prevUna seqnum) bool {
	start, end := seqnum(blks[0].Start), seqnum(blks[0].End)
	m := &s.proto.MIB
	if start.lt(g.ack) {
		m.TCPDSACKRecv.Add(1)
		return true
	}
	if len(blks) > 1 && start.geq(seqnum(blks[1].Start)) && end.leq(seqnum(blks[1].End)) {
		m.TCPDSACKOfoRecv.Add(1)
		return true
	}
	return false
}

// tcpDsackUndoMarkLocked counts a D-SACKed retransmission of this recovery
// episode: when every retransmission is reported duplicate, none was
// needed and the cwnd reduction can be undone (RFC 2883 §5, RFC 3708;
// Linux: the undo_retrans updates in tcp_sacktag_write_queue).
func (s *Sock) tcpDsackUndoMarkLocked(b header.SACKBlock, prevUna seqnum) {
	s.rack.dsackSeen = true
	start, end := seqnum(b.Start), seqnum(b.End)
	if !s.undoActive || s.undoRetrans <= 0 || !end.gt(s.undoMarker) {
		return
	}
	if end.leq(prevUna) {
		s.undoRetrans--
		return
	}
	segs := s.rtxq.live()
	for i := s.rtxq.index(start); i < len(segs) && segs[i].end.leq(end) && s.undoRetrans > 0; i++ {
		if segs[i].has(segEverRetrans) {
			s.undoRetrans--
		}
	}
}

// tcpCheckSackReorderingLocked notes that a never-retransmitted segment
// below the highest SACK was delivered late: reordering, not loss. The
// duplicate threshold grows to the distance seen (RFC 4653's idea; Linux:
// tcp_check_sack_reordering with tcp_max_reordering = 300).
func (s *Sock) tcpCheckSackReorderingLocked(low, fack seqnum) {
	mss := max(s.sndMSS, 1)
	if d := (fack.sub(low) + mss - 1) / mss; d > s.reordering {
		s.reordering = min(d, tcpMaxReordering)
	}
	s.rack.reord = true
	s.proto.MIB.TCPSACKReorder.Add(1)
}

// tcpMaxReordering is Linux's tcp_max_reordering.
const tcpMaxReordering = 300

// tcpDupThresh is RFC 6675's DupThresh and Linux's tcp_reordering default.
const tcpDupThresh = 3
