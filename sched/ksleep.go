package sched

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Sleeping in the kernel. A task's waits normally park its goroutine on
// a channel; the Go scheduler then hands the CPU to another goroutine. A
// user thread's goroutine is locked to its kernel thread, so a park there
// costs a relay of Go's scheduler through other threads before the woken
// thread runs. A task marked with SleepInKernel instead sleeps as a
// blocking system call: a futex wait on a word of its own, which the
// kernel serves by blocking the thread in its own scheduler (Linux: a
// task in TASK_INTERRUPTIBLE); a waker bumps the word and queues a wake-up
// of the sleeper's thread for the scheduler's next entry (wakelist.go),
// and the sleeper's thread runs next, as Linux's would.

// kernelSleep is the word a task sleeps on.
type kernelSleep struct {
	word      atomic.Uint32
	slot      atomic.Int32 // the thread slot (Table index) it last slept on; 0: never slept
	wakesSeen uint32       // goWakes when goroutines last had the P while the task slept
}

// What may need the P while a task sleeps: device interrupts whose
// goroutine has not yet taken them (deviceIRQs counts those signalled
// to an eventfd, irqsTaken what the goroutines' reads returned), and
// goroutines readied by kick (goWakes).
var (
	deviceIRQs, irqsTaken atomic.Uint64
	goWakes               atomic.Uint32
)

// NoteDeviceIRQ counts a device interrupt signalled to the eventfd its
// goroutine reads. Trap context.
func NoteDeviceIRQ() { deviceIRQs.Add(1) }

// NoteIRQsTaken counts n interrupts a goroutine took from its eventfd.
func NoteIRQsTaken(n uint64) { irqsTaken.Add(n) }

// goroutinesWaiting reports whether goroutines may wait for the P: an
// interrupt's goroutine not yet run, a new task's, or one readied since
// the P was last free while the task slept (wakesSeen).
func (k *kernelSleep) goroutinesWaiting() bool {
	return deviceIRQs.Load() != irqsTaken.Load() || newTasks.Load() > 0 || goWakes.Load() != k.wakesSeen
}

// futexWaitPrivate is FUTEX_WAIT|FUTEX_PRIVATE_FLAG (private to the
// process: the kernel and its Go runtime are one address space).
const futexWaitPrivate = 128

// newTasks counts goroutines of new tasks that were started (WakeUpNewTask)
// and have not run yet (NewTaskRunning).
var newTasks atomic.Int32

// WakeUpNewTask notes that the goroutine of a new task is about to start
// (Linux: wake_up_new_task, which puts the child on the run queue). That
// goroutine can run only on a P, so until it runs (NewTaskRunning), a
// task that sleeps in the kernel hands its P over rather than keep it:
// fork's parent sleeping in wait4 lets the child start at once, instead
// of after the runtime's sysmon has seen the P in a system call twice
// (two of its 20 µs sleeps, each a timer tick here).
func WakeUpNewTask() { newTasks.Add(1) }

// NewTaskRunning: the goroutine that WakeUpNewTask announced runs.
func NewTaskRunning() { newTasks.Add(-1) }

// SleepInKernel makes t's waits futex waits of its own thread. Call it
// before the task first waits.
func (t *Task) SleepInKernel() { t.ksleep = &kernelSleep{wakesSeen: goWakes.Load()} }

// wake makes the sleeper's next or current futex wait return: the bumped
// word ends a wait that has not blocked yet, and a queued wake-up
// (ttwuQueue) one that has, at the scheduler's next entry, without a
// system call of the waker's own. A task that never slept has no sleeper
// to wake.
func (k *kernelSleep) wake() {
	noteWake(k)
	k.word.Add(1)
	if s := k.slot.Load(); s > 0 {
		ttwuQueue(int(s), uintptr(unsafe.Pointer(&k.word)))
	}
}

