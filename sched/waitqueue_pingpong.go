package sched

import (
	"slices"
	"sync/atomic"
	"time"
)

// PingPongLatency measures wake-up latency: two goroutines pass a turn back
// and forth through two wait queues for rounds round trips, and the result
// is the median time of one switch (half a round trip). The kernel runs it
// to compare with a Linux guest's pipe ping-pong; host benchmarks run it too.
func PingPongLatency(rounds int) time.Duration {
	rounds = max(rounds, 1)
	var ping, pong WaitQueue
	var turn atomic.Int32 // 0: the measuring side, 1: the echo side
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range rounds {
			pong.WaitEventInterruptible(nil, func() bool { return turn.Load() == 1 })
			turn.Store(0)
			ping.WakeUp()
		}
	}()
	samples := make([]time.Duration, rounds)
	for i := range samples {
		start := time.Now()
		turn.Store(1)
		pong.WakeUp()
		ping.WaitEventInterruptible(nil, func() bool { return turn.Load() == 0 })
		samples[i] = time.Since(start) / 2
	}
	<-done
	slices.Sort(samples)
	return samples[len(samples)/2]
}
