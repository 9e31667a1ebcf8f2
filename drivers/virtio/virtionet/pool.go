package virtionet

import "gomenuos/drivers/hw"

// slotSize is one DMA buffer: a virtio_net_hdr plus the largest frame
// (1500-byte MTU + Ethernet header + a VLAN tag) fits with room to spare.
const slotSize = 2048

// dmaPool is n fixed-size slots carved out of one DMA allocation, with a
// free stack. slotOf maps a queue's head descriptor to the slot it carries
// (every chain this driver builds is one descriptor long).
type dmaPool struct {
	mem    []byte
	phys   uint64
	free   []int
	slotOf []int
}

func newPool(mem hw.Memory, n int) (*dmaPool, error) {
	buf, phys, err := mem.AllocDMA(n*slotSize, 4096)
	if err != nil {
		return nil, err
	}
	p := &dmaPool{mem: buf, phys: phys, free: make([]int, n), slotOf: make([]int, n)}
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

func (p *dmaPool) buf(s int) []byte { return p.mem[s*slotSize : (s+1)*slotSize] }

func (p *dmaPool) slotPhys(s int) uint64 { return p.phys + uint64(s*slotSize) }
