package tcp

import "gomenuos/net/header"

// sackRange is a range [start, end) of sequence space.
type sackRange struct{ start, end seqnum }

// scoreboard is the sender's record of what the peer SACKed above SND.UNA,
// sorted and merged (RFC 2018 §5, RFC 6675 §3; Linux: the SACKED bits on
// the retransmit queue). Guarded by proto.mu.
type scoreboard struct {
	blocks []sackRange
}

// maxSACKRanges bounds the scoreboard: a peer SACKing every other byte
// cannot make each ACK cost O(window).
const maxSACKRanges = 256

// update merges the SACK blocks of an ACK; blocks outside (una, max] are
// ignored as invalid (RFC 2883 D-SACKs included).
func (sb *scoreboard) update(blks []header.SACKBlock, una, sndMax seqnum) {
	for _, b := range blks {
		r := sackRange{seqnum(b.Start), seqnum(b.End)}
		if !r.start.lt(r.end) || !r.start.gt(una) || r.end.gt(sndMax) || len(sb.blocks) >= maxSACKRanges {
			continue
		}
		sb.insert(r)
	}
}

func (sb *scoreboard) insert(r sackRange) {
	out := sb.blocks[:0:0]
	placed := false
	for _, b := range sb.blocks {
		switch {
		case b.end.lt(r.start):
			out = append(out, b)
		case r.end.lt(b.start):
			if !placed {
				out, placed = append(out, r), true
			}
			out = append(out, b)
		default:
			r = sackRange{seqMin(r.start, b.start), seqMax(r.end, b.end)}
		}
	}
	if !placed {
		out = append(out, r)
	}
	sb.blocks = out
}

// ackedTo drops everything at or below una.
func (sb *scoreboard) ackedTo(una seqnum) {
	i := 0
	for i < len(sb.blocks) && sb.blocks[i].end.leq(una) {
		i++
	}
	sb.blocks = sb.blocks[i:]
	if len(sb.blocks) > 0 && sb.blocks[0].start.lt(una) {
		sb.blocks[0].start = una
	}
	if len(sb.blocks) == 0 {
		sb.blocks = nil
	}
}

// sackedBytes counts SACKed octets below hi.
func (sb *scoreboard) sackedBytes(hi seqnum) int {
	n := 0
	for _, b := range sb.blocks {
		if b.start.geq(hi) {
			break
		}
		n += seqMin(b.end, hi).sub(b.start)
	}
	return n
}

// covering returns the block containing seq.
func (sb *scoreboard) covering(seq seqnum) (sackRange, bool) {
	for _, b := range sb.blocks {
		if seq.inRange(b.start, b.end) {
			return b, true
		}
	}
	return sackRange{}, false
}

// nextStart returns the start of the first block above seq.
func (sb *scoreboard) nextStart(seq seqnum) (seqnum, bool) {
	for _, b := range sb.blocks {
		if b.start.gt(seq) {
			return b.start, true
		}
	}
	return 0, false
}

// nextHole returns the first un-SACKed range at or after from that lies
// below the highest SACKed octet (RFC 6675 §4 NextSeg rule 1).
func (sb *scoreboard) nextHole(from seqnum) (sackRange, bool) {
	for _, b := range sb.blocks {
		if b.end.leq(from) {
			continue
		}
		if from.lt(b.start) {
			return sackRange{from, b.start}, true
		}
		from = b.end
	}
	return sackRange{}, false
}
