// Package relay forwards Ethernet frames between two ports — QEMU's
// datagram socket backend (one frame per UDP datagram) and a tap device —
// and impairs them on the way: seeded random loss, reordering and
// duplication, the conditions `tc netem` would give where its qdisc is not
// available. Tests put it between the guest and a Linux peer:
//
//	QEMU -netdev dgram,... ⇄ UDPPort ⇄ Relay ⇄ TapPort ⇄ Linux TCP
package relay

import (
	"math/rand"
	"sync"
	"sync/atomic"
	"time"
)

// Port is one side of the relay: it reads and writes whole frames.
type Port interface {
	ReadFrame(b []byte) (int, error)
	WriteFrame(b []byte) error
	Close() error
}

// Impair says what happens to each frame, independently per direction.
type Impair struct {
	Loss    float64 // probability a frame is dropped
	Reorder float64 // probability a frame is held back and sent after the next one
	Dup     float64 // probability a frame is sent twice
	Seed    int64   // the same seed gives the same decisions for the same frame sequence
	// Hold bounds how long a held-back frame waits for a successor
	// (5 ms if zero), so a lone last frame is late, not lost.
	Hold time.Duration
}

// Stats counts what one direction did.
type Stats struct {
	Frames     atomic.Uint64 // read from the source port
	Dropped    atomic.Uint64
	Duplicated atomic.Uint64
	Reordered  atomic.Uint64
}

// Relay runs two forwarding directions until Close.
type Relay struct {
	a, b       Port
	AtoB, BtoA Stats
	wg         sync.WaitGroup
}

// Start forwards a→b and b→a with imp (b→a uses Seed+1).
func Start(a, b Port, imp Impair) *Relay {
	if imp.Hold <= 0 {
		imp.Hold = 5 * time.Millisecond
	}
	r := &Relay{a: a, b: b}
	r.wg.Add(2)
	go r.forward(a, b, imp, imp.Seed, &r.AtoB)
	go r.forward(b, a, imp, imp.Seed+1, &r.BtoA)
	return r
}

// Close closes both ports and waits for the directions to stop.
func (r *Relay) Close() {
	r.a.Close()
	r.b.Close()
	r.wg.Wait()
}

// forward copies frames from src to dst until src fails.
func (r *Relay) forward(src, dst Port, imp Impair, seed int64, st *Stats) {
	defer r.wg.Done()
	frames := make(chan []byte, 256)
	go func() {
		defer close(frames)
		for {
			buf := make([]byte, 65536)
			n, err := src.ReadFrame(buf)
			if err != nil {
				return
			}
			frames <- buf[:n]
		}
	}()
	d := &director{imp: imp, rng: rand.New(rand.NewSource(seed)), st: st, out: dst}
	d.run(frames)
}

// director applies Impair to one direction's frame sequence.
type director struct {
	imp  Impair
	rng  *rand.Rand
	st   *Stats
	out  Port
	held []byte // a frame waiting to be overtaken
}

func (d *director) run(frames <-chan []byte) {
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				d.flush()
				return
			}
			d.st.Frames.Add(1)
			if d.frame(f) {
				hold.Reset(d.imp.Hold)
			}
		case <-hold.C:
			d.flush()
		}
	}
}

// frame decides one frame's fate; it reports whether the frame is now
// held back.
func (d *director) frame(f []byte) bool {
	// Draw all three every time so one decision never shifts the others.
	lose, reorder, dup := d.rng.Float64() < d.imp.Loss, d.rng.Float64() < d.imp.Reorder, d.rng.Float64() < d.imp.Dup
	if lose {
		d.st.Dropped.Add(1)
		return false
	}
	if reorder && d.held == nil {
		d.st.Reordered.Add(1)
		d.held = f
		return true
	}
	d.out.WriteFrame(f)
	if dup {
		d.st.Duplicated.Add(1)
		d.out.WriteFrame(f)
	}
	d.flush()
	return false
}

// flush sends the held frame, after whatever overtook it.
func (d *director) flush() {
	if d.held != nil {
		d.out.WriteFrame(d.held)
		d.held = nil
	}
}
