package link

import (
	"math/rand"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
)

// Impairment describes what a Pipe does to frames on their way. Every
// decision is drawn from the pipe's seeded generator, so a test run with a
// virtual clock and a fixed seed replays exactly.
type Impairment struct {
	Delay        time.Duration // one-way latency of every frame
	Loss         float64       // probability a frame is dropped
	Duplicate    float64       // probability a frame is delivered twice
	Corrupt      float64       // probability one bit of the frame's payload is flipped
	Reorder      float64       // probability a frame is held back by ReorderDelay
	ReorderDelay time.Duration // extra delay of a reordered frame (default 2*Delay + 1ms)
}

// PipeStats counts what happened to the frames sent into one end.
type PipeStats struct {
	Sent, Delivered, Lost, Duplicated, Corrupted, Reordered atomic.Uint64
}

// Pipe is a point-to-point Ethernet link between two PipeEnds. Frames are
// delivered by timers on the injected clock: with a clock.Virtual nothing
// arrives until the test advances time, and delivery runs on the goroutine
// calling Advance, which plays the role of the receive softirq.
//
// Lock contract: mu guards rng and imp.
type Pipe struct {
	clock   clock.Clock
	mtu     int
	capture func(from *PipeEnd, frame []byte)

	mu  sync.Mutex
	rng *rand.Rand
	imp Impairment

	A, B *PipeEnd
}

// PipeConfig configures NewPipe.
type PipeConfig struct {
	Clock      clock.Clock
	Seed       int64
	MTU        int // default 1500
	MACA, MACB header.MAC
	Impairment Impairment
	// Capture, if set, sees every frame as it is transmitted (before any
	// impairment). It must not keep or modify the frame.
	Capture func(from *PipeEnd, frame []byte)
}

// NewPipe returns a pipe whose ends are named "pipeA" and "pipeB".
func NewPipe(cfg PipeConfig) *Pipe {
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	p := &Pipe{clock: cfg.Clock, mtu: cfg.MTU, capture: cfg.Capture, rng: rand.New(rand.NewSource(cfg.Seed)), imp: cfg.Impairment}
	p.A = &PipeEnd{pipe: p, name: "pipeA", mac: cfg.MACA}
	p.B = &PipeEnd{pipe: p, name: "pipeB", mac: cfg.MACB}
	p.A.peer, p.B.peer = p.B, p.A
	return p
}

// SetImpairment changes the impairment for frames sent from now on.
func (p *Pipe) SetImpairment(imp Impairment) {
	p.mu.Lock()
	p.imp = imp
	p.mu.Unlock()
}

// PipeEnd is one side of a Pipe; it implements Device.
//
// Frames arriving at an end wait in a queue ordered by due time (FIFO
// among equal times) and one clock timer at a time delivers them, so
// delivery is sequential and in order whatever the clock — like a NIC's
// single receive bottom half. Lock contract: qmu guards queue, timer,
// timerDue and running.
type PipeEnd struct {
	pipe  *Pipe
	peer  *PipeEnd
	name  string
	mac   header.MAC
	rx    atomic.Pointer[receiverBox]
	Stats PipeStats

	qmu      sync.Mutex
	queue    []arrival
	timer    clock.Timer // pending delivery, nil if none
	timerDue time.Time
	running  bool // deliverDue is delivering; it re-arms when done
}

// arrival is a frame due at an end at a given time.
type arrival struct {
	due   time.Time
	frame []byte
}

type receiverBox struct{ r Receiver }

// Name returns "pipeA" or "pipeB".
func (e *PipeEnd) Name() string { return e.name }

// MTU returns the pipe MTU.
func (e *PipeEnd) MTU() int { return e.pipe.mtu }

// HardwareAddr returns the address given in PipeConfig.
func (e *PipeEnd) HardwareAddr() header.MAC { return e.mac }

// Features reports none: a pipe behaves like an Ethernet NIC without offloads.
func (e *PipeEnd) Features() Features { return 0 }

// Attach sets the receiver of frames arriving at this end.
func (e *PipeEnd) Attach(r Receiver) { e.rx.Store(&receiverBox{r}) }

