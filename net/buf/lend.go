package buf

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// Lent receive buffers. A NIC driver may hand the stack a received frame
// in its own receive buffer instead of copying it out (Linux: the pages of
// a page_pool that an skb's data points into). Such a frame is valid only
// until the driver's burst ends (link.BatchReceiver.EndBatch returns): a
// holder that keeps some of its bytes longer, as TCP's receive queue does,
// takes a reference with Hold and gives it back with Release once it no
// longer reads them; the driver reuses the buffer when the last reference
// is gone. Hold and Release are no-ops for memory no Lender registered,
// so a holder calls them for every buffer it keeps.

// A Lender owns memory whose buffers it lends (a driver's receive pool).
// Hold and Release are called with a slice that lies inside one lent
// buffer, from any goroutine; Hold only while the caller already holds a
// reference (a frame during its burst, or a slice it holds).
type Lender interface {
	Hold(b []byte)
	Release(b []byte)
}

type lentRange struct {
	lo, hi uintptr
	l      Lender
}

var (
	lendMu  sync.Mutex
	lenders atomic.Pointer[[]lentRange]
)

// RegisterLender declares that l lends buffers out of mem.
func RegisterLender(mem []byte, l Lender) {
	if len(mem) == 0 {
		return
	}
	lendMu.Lock()
	defer lendMu.Unlock()
	var rs []lentRange
	if old := lenders.Load(); old != nil {
		rs = append(rs, *old...)
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	rs = append(rs, lentRange{lo, lo + uintptr(len(mem)), l})
	lenders.Store(&rs)
}

// UnregisterLender forgets the lender registered for mem (tests).
func UnregisterLender(mem []byte) {
	lendMu.Lock()
	defer lendMu.Unlock()
	old := lenders.Load()
	if old == nil || len(mem) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	var rs []lentRange
	for _, r := range *old {
		if r.lo != lo {
			rs = append(rs, r)
		}
	}
	lenders.Store(&rs)
}

// lenderOf returns the lender whose memory b starts in, or nil.
func lenderOf(b []byte) Lender {
	rs := lenders.Load()
	if rs == nil || len(b) == 0 {
		return nil
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	for _, r := range *rs {
		if a >= r.lo && a < r.hi {
			return r.l
		}
	}
	return nil
}

// Hold takes a reference on the lent buffer b lies in, if it lies in
// one, and reports whether it did (Linux: skb_get / page_ref_inc).
func Hold(b []byte) bool {
	if l := lenderOf(b); l != nil {
		l.Hold(b)
		return true
	}
	return false
}

// Release gives back a reference Hold took on b's buffer (Linux:
// kfree_skb → page_pool_put_page); b may be any part of what was held.
func Release(b []byte) {
	if l := lenderOf(b); l != nil {
		l.Release(b)
	}
}

// Pool is n buffers of one size carved out of one allocation and lent by
// reference count: Get hands one out with a reference, Hold and Release
// (buf.Hold, buf.Release) count the others, and the last Release puts it
// back. Nothing it lends is ever collected by the garbage collector, so a
// path that builds a large buffer per packet (GRO) stops allocating.
type Pool struct {
	mem  []byte
	size int
	refs []atomic.Int32
	mu   sync.Mutex
	free []int32
}

// NewPool allocates n buffers of size bytes and registers them as lent
// memory.
func NewPool(n, size int) *Pool {
	p := &Pool{mem: make([]byte, n*size), size: size, refs: make([]atomic.Int32, n), free: make([]int32, n)}
	for i := range p.free {
		p.free[i] = int32(n - 1 - i)
	}
	RegisterLender(p.mem, p)
	return p
}

// Get returns an empty buffer of capacity size holding one reference, or
// nil when every buffer is out.
func (p *Pool) Get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		return nil
	}
	i := int(p.free[len(p.free)-1])
	p.free = p.free[:len(p.free)-1]
	p.refs[i].Store(1)
	return p.mem[i*p.size : i*p.size : (i+1)*p.size]
}

func (p *Pool) index(b []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))-uintptr(unsafe.Pointer(unsafe.SliceData(p.mem)))) / p.size
}

// Hold implements Lender.
func (p *Pool) Hold(b []byte) { p.refs[p.index(b)].Add(1) }

// Release implements Lender.
func (p *Pool) Release(b []byte) {
	i := p.index(b)
	switch r := p.refs[i].Add(-1); {
	case r > 0:
		return
	case r < 0:
		panic("buf: pooled buffer released more often than held")
	}
	p.mu.Lock()
	p.free = append(p.free, int32(i))
	p.mu.Unlock()
}
