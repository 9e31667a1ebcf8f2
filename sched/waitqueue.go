package sched

import (
	"sync"
	"sync/atomic"
	"time"
)

// WaitQueue is a list of tasks sleeping until a condition holds, with
// Linux's wait_queue_head semantics: a waiter is queued before it checks
// its condition, a waker changes the state and then wakes, so no wake-up
// is lost; every wake-up makes the waiter re-check its condition. The zero
// value is an empty queue.
//
// Non-exclusive waiters sit at the head and are all woken by any wake-up;
// exclusive waiters sit at the tail and a wake-up of nr wakes at most nr of
// them (Linux: __wake_up_common). A woken waiter leaves the queue at the
// moment it is chosen (Linux: autoremove_wake_function), so one wake-up is
// never counted twice against the same sleeper.
//
// Lock contract: mu guards head, tail and every queued waiter's prev, next
// and queued. mu and Task.mu are never held together.
type WaitQueue struct {
	mu         sync.Mutex
	head, tail *waiter
	// queued counts the waiters queued, so a wake-up of an empty queue
	// takes no lock (Linux: wq_has_sleeper): a waiter queues itself
	// before it checks its condition and a waker changes the condition
	// before it looks, so one of them sees the other (Go's atomics and
	// locks order these).
	queued atomic.Int32
}

// waiter is one sleeping call (Linux: struct wait_queue_entry).
type waiter struct {
	wake      chan struct{} // one slot: a pending wake-up
	exclusive bool
	task      *Task // nil: uninterruptible

	queued     bool    // guarded by the queue's mu
	prev, next *waiter // guarded by the queue's mu
}

// WaitEventInterruptible sleeps until cond() is true or t is interrupted
// (ErrRestartSys). With t == nil the wait cannot be interrupted.
// Linux: wait_event_interruptible.
func (wq *WaitQueue) WaitEventInterruptible(t *Task, cond func() bool) error {
	return wq.waitEvent(t, cond, false, nil, time.Time{})
}

// WaitEventInterruptibleExclusive is WaitEventInterruptible as an exclusive
// waiter: a wake-up wakes only as many exclusive waiters as it is asked to.
// Linux: wait_event_interruptible_exclusive.
func (wq *WaitQueue) WaitEventInterruptibleExclusive(t *Task, cond func() bool) error {
	return wq.waitEvent(t, cond, true, nil, time.Time{})
}

// WaitEventInterruptibleTimeout sleeps until cond() is true, t is
// interrupted (ErrRestartSys) or timeout passes (ErrTimedOut). On success
// remaining is the time left, at least 1ns even when cond became true just
// as the timeout passed. Linux: wait_event_interruptible_timeout, whose
// "0 / 1 / jiffies left" result this splits into an error and a duration.
func (wq *WaitQueue) WaitEventInterruptibleTimeout(t *Task, cond func() bool, timeout time.Duration) (remaining time.Duration, err error) {
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	if err := wq.waitEvent(t, cond, false, timer.C, deadline); err != nil {
		return 0, err
	}
	return max(time.Until(deadline), time.Nanosecond), nil
}

// WakeUp wakes every non-exclusive waiter and one exclusive one.
// Linux: wake_up.
func (wq *WaitQueue) WakeUp() { wq.wakeUpNr(1) }

// WakeUpInterruptible wakes every non-exclusive waiter and one exclusive
// one. Linux: wake_up_interruptible. Unlike Linux it also wakes
// uninterruptible (nil-task) waiters: here a waiter's mode only says
// whether Interrupt can end its wait, so no waker can strand a sleeper by
// picking the other wake function.
func (wq *WaitQueue) WakeUpInterruptible() { wq.wakeUpNr(1) }

// WakeUpAll wakes every waiter. Linux: wake_up_all.
func (wq *WaitQueue) WakeUpAll() { wq.wakeUpNr(0) }

// WakeUpNr wakes every non-exclusive waiter and up to n exclusive ones;
// n <= 0 wakes all. Linux: wake_up_nr.
func (wq *WaitQueue) WakeUpNr(n int) { wq.wakeUpNr(n) }

// Len is the number of queued waiters (for tests and /proc views).
func (wq *WaitQueue) Len() int {
	wq.mu.Lock()
	defer wq.mu.Unlock()
	n := 0
	for w := wq.head; w != nil; w = w.next {
		n++
	}
	return n
}

