package linux

// Entering and leaving user mode (Linux: the return-to-user half of
// entry_64.S, and exit_to_user_mode_loop). Trap context.
//
// A user thread is served by a goroutine locked to one kernel thread. The
// goroutine enters ring 3 with the SysRunUser syscall: its own frame is
// parked in the thread's UserContext and the user's registers take its
// place, so the trap exit's IRETQ lands in user code. When user code traps
// back, the trap handler either deals with it here (a demand-zero or
// copy-on-write fault, an interrupt) and returns to user code, or swaps
// the frames back (a system call, a fault it cannot resolve, an exception,
// a pending kick): SysRunUser then returns in the goroutine, which reads
// why from UserContext.Regs.Vector and serves it as ordinary Go code.

import (
	"unsafe"

	"gomenuos/arch/x86"
	"gomenuos/kernel/kprobes"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// gomenuos syscalls for the goroutines that serve user threads.
const (
	// SysRunUser enters user mode with the registers of the
	// sched.UserContext at a[0]; it returns 0 when the thread comes back
	// (Regs.Vector says why), or -EINVAL for registers that cannot be
	// loaded (the caller delivers SIGSEGV).
	SysRunUser = 1003
	// SysKick makes the thread with TID a[0] leave user mode at once.
	SysKick = 1004
	// SysDropRoot retires the page-table root a[0] before it is freed.
	SysDropRoot = 1005
)

// Bits of RFLAGS user code may set (CF PF AF ZF SF TF DF OF AC ID and
// the always-one bit): never IOPL, NT, VM or IF's absence.
const userRFLAGS = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | x86.FlagTF | x86.FlagDF | 0x800 | x86.FlagAC | 1<<21

// canonical reports whether a is a canonical address.
func canonical(a uint64) bool { return a < x86.UserEnd || a >= 0xffff800000000000 }

func sysRunUser(c call) int64 {
	t := sched.Cur()
	u := (*sched.UserContext)(ptr(c.a[0]))
	if t.Kick || t.Softirqs && sched.SoftirqPending() {
		// Something came up since the goroutine last looked: a kick,
		// or a bottom half raised on its way here (sched.RaiseSoftirq).
		t.Kick = false
		u.Regs.Vector = sched.VectorKick
		return 0
	}
	r := &u.Regs
	if r.RIP >= x86.UserEnd || !canonical(r.RSP) || !canonical(r.FSBase) || !canonical(u.GSBase) {
		return -eINVAL
	}
	r.CS, r.SS = x86.UserCS, x86.UserDS
	r.RFLAGS = r.RFLAGS&userRFLAGS | x86.FlagIF | 2
	*(*uint32)(ptr(uintptr(ptrOf(&r.FX[24])))) &= 0xFFFF // MXCSR: reserved bits fault FXRSTOR
	if c.a[0]&15 == 0 {
		// The usual case: nothing is copied. The goroutine's frame stays
		// where its SYSCALL built it, at the top of the thread's kernel
		// stack, and the stack top moves below it, so the thread's traps
		// from ring 3 land under it; the exit resumes the user's
		// registers straight from r, and its FPU state stays in r.FX
		// (the UserContext's first bytes): a system call saves it there
		// again (PerCPU.UserFX). leaveUser undoes this.
		r.FXFlags = uint64(c.a[0]) | x86.FXElsewhere
		x86.BootCPU.PerCPU.UserFX = uint64(c.a[0])
		u.KernelFrame = uintptr(unsafe.Pointer(c.tf))
		sched.SetKernelStackTop(uint64(u.KernelFrame))
		sched.Resume = uintptr(unsafe.Pointer(r))
	} else {
		// A context the FXRSTOR could not load in place: swap copies.
		x86.CopyFrame(&u.Kernel, c.tf) // FXNone: the registers only
		u.KernelFrame = 0
		*c.tf = *r
		c.tf.FXFlags = 0
		x86.BootCPU.PerCPU.UserFX = 0
	}
	t.User = c.a[0]
	sched.SetRoot(u.CR3)
	sched.SetUserGS(u.GSBase)
	return noReturnVal
}

// runUser serves SysRunUser straight from the SYSCALL entry
// (x86.SetRunUserHandler), without trap's general dispatch: the queued
// wake-ups first, as every trap does (they only make threads runnable),
// then sysRunUser. With a CPU timer armed (doSyscall's
// runSyscallCPUTimers) or a probe set (kprobes.Trap) it is trap's. A
// goroutine's SysRunUser is never a nested trap, so no other trap's
// Resume is pending. Trap context.
func runUser(tf *x86.TrapFrame) *x86.TrapFrame {
	if armed != 0 || kprobes.Active() {
		return trap(tf) // CPU timers to run, or a probed SYSCALL stepped out of line
	}
	sched.SchedTTWUPending()
	Counters.Syscalls[SysRunUser]++
	if r := sysRunUser(call{tf: tf, a: [6]uintptr{uintptr(tf.RDI)}}); r != noReturnVal {
		// Not entered (a kick, bad registers): the goroutine resumes,
		// and a signal for its thread may be due.
		tf.RAX = uint64(r)
		deliverSignals(tf)
		return tf
	}
	tf = sched.CurrentFrame(tf) // the user's registers
	sched.Resume = 0
	return tf
}

// userSyscall serves a system call from ring 3 straight from the entry
// (x86.SetUserSyscallHandler), without trap's general dispatch: the
// queued wake-ups first, as every trap does, then the thread leaves user
// mode for its goroutine to serve the call, whose frame may have a signal
// due. The calls trap context answers itself (clock_gettime, the
// identities when the fast handler could not) are trap's. A trap from
// ring 3 is never nested, so no other trap's Resume is pending; probes
// never handle one (kprobes.Trap). Trap context.
func userSyscall(tf *x86.TrapFrame) *x86.TrapFrame {
	if tf.RAX == 228 || identityNR(tf.RAX) || sched.Cur().User == 0 {
		return trap(tf)
	}
	sched.SchedTTWUPending()
	Counters.UserSyscalls++
	k := leaveUser(tf)
	deliverSignals(k)
	return k
}

// leaveUser parks the user's registers in its UserContext and returns the
// frame that resumes the goroutine at its SysRunUser, which returns 0: the
// one sysRunUser left on the kernel stack (the stack top goes back above
// it), or tf with the copy in Kernel.
func leaveUser(tf *x86.TrapFrame) *x86.TrapFrame {
	t := sched.Cur()
	u := (*sched.UserContext)(ptr(t.User))
	x86.CopyFrame(&u.Regs, tf) // FXElsewhere: the FPU state is in u.Regs.FX already
	x86.BootCPU.PerCPU.UserFX = 0
	t.User = 0
	t.Kick = false
	if u.KernelFrame != 0 {
		k := (*x86.TrapFrame)(ptr(u.KernelFrame))
		sched.SetKernelStackTop(uint64(u.KernelFrame) + uint64(unsafe.Sizeof(*k)))
		u.KernelFrame = 0
		k.RAX = 0
		return k
	}
	x86.CopyFrame(tf, &u.Kernel)
	tf.RAX = 0
	return tf
}

// userTrap handles the traps that come from ring 3 and are not
// interrupts: a system call or an exception. It resolves what it can in
// trap context; everything else goes to the goroutine.
func userTrap(tf *x86.TrapFrame) {
	t := sched.Cur()
	if t.User == 0 {
		crash(tf, "trap from ring 3 on a thread with no user context")
	}
	if tf.Vector == x86.VectorSyscall && (tf.RAX == 228 || identityNR(tf.RAX)) &&
		fastSyscall(tf, (*sched.UserContext)(ptr(t.User))) {
		return
	}
	if tf.Vector == 14 {
		u := (*sched.UserContext)(ptr(t.User))
		addr := x86.ReadCR2()
		u.CR2 = addr
		if mm.UserFault(uintptr(u.MM), uintptr(addr), tf.ErrorCode) == mm.FaultMapped {
			return
		}
	}
	sched.Resume = uintptr(unsafe.Pointer(leaveUser(tf)))
}

// exitToUser runs last on every trap exit: a thread about to return to
// ring 3 that was kicked goes to its goroutine instead (Linux:
// exit_to_user_mode_loop seeing _TIF_SIGPENDING).
func exitToUser(tf *x86.TrapFrame) {
	if tf.CS&3 != 0 && sched.Cur().Kick {
		sched.Resume = uintptr(unsafe.Pointer(leaveUser(tf)))
	}
}

func sysKick(tid int32) int64 {
	t := sched.ByTID(tid)
	if t == nil {
		return -3 // ESRCH
	}
	t.Kick = true
	return 0
}

func sysDropRoot(root uint64) int64 {
	sched.DropRoot(root)
	return 0
}

// userFastSyscall answers, before the entry saves the user's FPU state,
// the system calls whose answer the thread's context already holds: the
// identities the process code keeps there. It runs with the user's SSE
// registers live, so it is integer code only (see
// x86.SetFastSyscallHandler); anything else goes on to trap's path.
func userFastSyscall(tf *x86.TrapFrame) bool {
	t := sched.Cur() // the entry calls this only for identityNRs
	if t.User == 0 || t.Kick {
		return false
	}
	u := (*sched.UserContext)(ptr(t.User))
	if u.Slow || !identitySyscall(tf, u) {
		return false
	}
	Counters.UserSyscalls++
	Counters.FastSyscalls++
	return true
}

// identityNRs are identitySyscall's calls: getpid, getppid, gettid,
// getuid, getgid, geteuid, getegid.
var identityNRs = [...]uint64{39, 110, 186, 102, 104, 107, 108}

// identityNR reports whether nr is one of identitySyscall's calls.
func identityNR(nr uint64) bool {
	switch nr {
	case 39, 110, 186, 102, 104, 107, 108:
		return true
	}
	return false
}

// identitySyscall sets tf.RAX for getpid, getppid, gettid and the
// user and group IDs.
func identitySyscall(tf *x86.TrapFrame, u *sched.UserContext) bool {
	switch tf.RAX {
	case 39: // getpid
		tf.RAX = uint64(u.PID)
	case 110: // getppid
		tf.RAX = uint64(u.PPID)
	case 186: // gettid
		tf.RAX = uint64(u.TID)
	case 102, 104, 107, 108: // getuid, getgid, geteuid, getegid: everyone is root
		tf.RAX = 0
	default:
		return false
	}
	return true
}

// fastSyscall answers in trap context, with the FPU state saved, the
// system calls that need nothing the goroutine has: the identities (when
// userFastSyscall could not: a kick was pending) and the clocks (Linux
// serves these from the same entry path; there is just no goroutine to
// wake here). It reports false to leave the call to the goroutine: any
// other number, or a user pointer the trap handler cannot write through now.
func fastSyscall(tf *x86.TrapFrame, u *sched.UserContext) bool {
	if u.Slow || (tf.RAX != 228 && !identityNR(tf.RAX)) {
		return false
	}
	if tf.RAX == 228 { // clock_gettime
		return fastClockGettime(tf, u)
	}
	if !identitySyscall(tf, u) {
		return false
	}
	Counters.FastSyscalls++
	return true
}

func fastClockGettime(tf *x86.TrapFrame, u *sched.UserContext) bool {
	var ns int64
	switch tf.RDI {
	case 0, 5, 8, 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
		ns = realtimeNS()
	case 1, 4, 6, 7, 9: // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM)
		ns = monotonicNS()
	default:
		return false
	}
	var ts [2]uint64
	ts[0], ts[1] = uint64(ns/1_000_000_000), uint64(ns%1_000_000_000)
	if !mm.TrapCopyToUser(uintptr(u.MM), uintptr(tf.RSI), unsafe.Pointer(&ts), 16) {
		return false
	}
	tf.RAX = 0
	Counters.FastSyscalls++
	return true
}
