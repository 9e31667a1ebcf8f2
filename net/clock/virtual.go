package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Virtual is a deterministic Clock for tests: time moves only when Advance
// is called, and due timers fire in deadline order (ties in arming order).
//
// Lock contract: mu guards now, seq and the heap; callbacks run with mu
// released, so they may call Now, AfterFunc, Stop and Reset.
type Virtual struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers timerHeap
}

// NewVirtual returns a Virtual clock reading start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// AfterFunc arms f to run once the clock has advanced by d.
func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	t := &virtualTimer{clock: v, f: f, index: -1}
	v.mu.Lock()
	v.armLocked(t, d)
	v.mu.Unlock()
	return t
}

// NextDeadline reports the earliest pending deadline.
func (v *Virtual) NextDeadline() (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.timers) == 0 {
		return time.Time{}, false
	}
	return v.timers[0].when, true
}

// Advance moves time forward by d, firing every timer due on the way in
// deadline order. The clock reads each timer's deadline while its callback
// runs; callbacks run on the caller's goroutine without the lock held and
// may arm timers that fall due within the same Advance.
func (v *Virtual) Advance(d time.Duration) {
	v.mu.Lock()
	end := v.now.Add(d)
	for len(v.timers) > 0 && !v.timers[0].when.After(end) {
		t := heap.Pop(&v.timers).(*virtualTimer)
		if t.when.After(v.now) {
			v.now = t.when
		}
		v.mu.Unlock()
		t.f()
		v.mu.Lock()
	}
	v.now = end
	v.mu.Unlock()
}

func (v *Virtual) armLocked(t *virtualTimer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	v.seq++
	t.when = v.now.Add(d)
	t.seq = v.seq
	heap.Push(&v.timers, t)
}

// virtualTimer is one armed callback; index is its heap slot or -1.
type virtualTimer struct {
	clock *Virtual
	f     func()
	when  time.Time
	seq   uint64
	index int
}

func (t *virtualTimer) Stop() bool {
	v := t.clock
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&v.timers, t.index)
	return true
}

func (t *virtualTimer) Reset(d time.Duration) bool {
	v := t.clock
	v.mu.Lock()
	defer v.mu.Unlock()
	active := t.index >= 0
	if active {
		heap.Remove(&v.timers, t.index)
	}
	v.armLocked(t, d)
	return active
}

type timerHeap []*virtualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*virtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
