package stack

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
)

// Reassembly limits, Linux's defaults (net.ipv4.ipfrag_*).
const (
	ipfragTime       = 30 * time.Second // ipfrag_time
	ipfragHighThresh = 4 << 20          // ipfrag_high_thresh: bytes held by all queues
	// fragOverhead is charged per fragment on top of its payload, like the
	// skb truesize Linux counts, so floods of tiny fragments hit the limit.
	fragOverhead = 256
)

// fragKey identifies the datagram a fragment belongs to (RFC 791 §3.2).
type fragKey struct {
	src, dst netip.Addr
	id       uint16
	proto    uint8
}

// fragment is one received piece: its payload and where it goes.
type fragment struct {
	off  int
	data []byte
}

// fragQueue collects the fragments of one datagram (Linux: struct ipq).
// Guarded by fragTable.mu.
type fragQueue struct {
	key    fragKey
	ifc    *Interface
	frags  []fragment // sorted by off, never overlapping
	meat   int        // payload bytes held
	total  int        // payload length, known once the last fragment arrived
	first  []byte     // header of the offset-0 fragment, for the rebuilt datagram
	timer  clock.Timer
	expire bool
}

// fragTable holds the reassembly queues (Linux: the ipv4 inet_frags
// rhashtable). Lock contract: mu guards queues and mem and every queue;
// nothing is sent while mu is held.
type fragTable struct {
	s      *Stack
	mu     sync.Mutex
	queues map[fragKey]*fragQueue
	mem    int
}

func (t *fragTable) init(s *Stack) {
	t.s = s
	t.queues = map[fragKey]*fragQueue{}
}

// ipDefrag adds a fragment to its queue and returns the whole datagram
// once every piece is in (Linux: ip_defrag → ip_frag_queue → ip_frag_reasm).
func (s *Stack) ipDefrag(ifc *Interface, ip header.IPv4) (header.IPv4, bool) {
	s.ipMIB.ReasmReqds.Add(1)
	t := &s.frags
	off, data := ip.FragmentOffset(), ip.Payload()
	if len(data) == 0 || off+len(data) > header.IPv4MaxTotalLen-ip.HeaderLen() || (ip.MF() && len(data)%8 != 0) {
		s.ipMIB.ReasmFails.Add(1)
		s.drop(DropFragTooFar)
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mem+len(data)+fragOverhead > ipfragHighThresh {
		s.ipMIB.ReasmFails.Add(1)
		s.drop(DropFragMem)
		return nil, false
	}
	k := fragKey{ip.Src(), ip.Dst(), ip.ID(), ip.Protocol()}
	q := t.queues[k]
	if q == nil {
		q = &fragQueue{key: k, ifc: ifc}
		t.queues[k] = q
		q.timer = s.clock.AfterFunc(ipfragTime, func() { s.ipExpire(q) })
	}
	if reason, ok := t.insertLocked(q, ip, off, data); !ok {
		s.ipMIB.ReasmFails.Add(1)
		s.drop(reason)
		return nil, false
	}
	if q.total == 0 || q.meat != q.total || q.first == nil {
		return nil, false
	}
	t.killLocked(q)
	s.ipMIB.ReasmOKs.Add(1)
	return q.reassemble(), true
}

// insertLocked places one fragment. Overlaps discard the whole queue, as
// Linux does since 4.19 (and RFC 5722 requires for IPv6): overlapping
// fragments are only ever seen in attacks. An exact duplicate is ignored.
func (t *fragTable) insertLocked(q *fragQueue, ip header.IPv4, off int, data []byte) (DropReason, bool) {
	end := off + len(data)
	if !ip.MF() {
		if (q.total != 0 && q.total != end) || end < q.maxEnd() {
			t.killLocked(q)
			return DropFragTooFar, false
		}
		q.total = end
	} else if q.total != 0 && end > q.total {
		t.killLocked(q)
		return DropFragTooFar, false
	}
	i, _ := slices.BinarySearchFunc(q.frags, off, func(f fragment, o int) int { return f.off - o })
	if i < len(q.frags) && q.frags[i].off == off && len(q.frags[i].data) == len(data) {
		return DropNotSpecified, true // exact duplicate: keep the first copy
	}
	if (i > 0 && q.frags[i-1].off+len(q.frags[i-1].data) > off) || (i < len(q.frags) && q.frags[i].off < end) {
		t.killLocked(q)
		return DropFragTooFar, false
	}
	q.frags = slices.Insert(q.frags, i, fragment{off, slices.Clone(data)})
	q.meat += len(data)
	t.mem += len(data) + fragOverhead
	if off == 0 {
		q.first = slices.Clone(ip[:ip.HeaderLen()])
	}
	return 0, true
}

func (q *fragQueue) maxEnd() int {
	if len(q.frags) == 0 {
		return 0
	}
	last := q.frags[len(q.frags)-1]
	return last.off + len(last.data)
}

// killLocked removes q from the table and releases its memory (Linux: ipq_kill).
func (t *fragTable) killLocked(q *fragQueue) {
	if t.queues[q.key] != q {
		return
	}
	q.timer.Stop()
	delete(t.queues, q.key)
	t.mem -= q.meat + len(q.frags)*fragOverhead
}

// reassemble joins the fragments behind the first fragment's header, with
// the fragment fields cleared and the length and checksum rewritten.
func (q *fragQueue) reassemble() header.IPv4 {
	hl := len(q.first)
	b := make([]byte, hl+q.total)
	copy(b, q.first)
	for _, f := range q.frags {
		copy(b[hl+f.off:], f.data)
	}
	h := header.IPv4(b)
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:8], 0) // no MF, offset 0
	fixIPv4Checksum(b[:hl])
	return h
}

// ipExpire runs when a queue's 30 s are up (Linux: ip_expire). If the
// first fragment arrived, the sender learns through ICMP time exceeded
// (RFC 792, code 1).
func (s *Stack) ipExpire(q *fragQueue) {
	t := &s.frags
	t.mu.Lock()
	if t.queues[q.key] != q {
		t.mu.Unlock()
		return
	}
	t.killLocked(q)
	first := q.first
	var quote []byte
	if first != nil {
		quote = append(slices.Clone(first), q.frags[0].data...)
	}
	t.mu.Unlock()
	s.ipMIB.ReasmTimeout.Add(1)
	s.ipMIB.ReasmFails.Add(1)
	s.drop(DropFragReasmTimeout)
	if quote != nil {
		s.icmpSend(header.IPv4(quote), header.ICMPv4TimeExceeded, 1, 0)
	}
}
