package virtio

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"unsafe"

	"gomenuos/drivers/hw"
)

// Split virtqueue layout (virtio 1.2 §2.7).
const (
	descSize      = 16
	descFNext     = 1
	descFWrite    = 2
	availFNoIntr  = 1 // VIRTQ_AVAIL_F_NO_INTERRUPT
	usedFNoNotify = 1 // VIRTQ_USED_F_NO_NOTIFY
	usedElemSize  = 8
	ringAlign     = 64 // keep the three parts on separate cache lines
)

// ErrBadUsed reports a used-ring entry naming a descriptor the driver did
// not make available: a device bug; the entry is skipped.
var ErrBadUsed = errors.New("virtio: device returned a descriptor that was not in flight")

// Buf is one device-readable or device-writable piece of a buffer chain.
type Buf struct {
	Phys     uint64
	Len      uint32
	Writable bool // the device writes it (receive buffers)
}

// Queue is a split virtqueue. The descriptor free list and ring shadows live
// in driver memory (next, chainLen), never read back from device-writable
// memory.
//
// A Queue is not safe for concurrent use: the owning driver serialises all
// calls (virtio-net holds txMu for its transmit queue; its receive queue
// belongs to the receive goroutine).
type Queue struct {
	Index uint16
	size  uint16

	desc  []byte
	avail []byte
	used  []byte
	// availWord and usedWord are the 32-bit {flags, idx} heads of the avail
	// and used rings, accessed atomically: the idx stores publish
	// descriptors to the device and the idx loads acquire its writes.
	availWord *uint32
	usedWord  *uint32

	notify    hw.Regs
	notifyOff uintptr

	next       []uint16 // free-list and chain links (shadow of desc.next)
	chainLen   []uint16 // descriptors in the chain headed here; 0: not in flight
	freeHead   uint16
	numFree    uint16
	availIdx   uint16
	availFlags uint16
	lastUsed   uint16
}

// queueBytes returns the offsets of the avail and used rings and the total
// size of a queue of n entries.
func queueBytes(n int) (availOff, usedOff, total int) {
	availOff = descSize * n
	usedOff = roundUp(availOff+6+2*n, ringAlign)
	return availOff, usedOff, roundUp(usedOff+6+usedElemSize*n, ringAlign)
}

func roundUp(x, a int) int { return (x + a - 1) &^ (a - 1) }

// newQueue lays a queue of size n out in DMA memory.
func newQueue(mem hw.Memory, index, n uint16) (*Queue, uint64, error) {
	availOff, usedOff, total := queueBytes(int(n))
	buf, phys, err := mem.AllocDMA(total, 4096)
	if err != nil {
		return nil, 0, err
	}
	q := &Queue{
		Index:    index,
		size:     n,
		desc:     buf[:availOff],
		avail:    buf[availOff:usedOff],
		used:     buf[usedOff:total],
		next:     make([]uint16, n),
		chainLen: make([]uint16, n),
		numFree:  n,
	}
	q.availWord = (*uint32)(unsafe.Pointer(&q.avail[0]))
	q.usedWord = (*uint32)(unsafe.Pointer(&q.used[0]))
	for i := range q.next {
		q.next[i] = uint16(i + 1)
	}
	return q, phys, nil
}

// Size returns the number of descriptors.
func (q *Queue) Size() int { return int(q.size) }

// NumFree returns how many descriptors are free.
func (q *Queue) NumFree() int { return int(q.numFree) }

