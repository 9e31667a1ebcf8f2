package sched

// Scheduling decisions and the context switch. Trap context only.

import (
	"unsafe"

	"gomenuos/arch/x86"
	"gomenuos/sched/trace"
)

// SliceNS is the time slice after which the timer tick preempts a thread.
const SliceNS = 10_000_000

// switchTo saves the interrupted context in tf into prev and loads next's
// into tf, so the trap exit path (IRETQ) resumes next: registers and stack,
// FPU/SSE state (the frame's FXSAVE image), FS base (the thread's TLS) and
// the kernel stack for its next SYSCALL (TSS.RSP0). Linux: switch_to /
// __switch_to.
func switchTo(prev, next int, tf *x86.TrapFrame, now int64) {
	if prev == next {
		return
	}
	p, n := &Table[prev], &Table[next]
	cur := CurrentFrame(tf)
	trace.SchedSwitch(p.TID, n.TID, uint8(p.State), cur.FSBase, n.Frame.FSBase, n.KStackTop)
	x86.CopyFrame(&p.Frame, cur)
	p.CPUTime += now - p.SliceStart
	resumeFrame(tf, &n.Frame)
	n.State = Running
	n.SliceStart = now
	n.Switches++
	Current = next
	x86.BootCPU.SetKernelStack(n.KStackTop)
	x86.BootCPU.PerCPU.Current = uint64(n.TID)
	x86.BootCPU.PerCPU.UserFX = userFX(n)
	x86.BootCPU.PerCPU.UserCR3 = n.CR3
	switchMM(n)
	Stats.Switches++
}

// Resume, when not 0, is the address of the frame the running trap's exit
// resumes instead of its own (see x86.SetTrapHandler): a switched-to
// thread's saved frame, resumed where it is, or the frames of a thread
// entering or leaving user mode (kernel/linux/usermode.go). An integer:
// trap context stores no Go pointers. Trap context.
var Resume uintptr

// CurrentFrame returns the context the running trap will resume, given
// its own frame tf: whatever switches and user-mode changes left there.
func CurrentFrame(tf *x86.TrapFrame) *x86.TrapFrame {
	if Resume != 0 {
		return (*x86.TrapFrame)(x86.VirtPointer(Resume))
	}
	return tf
}

// resumeFrame makes the trap resume the saved context next: in place when
// its FX area holds no image (FXNone, FXElsewhere: nothing is loaded from
// the frame's own FX area, whose alignment a Thread does not promise),
// else copied into tf, the trap's own frame.
func resumeFrame(tf, next *x86.TrapFrame) {
	if next.FXFlags&(x86.FXNone|x86.FXElsewhere) != 0 {
		Resume = uintptr(unsafe.Pointer(next))
		return
	}
	x86.CopyFrame(tf, next)
	Resume = 0
}

// userFX is where a system call of n from ring 3 saves the user's FPU
// state: its UserContext's Regs.FX (the context's first bytes) while n
// runs user code, else nowhere (0: in the trap frame).
func userFX(n *Thread) uint64 {
	if n.User&15 != 0 {
		return 0
	}
	return uint64(n.User)
}

// loadedGS caches MSR_KERNEL_GS_BASE: the user GS of the last user thread
// that ran (0 at boot, as the CPU starts).
var loadedGS uint64

// switchMM gives the CPU the address space and GS base of a thread
// that runs user code (Linux: switch_mm_irqs_off, and the FS/GS part of
// __switch_to): the CPU root's user half mirrors the thread's tree, with no
// CR3 write (arch/x86/tlb.go). Kernel-only threads keep whatever tree is
// mirrored: the kernel's half is the same in all (Linux: lazy TLB).
func switchMM(n *Thread) {
	if n.CR3 != 0 && uintptr(n.CR3) != x86.MirroredRoot() {
		x86.SwitchUserRoot(uintptr(n.CR3))
		Stats.MMSwitches++
	}
	if n.CR3 != 0 && n.UserGS != loadedGS {
		x86.Wrmsr(x86.MSRKernelGSBase, n.UserGS)
		loadedGS = n.UserGS
	}
}

// SetUserGS changes the running thread's user GS base (arch_prctl).
func SetUserGS(v uint64) {
	Table[Current].UserGS = v
	if v != loadedGS {
		x86.Wrmsr(x86.MSRKernelGSBase, v)
		loadedGS = v
	}
}

