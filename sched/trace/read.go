package trace

import (
	"sync"
	"sync/atomic"
)

// The reader side: goroutine context only.

// readMu serialises readers (the ring has one consumer at a time).
var readMu sync.Mutex

// Read moves up to len(buf) published events into buf, oldest first, and
// returns how many. It stops early at an event still being written (its
// writer was interrupted between Reserve and Commit): that one and the
// ones after it come with the next Read. Linux: trace_pipe's consuming read.
func Read(buf []Event) int { return ReadBefore(buf, ^uint64(0)) }

// Mark is the position the next event will take: ReadBefore(buf, Mark())
// reads only what was there when Mark was called.
func Mark() uint64 { return ring.head.Load() }

// ReadBefore is Read stopping at position mark, so that a reader whose
// own work makes events (probes on the printing code) still finishes.
func ReadBefore(buf []Event, mark uint64) int {
	readMu.Lock()
	defer readMu.Unlock()
	n := 0
	for n < len(buf) {
		t := ring.tail.Load()
		if t == ring.head.Load() || t >= mark {
			break
		}
		e := &ring.ev[t%RingSize]
		if atomic.LoadUint64(&e.seq) != t<<1|1 {
			break
		}
		buf[n] = *e
		ring.tail.Store(t + 1) // the slot is free for writers from here on
		n++
	}
	return n
}

// Discard consumes every published event and returns how many.
func Discard() int {
	var buf [64]Event
	total := 0
	for {
		n := Read(buf[:])
		total += n
		if n < len(buf) {
			return total
		}
	}
}
