package sched

// Device bottom halves run on user tasks (Linux: the softirq that irq_exit
// runs on whatever task the interrupt came in on).
//
// A device's bottom half is a goroutine that waits for its interrupt on
// the runtime's netpoller (an eventfd): the interrupt wakes the
// netpoller's thread, which needs the P to run the driver. A user task
// holds the P while it runs in user mode, in its system calls and often
// while it sleeps (ksleep.go), so that path costs the runtime's relay of
// threads: the P is handed over (by the sleeper, or taken by sysmon), the
// runtime wakes a thread to look for work, and the task the driver woke
// needs the P back. Instead, a driver that registers its bottom half has
// it run by the user task the interrupt finds:
//
//   - a task sleeping in the kernel with the P is the softirq host: the
//     interrupt marks the bottom half pending and wakes the host, which
//     runs it on its own goroutine, then goes on waiting — or returns at
//     once, when the packet was the one it waited for;
//   - else the task whose thread was interrupted: in user mode the thread
//     is kicked out to its goroutine, in the kernel the goroutine runs it
//     before it sleeps or returns to user mode.
//
// No other thread runs. When a bottom half woke a goroutine or another
// task, the task lets them have the P (runtime.Gosched). Interrupts that
// find no user task go the netpoller's way, and so do bottom halves left
// pending for 2 ms (softirqTick).

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// MaxSoftirqs is how many interrupt sources may have a bottom half.
const MaxSoftirqs = 64

var softirq struct {
	// handlers are the bottom halves by source (an MSI vector slot), set
	// once before their source first interrupts. Each reports whether it
	// woke a goroutine or another task, which need the P.
	handlers [MaxSoftirqs]func() (wokeOthers bool)
	pending  atomic.Uint64 // sources interrupted whose bottom half has not run
	host     atomic.Pointer[kernelSleep]

	// Goroutine side: the sleeper running bottom halves, and the
	// wake-ups of others they made (kick, kernelSleep.wake).
	running atomic.Pointer[kernelSleep]
	wakes   atomic.Uint32

	// Counters for kstat: interrupts raised for bottom halves, the
	// bottom halves user tasks ran, and those the tick handed back to
	// their drivers' goroutines.
	raised, runs, fallbacks atomic.Uint64
}

// RegisterSoftirq makes fn the bottom half of interrupt source src: from
// now on a user task may run it in place of the driver's goroutine
// (RaiseSoftirq). fn must be safe to run on any
// goroutine, one call at a time, and report whether it woke a goroutine
// or another task.
func RegisterSoftirq(src int, fn func() (wokeOthers bool)) {
	softirq.handlers[src] = fn
}

// RaiseSoftirq hands an interrupt of src to a user task's goroutine, if
// src has a bottom half: to the softirq host if a task sleeps as one (its
// word is bumped, which ends a wait that has not blocked yet, and its
// thread woken), else to the user task whose thread it interrupted — in
// user mode the thread is kicked out to its goroutine, in the kernel the
// goroutine runs it before it sleeps or returns to user mode (Linux: the
// softirq at irq_exit, on whatever ran). It reports false when nobody
// takes it: the caller then wakes the driver's goroutine as before. Trap
// context.
func RaiseSoftirq(src int) bool {
	if src < 0 || src >= MaxSoftirqs || softirq.handlers[src] == nil {
		return false
	}
	if k := softirq.host.Load(); k != nil {
		softirq.pending.Or(1 << src)
		softirq.raised.Add(1)
		k.word.Add(1)
		if s := k.slot.Load(); s > 0 && Table[s].sleepsOn(uintptr(unsafe.Pointer(&k.word))) {
			wakeSlot(int(s), 0)
		}
		return true
	}
	t := &Table[Current]
	if Current == 0 || !t.Softirqs {
		return false
	}
	softirq.pending.Or(1 << src)
	softirq.raised.Add(1)
	if t.User != 0 {
		t.Kick = true // the trap's exit leaves user mode (exitToUser)
	}
	return true
}

// SoftirqPending reports whether bottom halves wait to be run. Trap
// context or goroutine.
func SoftirqPending() bool { return softirq.pending.Load() != 0 }

// ServeSoftirqs marks the running thread as one whose goroutine runs
// bottom halves raised on it, or no longer (while the P is free).
func ServeSoftirqs(on bool) { Table[Current].Softirqs = on }

// SetUserTask marks the running thread as a user task's for as long as
// its goroutine serves one (which also runs bottom halves raised on it:
// Task.Softirqs), or no longer.
func SetUserTask(on bool) {
	Table[Current].UserTask = on
	Table[Current].Softirqs = on
}

// OnUserTask reports whether the calling goroutine serves a user task
// (goroutine context: Current is its thread).
func OnUserTask() bool { return Table[Current].UserTask }

// Softirqs runs the bottom halves raised for t's goroutine, on it: a user
// task's goroutine calls it when it comes back from user mode.
func (t *Task) Softirqs() {
	if t.ksleep != nil && softirq.pending.Load() != 0 {
		t.ksleep.softirqs()
	}
}

// SoftirqFallback wakes the driver goroutine of src instead (the eventfd
// path), for bottom halves left pending (softirqTick). Set by the trap
// code; trap context.
var SoftirqFallback func(src int)

// softirqSince is when the tick first saw bottom halves pending (0: none).
var softirqSince int64

// softirqFallbackNS is how long bottom halves may stay pending before the
// tick hands them to their drivers' goroutines.
const softirqFallbackNS = 2_000_000

// softirqTick runs on every timer interrupt: bottom halves pending for
// over 2 ms, which no task ran (raised on a thread that then went on
// without looking, or on a host that cannot get the P), go to their
// drivers' goroutines. Trap context.
func softirqTick(now int64) {
	if softirq.pending.Load() == 0 {
		softirqSince = 0
		return
	}
	if softirqSince == 0 {
		softirqSince = now
	}
	if now-softirqSince < softirqFallbackNS || SoftirqFallback == nil {
		return
	}
	softirqSince = 0
	for p := softirq.pending.Swap(0); p != 0; p &= p - 1 {
		softirq.fallbacks.Add(1)
		SoftirqFallback(bits.TrailingZeros64(p))
	}
}

// runSoftirqs runs the pending bottom halves on k's goroutine and reports
// whether they woke anyone but k, who would need the P k holds.
func (k *kernelSleep) runSoftirqs() (wokeOthers bool) {
	p := softirq.pending.Swap(0)
	if p == 0 {
		return false
	}
	before := softirq.wakes.Load()
	softirq.running.Store(k)
	for ; p != 0; p &= p - 1 {
		softirq.runs.Add(1)
		if softirq.handlers[bits.TrailingZeros64(p)]() {
			wokeOthers = true
		}
	}
	softirq.running.Store(nil)
	return wokeOthers || softirq.wakes.Load() != before
}

// noteWake records a wake-up of k (nil: of a goroutine) made while a
// bottom half runs on another sleeper.
func noteWake(k *kernelSleep) {
	if r := softirq.running.Load(); r != nil && r != k {
		softirq.wakes.Add(1)
	}
}

// SoftirqStats reports how many interrupts were handed to user tasks, how
// many bottom halves those ran, and how many the tick handed back.
func SoftirqStats() (raised, runs, fallbacks uint64) {
	return softirq.raised.Load(), softirq.runs.Load(), softirq.fallbacks.Load()
}
