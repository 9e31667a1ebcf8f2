package link

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
)

// recorder is a Receiver that keeps every frame it is given.
type recorder struct {
	mu     sync.Mutex
	frames [][]byte
	devs   []Device
	block  chan struct{} // if set, DeliverFrame waits on it
}

func (r *recorder) DeliverFrame(dev Device, frame []byte) {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	r.frames = append(r.frames, frame)
	r.devs = append(r.devs, dev)
	r.mu.Unlock()
}

func (r *recorder) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...)
}

func frame(tag byte, n int) []byte {
	f := make([]byte, n)
	header.PutEthernet(f, header.MAC{}, header.MAC{}, header.EtherTypeIPv4)
	for i := header.EthernetHeaderLen; i < n; i++ {
		f[i] = tag
	}
	return f
}

func TestLoopbackDeliversAsynchronouslyInOrder(t *testing.T) {
	lo := NewLoopback()
	r := &recorder{block: make(chan struct{})}
	lo.Attach(r)
	for i := byte(1); i <= 3; i++ {
		if err := lo.Transmit(frame(i, 20)); err != nil {
			t.Fatal(err)
		}
	}
	// Transmit returned while the receiver is still blocked: no recursion.
	if n := len(r.got()); n != 0 {
		t.Fatalf("%d frames delivered before the backlog ran", n)
	}
	close(r.block)
	lo.Close()
	got := r.got()
	if len(got) != 3 {
		t.Fatalf("delivered %d frames, want 3", len(got))
	}
	for i, f := range got {
		if f[14] != byte(i+1) || r.devs[i] != Device(lo) {
			t.Fatalf("frame %d tag %d dev %v", i, f[14], r.devs[i])
		}
	}
	if err := lo.Transmit(frame(9, 20)); !errors.Is(err, ErrClosed) {
		t.Fatalf("transmit after close: %v", err)
	}
}

// The sending task delivers its own frames when it calls ProcessBacklog
// (the device's goroutine is not started here: rx is set directly), in
// order, and Transmit itself never delivers.
func TestLoopbackSenderProcessesItsBacklog(t *testing.T) {
	lo := NewLoopback()
	r := &recorder{}
	lo.rx = r
	for i := byte(1); i <= 3; i++ {
		if err := lo.Transmit(frame(i, 20)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.got()); n != 0 {
		t.Fatalf("%d frames delivered by Transmit", n)
	}
	lo.ProcessBacklog()
	got := r.got()
	if len(got) != 3 || got[0][14] != 1 || got[1][14] != 2 || got[2][14] != 3 {
		t.Fatalf("delivered %d frames: %v", len(got), got)
	}
	lo.ProcessBacklog() // nothing left: returns at once
	if len(r.got()) != 3 {
		t.Fatal("a frame was delivered twice")
	}
}

// Senders that process the backlog race with the device's goroutine:
// every frame arrives once, and each sender's frames in the order sent.
func TestLoopbackConcurrentProcessingKeepsOrder(t *testing.T) {
	lo := NewLoopback()
	r := &recorder{}
	lo.Attach(r)
	const senders, each = 4, 200
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				f := frame(byte(s), 20)
				f[15], f[16] = byte(i>>8), byte(i)
				for lo.Transmit(f) != nil {
					lo.ProcessBacklog() // full: make room
				}
				if i%3 == 0 {
					lo.ProcessBacklog()
				}
			}
		}()
	}
	wg.Wait()
	lo.Close()
	next := make([]int, senders)
	got := r.got()
	for _, f := range got {
		s, i := int(f[14]), int(f[15])<<8|int(f[16])
		if i != next[s] {
			t.Fatalf("sender %d: frame %d arrived when %d was due", s, i, next[s])
		}
		next[s]++
	}
	if len(got) != senders*each {
		t.Fatalf("delivered %d frames, want %d", len(got), senders*each)
	}
}

func TestLoopbackBacklogOverflowDrops(t *testing.T) {
	lo := NewLoopback()
	r := &recorder{block: make(chan struct{})}
	lo.Attach(r)
	var full int
	for i := 0; i < BacklogLen+10; i++ {
		if err := lo.Transmit(frame(1, 20)); errors.Is(err, ErrQueueFull) {
			full++
		}
	}
	// The goroutine may have taken one frame off the queue before blocking.
	if full < 9 || full > 10 {
		t.Fatalf("%d frames refused, want 9..10", full)
	}
	close(r.block)
	lo.Close()
	if n := len(r.got()); n != BacklogLen+10-full {
		t.Fatalf("delivered %d", n)
	}
	if err := lo.Transmit(make([]byte, LoopbackMTU+15)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("oversized: %v", err)
	}
}

func newTestPipe(imp Impairment, seed int64) (*Pipe, *clock.Virtual, *recorder) {
	vc := clock.NewVirtual(time.Unix(0, 0))
	p := NewPipe(PipeConfig{Clock: vc, Seed: seed, Impairment: imp, MACA: header.MAC{2, 0, 0, 0, 0, 1}, MACB: header.MAC{2, 0, 0, 0, 0, 2}})
	r := &recorder{}
	p.B.Attach(r)
	return p, vc, r
}

