package sched

// Wake-ups queued by goroutine code for the scheduler to run at its next
// entry (Linux: ttwu_queue_wakelist, the wake list another CPU drains in
// sched_ttwu_pending). A user thread's task sleeps as a futex wait of its
// own thread; its waker is goroutine code, which would need a system call
// — a whole trap — to make the futex wake. On this one CPU the woken
// thread cannot run before the scheduler is entered anyway: by the
// waker's next trap (it returns to user mode, sleeps, or the 1 kHz tick
// interrupts it). So the waker only marks the sleeper's slot, and every
// trap starts by running the marked wake-ups (SchedTTWUPending) before it
// blocks, switches or returns. The trap-context half lives here; the
// goroutine half is kernelSleep.wake.

import (
	"math/bits"
	"sync/atomic"
)

// wakeList holds the queued wake-ups: for each thread slot, the futex
// word its sleeper waits on, and a bit saying the slot has one. any has
// a bit for each word of bits that may have one set: set after the bit,
// cleared before the word is read.
var wakeList struct {
	any  atomic.Uint32
	bits [MaxThreads / 64]atomic.Uint64
	addr [MaxThreads]atomic.Uintptr
}

// any has a bit per word of bits.
var _ [32 - MaxThreads/64]struct{}

// ttwuQueue queues a futex wake of the word at addr, slept on by the
// thread in slot (goroutine context; a trap may come between any two
// steps: a wake-up it misses stays queued for the next).
func ttwuQueue(slot int, addr uintptr) {
	wakeList.addr[slot].Store(addr)
	wakeList.bits[slot/64].Or(1 << (slot % 64))
	wakeList.any.Or(1 << (slot / 64))
}

// SchedTTWUPending runs the queued wake-ups: a FUTEX_WAKE of the thread
// of each queued slot if it still sleeps on the queued word. If it does
// not, nobody needs waking: the sleeper is running or runnable and will
// see the bumped word before it sleeps again, and a sleeper that moved to
// another thread stored its new slot before it read the word
// (kernelSleep.sleep), so a waker that bumped the word and still read the
// old slot is seen by that read. Trap context.
func SchedTTWUPending() {
	if wakeList.any.Load() == 0 {
		return
	}
	for words := wakeList.any.Swap(0); words != 0; words &= words - 1 {
		w := bits.TrailingZeros32(words)
		b := wakeList.bits[w].Swap(0)
		for b != 0 {
			slot := w*64 + bits.TrailingZeros64(b)
			b &= b - 1
			if Table[slot].sleepsOn(wakeList.addr[slot].Load()) {
				wakeSlot(slot, 0)
			}
		}
	}
}

// sleepsOn reports whether t is blocked in a futex wait on addr.
func (t *Thread) sleepsOn(addr uintptr) bool {
	return t.State == Blocked && t.Wait.Kind == WaitFutex && t.Wait.Addr == addr
}
