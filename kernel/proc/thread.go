package proc

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"gomenuos/arch/x86"
	"gomenuos/kernel/linux"
	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// Thread is one user thread (Linux: task_struct). Its goroutine is the
// only one that touches ctx, mask and the fields marked "goroutine".
type Thread struct {
	TID  int
	Proc *Process

	ctx  *sched.UserContext
	task *sched.Task // interruptible waits end when a signal is pending

	ktid     atomic.Int32 // the kernel thread serving it, for kicks
	running  atomic.Bool  // in user mode or serving a syscall (not asleep)
	origRAX  uint64       // goroutine: the syscall number of the call being served
	clearTID uintptr      // goroutine: CLONE_CHILD_CLEARTID / set_tid_address
	robust   uintptr      // set_robust_list head (recorded, not walked)

	sigMu   sigLock    // guards mask, pending, altstack against senders
	mask    uint64     // blocked signals
	pending sigPending // thread-directed pending signals
	altSP   uintptr
	altSize uintptr
	altOff  bool // SS_DISABLE

	sigSeen     uint32 // goroutine: sigMu.gen after dequeueSignal's last look
	sigQuiet    bool   // goroutine: that look found nothing deliverable ...
	sigQuietGen uint32 // goroutine: ... at this sigMu.gen
	savedMask   uint64 // goroutine: the mask rt_sigsuspend replaced
	restoreMask bool   // goroutine: put savedMask back after the handler (Linux: TIF_RESTORE_SIGMASK)

	exitNow atomic.Bool // leave at the next chance (exit_group, fatal signal)
	scratch []byte      // goroutine: reused I/O buffer (see buffer)
}

// newThread returns a thread of p with registers regs; the caller adds it
// to p.threads and starts it.
func newThread(p *Process, tid int, regs *x86.TrapFrame) *Thread {
	t := &Thread{TID: tid, Proc: p, ctx: &sched.UserContext{PID: int32(p.PID), TID: int32(tid)}, task: newUserTask(p.comm)}
	if p.parent != nil {
		t.ctx.PPID = int32(p.parent.PID)
	}
	if regs != nil {
		t.ctx.Regs = *regs
	}
	t.altOff = true
	return t
}

// newUserTask is a user thread's task: its waits sleep as the thread's own
// futex waits, so a wake-up makes the kernel switch straight to it.
func newUserTask(name string) *sched.Task {
	t := sched.NewTask(name)
	t.SleepInKernel()
	return t
}

// start runs the thread's goroutine (Linux: wake_up_new_task).
func (t *Thread) start() {
	sched.WakeUpNewTask()
	go t.run()
}

// run is the thread's life: enter user mode, serve what brought it back,
// repeat, until it exits (Linux: the return-to-user loop of every syscall
// and interrupt, seen from the other side).
func (t *Thread) run() {
	runtime.LockOSThread()
	sched.NewTaskRunning()
	trace.SetTask(t.Proc.Comm(), uint64(t.TID)) // what traces call this goroutine (docs/tracing.md)
	t.ktid.Store(int32(syscall.Gettid()))
	t.running.Store(true)
	sched.SetUserTask(true)
	for !t.exitNow.Load() {
		t.archDoSignalOrRestart()
		if t.exitNow.Load() {
			break
		}
		if err := t.enterUser(); err != 0 {
			t.forceSigFault(sigSEGV, siKernel, 0) // registers that cannot be loaded
			continue
		}
		t.handleExit()
		t.task.Softirqs() // raised while it ran (a kick out of user mode, or during a call)
	}
	sched.SetUserTask(false)
	t.task.Softirqs()
	t.doExit()
	t.ktid.Store(0)
	if spareThreads() > maxSpareThreads {
		return // still locked: the runtime ends the kernel thread with us
	}
	runtime.UnlockOSThread()
}

// maxSpareThreads is how many kernel threads may wait idle for the next
// process: the runtime keeps an M it gets back forever, so after a burst
// of processes (a fork bomb) the extra ones are let go with their
// goroutine instead.
const maxSpareThreads = 8

func spareThreads() int {
	table.mu.Lock()
	users := table.nthreads
	table.mu.Unlock()
	return linux.NumThreads() - users - runtimeThreads
}

// runtimeThreads is about how many Ms the runtime itself uses at rest.
const runtimeThreads = 6

// enterUser runs the thread in ring 3 until it comes back. From the
// runtime's point of view the goroutine is in a system call meanwhile,
// so its P serves other goroutines.
func (t *Thread) enterUser() syscall.Errno {
	m := t.Proc.MM()
	t.ctx.MM = uintptr(unsafe.Pointer(m))
	t.ctx.CR3 = uint64(m.Root)
	t.ctx.Slow = Strace.Load()
	_, _, e := syscall.Syscall(linux.SysRunUser, uintptr(unsafe.Pointer(t.ctx)), 0, 0)
	return e
}

// handleExit serves why the thread left user mode.
func (t *Thread) handleExit() {
	switch v := t.ctx.Regs.Vector; {
	case v == x86.VectorSyscall:
		t.doSyscall64()
	case v == 14:
		t.pageFault()
	case v < 32:
		t.exception(int(v))
	default:
		// An interrupt or a kick: look for signals and go back.
	}
}

// kick makes the thread notice a signal or an exit: it leaves user mode at
// once, and an interruptible wait it sleeps in ends.
func (t *Thread) kick() {
	t.sigMu.gen.Add(1) // the return to user mode must look (archDoSignalOrRestart)
	t.task.Interrupt()
	if k := t.ktid.Load(); k != 0 {
		syscall.RawSyscall(linux.SysKick, uintptr(k), 0, 0)
	}
}

// Task is the thread's task, for the VFS's interruptible waits.
func (t *Thread) Task() *sched.Task { return t.task }
