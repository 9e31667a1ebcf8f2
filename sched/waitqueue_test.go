package sched

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls f for up to 5 s; the tests use it to wait until sleepers
// are queued, which is the state the wake-up rules are about.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// recv returns the next result from ch or fails after 5 s.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("sleeper did not return")
	}
	panic("unreachable")
}

func TestWaitReturnsAtOnceWhenConditionHolds(t *testing.T) {
	var wq WaitQueue
	if err := wq.WaitEventInterruptible(NewTask("t"), func() bool { return true }); err != nil {
		t.Fatalf("err = %v", err)
	}
	if n := wq.Len(); n != 0 {
		t.Fatalf("Len = %d after a wait that did not sleep, want 0", n)
	}
}

func TestWakeUpAfterStateChangeEndsWait(t *testing.T) {
	var wq WaitQueue
	var ready atomic.Bool
	res := make(chan error)
	go func() { res <- wq.WaitEventInterruptible(NewTask("reader"), ready.Load) }()
	waitFor(t, "reader queued", func() bool { return wq.Len() == 1 })

	wq.WakeUp() // condition still false: spurious, the reader sleeps on
	waitFor(t, "reader re-queued", func() bool { return wq.Len() == 1 })
	select {
	case err := <-res:
		t.Fatalf("wait returned %v before the condition held", err)
	case <-time.After(10 * time.Millisecond):
	}

	ready.Store(true)
	wq.WakeUpInterruptible()
	if err := recv(t, res); err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
	if n := wq.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0", n)
	}
}

// Two non-exclusive and three exclusive sleepers: WakeUp wakes both
// non-exclusive ones and the first exclusive one; WakeUpNr(2) the rest.
func TestExclusiveWaitersWakeOneAtATimeInArrivalOrder(t *testing.T) {
	var wq WaitQueue
	var open atomic.Bool
	woke := make(chan string, 5)
	sleep := func(name string, exclusive bool) {
		before := wq.Len()
		go func() {
			var err error
			if exclusive {
				err = wq.WaitEventInterruptibleExclusive(NewTask(name), open.Load)
			} else {
				err = wq.WaitEventInterruptible(NewTask(name), open.Load)
			}
			if err != nil {
				woke <- name + ":" + err.Error()
				return
			}
			woke <- name
		}()
		waitFor(t, name+" queued", func() bool { return wq.Len() == before+1 })
	}
	sleep("x1", true)
	sleep("n1", false)
	sleep("x2", true)
	sleep("n2", false)
	sleep("x3", true)

	open.Store(true)
	wq.WakeUp()
	if n := wq.Len(); n != 2 {
		t.Fatalf("after WakeUp Len = %d, want 2 exclusive sleepers left", n)
	}
	got := map[string]bool{recv(t, woke): true, recv(t, woke): true, recv(t, woke): true}
	for _, want := range []string{"n1", "n2", "x1"} {
		if !got[want] {
			t.Fatalf("WakeUp woke %v, want n1, n2 and x1", got)
		}
	}

	wq.WakeUpNr(2)
	got = map[string]bool{recv(t, woke): true, recv(t, woke): true}
	if !got["x2"] || !got["x3"] || wq.Len() != 0 {
		t.Fatalf("WakeUpNr(2) woke %v leaving %d, want x2 and x3 leaving 0", got, wq.Len())
	}
}

