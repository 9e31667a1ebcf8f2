package tcp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gomenuos/net/buf"
	"gomenuos/net/header"
)

// The receive queue hands out exactly the octets pushed, in order, across
// piece boundaries, whatever the read sizes; a peek consumes nothing.
func TestRcvQueueReadsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q rcvQueue
	var want, got []byte
	for i := 0; i < 2000; i++ {
		if rng.IntN(2) == 0 {
			p := make([]byte, rng.IntN(3000))
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			q.push(p)
			want = append(want, p...)
			continue
		}
		dst := make([]byte, rng.IntN(5000))
		peeked := make([]byte, len(dst))
		np := q.read(peeked, true)
		n := q.read(dst, false)
		if np != n || !bytes.Equal(peeked[:np], dst[:n]) {
			t.Fatalf("peek gave %d octets, the read after it %d (or other ones)", np, n)
		}
		got = append(got, dst[:n]...)
		if q.len() != len(want)-len(got) {
			t.Fatalf("len %d, want %d", q.len(), len(want)-len(got))
		}
	}
	rest := make([]byte, q.len())
	got = append(got, rest[:q.read(rest, false)]...)
	if !bytes.Equal(got, want) || q.len() != 0 {
		t.Fatalf("read %d octets (queue says %d left), pushed %d; contents differ: %v", len(got), q.len(), len(want), !bytes.Equal(got, want))
	}
}

// The send queue returns any range of what was appended and not yet
// trimmed, across its 64 KiB blocks, and reuses acknowledged blocks.
func TestSndQueueCopyOutAndTrim(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var q sndQueue
	var model []byte
	for i := 0; i < 3000; i++ {
		switch rng.IntN(3) {
		case 0:
			p := make([]byte, rng.IntN(40000))
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			q.append(p)
			model = append(model, p...)
		case 1:
			n := rng.IntN(len(model) + 1)
			q.trim(n)
			model = model[n:]
		case 2:
			if len(model) == 0 {
				continue
			}
			off := rng.IntN(len(model))
			n := rng.IntN(min(len(model)-off, 65535) + 1)
			dst := make([]byte, n)
			q.copyOut(dst, off)
			if !bytes.Equal(dst, model[off:off+n]) {
				t.Fatalf("copyOut(%d, %d) differs", off, n)
			}
		}
		if q.len() != len(model) {
			t.Fatalf("len %d, want %d", q.len(), len(model))
		}
	}
}

// Sending and acknowledging a steady stream allocates no new blocks once
// the queue has reached its working size.
func TestSndQueueRecyclesBlocks(t *testing.T) {
	var q sndQueue
	chunk := make([]byte, sndChunk)
	q.append(chunk)
	allocs := testing.AllocsPerRun(50, func() {
		q.append(chunk)
		q.trim(sndChunk)
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per appended and acknowledged block", allocs)
	}
}

// A connection that sends a few octets queues them in a small block; a
// stream that keeps writing gets blocks that double up to sndChunk.
func TestSndQueueStartsSmall(t *testing.T) {
	var q sndQueue
	q.append([]byte("hello"))
	if c := cap(q.blocks[0]); c != sndMinChunk {
		t.Fatalf("first block for 5 octets has cap %d, want %d", c, sndMinChunk)
	}
	q.append(make([]byte, 200<<10))
	var caps []int
	for _, b := range q.blocks {
		caps = append(caps, cap(b))
	}
	want := []int{512, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 64 << 10, 64 << 10}
	if fmt.Sprint(caps) != fmt.Sprint(want) {
		t.Fatalf("block caps %v, want %v", caps, want)
	}
	var big sndQueue
	big.append(make([]byte, 100<<10)) // a large first write: a full block at once
	if c := cap(big.blocks[0]); c != sndChunk {
		t.Fatalf("first block for 100 KiB has cap %d, want %d", c, sndChunk)
	}
}

// countLender counts the references taken on its memory.
type countLender struct{ held int }

func (l *countLender) Hold([]byte)    { l.held++ }
func (l *countLender) Release([]byte) { l.held-- }

// TestRcvQueueHoldsLentBuffers: text in a driver's lent receive buffer is
// held while it is queued and given back once read or purged.
func TestRcvQueueHoldsLentBuffers(t *testing.T) {
	mem := bytes.Repeat([]byte("lent"), 256)
	l := &countLender{}
	buf.RegisterLender(mem, l)
	defer buf.UnregisterLender(mem)
	var q rcvQueue
	q.push(mem[0:100])
	q.push([]byte("heap"))
	q.push(mem[200:300])
	if l.held != 2 {
		t.Fatalf("%d references after queueing two lent pieces, want 2", l.held)
	}
	dst := make([]byte, 150)
	if n := q.read(dst, false); n != 150 || l.held != 1 {
		t.Fatalf("read %d, %d references; want 150, 1 (the first piece read whole)", n, l.held)
	}
	if n := q.read(dst[:10], true); n != 10 || l.held != 1 {
		t.Fatalf("peek %d, %d references; want 10, 1", n, l.held)
	}
	q.purge()
	if l.held != 0 || q.len() != 0 {
		t.Fatalf("after purge: %d references, %d queued", l.held, q.len())
	}
}

// TestLentTextReleasedOnReadAndClose: text that arrives in a driver's lent
// buffer stays held while queued, and every reference is given back when
// the reader takes it or closes without reading it.
func TestLentTextReleasedOnReadAndClose(t *testing.T) {
	for _, read := range []bool{true, false} {
		mem := make([]byte, 1<<16)
		l := &countLender{}
		buf.RegisterLender(mem, l)
		lk, a, b := newPair(t, impair{delay: time.Millisecond})
		c, s := connectPair(t, lk, a, b)
		used := 0
		lk.tap = func(from int, seg header.TCP) bool {
			if from != 0 || len(seg.Payload()) == 0 {
				return true
			}
			// Deliver the client's text from lent memory, as a driver
			// lending its receive buffers would.
			lent := mem[used : used+len(seg)]
			used += copy(lent, seg)
			lk.clock.AfterFunc(time.Millisecond, func() { b.Rcv(addrA, addrB, lent) })
			return false
		}
		for range 3 {
			if _, err := c.Send(bytes.Repeat([]byte("x"), 1000)); err != nil {
				t.Fatal(err)
			}
			lk.run(50 * time.Millisecond)
		}
		if l.held != 3 {
			t.Fatalf("read=%v: %d references held with three segments queued, want 3", read, l.held)
		}
		if read {
			got := make([]byte, 4000)
			if n, _ := s.Recv(got, false); n != 3000 {
				t.Fatalf("read %d", n)
			}
		}
		s.Close()
		lk.run(time.Second)
		if l.held != 0 {
			t.Fatalf("read=%v: %d references still held after the reader was done", read, l.held)
		}
		buf.UnregisterLender(mem)
	}
}
