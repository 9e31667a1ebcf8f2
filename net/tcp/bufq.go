package tcp

import (
	"sync"
	"unsafe"

	"gomenuos/net/buf"
)

// The socket's byte queues. Both avoid what a single growing []byte costs
// per segment: each append after a read or an ACK reallocated the buffer
// and copied everything still in it.

// rcvQueue holds in-order text for the reader (Linux: sk_receive_queue).
// Its pieces alias the segments that carried them: a received segment's
// buffer belongs to TCP (Proto.Rcv), so text is queued without a copy and
// copied once, into the reader's buffer. A piece in a driver's lent
// receive buffer is held (buf.Hold) until it has been read or purged.
type rcvQueue struct {
	pieces [][]byte // pieces[head:] are queued, oldest first
	head   int
	n      int // octets queued
}

func (q *rcvQueue) len() int { return q.n }

// push queues b, which the queue now shares with its sender.
func (q *rcvQueue) push(b []byte) {
	if len(b) == 0 {
		return
	}
	if q.head > 0 && q.head == len(q.pieces) {
		q.pieces, q.head = q.pieces[:0], 0
	}
	buf.Hold(b)
	q.pieces = append(q.pieces, b)
	q.n += len(b)
}

// purge drops everything queued, giving back lent buffers (Linux:
// __skb_queue_purge of sk_receive_queue).
func (q *rcvQueue) purge() {
	for i := q.head; i < len(q.pieces); i++ {
		buf.Release(q.pieces[i])
		q.pieces[i] = nil
	}
	q.pieces, q.head, q.n = q.pieces[:0], 0, 0
}

// read copies up to len(dst) octets into dst and, unless peek, consumes
// them.
func (q *rcvQueue) read(dst []byte, peek bool) int {
	copied := 0
	for i := q.head; i < len(q.pieces) && copied < len(dst); i++ {
		p := q.pieces[i]
		k := buf.Copy(dst[copied:], p)
		copied += k
		if peek {
			continue
		}
		if k < len(p) {
			q.pieces[i] = p[k:]
			break
		}
		buf.Release(p)
		q.pieces[i] = nil
		q.head++
	}
	if !peek {
		q.n -= copied
		if q.head == len(q.pieces) {
			q.pieces, q.head = q.pieces[:0], 0
		}
	}
	return copied
}

// sndChunk is the size of the send queue's blocks once a stream is busy:
// an offloaded segment (at most 64 KiB of payload) then spans at most two.
// The blocks of a queue that starts empty begin at sndMinChunk and double,
// so a connection that sends "hello" does not allocate (and zero) 64 KiB.
const (
	sndChunk    = 64 << 10
	sndMinChunk = 512
)

// sndQueue holds the octets from sndBufSeq on (Linux: sk_write_queue):
// unacknowledged ones first, then unsent ones, in fixed blocks that are
// filled in turn and recycled once acknowledged. Segments copy their
// payload out of it (copyOut), so nothing else holds on to a block.
type sndQueue struct {
	blocks [][]byte // blocks[0][off:] is the oldest octet; filled to their capacity in turn
	off    int
	n      int
	spare  []byte // one acknowledged block kept for the next append
}

func (q *sndQueue) len() int { return q.n }

// append queues a copy of b.
func (q *sndQueue) append(b []byte) {
	for len(b) > 0 {
		last := len(q.blocks) - 1
		if last < 0 || len(q.blocks[last]) == cap(q.blocks[last]) {
			q.blocks = append(q.blocks, q.newBlock(len(b)))
			last++
		}
		blk := q.blocks[last]
		k := min(cap(blk)-len(blk), len(b))
		blk = blk[:len(blk)+k]
		buf.Copy(blk[len(blk)-k:], b[:k])
		q.blocks[last] = blk
		b = b[k:]
		q.n += k
	}
}

// newBlock returns an empty block for want more octets: twice the size
// of the block before it, or for an empty queue the power of two that
// holds want, between sndMinChunk and sndChunk; the recycled spare when
// it is that large.
func (q *sndQueue) newBlock(want int) []byte {
	size := sndChunk
	if n := len(q.blocks); n > 0 {
		size = min(2*cap(q.blocks[n-1]), sndChunk)
	} else if want < sndChunk {
		size = sndMinChunk
		for size < want {
			size *= 2
		}
	}
	if b := q.spare; b != nil && cap(b) >= size {
		q.spare = nil
		return b[:0]
	}
	if size == sndChunk {
		if b, ok := sndBlocks.Get().(*[sndChunk]byte); ok {
			return b[:0]
		}
	}
	return make([]byte, 0, size)
}

// sndBlocks holds acknowledged full-sized blocks for any send queue to
// reuse (Linux frees an acknowledged skb's pages to the page allocator,
// which hands them to the next one). A queue kept one spare block only:
// a bulk sender whose ACKs freed several blocks at once allocated (and
// zeroed, and later collected) new ones, 22% of a guest→host transfer on
// tap. The runtime empties the pool over two collections, so memory no
// sender wants goes back.
var sndBlocks sync.Pool

// recycle keeps an acknowledged block: as the queue's spare, else in
// sndBlocks when it is full-sized.
func (q *sndQueue) recycle(b []byte) {
	switch {
	case q.spare == nil:
		q.spare = b
	case cap(b) == sndChunk:
		sndBlocks.Put((*[sndChunk]byte)(b[:sndChunk]))
	}
}

// trim drops the n oldest octets.
func (q *sndQueue) trim(n int) {
	n = min(n, q.n)
	q.n -= n
	for n > 0 {
		left := len(q.blocks[0]) - q.off
		if n < left {
			q.off += n
			return
		}
		n -= left
		q.recycle(q.blocks[0])
		k := copy(q.blocks, q.blocks[1:]) // a few blocks: keep the slice's capacity
		q.blocks[k] = nil
		q.blocks = q.blocks[:k]
		q.off = 0
	}
	if q.n == 0 && len(q.blocks) == 1 && len(q.blocks[0]) == q.off {
		q.recycle(q.blocks[0])
		q.blocks, q.off = q.blocks[:0], 0
	}
}

// copyOut copies the octets at [off, off+len(dst)) of the queue into dst.
func (q *sndQueue) copyOut(dst []byte, off int) {
	off += q.off
	for _, blk := range q.blocks {
		if len(dst) == 0 {
			return
		}
		if off >= len(blk) {
			off -= len(blk)
			continue
		}
		k := buf.Copy(dst, blk[off:])
		dst, off = dst[k:], 0
	}
}

// addr is the address of the octet at off (for alignment only).
func (q *sndQueue) addr(off int) uintptr {
	off += q.off
	for _, blk := range q.blocks {
		if off < len(blk) {
			return uintptr(unsafe.Pointer(unsafe.SliceData(blk))) + uintptr(off)
		}
		off -= len(blk)
	}
	return 0
}

// reset drops everything.
func (q *sndQueue) reset() { *q = sndQueue{} }