// Add chains bufs into free descriptors and makes the chain available to the
// device; it returns the head descriptor, which Used reports back. The
// device is not notified until Kick.
//
// Linux: virtqueue_add_split
func (q *Queue) Add(bufs []Buf) (uint16, error) {
	if len(bufs) == 0 || len(bufs) > int(q.numFree) {
		return 0, ErrQueueFull
	}
	head := q.freeHead
	d := head
	for i, b := range bufs {
		var flags uint16
		if b.Writable {
			flags |= descFWrite
		}
		if i < len(bufs)-1 {
			flags |= descFNext
		}
		q.writeDesc(d, b, flags)
		if i < len(bufs)-1 {
			d = q.next[d]
		}
	}
	q.freeHead = q.next[d]
	q.numFree -= uint16(len(bufs))
	q.chainLen[head] = uint16(len(bufs))
	q.publish(head)
	return head, nil
}

func (q *Queue) writeDesc(d uint16, b Buf, flags uint16) {
	e := q.desc[int(d)*descSize:][:descSize]
	binary.LittleEndian.PutUint64(e[0:], b.Phys)
	binary.LittleEndian.PutUint32(e[8:], b.Len)
	binary.LittleEndian.PutUint16(e[12:], flags)
	binary.LittleEndian.PutUint16(e[14:], q.next[d])
}

// publish puts head in the avail ring and advances idx. virtio 1.2
// §2.7.13.2: the idx update must be ordered after the ring entry and
// descriptors; the atomic store is that barrier.
func (q *Queue) publish(head uint16) {
	binary.LittleEndian.PutUint16(q.avail[4+2*int(q.availIdx%q.size):], head)
	q.availIdx++
	q.storeAvailWord()
}

func (q *Queue) storeAvailWord() {
	atomic.StoreUint32(q.availWord, uint32(q.availFlags)|uint32(q.availIdx)<<16)
}

// Kick notifies the device of new available buffers unless it asked not to
// be (VIRTQ_USED_F_NO_NOTIFY). The avail idx store in Add is a full barrier
// on x86, so the flag read cannot pass it (virtio 1.2 §2.7.13.4).
//
// Linux: virtqueue_kick
func (q *Queue) Kick() bool {
	if atomic.LoadUint32(q.usedWord)&usedFNoNotify != 0 {
		return false
	}
	q.notify.Write16(q.notifyOff, q.Index)
	return true
}

// Pending reports whether the device has used buffers not yet collected.
func (q *Queue) Pending() bool {
	return uint16(atomic.LoadUint32(q.usedWord)>>16) != q.lastUsed
}

// Used collects the next used buffer: its head descriptor and the number of
// bytes the device wrote. ok is false when none is pending. A used entry
// naming a descriptor that is not in flight yields ErrBadUsed.
//
// Linux: virtqueue_get_buf
func (q *Queue) Used() (head uint16, written uint32, ok bool, err error) {
	if !q.Pending() {
		return 0, 0, false, nil
	}
	e := q.used[4+usedElemSize*int(q.lastUsed%q.size):]
	id := binary.LittleEndian.Uint32(e[0:])
	written = binary.LittleEndian.Uint32(e[4:])
	q.lastUsed++
	if id >= uint32(q.size) || q.chainLen[id] == 0 {
		return 0, 0, true, ErrBadUsed
	}
	q.freeChain(uint16(id))
	return uint16(id), written, true, nil
}

func (q *Queue) freeChain(head uint16) {
	n := q.chainLen[head]
	q.chainLen[head] = 0
	last := head
	for i := uint16(1); i < n; i++ {
		last = q.next[last]
	}
	q.next[last] = q.freeHead
	q.freeHead = head
	q.numFree += n
}

// DisableInterrupts asks the device not to interrupt for used buffers
// (a hint, virtio 1.2 §2.7.10).
func (q *Queue) DisableInterrupts() {
	q.availFlags = availFNoIntr
	q.storeAvailWord()
}

// EnableInterrupts re-enables used-buffer interrupts and reports whether
// buffers arrived meanwhile; the caller must then poll again, because the
// device will not interrupt for them.
//
// Linux: virtqueue_enable_cb
func (q *Queue) EnableInterrupts() (pending bool) {
	q.availFlags = 0
	q.storeAvailWord()
	return q.Pending()
}