func TestWakeUpAllWakesEveryExclusiveWaiter(t *testing.T) {
	var wq WaitQueue
	var open atomic.Bool
	const n = 4
	res := make(chan error, n)
	for range n {
		go func() { res <- wq.WaitEventInterruptibleExclusive(nil, open.Load) }()
	}
	waitFor(t, "all queued", func() bool { return wq.Len() == n })
	open.Store(true)
	wq.WakeUpAll()
	for range n {
		if err := recv(t, res); err != nil {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestInterruptEndsWaitWithRestartSys(t *testing.T) {
	var wq WaitQueue
	task := NewTask("cat")
	res := make(chan error)
	go func() { res <- wq.WaitEventInterruptible(task, func() bool { return false }) }()
	waitFor(t, "cat queued", func() bool { return wq.Len() == 1 })

	task.Interrupt()
	err := recv(t, res)
	if !errors.Is(err, ErrRestartSys) || err.(Errno) != ERESTARTSYS {
		t.Fatalf("err = %v, want ErrRestartSys", err)
	}
	if wq.Len() != 0 || !task.Interrupted() {
		t.Fatalf("Len = %d Interrupted = %v, want 0 and true", wq.Len(), task.Interrupted())
	}
}

func TestPendingInterruptFailsNextWaitUntilCleared(t *testing.T) {
	var wq WaitQueue
	task := NewTask("job")
	task.Interrupt()
	if err := wq.WaitEventInterruptible(task, func() bool { return false }); err != ErrRestartSys {
		t.Fatalf("err = %v, want ErrRestartSys", err)
	}
	// The condition wins over a pending interrupt, as in Linux.
	if err := wq.WaitEventInterruptible(task, func() bool { return true }); err != nil {
		t.Fatalf("err = %v with the condition true, want nil", err)
	}
	task.ClearInterrupt()
	if task.Interrupted() {
		t.Fatal("Interrupted after ClearInterrupt")
	}
	if _, err := wq.WaitEventInterruptibleTimeout(task, func() bool { return false }, 5*time.Millisecond); err != ErrTimedOut {
		t.Fatalf("err = %v after ClearInterrupt, want ErrTimedOut", err)
	}
}

func TestUninterruptibleWaitIgnoresNoTask(t *testing.T) {
	var wq WaitQueue
	var open atomic.Bool
	res := make(chan error)
	go func() { res <- wq.WaitEventInterruptible(nil, open.Load) }()
	waitFor(t, "queued", func() bool { return wq.Len() == 1 })
	open.Store(true)
	wq.WakeUpInterruptible()
	if err := recv(t, res); err != nil {
		t.Fatalf("err = %v", err)
	}
}

// An interrupted exclusive sleeper leaves the queue before giving up, so the
// next wake-up goes to the other exclusive sleeper instead of being lost.
func TestInterruptedExclusiveWaiterDoesNotSwallowWakeUp(t *testing.T) {
	var wq WaitQueue
	var open atomic.Bool
	a, b := NewTask("a"), NewTask("b")
	resA, resB := make(chan error), make(chan error)
	go func() { resA <- wq.WaitEventInterruptibleExclusive(a, open.Load) }()
	waitFor(t, "a queued", func() bool { return wq.Len() == 1 })
	go func() { resB <- wq.WaitEventInterruptibleExclusive(b, open.Load) }()
	waitFor(t, "b queued", func() bool { return wq.Len() == 2 })

	a.Interrupt()
	if err := recv(t, resA); err != ErrRestartSys {
		t.Fatalf("a: err = %v, want ErrRestartSys", err)
	}
	open.Store(true)
	wq.WakeUp()
	if err := recv(t, resB); err != nil {
		t.Fatalf("b: err = %v, want nil", err)
	}
}

// One task, two goroutines asleep on two queues: one interrupt ends both.
func TestInterruptWakesEveryWaitOfTheTask(t *testing.T) {
	var a, b WaitQueue
	task := NewTask("server")
	res := make(chan error, 2)
	never := func() bool { return false }
	go func() { res <- a.WaitEventInterruptible(task, never) }()
	go func() { res <- b.WaitEventInterruptibleExclusive(task, never) }()
	waitFor(t, "both asleep", func() bool { return a.Len() == 1 && b.Len() == 1 })
	task.Interrupt()
	for range 2 {
		if err := recv(t, res); err != ErrRestartSys {
			t.Fatalf("err = %v, want ErrRestartSys", err)
		}
	}
}

func TestTimeoutPassesWithoutCondition(t *testing.T) {
	var wq WaitQueue
	start := time.Now()
	rem, err := wq.WaitEventInterruptibleTimeout(NewTask("t"), func() bool { return false }, 20*time.Millisecond)
	if err != ErrTimedOut || rem != 0 {
		t.Fatalf("got (%v, %v), want (0, ErrTimedOut)", rem, err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Fatalf("returned after %v, before the 20ms timeout", el)
	}
	if wq.Len() != 0 {
		t.Fatalf("Len = %d after timeout, want 0", wq.Len())
	}
}

func TestTimeoutWaitReturnsRemainingWhenWoken(t *testing.T) {
	var wq WaitQueue
	var open atomic.Bool
	type result struct {
		rem time.Duration
		err error
	}
	res := make(chan result)
	go func() {
		rem, err := wq.WaitEventInterruptibleTimeout(NewTask("t"), open.Load, time.Minute)
		res <- result{rem, err}
	}()
	waitFor(t, "queued", func() bool { return wq.Len() == 1 })
	open.Store(true)
	wq.WakeUp()
	r := recv(t, res)
	if r.err != nil || r.rem <= 50*time.Second || r.rem > time.Minute {
		t.Fatalf("got (%v, %v), want nil and nearly a minute left", r.rem, r.err)
	}
}

func TestTimeoutWaitInterrupted(t *testing.T) {
	var wq WaitQueue
	task := NewTask("t")
	res := make(chan error)
	go func() {
		_, err := wq.WaitEventInterruptibleTimeout(task, func() bool { return false }, time.Minute)
		res <- err
	}()
	waitFor(t, "queued", func() bool { return wq.Len() == 1 })
	task.Interrupt()
	if err := recv(t, res); err != ErrRestartSys {
		t.Fatalf("err = %v, want ErrRestartSys", err)
	}
}

// Producers add tokens and wake one consumer each; exclusive consumers take
// one token per wait. Every token must be consumed: a lost wake-up leaves a
// consumer asleep with tokens available and the test times out.
func TestManyWakersAndWaitersLoseNoWakeUp(t *testing.T) {
	const producers, consumers, perProducer = 8, 8, 500
	var wq WaitQueue
	var mu sync.Mutex
	tokens := 0
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if tokens == 0 {
			return false
		}
		tokens--
		return true
	}
	var consumed atomic.Int64
	var wg sync.WaitGroup
	for range consumers {
		wg.Go(func() {
			for range producers * perProducer / consumers {
				if err := wq.WaitEventInterruptibleExclusive(NewTask("c"), take); err != nil {
					t.Errorf("consumer: %v", err)
					return
				}
				consumed.Add(1)
			}
		})
	}
	for range producers {
		wg.Go(func() {
			for range perProducer {
				mu.Lock()
				tokens++
				mu.Unlock()
				wq.WakeUp()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("consumed %d of %d: a wake-up was lost", consumed.Load(), producers*perProducer)
	}
	if consumed.Load() != producers*perProducer || tokens != 0 || wq.Len() != 0 {
		t.Fatalf("consumed %d tokens left %d Len %d", consumed.Load(), tokens, wq.Len())
	}
}

// Interrupts racing with wake-ups: every wait ends, with nil or
// ErrRestartSys, and the queue ends empty.
func TestInterruptsRacingWakeUps(t *testing.T) {
	var wq WaitQueue
	var open atomic.Bool
	var wg sync.WaitGroup
	var ok, intr atomic.Int64
	tasks := make([]*Task, 32)
	for i := range tasks {
		tasks[i] = NewTask("w")
		wg.Go(func() {
			switch err := wq.WaitEventInterruptible(tasks[i], open.Load); err {
			case nil:
				ok.Add(1)
			case ErrRestartSys:
				intr.Add(1)
			default:
				t.Errorf("err = %v", err)
			}
		})
	}
	for i, task := range tasks {
		if i%2 == 0 {
			wg.Go(task.Interrupt)
		}
	}
	wg.Go(func() {
		open.Store(true)
		wq.WakeUpAll()
	})
	wg.Wait()
	if ok.Load()+intr.Load() != 32 || wq.Len() != 0 {
		t.Fatalf("ok %d interrupted %d Len %d", ok.Load(), intr.Load(), wq.Len())
	}
}

func TestTaskIdentity(t *testing.T) {
	a, b := NewTask("shell"), NewTask("job")
	if a.Name() != "shell" || b.Name() != "job" || a.ID() == 0 || b.ID() <= a.ID() {
		t.Fatalf("a = %q/%d b = %q/%d", a.Name(), a.ID(), b.Name(), b.ID())
	}
}

func TestErrnoText(t *testing.T) {
	for e, want := range map[Errno]string{
		ETIMEDOUT:   "connection timed out",
		ERESTARTSYS: "interrupted (restart system call)",
		Errno(5):    "errno 5",
	} {
		if e.Error() != want {
			t.Errorf("%d: %q, want %q", e, e.Error(), want)
		}
	}
}

// BenchmarkWakeUpPingPong reports the median time one goroutine takes to
// wake another through a wait queue (go test -bench PingPong ./sched); at
// least 10000 round trips even under make bench's -benchtime 1x.
func BenchmarkWakeUpPingPong(b *testing.B) {
	median := PingPongLatency(max(b.N, 10000))
	b.ReportMetric(float64(median.Nanoseconds()), "median-ns/switch")
}
