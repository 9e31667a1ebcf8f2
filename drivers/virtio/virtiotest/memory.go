// Package virtiotest emulates a modern virtio PCI device in ordinary memory
// for host tests: a PCI function with the virtio capabilities, the common
// configuration registers, and the device side of split virtqueues.
package virtiotest

import (
	"fmt"
	"sync"

	"gomenuos/drivers/hw"
)

// Memory is a fake hw.Memory: DMA allocations are Go slices given made-up
// physical addresses, and register windows are served by registered fakes.
type Memory struct {
	mu     sync.Mutex
	next   uint64
	allocs []alloc
	regs   map[uint64]hw.Regs
	// FailDMA makes AllocDMA fail (to test error paths).
	FailDMA bool
}

type alloc struct {
	phys uint64
	buf  []byte
}

// NewMemory returns an empty fake memory; DMA addresses start at 16 MiB.
func NewMemory() *Memory {
	return &Memory{next: 16 << 20, regs: map[uint64]hw.Regs{}}
}

// AllocDMA implements hw.Memory.
func (m *Memory) AllocDMA(size, align int) ([]byte, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailDMA {
		return nil, 0, fmt.Errorf("virtiotest: DMA allocation refused")
	}
	a := uint64(align)
	if a < 16 {
		a = 16
	}
	phys := (m.next + a - 1) &^ (a - 1)
	m.next = phys + uint64(size) + 64 // gaps catch overruns in Translate
	buf := make([]byte, size)
	m.allocs = append(m.allocs, alloc{phys, buf})
	return buf, phys, nil
}

// MapMMIO implements hw.Memory; the fake serves registers via MapRegs only.
func (m *Memory) MapMMIO(phys, size uint64) (uintptr, error) {
	return 0, fmt.Errorf("virtiotest: MapMMIO not supported, use MapRegs")
}

// MapRegs implements hw.RegsMapper.
func (m *Memory) MapRegs(phys, size uint64) (hw.Regs, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.regs[phys]
	if !ok || uint64(r.Size()) < size {
		return nil, fmt.Errorf("virtiotest: no registers at %#x size %d", phys, size)
	}
	return r, nil
}

func (m *Memory) addRegs(phys uint64, r hw.Regs) {
	m.mu.Lock()
	m.regs[phys] = r
	m.mu.Unlock()
}

// Translate returns the n bytes of DMA memory at phys, or nil when the range
// is not inside one allocation (a driver bug the tests catch).
func (m *Memory) Translate(phys uint64, n uint32) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.allocs {
		if phys >= a.phys && phys+uint64(n) <= a.phys+uint64(len(a.buf)) {
			off := phys - a.phys
			return a.buf[off : off+uint64(n)]
		}
	}
	return nil
}

// AllocBytes returns the total size of DMA allocations (leak checks).
func (m *Memory) AllocBytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, a := range m.allocs {
		n += len(a.buf)
	}
	return n
}