// waitEvent is the loop of Linux's ___wait_event: queue, check, sleep,
// repeat. A nil timeout channel never fires.
func (wq *WaitQueue) waitEvent(t *Task, cond func() bool, exclusive bool, timeout <-chan time.Time, deadline time.Time) error {
	// Linux's wait_event checks the condition before it prepares to
	// wait: most calls never sleep, and then allocate nothing.
	if cond() {
		return nil
	}
	w := t.getWaiter(exclusive)
	defer func() {
		wq.finishWait(w)
		t.putWaiter(w)
	}()
	timedOut := false
	for {
		// Read before the task's interrupt and the queue: any wake-up
		// or interrupt after that moves it (a kernel sleeper's token).
		seq := t.wakeSeq()
		interrupted := wq.prepareToWait(w, timedOut)
		// The condition wins over a pending interrupt or timeout, as in
		// Linux: an exclusive waiter chosen by a wake-up consumes it.
		if cond() {
			return nil
		}
		if interrupted {
			return ErrRestartSys
		}
		if timedOut {
			return ErrTimedOut
		}
		timedOut = sleepOn(t, seq, w.wake, timeout, deadline)
		// Woken: the condition is checked at once, before queueing
		// again — the waker made it true, as a rule, and a wake-up
		// unqueued w. Only a waiter that finds it false queues again
		// (and checks it again) before it sleeps.
		if !timedOut && cond() {
			return nil
		}
	}
}

// prepareToWait queues w (again, if a wake-up removed it) and reports a
// pending interrupt. A waiter about to give up (interrupted or timed out)
// is taken off the queue instead, before its last condition check, so a
// wake-up that comes after that check goes to another waiter rather than
// being lost on one that leaves. Linux: prepare_to_wait_event.
func (wq *WaitQueue) prepareToWait(w *waiter, leaving bool) (interrupted bool) {
	if w.task != nil {
		interrupted = w.task.setSleeping(w.wake, true)
	}
	wq.mu.Lock()
	switch {
	case interrupted || leaving:
		wq.removeLocked(w)
	case !w.queued:
		wq.addLocked(w)
	}
	wq.mu.Unlock()
	return interrupted
}

// finishWait takes w off the queue and forgets it in its task.
// Linux: finish_wait.
func (wq *WaitQueue) finishWait(w *waiter) {
	if w.task != nil {
		w.task.setSleeping(w.wake, false)
	}
	wq.mu.Lock()
	wq.removeLocked(w)
	wq.mu.Unlock()
}

// wakeUpNr walks the queue from the head, waking and unqueueing each
// waiter, and stops after the nr-th exclusive one (nr <= 0: never).
// Linux: __wake_up_common.
func (wq *WaitQueue) wakeUpNr(nr int) {
	if wq.queued.Load() == 0 {
		return
	}
	wq.mu.Lock()
	for w := wq.head; w != nil; {
		next := w.next
		wq.removeLocked(w)
		kickTask(w.task, w.wake)
		if w.exclusive {
			nr--
			if nr == 0 {
				break
			}
		}
		w = next
	}
	wq.mu.Unlock()
}

// addLocked puts a non-exclusive waiter at the head and an exclusive one at
// the tail. Linux: add_wait_queue, add_wait_queue_exclusive.
func (wq *WaitQueue) addLocked(w *waiter) {
	w.queued = true
	wq.queued.Add(1)
	if w.exclusive {
		w.prev, w.next = wq.tail, nil
		if wq.tail != nil {
			wq.tail.next = w
		} else {
			wq.head = w
		}
		wq.tail = w
		return
	}
	w.prev, w.next = nil, wq.head
	if wq.head != nil {
		wq.head.prev = w
	} else {
		wq.tail = w
	}
	wq.head = w
}

// removeLocked unlinks w if it is queued.
func (wq *WaitQueue) removeLocked(w *waiter) {
	if !w.queued {
		return
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		wq.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		wq.tail = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	wq.queued.Add(-1)
}

// WaitMany sleeps until cond() is true, t is interrupted (ErrRestartSys)
// or timeout passes (ErrTimedOut; a negative timeout never passes),
// woken by a wake-up on any of qs. It is what poll(2) and select(2) do
// with one poll_table entry per file (Linux: do_poll with poll_wait on each
// file's queues).
func WaitMany(t *Task, qs []*WaitQueue, cond func() bool, timeout time.Duration) error {
	wake := make(chan struct{}, 1)
	ws := make([]*waiter, len(qs))
	for i := range qs {
		ws[i] = &waiter{wake: wake, task: t}
	}
	if t != nil {
		defer t.setSleeping(wake, false)
	}
	defer func() {
		for i, q := range qs {
			q.mu.Lock()
			q.removeLocked(ws[i])
			q.mu.Unlock()
		}
	}()
	var timer <-chan time.Time
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		timer = tm.C
	}
	for {
		seq := t.wakeSeq()
		interrupted := false
		if t != nil {
			interrupted = t.setSleeping(wake, true)
		}
		for i, q := range qs {
			q.mu.Lock()
			if !ws[i].queued {
				q.addLocked(ws[i])
			}
			q.mu.Unlock()
		}
		if cond() {
			return nil
		}
		if interrupted {
			return ErrRestartSys
		}
		if sleepOn(t, seq, wake, timer, deadline) {
			if cond() {
				return nil
			}
			return ErrTimedOut
		}
	}
}
