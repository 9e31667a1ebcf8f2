package sched

import (
	"sync"
	"sync/atomic"
)

// Task is an interruptible unit of work: a shell job, a server loop. It
// plays the part of Linux's task_struct for the only things the portable
// code needs from it: a name, an id and a pending-signal flag. Interrupt
// wakes the task wherever it sleeps on a WaitQueue, and the wait returns
// ErrRestartSys, like a signal ending wait_event_interruptible.
//
// Several goroutines may work for one task (a server job and its
// connections); Interrupt wakes every wait any of them is in.
//
// Lock contract: mu guards sleeping, and interrupted's changes together
// with the wake-ups of the waits in sleeping. mu is a leaf lock: nothing
// else is taken while it is held.
type Task struct {
	id   uint64
	name string

	mu          sync.Mutex
	interrupted atomic.Bool       // a "signal" is pending (Linux: signal_pending)
	sleeping    []chan<- struct{} // wake channels of the waits the task is in (rarely more than one)

	ksleep *kernelSleep // set by SleepInKernel: waits are futex waits of the task's thread

	spare atomic.Pointer[waiter] // the waiter of the task's last wait, for its next one
}

// getWaiter returns a waiter for a wait of t: the one its last wait used,
// emptied of a stale wake-up, or a new one (nil t: always new).
func (t *Task) getWaiter(exclusive bool) *waiter {
	if t != nil {
		if w := t.spare.Swap(nil); w != nil {
			// Off every queue and out of t.sleeping: no kick can
			// come any more, so len sees any stale wake-up. (A task
			// that sleeps in the kernel is woken through its word:
			// nothing is ever sent on its waiters' channels.)
			if t.ksleep == nil && len(w.wake) > 0 {
				<-w.wake
			}
			w.exclusive = exclusive
			return w
		}
	}
	return &waiter{wake: make(chan struct{}, 1), exclusive: exclusive, task: t}
}

// putWaiter keeps w, off every queue now, for t's next wait.
func (t *Task) putWaiter(w *waiter) {
	if t != nil {
		t.spare.Store(w)
	}
}

var lastTaskID atomic.Uint64

// NewTask returns a task with a fresh id, not interrupted.
func NewTask(name string) *Task {
	return &Task{id: lastTaskID.Add(1), name: name}
}

// Name is the name given to NewTask.
func (t *Task) Name() string { return t.name }

// ID is unique among the tasks of this process, counting from 1.
func (t *Task) ID() uint64 { return t.id }

// Interrupt marks the task interrupted and wakes it if it sleeps in an
// interruptible wait. The mark stays until ClearInterrupt, so a wait that
// starts later also returns ErrRestartSys at once (Linux: a pending signal).
func (t *Task) Interrupt() {
	if t.ksleep != nil {
		// A task that sleeps in the kernel keeps no list of its waits
		// (setSleeping): its every wait sleeps on its word, and the
		// bump after the mark ends a wait that read the word before
		// the mark (the wait reads the word, then the mark).
		t.interrupted.Store(true)
		t.ksleep.wake()
		return
	}
	t.mu.Lock()
	t.interrupted.Store(true)
	for _, wake := range t.sleeping {
		kickTask(t, wake)
	}
	t.mu.Unlock()
}

// Interrupted reports whether Interrupt was called since the last
// ClearInterrupt.
func (t *Task) Interrupted() bool {
	return t.interrupted.Load()
}

// ClearInterrupt drops a pending interrupt (the shell does this when it
// starts the task's next command).
func (t *Task) ClearInterrupt() {
	t.interrupted.Store(false)
}

// setSleeping records (asleep) or forgets the wake channel of a wait the
// task is in and reports whether an interrupt is pending.
func (t *Task) setSleeping(wake chan<- struct{}, asleep bool) (interrupted bool) {
	if t.ksleep != nil {
		// No list to keep: Interrupt wakes the task's word, whatever
		// it waits for. The caller read the word before this.
		return t.interrupted.Load()
	}
	t.mu.Lock()
	i := 0
	for i < len(t.sleeping) && t.sleeping[i] != wake {
		i++
	}
	switch {
	case asleep && i == len(t.sleeping):
		t.sleeping = append(t.sleeping, wake)
	case !asleep && i < len(t.sleeping):
		t.sleeping[i] = t.sleeping[len(t.sleeping)-1]
		t.sleeping = t.sleeping[:len(t.sleeping)-1]
	}
	interrupted = t.interrupted.Load()
	t.mu.Unlock()
	return interrupted
}

// Kick is kick for goroutines outside sched that wake one another through
// a one-slot channel (a driver's helper goroutine): a task that sleeps in
// the kernel then knows a goroutine waits for the P (ksleep.go).
func Kick(wake chan<- struct{}) { kick(wake) }

// kick makes a pending wake-up on a one-slot wake channel; a second kick
// before the sleeper runs is absorbed, as waking a running task is a no-op.
func kick(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
		goWakes.Add(1)
		noteWake(nil)
	default:
	}
}