// sleep blocks until the word moves from seq, the value the caller read
// before it queued itself and checked its condition (true), or the
// deadline passes (false; the zero deadline never passes). The word is
// the wake-up token: every wake-up and every interrupt of the task bumps
// it, so one that comes after seq was read makes the wait return at once.
func (k *kernelSleep) sleep(seq uint32, deadline time.Time) bool {
	// The slot is recorded before the word is read: a waker that still
	// sees no slot bumped the word first, and the wait below returns at
	// once. Current is this goroutine's thread while it runs (one CPU).
	k.slot.Store(int32(Current))
	k.softirqs() // raised while the task ran in the kernel
	for k.word.Load() == seq {
		var ts *syscall.Timespec
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return false
			}
			t := syscall.NsecToTimespec(int64(d))
			ts = &t
		}
		// Goroutines that wait to run (a device's driver and the stack
		// above it, a new task, a kernel task this one woke) get the P
		// while the task sleeps; they have run when it comes back, as
		// the runtime hands a P to the woken thread once they are done.
		// Otherwise the task keeps the P: it waits for another task,
		// which takes the P the sleeper keeps on its way back from its
		// own system call — the quicker switch — or for a device whose
		// bottom half it then runs itself (softirq.go).
		if k.goroutinesWaiting() {
			// Interrupts now go to the drivers' goroutines, which get
			// the P; those raised on this thread before run first.
			ServeSoftirqs(false)
			k.softirqs()
			futexWaitBlocking(&k.word, seq, ts)
			ServeSoftirqs(true)
			k.wakesSeen = goWakes.Load()
			continue
		}
		// The softirq host: a bottom half raised from here on bumps the
		// word, so the wait returns; one raised before (on this thread)
		// must not be slept on.
		softirq.host.Store(k)
		if softirq.pending.Load() == 0 {
			syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&k.word)), futexWaitPrivate, uintptr(seq),
				uintptr(unsafe.Pointer(ts)), 0, 0)
		}
		softirq.host.CompareAndSwap(k, nil)
		k.softirqs()
	}
	k.softirqs() // raised after the wait ended, before the host left
	return true
}

// softirqs runs the bottom halves raised on k; if they woke a goroutine
// or another task, k lets them have the P before it goes on.
func (k *kernelSleep) softirqs() {
	if k.runSoftirqs() {
		// The goroutines run on this thread's P meanwhile: interrupts
		// then go to the drivers' goroutines.
		t := &Table[Current]
		serving := t.Softirqs
		t.Softirqs = false
		runtime.Gosched()
		Table[Current].Softirqs = serving
		k.wakesSeen = goWakes.Load()
	}
}

// The Go runtime's own entry and exit of a system call that blocks
// (exported to packages that run goroutines on threads of their own,
// such as gVisor's, for exactly this).
//
//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// futexWaitBlocking waits on addr as a system call that blocks: the
// thread hands its P over before it sleeps (Go's entersyscallblock, not
// the entersyscall of syscall.Syscall, which keeps the P for a quick
// return). The P is then free for the goroutines a sleeping user thread
// would otherwise hold up until sysmon retook it — a driver's receive
// path, timers, the loopback's goroutine — and a woken thread takes any
// idle P on its way back.
//
//go:nosplit
func futexWaitBlocking(addr *atomic.Uint32, val uint32, ts *syscall.Timespec) {
	entersyscallblock()
	syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
	exitsyscall()
}

// kickTask wakes a waiter of t: a bump of its word (and its thread) if t
// sleeps in the kernel, a pending wake-up on the waiter's channel
// otherwise.
func kickTask(t *Task, wake chan<- struct{}) {
	if t != nil && t.ksleep != nil {
		t.ksleep.wake()
		return
	}
	kick(wake)
}

// wakeSeq is what a wait of t reads before it queues itself and checks its
// condition, for sleepOn: the word of a task that sleeps in the kernel (0
// for others, whose wake-ups wait on the channel).
func (t *Task) wakeSeq() uint32 {
	if t != nil && t.ksleep != nil {
		return t.ksleep.word.Load()
	}
	return 0
}

// sleepOn waits for a wake-up of w or a timeout: through the kernel for a
// task that sleeps there (a wake-up since seq, from wakeSeq, was read), on
// the channels otherwise. It reports whether the timeout passed.
func sleepOn(t *Task, seq uint32, wake <-chan struct{}, timeout <-chan time.Time, deadline time.Time) (timedOut bool) {
	if t != nil && t.ksleep != nil {
		return !t.ksleep.sleep(seq, deadline)
	}
	select {
	case <-wake:
		return false
	case <-timeout:
		return true
	}
}
