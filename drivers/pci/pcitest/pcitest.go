// Package pcitest emulates PCI configuration mechanism #1 over a set of fake
// functions, for host tests of PCI drivers.
package pcitest

import (
	"encoding/binary"
	"sync"

	"gomenuos/drivers/pci"
)

// Bus is a hw.PortIO answering the 0xCF8/0xCFC configuration ports.
type Bus struct {
	mu    sync.Mutex
	addr  uint32
	funcs map[pci.Addr]*Function
}

// Function is one emulated function's configuration space. wmask holds, per
// dword, which bits software can write (BAR size masks live here).
type Function struct {
	Config [256]byte
	wmask  [64]uint32
	capEnd uint8 // next free capability offset
	capPrv uint8 // offset of the last capability's next pointer
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{funcs: map[pci.Addr]*Function{}} }

// Add creates a function at a with the given IDs and class.
func (b *Bus) Add(a pci.Addr, vendor, device uint16, class, subclass uint8) *Function {
	f := &Function{capEnd: 0x40, capPrv: 0x34}
	binary.LittleEndian.PutUint16(f.Config[0:], vendor)
	binary.LittleEndian.PutUint16(f.Config[2:], device)
	f.Config[0x0B], f.Config[0x0A] = class, subclass
	f.wmask[1] = 0x0000_FFFF // command writable, status read-only
	f.wmask[15] = 0x0000_00FF
	b.mu.Lock()
	b.funcs[a] = f
	b.mu.Unlock()
	return f
}

// SetBAR implements BAR i as a memory (or io) range at addr of size bytes.
func (f *Function) SetBAR(i int, addr, size uint64, io, is64 bool) {
	mask := ^(size - 1)
	lo := uint32(addr) // 32-bit, non-prefetchable memory
	switch {
	case io:
		lo = uint32(addr) | 1
		f.wmask[4+i] = uint32(mask) &^ 3
	case is64:
		lo = uint32(addr) | 4
		f.wmask[4+i] = uint32(mask) &^ 0xF
		f.wmask[5+i] = uint32(mask >> 32)
		binary.LittleEndian.PutUint32(f.Config[0x14+4*i:], uint32(addr>>32))
	default:
		f.wmask[4+i] = uint32(mask) &^ 0xF
	}
	binary.LittleEndian.PutUint32(f.Config[0x10+4*i:], lo)
}

// AddCap appends a capability with the given ID and body (the bytes after
// the ID and next pointer) and returns its offset.
func (f *Function) AddCap(id uint8, body []byte) uint8 {
	off := f.capEnd
	f.Config[0x06] |= 1 << 4 // status: capability list
	f.Config[f.capPrv] = off
	f.Config[off] = id
	copy(f.Config[off+2:], body)
	for j := int(off) + 2; j < int(off)+2+len(body); j++ { // the body is software-writable
		f.wmask[j/4] |= 0xFF << (8 * (j % 4))
	}
	f.capPrv = off + 1
	f.capEnd = (off + 2 + uint8(len(body)) + 3) &^ 3
	return off
}

// ConfigByte reads one byte of a function's configuration space, as the
// emulated device sees it.
func (b *Bus) ConfigByte(a pci.Addr, off uint8) uint8 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f := b.funcs[a]; f != nil {
		return f.Config[off]
	}
	return 0xFF
}

func (b *Bus) target() (*Function, int) {
	if b.addr&(1<<31) == 0 {
		return nil, 0
	}
	a := pci.Addr{Bus: uint8(b.addr >> 16), Dev: uint8(b.addr>>11) & 31, Fn: uint8(b.addr>>8) & 7}
	return b.funcs[a], int(b.addr & 0xFC)
}

func (b *Bus) read(port uint16, width int) uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, reg := b.target()
	if port < 0xCFC || port > 0xCFF {
		return 0xFFFFFFFF
	}
	if f == nil {
		return 0xFFFFFFFF >> (32 - 8*width)
	}
	var v uint32
	for i := width - 1; i >= 0; i-- {
		v = v<<8 | uint32(f.Config[reg+int(port-0xCFC)+i])
	}
	return v
}

func (b *Bus) write(port uint16, width int, v uint32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if port == 0xCF8 && width == 4 {
		b.addr = v
		return
	}
	f, reg := b.target()
	if f == nil || port < 0xCFC || port > 0xCFF {
		return
	}
	shift := 8 * uint(port-0xCFC)
	enable := (uint32(0xFFFFFFFF) >> (32 - 8*uint(width))) << shift
	m := f.wmask[reg/4] & enable
	old := binary.LittleEndian.Uint32(f.Config[reg:])
	binary.LittleEndian.PutUint32(f.Config[reg:], old&^m|(v<<shift)&m)
}

// Inb implements hw.PortIO.
func (b *Bus) Inb(port uint16) uint8 { return uint8(b.read(port, 1)) }

// Inw implements hw.PortIO.
func (b *Bus) Inw(port uint16) uint16 { return uint16(b.read(port, 2)) }

// Inl implements hw.PortIO.
func (b *Bus) Inl(port uint16) uint32 { return b.read(port, 4) }

// Outb implements hw.PortIO.
func (b *Bus) Outb(port uint16, v uint8) { b.write(port, 1, uint32(v)) }

// Outw implements hw.PortIO.
func (b *Bus) Outw(port uint16, v uint16) { b.write(port, 2, uint32(v)) }

// Outl implements hw.PortIO.
func (b *Bus) Outl(port uint16, v uint32) { b.write(port, 4, v) }