// Transmit sends frame towards the peer end, applying the impairment.
func (e *PipeEnd) Transmit(frame []byte) error {
	if len(frame) > e.pipe.mtu+header.EthernetHeaderLen {
		return ErrTooBig
	}
	if c := e.pipe.capture; c != nil {
		c(e, frame)
	}
	for _, d := range e.pipe.plan(e, frame) {
		e.peer.deliverAfter(d.delay, d.frame)
	}
	// Counted last: a test that waits for Sent knows the delivery is armed.
	e.Stats.Sent.Add(1)
	return nil
}

// delivery is one copy of a frame scheduled to arrive after delay.
type delivery struct {
	frame []byte
	delay time.Duration
}

// plan decides, under the pipe lock, what becomes of one frame.
func (p *Pipe) plan(from *PipeEnd, frame []byte) []delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	imp := p.imp
	if imp.Loss > 0 && p.rng.Float64() < imp.Loss {
		from.Stats.Lost.Add(1)
		return nil
	}
	if imp.Corrupt > 0 && len(frame) > header.EthernetHeaderLen && p.rng.Float64() < imp.Corrupt {
		// Corrupt past the link header: Ethernet has no checksum here, so
		// the IP or transport checksum must catch it.
		i := header.EthernetHeaderLen + p.rng.Intn(len(frame)-header.EthernetHeaderLen)
		frame[i] ^= 1 << p.rng.Intn(8)
		from.Stats.Corrupted.Add(1)
	}
	out := []delivery{{frame, p.delayLocked(from, imp)}}
	if imp.Duplicate > 0 && p.rng.Float64() < imp.Duplicate {
		from.Stats.Duplicated.Add(1)
		out = append(out, delivery{append([]byte(nil), frame...), p.delayLocked(from, imp)})
	}
	return out
}

func (p *Pipe) delayLocked(from *PipeEnd, imp Impairment) time.Duration {
	if imp.Reorder > 0 && p.rng.Float64() < imp.Reorder {
		from.Stats.Reordered.Add(1)
		extra := imp.ReorderDelay
		if extra == 0 {
			extra = 2*imp.Delay + time.Millisecond
		}
		return imp.Delay + extra
	}
	return imp.Delay
}

// deliverAfter queues frame to arrive at e after d.
func (e *PipeEnd) deliverAfter(d time.Duration, frame []byte) {
	a := arrival{due: e.pipe.clock.Now().Add(d), frame: frame}
	e.qmu.Lock()
	defer e.qmu.Unlock()
	i := sort.Search(len(e.queue), func(i int) bool { return e.queue[i].due.After(a.due) })
	e.queue = slices.Insert(e.queue, i, a)
	switch {
	case e.running:
		// The delivery loop picks it up or re-arms for it.
	case e.timer == nil:
		e.armLocked(a.due)
	case a.due.Before(e.timerDue) && e.timer.Stop():
		// A frame overtakes the one the timer waits for (reordering).
		e.armLocked(a.due)
	}
}

func (e *PipeEnd) armLocked(due time.Time) {
	e.timer, e.timerDue = e.pipe.clock.AfterFunc(due.Sub(e.pipe.clock.Now()), e.deliverDue), due
}

// deliverDue hands every frame whose time has come to the receiver, in
// order, then re-arms for the next one. Frames queued while it runs with
// no delay are delivered in the same pass.
func (e *PipeEnd) deliverDue() {
	clk := e.pipe.clock
	e.qmu.Lock()
	e.timer, e.running = nil, true
	for len(e.queue) > 0 && !e.queue[0].due.After(clk.Now()) {
		a := e.queue[0]
		e.queue = e.queue[1:]
		e.qmu.Unlock()
		if box := e.rx.Load(); box != nil {
			e.peer.Stats.Delivered.Add(1)
			box.r.DeliverFrame(e, a.frame)
		}
		e.qmu.Lock()
	}
	e.running = false
	if len(e.queue) > 0 {
		e.armLocked(e.queue[0].due)
	}
	e.qmu.Unlock()
}
