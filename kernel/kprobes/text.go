package kprobes

import (
	"errors"

	"gomenuos/arch/x86"
)

// Writing kernel text, and the out-of-line slots. Goroutine context,
// called with mu held.

// textPoke writes b over kernel text at addr. Every write to kernel text
// goes through here: the image maps text read-only, so the bytes are
// written through the direct map's writable alias of the same physical
// page. On one CPU no instruction of another thread can be half-fetched
// meanwhile, and a store to code is seen by the next fetch after a branch
// (Intel SDM vol. 3, 8.1.3); with several CPUs this would need Linux's
// text_poke_bp dance (INT3 first, sync, rest, sync).
var textPoke = func(addr uintptr, b []byte) {
	for i, c := range b {
		*(*byte)(x86.PhysPointer(x86.KernelVirtToPhys(addr + uintptr(i)))) = c
	}
}

// textPeek reads n bytes of kernel text.
var textPeek = func(addr uintptr, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = *(*byte)(x86.VirtPointer(addr + uintptr(i)))
	}
	return b
}

// The slots: xolArea (kprobes_amd64.s) cut into xolSlot-byte pieces.
const (
	xolSlot  = 16
	xolSize  = 64 << 10
	xolSlots = xolSize / xolSlot
)

var (
	xolBase uintptr
	xolUsed [xolSlots]bool
)

func xolAreaPC() uintptr

func init() { xolBase = xolAreaPC() }

var errNoSlot = errors.New("no out-of-line slot left")

// xolAlloc copies the instruction in into a free slot, its RIP-relative
// displacement adjusted for the slot's address, and returns the slot.
func xolAlloc(addr uintptr, code []byte, in Insn) (uintptr, error) {
	for i := range xolUsed {
		if xolUsed[i] {
			continue
		}
		slot := xolBase + uintptr(i*xolSlot)
		b := append([]byte(nil), code[:in.Len]...)
		if in.RIPRel {
			d := int64(int32(le32(b[in.DispOff:]))) + int64(addr) - int64(slot)
			if d != int64(int32(d)) {
				return 0, errors.New("its RIP-relative operand is out of reach of the slots")
			}
			put32(b[in.DispOff:], uint32(int32(d)))
		}
		xolUsed[i] = true
		textPoke(slot, b)
		return slot, nil
	}
	return 0, errNoSlot
}

// xolFree gives a slot back, filled with INT3 again.
func xolFree(slot uintptr) {
	var cc [xolSlot]byte
	for i := range cc {
		cc[i] = 0xCC
	}
	textPoke(slot, cc[:])
	xolUsed[(slot-xolBase)/xolSlot] = false
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
