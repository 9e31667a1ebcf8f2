package tcp

import (
	"sort"
	"time"
)

// sackRange is a range [start, end) of sequence space.
type sackRange struct{ start, end seqnum }

// Bits of a transmitted segment's scoreboard state (Linux: the sacked
// field of tcp_skb_cb).
const (
	segSacked      uint8 = 1 << iota // the peer SACKed it (TCPCB_SACKED_ACKED)
	segRetrans                       // retransmitted and still in flight (TCPCB_SACKED_RETRANS)
	segLost                          // judged lost, waiting for a retransmission (TCPCB_LOST)
	segEverRetrans                   // retransmitted at least once (TCPCB_EVER_RETRANS)
)

// txSeg is one sent segment of at most one MSS on the retransmission queue
// (Linux: an skb on tcp_rtx_queue with its tcp_skb_cb). end includes a FIN.
type txSeg struct {
	seq, end seqnum
	sent     time.Time // last (re)transmission, what RACK compares (Linux: skb_mstamp_ns)
	bits     uint8
	fin      bool
}

func (t *txSeg) has(b uint8) bool { return t.bits&b != 0 }

// The retransmission queue and its counters, in segments like Linux's
// packets_out, sacked_out, lost_out and retrans_out (RFC 6675 §2's
// scoreboard). Guarded by proto.mu.
type rtxQueue struct {
	buf        []txSeg // the queue is buf[head:], in sequence order
	head       int
	sackedOut  int
	lostOut    int
	retransOut int
	renoSacked int // duplicate ACKs standing in for SACKs without SACK (Linux: sacked_out for Reno)
}

// live returns the queued segments, oldest first.
func (q *rtxQueue) live() []txSeg { return q.buf[q.head:] }

func (q *rtxQueue) packetsOut() int { return len(q.buf) - q.head }

// pipe is RFC 6675 §4's estimate of segments in the network: sent, not
// acknowledged, not SACKed, not judged lost, plus retransmissions in
// flight (Linux: tcp_packets_in_flight). Each SACKed segment is counted
// once, here and nowhere else.
func (q *rtxQueue) pipe() int {
	return q.packetsOut() - q.sackedOut - q.renoSacked - q.lostOut + q.retransOut
}

// add records [seq, end) just sent for the first time, cut into pieces of
// at most mss octets (a GSO segment is several packets on the wire).
func (q *rtxQueue) add(seq, end seqnum, fin bool, mss int, now time.Time) {
	dataEnd := end
	if fin {
		dataEnd = end.add(-1)
	}
	for {
		n := min(dataEnd.sub(seq), mss)
		e := seq.add(n)
		last := e == dataEnd
		t := txSeg{seq: seq, end: e, sent: now}
		if last && fin {
			t.end, t.fin = end, true
		}
		q.buf = append(q.buf, t)
		if last {
			return
		}
		seq = e
	}
}

// index returns the position in live() of the first segment ending
// after seq.
func (q *rtxQueue) index(seq seqnum) int {
	segs := q.live()
	return sort.Search(len(segs), func(i int) bool { return segs[i].end.gt(seq) })
}

// clearBits drops a segment's contribution to the counters.
func (q *rtxQueue) clearBits(t *txSeg, b uint8) {
	b &= t.bits
	if b&segSacked != 0 {
		q.sackedOut--
	}
	if b&segLost != 0 {
		q.lostOut--
	}
	if b&segRetrans != 0 {
		q.retransOut--
	}
	t.bits &^= b
}

// setBits adds a segment's contribution to the counters.
func (q *rtxQueue) setBits(t *txSeg, b uint8) {
	b &^= t.bits
	if b&segSacked != 0 {
		q.sackedOut++
	}
	if b&segLost != 0 {
		q.lostOut++
	}
	if b&segRetrans != 0 {
		q.retransOut++
	}
	t.bits |= b
}

// markLost judges t lost (Linux: tcp_mark_skb_lost). It reports whether t
// was a retransmission that got lost again.
// A segment already marked lost stays so; if it was retransmitted, the
// retransmission is what got lost now, and it is due again.
func (q *rtxQueue) markLost(t *txSeg) (lostRetrans bool) {
	if t.has(segSacked) {
		return false
	}
	lostRetrans = t.has(segRetrans)
	q.clearBits(t, segRetrans)
	q.setBits(t, segLost)
	return lostRetrans
}

// split cuts segment i at seq so a retransmission of fewer octets can
// cover its head (Linux: tcp_fragment).
func (q *rtxQueue) split(i int, seq seqnum) {
	i += q.head
	t := q.buf[i]
	head, tail := t, t
	head.end, head.fin = seq, false
	tail.seq = seq
	for _, b := range []uint8{segSacked, segLost, segRetrans} {
		if t.has(b) {
			tail.bits &^= b
			q.setBits(&tail, b) // the head keeps its count, the tail adds one
		}
	}
	q.buf = append(q.buf, txSeg{})
	copy(q.buf[i+2:], q.buf[i+1:])
	q.buf[i], q.buf[i+1] = head, tail
}

// ackedInfo summarises what one cumulative ACK removed from the queue.
type ackedInfo struct {
	segs      int       // segments fully acknowledged
	delivered int       // ... of which not SACKed before: newly delivered (Linux: tcp_count_delivered)
	origAcked bool      // one was never retransmitted (Linux: FLAG_ORIG_SACK_ACKED)
	newest    txSeg     // the most recently sent one not SACKed before, for RACK
	hasNewest bool      //
	rttFrom   time.Time // send time of the newest never-retransmitted one (Karn); zero if none
	reordSeq  seqnum    // the lowest never-retransmitted one not SACKed before
	reord     bool      // reordSeq is set
}

// cleanAcked drops what una acknowledges (Linux: tcp_clean_rtx_queue).
// A segment acknowledged only in part keeps its unacknowledged tail.
func (q *rtxQueue) cleanAcked(una seqnum) ackedInfo {
	var a ackedInfo
	segs := q.live()
	n := 0
	for n < len(segs) && segs[n].end.leq(una) {
		t := &segs[n]
		if !t.has(segEverRetrans) {
			if !a.reord && !t.has(segSacked) {
				a.reordSeq, a.reord = t.seq, true
			}
			a.origAcked = true
			if t.sent.After(a.rttFrom) {
				a.rttFrom = t.sent
			}
		}
		// A SACKed segment was delivered earlier: it was counted, and
		// RACK saw it, then.
		if !t.has(segSacked) {
			a.delivered++
			if !a.hasNewest || t.sent.After(a.newest.sent) {
				a.newest, a.hasNewest = *t, true
			}
		}
		q.clearBits(t, segSacked|segLost|segRetrans)
		n++
	}
	a.segs = n
	q.head += n
	switch live := len(q.buf) - q.head; {
	case live == 0:
		q.buf, q.head = q.buf[:0], 0
	case q.head >= 64 && q.head >= live:
		copy(q.buf, q.buf[q.head:])
		q.buf, q.head = q.buf[:live], 0
	}
	if segs := q.live(); len(segs) > 0 && segs[0].seq.lt(una) {
		segs[0].seq = una
	}
	return a
}
