package virtionet_test

import (
	"bytes"
	"testing"
	"time"

	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/drivers/virtio/virtiotest"
	"gomenuos/net/buf"
	"gomenuos/net/link"
)

// burstReceiver is a link.BatchReceiver that keeps every frame it is
// handed, holding (buf.Hold) those whose first byte is 'H', as TCP's
// receive queue holds the text it keeps past the burst.
type burstReceiver struct {
	frames chan []byte
	ends   chan struct{}
}

func (r *burstReceiver) BeginBatch(link.Device) {}

func (r *burstReceiver) DeliverFrame(_ link.Device, f []byte) {
	if len(f) > 14 && f[14] == 'H' {
		buf.Hold(f)
	}
	r.frames <- f
}

func (r *burstReceiver) EndBatch(link.Device) { r.ends <- struct{}{} }

// overwritePosted has the device scribble over every receive buffer the
// driver has posted and hand them back as used: the driver drops them
// (bad header) and posts others.
func overwritePosted(n *nic) int {
	k := 0
	for {
		c, ok := n.fake.Pop(0)
		if !ok {
			return k
		}
		for _, s := range c.Segs {
			for i := range s.Data {
				s.Data[i] = 0xEE
			}
		}
		n.fake.Push(0, c.Head, rxBufSize)
		k++
	}
}

// TestLentFramesStayUntilReleased: a frame that goes up in its receive
// buffer (in place) keeps that buffer out of the ring while the stack
// holds it, and the buffer is posted again once released.
func TestLentFramesStayUntilReleased(t *testing.T) {
	r := &burstReceiver{frames: make(chan []byte, 64), ends: make(chan struct{}, 64)}
	n := newNICRecv(t, allFeatures|virtionet.FeatureGuestTSO4, 8, 8, r)
	held := append([]byte(nil), ethFrame("Held")...)
	held[14] = 'H'
	free := ethFrame("free")
	// A coalesced segment over two buffers, the first full: the two form
	// it in place.
	long := partial(tcpFrame(string(bytes.Repeat([]byte("L"), 6000))))
	whole := append(hdr(1, 1, 34, 16, 2), long...)
	n.put(append(hdr(0, 0, 0, 0, 1), held...))
	n.put(append(hdr(0, 0, 0, 0, 1), free...))
	n.put(whole[:rxBufSize])
	n.put(whole[rxBufSize:])
	n.fake.Interrupt(0)
	var got [][]byte
	for range 3 {
		select {
		case f := <-r.frames:
			got = append(got, f)
		case <-time.After(2 * time.Second):
			t.Fatalf("%d frames delivered, want 3", len(got))
		}
	}
	select {
	case <-r.ends:
	case <-time.After(2 * time.Second):
		t.Fatal("no end of burst")
	}
	if !bytes.Equal(got[0], held) || !bytes.Equal(got[1], free) || !bytes.Equal(got[2], long) {
		t.Fatalf("frames % x", got)
	}
	if lent := n.dev.Stats.RxLent.Load(); lent != 3 {
		t.Fatalf("%d frames lent in place, want 3", lent)
	}
	// After the burst only the held frame keeps its buffer: the ring is
	// refilled in the pool's cyclic order, and whatever the device writes
	// into posted buffers reaches the others' buffers in their turn, never
	// the held one's.
	cycle := func() {
		t.Helper()
		var c virtiotest.Chain
		ok := false
		for end := time.Now().Add(2 * time.Second); !ok && time.Now().Before(end); {
			if c, ok = n.fake.Pop(0); !ok {
				time.Sleep(time.Millisecond) // refilled after EndBatch
			}
		}
		if !ok {
			t.Fatal("no receive buffer posted")
		}
		n.fake.Push(0, c.Head, uint32(copy(c.Segs[0].Data, append(hdr(0, 0, 0, 0, 1), free...))))
		overwritePosted(n)
		n.fake.Interrupt(0)
		select {
		case <-r.frames:
		case <-time.After(2 * time.Second):
			t.Fatal("frame not delivered")
		}
		for len(r.ends) > 0 {
			<-r.ends
		}
	}
	for i := 0; i < 64 && bytes.Equal(got[1], free); i++ {
		cycle()
	}
	if bytes.Equal(got[1], free) {
		t.Fatal("the unheld frame's buffer was not posted again")
	}
	if !bytes.Equal(got[0], held) {
		t.Fatalf("held frame overwritten: % x", got[0])
	}
	buf.Release(got[0][15:]) // any part of what was held
	for i := 0; i < 64 && bytes.Equal(got[0], held); i++ {
		cycle()
	}
	if bytes.Equal(got[0], held) {
		t.Fatal("the released buffer never went back to the ring")
	}
}