func TestPipeDelayUsesClock(t *testing.T) {
	p, vc, r := newTestPipe(Impairment{Delay: 10 * time.Millisecond}, 1)
	if err := p.A.Transmit(frame(7, 60)); err != nil {
		t.Fatal(err)
	}
	vc.Advance(9 * time.Millisecond)
	if len(r.got()) != 0 {
		t.Fatal("frame arrived before its delay")
	}
	vc.Advance(time.Millisecond)
	got := r.got()
	if len(got) != 1 || !bytes.Equal(got[0], frame(7, 60)) || r.devs[0] != Device(p.B) {
		t.Fatalf("got %d frames", len(got))
	}
	if p.A.Stats.Sent.Load() != 1 || p.B.Stats.Delivered.Load() != 0 || p.A.Stats.Delivered.Load() != 1 {
		t.Fatalf("stats sent=%d delivered=%d", p.A.Stats.Sent.Load(), p.A.Stats.Delivered.Load())
	}
	if err := p.A.Transmit(make([]byte, 1515)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestPipeImpairmentsAreSeededAndCounted(t *testing.T) {
	run := func() (delivered int, lost, dup, bad uint64) {
		p, vc, r := newTestPipe(Impairment{Loss: 0.1, Duplicate: 0.05, Corrupt: 0.05}, 42)
		for i := 0; i < 1000; i++ {
			p.A.Transmit(frame(0xaa, 100))
		}
		vc.Advance(0)
		var corrupted uint64
		for _, f := range r.got() {
			if !bytes.Equal(f, frame(0xaa, 100)) {
				corrupted++
			}
		}
		if corrupted > p.A.Stats.Corrupted.Load()*2 || corrupted < p.A.Stats.Corrupted.Load() {
			t.Fatalf("%d corrupted frames seen, %d counted", corrupted, p.A.Stats.Corrupted.Load())
		}
		return len(r.got()), p.A.Stats.Lost.Load(), p.A.Stats.Duplicated.Load(), corrupted
	}
	d1, l1, u1, c1 := run()
	d2, l2, u2, c2 := run()
	if d1 != d2 || l1 != l2 || u1 != u2 || c1 != c2 {
		t.Fatalf("not deterministic: %d/%d/%d/%d vs %d/%d/%d/%d", d1, l1, u1, c1, d2, l2, u2, c2)
	}
	if l1 < 60 || l1 > 140 || u1 < 20 || u1 > 80 || c1 == 0 {
		t.Fatalf("implausible rates: lost %d dup %d corrupt %d", l1, u1, c1)
	}
	if d1 != 1000-int(l1)+int(u1) {
		t.Fatalf("delivered %d, want %d", d1, 1000-int(l1)+int(u1))
	}
}

func TestPipeReorderHoldsFramesBack(t *testing.T) {
	p, vc, r := newTestPipe(Impairment{Delay: time.Millisecond, Reorder: 0.3}, 7)
	for i := 0; i < 50; i++ {
		p.A.Transmit(frame(byte(i), 20))
	}
	vc.Advance(10 * time.Millisecond)
	got := r.got()
	if len(got) != 50 {
		t.Fatalf("delivered %d", len(got))
	}
	inversions := 0
	for i := 1; i < len(got); i++ {
		if got[i][14] < got[i-1][14] {
			inversions++
		}
	}
	if inversions == 0 || p.A.Stats.Reordered.Load() == 0 {
		t.Fatalf("no reordering: inversions %d reordered %d", inversions, p.A.Stats.Reordered.Load())
	}
}

func TestPipeOvertakingFrameIsNotHeldBack(t *testing.T) {
	p, vc, r := newTestPipe(Impairment{Delay: time.Millisecond, Reorder: 1, ReorderDelay: 10 * time.Millisecond}, 1)
	p.A.Transmit(frame(1, 20)) // due at 11 ms
	p.SetImpairment(Impairment{Delay: time.Millisecond})
	p.A.Transmit(frame(2, 20)) // due at 1 ms
	vc.Advance(time.Millisecond)
	if got := r.got(); len(got) != 1 || got[0][14] != 2 {
		t.Fatalf("at 1 ms delivered %d frames", len(got))
	}
	vc.Advance(10 * time.Millisecond)
	if got := r.got(); len(got) != 2 || got[1][14] != 1 {
		t.Fatalf("at 11 ms delivered %d frames", len(got))
	}
}

func TestPipeOnRealClockDeliversInOrderOneAtATime(t *testing.T) {
	p := NewPipe(PipeConfig{Clock: clock.Real(), Impairment: Impairment{Delay: time.Millisecond}})
	r := &orderChecker{}
	p.B.Attach(r)
	for i := 0; i < 300; i++ {
		p.A.Transmit(frame(byte(i), 20))
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.count() < 300 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n, bad, overlap := r.result(); n != 300 || bad != 0 || overlap {
		t.Fatalf("delivered %d, out of order %d, concurrent deliveries %v", n, bad, overlap)
	}
}

// orderChecker counts frames, checks their tags increase (mod 256) and
// notices two deliveries running at once.
type orderChecker struct {
	mu      sync.Mutex
	busy    bool
	overlap bool
	n, bad  int
	last    byte
}

func (o *orderChecker) DeliverFrame(_ Device, f []byte) {
	o.mu.Lock()
	if o.busy {
		o.overlap = true
	}
	o.busy = true
	if o.n > 0 && f[14] != o.last+1 {
		o.bad++
	}
	o.last = f[14]
	o.n++
	o.mu.Unlock()
	time.Sleep(10 * time.Microsecond)
	o.mu.Lock()
	o.busy = false
	o.mu.Unlock()
}

func (o *orderChecker) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}

func (o *orderChecker) result() (int, int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n, o.bad, o.overlap
}
