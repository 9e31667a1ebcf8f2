package linux

import (
	"gomenuos/arch/x86"
	"gomenuos/drivers/power"
	"gomenuos/kernel/kprobes"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// Counters for /proc and the exit report.
var Counters struct {
	Syscalls   [nrSyscalls]uint64
	IRQs       [16]uint64
	MSIs       [x86.NumMSI]uint64
	Exceptions [32]uint64
	Signals    uint64
	// UserSyscalls counts SYSCALLs from ring 3 (served by the processes'
	// goroutines; Syscalls counts the runtime's own).
	UserSyscalls uint64
	// FastSyscalls counts those answered in trap context (getppid, ...).
	FastSyscalls uint64
}

// trap is the kernel's single entry from x86.alltraps. It returns the
// frame the exit resumes: tf, or the one a switch, sysRunUser or
// leaveUser chose (sched.Resume).
func trap(tf *x86.TrapFrame) *x86.TrapFrame {
	// Dynamic probes: their INT3s and single steps (kernel/kprobes).
	if kprobes.Trap(tf) {
		return tf
	}
	// A trap inside trap context (a fault there) leaves the choice of
	// the trap it interrupted alone.
	outer := sched.Resume
	sched.Resume = 0
	// Wake-ups goroutine code queued since the last trap come first, so
	// this trap may switch to a thread they woke (docs/processes.md).
	sched.SchedTTWUPending()
	fromUser := tf.CS&3 != 0
	switch v := tf.Vector; {
	case v == x86.VectorSyscall && fromUser:
		Counters.UserSyscalls++
		userTrap(tf)
	case v == x86.VectorSyscall:
		doSyscall(tf)
	case v >= x86.VectorIRQBase && v < x86.VectorIRQBase+16:
		irq(tf, uint8(v-x86.VectorIRQBase))
	case v >= x86.VectorMSIBase && v < x86.VectorMSIBase+x86.NumMSI:
		msi(tf, int(v-x86.VectorMSIBase))
	case v < 32 && fromUser:
		Counters.Exceptions[v]++
		userTrap(tf)
	case v == 14:
		Counters.Exceptions[14]++
		pageFault(tf)
	case v < 32:
		Counters.Exceptions[v]++
		exception(tf)
	default:
		// A vector nobody programmed: ignore it.
	}
	tf = sched.CurrentFrame(tf)
	exitToUser(tf)
	tf = sched.CurrentFrame(tf)
	deliverSignals(tf)
	sched.Resume = outer
	return tf
}

// inKernel reports whether the trapped context was kernel (trap or idle)
// code rather than a Go thread or user code: only those run with the
// kernel TLS.
func inKernel(tf *x86.TrapFrame) bool { return tf.CS&3 == 0 && tf.FSBase == kernelFSBase() }

func pageFault(tf *x86.TrapFrame) {
	addr := uintptr(x86.ReadCR2())
	if x86.UserAccessFault(tf, uint64(addr), resolveUserAccess) {
		return
	}
	write := tf.ErrorCode&2 != 0
	r := mm.HandleFault(addr, write)
	if r == mm.FaultMapped {
		if inKernel(tf) {
			mm.Stats.KernelFaults++
		}
		return
	}
	if r == mm.FaultOOM {
		crash(tf, "out of memory: no free page frame for a demand fault")
	}
	if inKernel(tf) {
		crash(tf, "page fault in kernel context")
	}
	code := int32(segvMapErr)
	if r == mm.FaultProt {
		code = segvAccErr
	}
	// The runtime turns a fault at a small address into a nil-pointer
	// panic (recoverable); anything else becomes its fatal-signal report.
	if !forceSigFault(tf, sigSEGV, code, uint64(addr)) {
		crash(tf, "page fault with no SIGSEGV handler")
	}
}

// resolveUserAccess faults in the user page a direct user copy of the
// address space mm touched (x86.UserAccessFault), as the process's own
// access would: false sends the copy to its slow path.
func resolveUserAccess(m, addr uintptr, errCode uint64) bool {
	return mm.UserFault(m, addr, errCode|mm.FaultErrUser) == mm.FaultMapped
}

// exception handles the other CPU exceptions: a kernel-context one is a
// kernel bug; one in a Go thread is reported, then handed to the runtime as
// the matching signal so it prints a goroutine traceback and exits.
func exception(tf *x86.TrapFrame) {
	if inKernel(tf) || tf.Vector == 8 || tf.Vector == 2 || tf.Vector == 18 {
		crash(tf, "exception in kernel context")
	}
	dumpFrame(tf, "unexpected exception in a Go thread")
	sig := uint32(sigSEGV)
	switch tf.Vector {
	case 6:
		sig = sigILL
	case 0, 16, 19:
		sig = sigFPE
	}
	crashDeadline = monotonicNS() + 3_000_000_000
	if !forceSigFault(tf, sig, 0x80, 0) { // SI_KERNEL
		crash(tf, "no handler for the exception's signal")
	}
}

// crashDeadline bounds how long the runtime may take to report a fatal
// signal before the watchdog powers the machine off.
var crashDeadline int64

func crash(tf *x86.TrapFrame, why string) {
	dumpFrame(tf, why)
	shutdown(0x3f)
}

func dumpFrame(tf *x86.TrapFrame, why string) {
	kputs("\n*** gomenuos: ")
	kputs(why)
	kputs(": ")
	kputs(x86.ExceptionName(tf.Vector))
	kputs(" (vector ")
	kputDec(int64(tf.Vector))
	kputs(")\n")
	reg := func(name string, v uint64) { kputs(name); kputHex(v) }
	reg("error code ", tf.ErrorCode)
	reg("  RIP ", tf.RIP)
	reg("  RSP ", tf.RSP)
	reg("\nCR2 ", x86.ReadCR2())
	reg("  FS base ", tf.FSBase)
	reg("  RFLAGS ", tf.RFLAGS)
	reg("\nRAX ", tf.RAX)
	reg(" RBX ", tf.RBX)
	reg(" RCX ", tf.RCX)
	reg(" RDX ", tf.RDX)
	reg("\nRSI ", tf.RSI)
	reg(" RDI ", tf.RDI)
	reg(" RBP ", tf.RBP)
	reg(" R8  ", tf.R8)
	reg("\nR9  ", tf.R9)
	reg(" R10 ", tf.R10)
	reg(" R11 ", tf.R11)
	reg(" R12 ", tf.R12)
	reg("\nR13 ", tf.R13)
	reg(" R14 ", tf.R14)
	reg(" R15 ", tf.R15)
	reg(" CS  ", tf.CS)
	kputs("\nthread ")
	kputDec(int64(sched.Cur().TID))
	kputs("\n")
}

// shutdown prints the exit report and leaves QEMU with status 2·code+1.
func shutdown(code uint8) {
	kputs("gomenuos: exit ")
	kputDec(int64(code))
	kputs(" after ")
	kputDec(UptimeNS() / 1_000_000)
	kputs(" ms: ")
	kputDec(int64(totalSyscalls()))
	kputs(" syscalls, ")
	kputDec(int64(sched.Stats.Switches))
	kputs(" switches, ")
	kputDec(int64(mm.Stats.PageFaults))
	kputs(" page faults, ")
	kputDec(int64(sched.NumThreads()))
	kputs(" threads\n")
	power.Exit(code)
}

func totalSyscalls() uint64 {
	var n uint64
	for _, c := range Counters.Syscalls {
		n += c
	}
	return n
}

// irqTop holds each legacy line's top half (trap context), set by drivers
// through RegisterIRQ; irqFD the eventfd that wakes the line's goroutine.
var (
	irqTop [16]func()
	irqFD  [16]int32
)

func irq(tf *x86.TrapFrame, line uint8) {
	Counters.IRQs[line]++
	now := monotonicNS()
	if line == 0 {
		clock.jiffies++
		x86.EOI(0)
		if crashDeadline != 0 && now > crashDeadline {
			kputs("gomenuos: the runtime did not report the fault in time\n")
			shutdown(0x3e)
		}
		runPosixCPUTimers(now)
		sched.Tick(tf, now)
		return
	}
	if f := irqTop[line]; f != nil {
		f()
	}
	if fd := irqFD[line]; fd > 0 {
		eventfdSignal(int(fd), 1)
		sched.NoteDeviceIRQ()
	}
	x86.EOI(line)
	sched.Reschedule(tf, now)
}

// msiFD holds the eventfd each MSI vector wakes.
var msiFD [x86.NumMSI]int32

// msiWakeDriver wakes the driver goroutine of MSI slot idx through its
// eventfd: for an interrupt no user task takes, and for a bottom half
// none ran (sched.SoftirqFallback). Trap context.
func msiWakeDriver(idx int) {
	if idx < len(msiFD) && msiFD[idx] > 0 {
		eventfdSignal(int(msiFD[idx]), 1)
		sched.NoteDeviceIRQ()
	}
}

// msi handles a message-signalled interrupt: edge-triggered and owned by
// one device, so there is nothing to mask — signal its eventfd and
// acknowledge the local APIC.
func msi(tf *x86.TrapFrame, idx int) {
	Counters.MSIs[idx]++
	// A user task runs the device's bottom half itself if it has one
	// (sched/softirq.go); otherwise the driver's goroutine is woken.
	if !sched.RaiseSoftirq(idx) {
		msiWakeDriver(idx)
	}
	x86.LAPICEOI()
	sched.Reschedule(tf, monotonicNS())
}
