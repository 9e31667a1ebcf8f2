package virtionet

import (
	"sync/atomic"
	"unsafe"

	"gomenuos/drivers/hw"
)

// The receive buffers, lent to the stack in place (Linux: virtio-net's
// mergeable buffers carved from page_pool pages, handed up as the skb's
// frags). Under TCG copying a 64 KiB coalesced segment out of the receive
// buffers into a fresh heap frame, and allocating (and so zeroing, and
// collecting) that frame, were 40% of a host→guest transfer's guest time.
//
// The pool has rxPoolFactor times as many buffers as the ring has
// descriptors. fillRx posts free buffers in address order, cyclically, so
// the buffers a multi-buffer packet lands in (the device fills each one
// before taking the next, virtio 1.2 §5.1.6.4) are usually neighbours in
// memory: their bytes form the frame as they are. Such a frame goes up
// where it is and its buffers stay out of the ring until the stack has
// given back every reference (net/buf.Lender): the one the driver holds
// for the burst, and those TCP's receive queue takes for the text it
// keeps. A packet whose buffers are not neighbours (the cycle wrapped, or
// skipped a buffer still lent), or a burst that would lend more than
// rxMaxLentFrac of the pool, is copied out as before, so a socket nobody
// reads can never starve the ring.
//
// Buffer i is [rxPad+i*rxBufSize, rxPad+(i+1)*rxBufSize) of the pool: the
// rxPad bytes in front put the TCP text of a segment with timestamps
// (12-byte virtio header, 14 Ethernet, 20 IP, 32 TCP) on an 8-byte
// boundary, so the copy to the reader is one REP MOVSQ (net/buf.Copy;
// Linux's NET_IP_ALIGN is the same two bytes).
const (
	rxBufSize     = 4096
	rxPoolFactor  = 4
	rxPad         = 2
	rxMaxLentFrac = 2 // at most 1/rxMaxLentFrac of the buffers lent
)

type rxPool struct {
	mem    []byte
	phys   uint64
	n      int
	busy   []atomic.Bool  // posted to the device, or lent
	refs   []atomic.Int32 // at a lent frame's first buffer: its references
	first  []int32        // while lent: the first buffer of the frame
	span   []int32        // at a lent frame's first buffer: its buffers
	lent   atomic.Int32   // buffers lent now
	next   int            // where fillRx looks for a free buffer first
	slotOf []int          // ring head → buffer (every chain is one descriptor)
}

func newRxPool(mem hw.Memory, n, ringSize int) (*rxPool, error) {
	b, phys, err := mem.AllocDMA(rxPad+n*rxBufSize, 4096)
	if err != nil {
		return nil, err
	}
	return &rxPool{mem: b, phys: phys, n: n, busy: make([]atomic.Bool, n), refs: make([]atomic.Int32, n),
		first: make([]int32, n), span: make([]int32, n), slotOf: make([]int, ringSize)}, nil
}

func (p *rxPool) off(s int) int { return rxPad + s*rxBufSize }

func (p *rxPool) buf(s int) []byte { return p.mem[p.off(s) : p.off(s)+rxBufSize] }

func (p *rxPool) slotPhys(s int) uint64 { return p.phys + uint64(p.off(s)) }

// get returns the next free buffer in cyclic order, marked busy.
func (p *rxPool) get() (int, bool) {
	for range p.n {
		s := p.next
		if p.next++; p.next == p.n {
			p.next = 0
		}
		if !p.busy[s].Load() {
			p.busy[s].Store(true)
			return s, true
		}
	}
	return 0, false
}

// put returns a buffer the driver is done with.
func (p *rxPool) put(s int) { p.busy[s].Store(false) }

// canLend reports whether buffers s..s+k-1 may go up in place.
func (p *rxPool) canLend(s, k int) bool {
	return s+k <= p.n && int(p.lent.Load())+k <= p.n/rxMaxLentFrac
}

// lend marks buffers s..s+k-1 as one frame with one reference, the
// driver's for the burst.
func (p *rxPool) lend(s, k int) {
	for i := s; i < s+k; i++ {
		p.first[i] = int32(s)
	}
	p.span[s] = int32(k)
	p.lent.Add(int32(k))
	p.refs[s].Store(1)
}

// slotAt returns the buffer b starts in.
func (p *rxPool) slotAt(b []byte) int {
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(p.mem)))
	if a < rxPad {
		return 0
	}
	return int(a-rxPad) / rxBufSize
}

// Hold implements buf.Lender.
func (p *rxPool) Hold(b []byte) { p.refs[p.first[p.slotAt(b)]].Add(1) }

// Release implements buf.Lender: the last reference frees the frame's
// buffers for fillRx.
func (p *rxPool) Release(b []byte) { p.unref(int(p.first[p.slotAt(b)])) }

func (p *rxPool) unref(s int) {
	switch r := p.refs[s].Add(-1); {
	case r > 0:
		return
	case r < 0:
		panic("virtionet: lent receive buffer released more often than held")
	}
	k := int(p.span[s])
	p.lent.Add(-int32(k))
	for i := s; i < s+k; i++ {
		p.busy[i].Store(false)
	}
}
