package tcp

import (
	"testing"
	"time"

	"gomenuos/net/clock"
)

// countingClock counts what the lazy timers ask of the Go timers under
// them.
type countingClock struct {
	*clock.Virtual
	arms, resets, stops int
}

type countingTimer struct {
	clock.Timer
	c *countingClock
}

func (c *countingClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.arms++
	return countingTimer{c.Virtual.AfterFunc(d, f), c}
}

func (t countingTimer) Reset(d time.Duration) bool { t.c.resets++; return t.Timer.Reset(d) }
func (t countingTimer) Stop() bool                 { t.c.stops++; return t.Timer.Stop() }

// timerFixture is a sockTimer on an instance whose clock counts the Go
// timer calls; arm arms it with a handler that records when it ran.
type timerFixture struct {
	c   *countingClock
	p   *Proto
	st  sockTimer
	ran []time.Duration
}

func newTimerFixture() *timerFixture {
	c := &countingClock{Virtual: clock.NewVirtual(epoch)}
	return &timerFixture{c: c, p: New(&fakeIP{addr: addrA, mtu: 1500}, c, testConfig())}
}

// arm arms the timer after d; the caller holds the instance's lock.
func (f *timerFixture) arm(d time.Duration) {
	f.st.arm(f.p, d, func() func() {
		return func() {
			f.p.lock()
			if f.st.due(f.p) {
				f.ran = append(f.ran, f.p.now().Sub(epoch))
			}
			f.p.unlock()
		}
	})
}

func TestSockTimerMovesLaterWithoutReset(t *testing.T) {
	f := newTimerFixture()
	c, p, arm := f.c, f.p, f.arm

	p.lock()
	arm(200 * time.Millisecond)
	p.unlock()
	// An RTO restarted on every ACK: ten moves, each to a later time.
	for i := 0; i < 10; i++ {
		c.Advance(10 * time.Millisecond)
		p.lock()
		arm(200 * time.Millisecond)
		p.unlock()
	}
	if c.resets != 0 {
		t.Fatalf("moving the deadline later reset the Go timer %d times, want 0", c.resets)
	}
	// The Go timer fires at 200 ms for a deadline now at 300 ms: due moves
	// it on, and the handler runs once, at 300 ms, not before.
	c.Advance(95 * time.Millisecond) // 195 ms
	c.Advance(10 * time.Millisecond) // 205 ms: the early firing
	if len(f.ran) != 0 {
		t.Fatalf("handler ran at %v, before its deadline of 300ms", f.ran)
	}
	c.Advance(200 * time.Millisecond)
	if len(f.ran) != 1 || f.ran[0] != 300*time.Millisecond {
		t.Fatalf("handler ran at %v, want once at 300ms", f.ran)
	}
	if c.arms != 1 || c.resets != 1 {
		t.Fatalf("Go timer armed %d and reset %d times, want 1 and 1 (the early firing's)", c.arms, c.resets)
	}
}

func TestSockTimerMovesEarlierStopsAndKills(t *testing.T) {
	f := newTimerFixture()
	c, p, arm := f.c, f.p, f.arm

	p.lock()
	arm(time.Second)
	arm(100 * time.Millisecond) // earlier: the Go timer must move
	p.unlock()
	c.Advance(150 * time.Millisecond)
	if len(f.ran) != 1 || f.ran[0] != 100*time.Millisecond || c.resets != 1 {
		t.Fatalf("handler ran at %v with %d resets, want once at 100ms after 1 reset", f.ran, c.resets)
	}

	// A stopped timer's pending firing does nothing, and a new arm for a
	// later time rides on it.
	p.lock()
	arm(200 * time.Millisecond) // due at 350 ms
	f.st.stop()
	p.unlock()
	c.Advance(time.Second)
	if len(f.ran) != 1 {
		t.Fatalf("a stopped timer ran its handler: %v", f.ran)
	}

	// kill stops the Go timer itself, so nothing stays pending to hold
	// the socket.
	p.lock()
	arm(time.Hour)
	f.st.kill()
	p.unlock()
	if _, pending := c.NextDeadline(); pending || c.stops != 1 {
		t.Fatalf("after kill: Go timer pending %v, %d stops; want none pending after 1 stop", pending, c.stops)
	}
}