// DropRoot makes sure no thread and no CPU uses the page-table tree at
// root any more, before it is freed: threads that ran it forget it, and the
// CPU root stops mirroring it (Linux: the lazy-TLB mm switch in
// exit_mmap's callers).
func DropRoot(root uint64) {
	for i := range Table {
		if Table[i].CR3 == root {
			Table[i].CR3 = 0
		}
	}
	x86.BootCPU.PerCPU.UserCR3 = Table[Current].CR3
	x86.DropUserRoot(uintptr(root))
}

// SetKernelStackTop moves the running thread's kernel stack top (where
// its traps from ring 3 and its SYSCALLs land): below the goroutine frame
// a thread entering user mode parks there, and back.
func SetKernelStackTop(top uint64) {
	Table[Current].KStackTop = top
	x86.BootCPU.SetKernelStack(top)
}

// SetRoot makes root the running thread's page-table tree and mirrors it
// in the CPU root.
func SetRoot(root uint64) {
	if Table[Current].CR3 == root {
		return // loaded: a running thread's non-zero CR3 is the CPU's (switchMM, DropRoot)
	}
	Table[Current].CR3 = root
	x86.BootCPU.PerCPU.UserCR3 = root
	x86.SwitchUserRoot(uintptr(root))
}

// schedule picks the next thread for the CPU after the current one has
// blocked, exited or been requeued (Linux: __schedule).
func schedule(tf *x86.TrapFrame, now int64) {
	next := dequeue()
	if next < 0 {
		next = 0 // idle
	}
	switchTo(Current, next, tf, now)
}

// Block puts the running thread to sleep on w and runs another. The
// thread resumes when Wake (or its deadline) writes the syscall result.
func Block(tf *x86.TrapFrame, w Wait, now int64) {
	t := &Table[Current]
	t.State = Blocked
	t.Wait = w
	schedule(tf, now)
}

// Wake makes a blocked thread runnable with rax as its syscall result
// (Linux: try_to_wake_up).
func Wake(t *Thread, rax int64) {
	if t.State != Blocked {
		return
	}
	wakeSlot(t.index(), rax)
}

// wakeSlot is Wake for the blocked thread in Table[i].
func wakeSlot(i int, rax int64) {
	t := &Table[i]
	t.Frame.RAX = uint64(rax)
	t.Wait = Wait{}
	t.State = Runnable
	trace.SchedWakeup(t.TID, t.Frame.FSBase)
	enqueue(i)
}

func (t *Thread) index() int {
	for i := range Table {
		if &Table[i] == t {
			return i
		}
	}
	return -1
}

// Yield requeues the running thread behind the others (sched_yield).
func Yield(tf *x86.TrapFrame, now int64) {
	if RunqLen() == 0 {
		return
	}
	t := &Table[Current]
	if Current != 0 {
		t.State = Runnable
		enqueue(Current)
	}
	schedule(tf, now)
}

// Exit ends the running thread; its slot is reused by a later Clone. The
// thread's stack is not touched again.
func Exit(tf *x86.TrapFrame, now int64) {
	t := &Table[Current]
	t.State = Free
	Stats.Exits++
	next := dequeue()
	if next < 0 {
		next = 0
	}
	n := &Table[next]
	trace.SchedSwitch(t.TID, n.TID, uint8(Free), CurrentFrame(tf).FSBase, n.Frame.FSBase, n.KStackTop)
	resumeFrame(tf, &n.Frame)
	n.State = Running
	n.SliceStart = now
	Current = next
	x86.BootCPU.SetKernelStack(n.KStackTop)
	x86.BootCPU.PerCPU.Current = uint64(n.TID)
	x86.BootCPU.PerCPU.UserFX = userFX(n)
	x86.BootCPU.PerCPU.UserCR3 = n.CR3
	switchMM(n)
	Stats.Switches++
}

// Tick runs on every timer interrupt: it wakes threads whose deadline has
// passed and preempts the running thread when its slice is used up or it
// is the idle thread and work arrived.
func Tick(tf *x86.TrapFrame, now int64) {
	for i := 1; i < MaxThreads; i++ {
		t := &Table[i]
		if t.State == Blocked && t.Wait.Deadline != 0 && now >= t.Wait.Deadline {
			Wake(t, t.Wait.TimeoutResult)
		}
	}
	softirqTick(now)
	Reschedule(tf, now)
}

// Reschedule lets a runnable thread take the CPU from the idle thread, or
// from a thread whose slice is over.
func Reschedule(tf *x86.TrapFrame, now int64) {
	if RunqLen() == 0 {
		return
	}
	if Current == 0 {
		schedule(tf, now)
		return
	}
	if now-Table[Current].SliceStart >= SliceNS {
		Stats.Preemptions++
		Table[Current].State = Runnable
		enqueue(Current)
		schedule(tf, now)
	}
}
