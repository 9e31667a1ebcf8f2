package qtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"gomenuos/drivers/hw"
)

// Inb implements hw.PortIO.
func (m *Machine) Inb(port uint16) uint8 { return uint8(m.must(fmt.Sprintf("inb %#x", port))) }

// Inw implements hw.PortIO.
func (m *Machine) Inw(port uint16) uint16 { return uint16(m.must(fmt.Sprintf("inw %#x", port))) }

// Inl implements hw.PortIO.
func (m *Machine) Inl(port uint16) uint32 { return uint32(m.must(fmt.Sprintf("inl %#x", port))) }

// Outb implements hw.PortIO.
func (m *Machine) Outb(port uint16, v uint8) { m.must(fmt.Sprintf("outb %#x %#x", port, v)) }

// Outw implements hw.PortIO.
func (m *Machine) Outw(port uint16, v uint16) { m.must(fmt.Sprintf("outw %#x %#x", port, v)) }

// Outl implements hw.PortIO.
func (m *Machine) Outl(port uint16, v uint32) { m.must(fmt.Sprintf("outl %#x %#x", port, v)) }

// regs is a window of MMIO registers reached through qtest reads/writes of
// exactly the register's width.
type regs struct {
	m    *Machine
	base uint64
	size uintptr
}

func (r *regs) Size() uintptr { return r.size }

func (r *regs) rd(op string, off uintptr) uint64 {
	return r.m.must(fmt.Sprintf("%s %#x", op, r.base+uint64(off)))
}

func (r *regs) wr(op string, off uintptr, v uint64) {
	r.m.must(fmt.Sprintf("%s %#x %#x", op, r.base+uint64(off), v))
}

func (r *regs) Read8(off uintptr) uint8       { return uint8(r.rd("readb", off)) }
func (r *regs) Read16(off uintptr) uint16     { return uint16(r.rd("readw", off)) }
func (r *regs) Read32(off uintptr) uint32     { return uint32(r.rd("readl", off)) }
func (r *regs) Write8(off uintptr, v uint8)   { r.wr("writeb", off, uint64(v)) }
func (r *regs) Write16(off uintptr, v uint16) { r.wr("writew", off, uint64(v)) }
func (r *regs) Write32(off uintptr, v uint32) { r.wr("writel", off, uint64(v)) }

// Memory is hw.Memory over the machine: DMA allocations come from shared
// guest RAM (physical address = offset), registers go over qtest.
type Memory struct {
	M    *Machine
	mu   sync.Mutex
	next uint64
}

// NewMemory allocates DMA memory from guest physical 16 MiB upwards.
func NewMemory(m *Machine) *Memory { return &Memory{M: m, next: 16 << 20} }

// AllocDMA implements hw.Memory.
func (mm *Memory) AllocDMA(size, align int) ([]byte, uint64, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	a := uint64(align)
	phys := (mm.next + a - 1) &^ (a - 1)
	if phys+uint64(size) > uint64(len(mm.M.ram)) {
		return nil, 0, errors.New("qtest: out of guest RAM")
	}
	mm.next = phys + uint64(size)
	b := mm.M.ram[phys : phys+uint64(size)]
	clear(b)
	return b, phys, nil
}

// MapMMIO implements hw.Memory; registers are served by MapRegs instead.
func (mm *Memory) MapMMIO(phys, size uint64) (uintptr, error) {
	return 0, errors.New("qtest: registers are reached through MapRegs")
}

// MapRegs implements hw.RegsMapper.
func (mm *Memory) MapRegs(phys, size uint64) (hw.Regs, error) {
	return &regs{m: mm.M, base: phys, size: uintptr(size)}, nil
}

// irqEvent records "raise N" / "lower N".
func (m *Machine) irqEvent(ev string) {
	f := strings.Fields(ev)
	if len(f) != 2 {
		return
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return
	}
	m.irqMu.Lock()
	defer m.irqMu.Unlock()
	m.level[n] = f[0] == "raise"
	if f[0] == "raise" {
		if ch, ok := m.raised[n]; ok {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// line is a level-triggered INTx input as hw.IRQ: Wait returns at once while
// the line is asserted (a masked level interrupt fires again on unmask),
// otherwise when it is next raised.
type line struct {
	m  *Machine
	n  int
	ch chan struct{}
}

// ErrClosed ends Wait when the machine stops.
var ErrClosed = errors.New("qtest: machine closed")

func (l *line) Wait() error {
	for {
		if l.m.closed.Load() {
			return ErrClosed
		}
		l.m.irqMu.Lock()
		high := l.m.level[l.n]
		l.m.irqMu.Unlock()
		if high {
			return nil
		}
		select {
		case _, ok := <-l.ch:
			if !ok {
				return ErrClosed
			}
		case <-l.m.done:
			return ErrClosed
		}
	}
}

// LegacyIRQ implements hw.IRQAllocator for IOAPIC input n.
func (m *Machine) LegacyIRQ(n uint8) (hw.IRQ, error) {
	m.irqMu.Lock()
	defer m.irqMu.Unlock()
	ch := make(chan struct{}, 1)
	m.raised[int(n)] = ch
	return &line{m: m, n: int(n), ch: ch}, nil
}
