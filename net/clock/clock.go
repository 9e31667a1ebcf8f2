// Package clock is the time source of the network stack. TCP timers and
// timestamps read time only through a Clock, so host tests can drive the
// stack with a Virtual clock and stay deterministic; the kernel passes Real().
package clock

import "time"

// Timer is a pending callback armed by Clock.AfterFunc. Like *time.Timer,
// Stop reports whether it prevented the call and Reset re-arms it.
type Timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

// Clock is the injected time source (Linux: jiffies + the timer wheel).
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

type realClock struct{}

// Real returns the Clock backed by package time.
func Real() Clock { return realClock{} }

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
