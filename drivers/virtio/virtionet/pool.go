package virtionet

import (
	"unsafe"

	"gomenuos/drivers/hw"
)

// slotSize is one DMA buffer: a virtio_net_hdr plus the largest frame
// (1500-byte MTU + Ethernet header + a VLAN tag) fits with room to spare.
// gsoSlotSize holds a virtio_net_hdr plus a 64 KiB IPv4 packet.
const (
	slotSize    = 2048
	gsoSlotSize = 68 << 10
	gsoSlots    = 32
)

// dmaPool is n fixed-size slots carved out of one DMA allocation, with a
// free stack. slotOf maps a queue's head descriptor to the slot it carries
// (every chain this driver builds is one descriptor long).
type dmaPool struct {
	mem    []byte
	phys   uint64
	size   int // bytes per slot
	free   []int
	slotOf []int
}

// newPool carves n slots of size bytes; slotOf has room for ringSize heads.
func newPool(mem hw.Memory, n, size, ringSize int) (*dmaPool, error) {
	buf, phys, err := mem.AllocDMA(n*size, 4096)
	if err != nil {
		return nil, err
	}
	p := &dmaPool{mem: buf, phys: phys, size: size, free: make([]int, n), slotOf: make([]int, ringSize)}
	for i := range p.free {
		p.free[i] = n - 1 - i
	}
	return p, nil
}

func (p *dmaPool) get() (int, bool) {
	if len(p.free) == 0 {
		return 0, false
	}
	s := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return s, true
}

func (p *dmaPool) put(s int) { p.free = append(p.free, s) }

func (p *dmaPool) buf(s int) []byte { return p.mem[s*p.size : (s+1)*p.size] }

func (p *dmaPool) slotPhys(s int) uint64 { return p.phys + uint64(s*p.size) }

// slotAt returns the slot b starts in and b's offset in it, if b lies
// inside one slot of the pool.
func (p *dmaPool) slotAt(b []byte) (slot, off int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(p.mem)))
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if a < base || a >= base+uintptr(len(p.mem)) {
		return 0, 0, false
	}
	slot, off = int(a-base)/p.size, int(a-base)%p.size
	if off+len(b) > p.size {
		return 0, 0, false
	}
	return slot, off, true
}
