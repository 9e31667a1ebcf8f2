// Package kprobes places dynamic probes on kernel functions (Linux:
// kernel/kprobes.c and arch/x86/kernel/kprobes): an INT3 byte patched over
// a function's first instruction (an entry probe) or over each of its RET
// instructions (a return probe). When one fires, the #BP handler records
// an event in the trace ring (sched/trace) and then executes the
// instruction the INT3 displaced: emulated for the instructions Go
// functions start with (the stack-bound check, the frame set-up, RET),
// otherwise single-stepped out of line from a copy in a slot of
// kernel text (#DB after one instruction brings the CPU back).
//
// Return probes patch RETs instead of hijacking the return address (as
// Linux's kretprobes do): Go's stack growth copies stacks and its
// unwinder, GC stack scan and panics walk return addresses, so the stack
// is never touched. docs/tracing.md has the consequences.
//
// Trap context: Trap and what it calls (kprobes.go, emulate.go) run in the
// #BP and #DB handlers: no allocation, no locks, no panics, no Go pointers
// stored into globals. The rest of the package (placing and removing
// probes) runs in goroutine context, serialised by mu.
package kprobes

import (
	"sync/atomic"

	"gomenuos/arch/x86"
	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// MaxPoints bounds the probe points armed at once.
const MaxPoints = 8192

// Point kinds (a bit set: an empty function's only instruction is both
// its entry and its RET).
const (
	kindEntry  = 1 << iota // the function's first instruction
	kindReturn             // one of its RETs
)

// How a point executes the instruction its INT3 displaced.
const (
	opXOL        = iota // single-step a copy in an out-of-line slot
	opStackCheck        // CMP disp8(R14), RSP: Go's stack-bound check (flags)
	opLeaR12            // LEA disp(RSP), R12: the big-frame check's first half
	opMovR12            // MOV RSP, R12: the huge-frame check's first half
	opPushBP            // PUSH RBP
	opRet               // RET
	opJmp               // JMP rel8/rel32
	opCall              // CALL rel32
	opNop               // NOP and friends
)

// point is one patched instruction. No Go pointers: the table is a global
// that trap context reads.
type point struct {
	addr      uintptr
	fn        int32 // the function, as an index into the ksyms table
	kind      uint8
	op        uint8
	countOnly bool  // count hits, record no events (trace -c)
	stackNext bool  // opLeaR12 followed by CMP R12, 16(R14)
	len       uint8 // length of the displaced instruction
	orig      [15]byte
	disp      int64   // op's displacement, immediate or branch target
	xol       uintptr // the slot (opXOL, and opXOL's fallback), 0 if none
	hits      uint64  // calls (entry) or returns seen
	missed    uint64  // hits not recorded: the handler was already busy
	restarts  uint64  // entry INT3s not counted: the function restarts after growing its stack
}

var points [MaxPoints]point

// The address index trap context searches: two sorted arrays, one live
// and one being rebuilt by the goroutine side, switched by live. On one
// CPU a trap handler runs to completion before the goroutine that
// rebuilds the index runs again, so nobody reads the array being rebuilt.
type indexEntry struct {
	addr uintptr
	pt   int32
}

var (
	index    [2][MaxPoints]indexEntry
	indexLen [2]int
	live     atomic.Uint32
)

// armed counts armed points plus a step in progress: Trap's whole cost
// while no probe is set is loading it.
var armed atomic.Int32

// Stats are the handler's counters.
var Stats struct {
	Hits      uint64 // INT3s handled
	Steps     uint64 // instructions single-stepped out of line
	Aborted   uint64 // steps abandoned because the instruction faulted
	Emulated  uint64 // instructions emulated
	Recursion uint64 // hits while the handler was busy (counted, skipped)
}

// step is the out-of-line single step in progress (one per CPU).
var step struct {
	active  bool
	pt      int32
	slot    uintptr
	savedIF uint64
}

// busy is set while the handler records an event.
var busy bool

// rehit marks, per thread, a probe whose step was aborted by a fault: its
// INT3 fires again when the thread retries the instruction, and that hit
// was already counted.
var rehit [sched.MaxThreads]uintptr

// Active reports whether any probe is set: trap context that skips
// linux.trap must then go through it (Trap). Trap context.
func Active() bool { return armed.Load() != 0 }

// Trap handles #BP and #DB raised by probes and reports whether it did;
// kernel/linux calls it first for every trap. For any other trap taken in
// the middle of a single step (the displaced instruction faulted), it
// puts the thread back at the probed instruction before the fault is
// handled, so the kernel and the runtime see the fault at its real
// address. Trap context.
func Trap(tf *x86.TrapFrame) bool {
	if armed.Load() == 0 {
		return false
	}
	return trap(tf)
}

// trap is kept out of line so that the refusal list can start from it
// (Trap itself is inlined into kernel/linux's trap).
//
//go:noinline
func trap(tf *x86.TrapFrame) bool {
	if tf.CS&3 != 0 {
		return false // user mode: not a kernel probe
	}
	switch tf.Vector {
	case 3:
		return breakpoint(tf)
	case 1:
		return debug(tf)
	}
	if step.active && inXOL(uintptr(tf.RIP)) {
		abortStep(tf)
	}
	return false
}

// lookup finds the armed point at addr.
func lookup(addr uintptr) int {
	l := live.Load()
	ix := &index[l]
	lo, hi := 0, indexLen[l]
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ix[m].addr < addr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < indexLen[l] && ix[lo].addr == addr {
		return int(ix[lo].pt)
	}
	return -1
}

// breakpoint handles an INT3: RIP is one past it.
func breakpoint(tf *x86.TrapFrame) bool {
	addr := uintptr(tf.RIP) - 1
	i := lookup(addr)
	if i < 0 {
		if step.active && addr == step.slot+uintptr(points[step.pt].len) {
			// The stepped instruction cleared TF (it never does for the
			// instructions we step): the INT3 after the copy ends it.
			tf.RIP--
			return finishStep(tf)
		}
		return false // not ours: the kernel reports a stray INT3
	}
	p := &points[i]
	tf.RIP = uint64(addr)
	Stats.Hits++
	cur := sched.Current
	switch {
	case rehit[cur] == addr:
		rehit[cur] = 0 // counted when it first fired, before its step faulted
	case p.kind&kindEntry != 0 && restarts(p, tf):
		p.restarts++
	case busy:
		p.hits++
		p.missed++
		Stats.Recursion++
	default:
		p.hits++
		if !p.countOnly {
			busy = true
			record(i, p, tf)
			busy = false
		}
	}
	if p.op == opXOL {
		startStep(i, tf)
	} else {
		emulate(p, tf)
		Stats.Emulated++
	}
	return true
}

// record writes the hit's events: an entry, a return, or both for a
// function whose only instruction is RET.
func record(i int, p *point, tf *x86.TrapFrame) {
	g := trace.GOf(tf.FSBase)
	if p.kind&kindEntry != 0 {
		recordOne(trace.KindProbeEntry, g, i, p, tf)
	}
	if p.kind&kindReturn != 0 {
		recordOne(trace.KindProbeReturn, g, i, p, tf)
	}
}

func recordOne(k trace.Kind, g uintptr, i int, p *point, tf *x86.TrapFrame) {
	e := trace.Reserve(k, g)
	if e == nil {
		return
	}
	a := e.Probe()
	a.Func, a.Point, a.SP, a.Addr = uint64(p.fn), uint64(i), tf.RSP, uint64(p.addr)
	e.Commit()
}

// startStep runs the displaced instruction from its slot with TF set and
// interrupts off (so nothing else runs on this CPU before #DB).
func startStep(i int, tf *x86.TrapFrame) {
	p := &points[i]
	step.active, step.pt, step.slot = true, int32(i), p.xol
	step.savedIF = tf.RFLAGS & x86.FlagIF
	tf.RFLAGS = tf.RFLAGS&^x86.FlagIF | x86.FlagTF
	tf.RIP = uint64(p.xol)
	armed.Add(1)
	Stats.Steps++
}

// debug handles #DB: the end of a single step.
func debug(tf *x86.TrapFrame) bool {
	if !step.active {
		return false
	}
	dr6 := readDR6()
	writeDR6(0)
	if dr6&(1<<14) == 0 { // BS: not a single step
		return false
	}
	return finishStep(tf)
}

// finishStep moves the thread from the slot back to the instruction after
// the probed one and restores its flags.
func finishStep(tf *x86.TrapFrame) bool {
	p := &points[step.pt]
	tf.RIP = tf.RIP - uint64(step.slot) + uint64(p.addr)
	tf.RFLAGS = tf.RFLAGS&^(x86.FlagTF|x86.FlagIF) | step.savedIF
	step.active = false
	armed.Add(-1)
	return true
}

// abortStep abandons a step whose instruction faulted: the thread goes
// back to the probed address (its INT3 fires again once the fault is
// dealt with, and rehit keeps that from counting twice).
func abortStep(tf *x86.TrapFrame) {
	p := &points[step.pt]
	tf.RIP = uint64(p.addr)
	tf.RFLAGS = tf.RFLAGS&^(x86.FlagTF|x86.FlagIF) | step.savedIF
	rehit[sched.Current] = p.addr
	step.active = false
	armed.Add(-1)
	Stats.Aborted++
}

func inXOL(pc uintptr) bool { return pc >= xolBase && pc < xolBase+xolSize }

func readDR6() uint64
func writeDR6(v uint64)
