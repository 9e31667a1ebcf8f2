package virtiotest

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// vq is the device's view of one queue's registers and ring progress.
type vq struct {
	maxSize, size        uint16
	desc, driver, device uint64
	enable, msix         uint16
	notifyOff            uint16
	lastAvail, usedIdx   uint16
}

func (q *vq) addrField(off uintptr) *uint64 {
	switch off &^ 7 {
	case 0x20:
		return &q.desc
	case 0x28:
		return &q.driver
	case 0x30:
		return &q.device
	}
	return nil
}

// Seg is one descriptor's buffer, as the device sees it.
type Seg struct {
	Data     []byte
	Writable bool
}

// Chain is one available descriptor chain.
type Chain struct {
	Head uint16
	Segs []Seg
}

// ring is a snapshot of a queue's addresses for the device side.
type ring struct {
	d     *Device
	q     *vq
	avail []byte
	used  []byte
	desc  []byte
}

func (d *Device) ring(i int) *ring {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i >= len(d.queues) || d.queues[i].enable == 0 {
		return nil
	}
	q := d.queues[i]
	n := uint32(q.size)
	return &ring{d: d, q: q,
		desc:  d.Mem.Translate(q.desc, 16*n),
		avail: d.Mem.Translate(q.driver, 6+2*n),
		used:  d.Mem.Translate(q.device, 6+8*n),
	}
}

func (r *ring) availWord() uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.avail[0])))
}

func (r *ring) usedWordPtr() *uint32 { return (*uint32)(unsafe.Pointer(&r.used[0])) }

// Pop takes the next available chain of queue i; ok is false when the
// driver has made none available.
func (d *Device) Pop(i int) (c Chain, ok bool) {
	r := d.ring(i)
	if r == nil {
		return Chain{}, false
	}
	idx := uint16(r.availWord() >> 16)
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.q.lastAvail == idx {
		return Chain{}, false
	}
	slot := r.q.lastAvail % r.q.size
	r.q.lastAvail++
	head := binary.LittleEndian.Uint16(r.avail[4+2*slot:])
	return Chain{Head: head, Segs: r.walk(head)}, true
}

// walk follows a descriptor chain, bounded by the queue size.
func (r *ring) walk(head uint16) []Seg {
	var segs []Seg
	for d, n := head, 0; n < int(r.q.size); n++ {
		e := r.desc[16*int(d):]
		addr := binary.LittleEndian.Uint64(e[0:])
		length := binary.LittleEndian.Uint32(e[8:])
		flags := binary.LittleEndian.Uint16(e[12:])
		segs = append(segs, Seg{Data: r.d.Mem.Translate(addr, length), Writable: flags&2 != 0})
		if flags&1 == 0 {
			break
		}
		d = binary.LittleEndian.Uint16(e[14:])
	}
	return segs
}

// Push returns a chain to the driver as used with written bytes.
func (d *Device) Push(i int, head uint16, written uint32) {
	r := d.ring(i)
	d.mu.Lock()
	defer d.mu.Unlock()
	slot := r.q.usedIdx % r.q.size
	binary.LittleEndian.PutUint32(r.used[4+8*int(slot):], uint32(head))
	binary.LittleEndian.PutUint32(r.used[8+8*int(slot):], written)
	r.q.usedIdx++
	p := r.usedWordPtr()
	atomic.StoreUint32(p, atomic.LoadUint32(p)&0xFFFF|uint32(r.q.usedIdx)<<16)
}

// SetNoNotify sets or clears VIRTQ_USED_F_NO_NOTIFY on queue i.
func (d *Device) SetNoNotify(i int, on bool) {
	r := d.ring(i)
	d.mu.Lock()
	defer d.mu.Unlock()
	p := r.usedWordPtr()
	w := atomic.LoadUint32(p) &^ 1
	if on {
		w |= 1
	}
	atomic.StoreUint32(p, w)
}

// QueueSize returns the size the driver chose for queue i (0: not set up).
func (d *Device) QueueSize(i int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return int(d.queues[i].size)
}

// QueueVector returns the MSI-X vector the driver set for queue i.
func (d *Device) QueueVector(i int) uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queues[i].msix
}
