package kprobes

import (
	"math/bits"

	"gomenuos/arch/x86"
)

// Emulating the displaced instruction. Trap context.

// emulate does what the point's instruction would have done and moves
// RIP past it.
func emulate(p *point, tf *x86.TrapFrame) {
	next := uint64(p.addr) + uint64(p.len)
	switch p.op {
	case opStackCheck:
		tf.RFLAGS = subFlags(tf.RFLAGS, tf.RSP, load64(tf.R14+uint64(p.disp)))
	case opLeaR12:
		tf.R12 = tf.RSP + uint64(p.disp)
	case opMovR12:
		tf.R12 = tf.RSP
	case opPushBP:
		tf.RSP -= 8
		store64(tf.RSP, tf.RBP)
	case opRet:
		next = load64(tf.RSP)
		tf.RSP += 8
	case opJmp:
		next = uint64(p.disp)
	case opCall:
		tf.RSP -= 8
		store64(tf.RSP, next)
		next = uint64(p.disp)
	case opNop:
	}
	tf.RIP = next
}

// restarts reports whether this entry hit is the first of two: the
// function's stack check is about to fail, so it calls morestack, which
// grows (or preempts) the stack and starts the function over from its
// entry, hitting the probe again. Only the second hit is recorded.
func restarts(p *point, tf *x86.TrapFrame) bool {
	switch {
	case p.op == opStackCheck:
		return tf.RSP <= load64(tf.R14+uint64(p.disp)) // JLS morestack follows
	case p.op == opLeaR12 && p.stackNext:
		return tf.RSP+uint64(p.disp) <= load64(tf.R14+16)
	}
	return false
}

// Arithmetic flags of RFLAGS.
const (
	flagCF    = 1 << 0
	flagPF    = 1 << 2
	flagAF    = 1 << 4
	flagZF    = 1 << 6
	flagSF    = 1 << 7
	flagOF    = 1 << 11
	flagArith = flagCF | flagPF | flagAF | flagZF | flagSF | flagOF
)

// subFlags returns rflags with the arithmetic flags CMP a, b (64-bit,
// a - b) sets.
func subFlags(rflags, a, b uint64) uint64 {
	r := a - b
	f := rflags &^ flagArith
	if a < b {
		f |= flagCF
	}
	if bits.OnesCount8(uint8(r))%2 == 0 {
		f |= flagPF
	}
	if (a^b^r)&0x10 != 0 {
		f |= flagAF
	}
	if r == 0 {
		f |= flagZF
	}
	if r>>63 != 0 {
		f |= flagSF
	}
	if ((a^b)&(a^r))>>63 != 0 {
		f |= flagOF
	}
	return f
}

func load64(a uint64) uint64     { return *(*uint64)(x86.VirtPointer(uintptr(a))) }
func store64(a uint64, v uint64) { *(*uint64)(x86.VirtPointer(uintptr(a))) = v }

// cmpFlags returns RFLAGS after the CPU's own CMPQ a, b: the reference
// subFlags is tested against.
func cmpFlags(a, b uint64) uint64
