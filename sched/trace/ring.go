// Package trace is the kernel's event ring buffer and its tracepoints
// (Linux: kernel/trace/ring_buffer.c and the TRACE_EVENTs of
// include/trace/events). Dynamic probes (kernel/kprobes) and the static
// tracepoints of the scheduler and TCP write fixed-size events here; the
// `trace` shell command and /proc/tracing read them.
//
// It sits under sched/ because it is the lowest layer both the scheduler
// and the network stack may import (DESIGN.md's table: sched may import
// only arch/x86, net may import sched).
//
// Rules: writers run in trap context too (a probe's INT3 handler, the
// context switch). Everything in this package except read.go and comm.go
// allocates nothing, takes no lock, never panics and stores no Go pointer
// into a global. A writer never waits: when the ring is full it drops the
// event and counts it.
package trace

import (
	"sync/atomic"
	"unsafe"

	"gomenuos/arch/x86"
)

// RingSize is how many events the ring holds (a power of two).
const RingSize = 8192

// PayloadWords is the size of an event's payload in 8-byte words.
const PayloadWords = 11

// Event is one record of the ring: 128 bytes, no pointers.
type Event struct {
	seq     uint64 // position<<1 when reserved, |1 once committed (atomic)
	TSC     uint64 // time stamp counter when it happened
	Kind    Kind
	_       uint16
	TID     int32                // kernel thread (the runtime's M) that ran
	GoID    uint64               // goroutine that ran, 0 for trap and idle context
	StartPC uint64               // that goroutine's start function (names it when no comm is set)
	Payload [PayloadWords]uint64 // what the kind says; see the typed views in events.go
}

// ring is a multi-writer, single-reader queue of positions. A writer
// reserves a position with a compare-and-swap on head (so an interrupt
// that writes in between just takes the next one), fills the slot and
// publishes it by setting the low bit of the slot's seq. The reader
// consumes in order and stops at the first slot not yet published. A
// position is only reserved when the slot is free (head-tail < RingSize),
// so a writer never overwrites an event nobody read.
var ring struct {
	head atomic.Uint64
	tail atomic.Uint64
	ev   [RingSize]Event
}

// Stats counts what the writers did (Linux: the ring buffer's entries,
// overrun and dropped_events counters).
var Stats struct {
	Written atomic.Uint64 // events committed
	Dropped atomic.Uint64 // events lost because the ring was full
}

// Reserve claims the next slot for an event of kind k that ran in
// goroutine g (0 in trap context) and returns it, or nil when the ring is
// full (the event is counted in Stats.Dropped). The caller fills the
// payload and calls Commit.
func Reserve(k Kind, g uintptr) *Event {
	for {
		h := ring.head.Load()
		if h-ring.tail.Load() >= RingSize {
			Stats.Dropped.Add(1)
			return nil
		}
		if ring.head.CompareAndSwap(h, h+1) {
			e := &ring.ev[h%RingSize]
			atomic.StoreUint64(&e.seq, h<<1) // reserved at h, not yet published
			e.TSC = x86.Rdtsc()
			e.Kind = k
			e.TID = int32(x86.BootCPU.PerCPU.Current)
			e.GoID, e.StartPC = goInfo(g)
			e.Payload = [PayloadWords]uint64{}
			return e
		}
	}
}

// Commit publishes a reserved event to the reader.
func (e *Event) Commit() {
	atomic.StoreUint64(&e.seq, e.seq|1)
	Stats.Written.Add(1)
}

// Pending reports how many events are reserved or committed but unread.
func Pending() uint64 { return ring.head.Load() - ring.tail.Load() }

// GoIDScheduler is the id events give a thread's g0: the runtime's own
// scheduling stack, which has no goroutine id; GoIDUser marks a thread
// caught in user mode (ring 3), whose FS base is the process's.
const (
	GoIDScheduler = ^uint64(0)
	GoIDUser      = ^uint64(0) - 1
)

// taskOf names what a trapped context ran: its goroutine, or user mode.
func taskOf(fsBase uint64) (id, startPC uint64) {
	if fsBase != 0 && fsBase < 1<<63 {
		return GoIDUser, 0
	}
	return goInfo(GOf(fsBase))
}

// goInfo reads a goroutine's id and start function from its runtime g: 0
// for no g (trap and idle context), GoIDScheduler for a g0.
func goInfo(g uintptr) (id, startPC uint64) {
	if g == 0 {
		return 0, 0
	}
	id = *(*uint64)(x86.VirtPointer(g + gGoidOffset))
	if id == 0 {
		return GoIDScheduler, 0
	}
	return id, *(*uint64)(x86.VirtPointer(g + gStartPCOffset))
}

// Offsets into the runtime's g (Go 1.26; TestGOffsets checks them against
// the running runtime).
const (
	gGoidOffset    = 152
	gStartPCOffset = 304
)

// CurG returns the running goroutine's g (goroutine context only).
func CurG() uintptr

// GOf returns the goroutine a trapped kernel context was running: the g
// in the -8 slot of its TLS (FS base), or 0 for trap and idle context,
// whose FS base is the kernel's TLS block with the fake g, and for a user
// process's FS base (in the lower half; its memory is not the kernel's to
// read here).
func GOf(fsBase uint64) uintptr {
	if fsBase == 0 || fsBase == x86.BootCPU.PerCPU.KernelFS || fsBase < 1<<63 {
		return 0
	}
	return *(*uintptr)(x86.VirtPointer(uintptr(fsBase) - 8))
}

var _ [128 - unsafe.Sizeof(Event{})]byte // an Event is 128 bytes...
var _ [unsafe.Sizeof(Event{}) - 128]byte // ...exactly
