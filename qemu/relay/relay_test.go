package relay

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// chanPort is an in-memory port: frames written to in come out of
// ReadFrame; WriteFrame records.
type chanPort struct {
	in   chan []byte
	mu   sync.Mutex
	sent [][]byte
	once sync.Once
}

func newChanPort() *chanPort { return &chanPort{in: make(chan []byte, 100000)} }

func (p *chanPort) ReadFrame(b []byte) (int, error) {
	f, ok := <-p.in
	if !ok {
		return 0, errors.New("closed")
	}
	return copy(b, f), nil
}

func (p *chanPort) WriteFrame(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, slices.Clone(b))
	return nil
}

func (p *chanPort) Close() error { p.once.Do(func() { close(p.in) }); return nil }

func (p *chanPort) frames() []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []uint32
	for _, f := range p.sent {
		ids = append(ids, binary.BigEndian.Uint32(f))
	}
	return ids
}

// relayFrames pushes n numbered frames a→b and returns what b got.
func relayFrames(t *testing.T, n int, imp Impair) ([]uint32, *Relay) {
	a, b := newChanPort(), newChanPort()
	r := Start(a, b, imp)
	for i := range n {
		f := make([]byte, 60)
		binary.BigEndian.PutUint32(f, uint32(i))
		a.in <- f
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.AtoB.Frames.Load() < uint64(n) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	r.Close()
	return b.frames(), r
}

func TestCleanRelayKeepsOrder(t *testing.T) {
	got, _ := relayFrames(t, 1000, Impair{})
	if len(got) != 1000 {
		t.Fatalf("%d frames out, want 1000", len(got))
	}
	for i, id := range got {
		if id != uint32(i) {
			t.Fatalf("frame %d is %d", i, id)
		}
	}
}

// 5% each: the counts land near 5% and the output is exactly the input
// less the drops, plus the duplicates, with held frames one place late.
func TestImpairedRelayCounts(t *testing.T) {
	imp := Impair{Loss: 0.05, Reorder: 0.05, Dup: 0.05, Seed: 7, Hold: time.Hour}
	got, r := relayFrames(t, 10000, imp)
	st := &r.AtoB
	for name, c := range map[string]uint64{"dropped": st.Dropped.Load(), "reordered": st.Reordered.Load(), "duplicated": st.Duplicated.Load()} {
		if c < 400 || c > 600 {
			t.Errorf("%s %d of 10000, want about 500", name, c)
		}
	}
	if want := 10000 - int(st.Dropped.Load()) + int(st.Duplicated.Load()); len(got) != want {
		t.Fatalf("%d frames out, want %d", len(got), want)
	}
	inversions := 0
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			inversions++
		}
	}
	if inversions < 300 {
		t.Fatalf("only %d out-of-order frames", inversions)
	}
	again, _ := relayFrames(t, 10000, imp)
	if !slices.Equal(got, again) {
		t.Fatal("the same seed gave a different sequence")
	}
}

// A held frame with nothing behind it goes out after Hold.
func TestHeldFrameReleasedAfterHold(t *testing.T) {
	a, b := newChanPort(), newChanPort()
	r := Start(a, b, Impair{Reorder: 1, Hold: 10 * time.Millisecond})
	defer r.Close()
	a.in <- make([]byte, 60)
	deadline := time.Now().Add(2 * time.Second)
	for len(b.frames()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if len(b.frames()) != 1 {
		t.Fatal("held frame never released")
	}
}
