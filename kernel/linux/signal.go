package linux

// Signal delivery the way Linux does it for x86-64, because the Go
// runtime depends on it: SIGURG (sent with tgkill) drives asynchronous
// preemption, and SIGSEGV from a fault turns a nil dereference into a
// recoverable panic. The frame is Linux's rt_sigframe: return address
// (sa_restorer), ucontext (with the sigcontext the runtime edits), siginfo,
// and an FXSAVE image.

import (
	"gomenuos/arch/x86"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// Signal numbers.
const (
	sigILL  = 4
	sigABRT = 6
	sigFPE  = 8
	sigKILL = 9
	sigSEGV = 11
	sigURG  = 23
	nSig    = 64
)

// si_code values.
const (
	segvMapErr = 1
	segvAccErr = 2
	siTkill    = -6
)

const (
	saSiginfo = 0x4
	saOnstack = 0x08000000
	saNodefer = 0x40000000
	ssOnstack = 1
	ssDisable = 2
)

// sigaction as the rt_sigaction syscall passes it.
type sigaction struct {
	handler, flags, restorer, mask uint64
}

var sigactions [nSig + 1]sigaction

// rt_sigframe layout.
const (
	frameUC      = 8                // ucontext after the return address
	ucStack      = 16               // stack_t
	ucMcontext   = 40               // struct sigcontext
	ucSigmask    = 296              //
	ucSize       = 304              //
	frameInfo    = frameUC + ucSize // siginfo
	frameSize    = frameInfo + 128  //
	fxSize       = 512              //
	redZone      = 128              //
	mcFPState    = 184              // sigcontext.fpstate
	mcOldmask    = 168              //
	mcCR2        = 176              //
	mcTrapno     = 160              //
	mcErr        = 152              //
	mcRIP, mcRSP = 128, 120         //
	mcEflags     = 136              //
)

// mcRegs is the order of general registers in struct sigcontext.
func mcRegs(tf *x86.TrapFrame) [16]*uint64 {
	return [16]*uint64{&tf.R8, &tf.R9, &tf.R10, &tf.R11, &tf.R12, &tf.R13, &tf.R14, &tf.R15,
		&tf.RDI, &tf.RSI, &tf.RBP, &tf.RBX, &tf.RDX, &tf.RAX, &tf.RCX, &tf.RSP}
}

func sigbit(sig uint32) uint64 { return 1 << (sig - 1) }

// deliverSignals runs on the way out of every trap: if the thread about
// to resume has an unblocked pending signal, divert it into the handler
// (Linux: exit_to_user_mode → arch_do_signal_or_restart).
func deliverSignals(tf *x86.TrapFrame) {
	if tf.CS&3 != 0 || sched.IsIdle() {
		return // user code: the runtime's signals wait for its goroutine
	}
	t := sched.Cur()
	ready := t.SigPending &^ t.SigMask
	if ready == 0 || inKernel(tf) {
		return
	}
	for sig := uint32(1); sig <= nSig; sig++ {
		if ready&sigbit(sig) == 0 {
			continue
		}
		t.SigPending &^= sigbit(sig)
		code, val := signalInfo(sched.Current, sig)
		setupFrame(tf, t, sig, code, val)
		return
	}
}

// forceSigFault delivers a synchronous signal (a fault) now, even if the
// thread blocks it, as Linux's force_sig_fault does. It reports false if
// no handler exists.
func forceSigFault(tf *x86.TrapFrame, sig uint32, code int32, addr uint64) bool {
	t := sched.Cur()
	if sigactions[sig].handler <= 1 || t.SigMask&sigbit(sig) != 0 { // a fault inside the handler itself
		return false
	}
	return setupFrame(tf, t, sig, code, addr)
}

// setupFrame builds an rt_sigframe and points the thread at the handler
// (Linux: setup_rt_frame). Default and ignored dispositions: SIGURG is
// dropped, anything else is fatal.
func setupFrame(tf *x86.TrapFrame, t *sched.Thread, sig uint32, code int32, addr uint64) bool {
	act := &sigactions[sig]
	if act.handler <= 1 {
		if sig == sigURG || act.handler == 1 {
			return true
		}
		crash(tf, "fatal signal with default action")
	}
	sp := uintptr(tf.RSP)
	onAlt := !t.AltDisabled && sp >= uintptr(t.AltStackSP) && sp < uintptr(t.AltStackSP+t.AltStackLen)
	if act.flags&saOnstack != 0 && !t.AltDisabled && !onAlt {
		sp = uintptr(t.AltStackSP + t.AltStackLen)
	} else {
		sp -= redZone
	}
	fp := (sp - fxSize) &^ 63
	sp = ((fp - frameSize) &^ 15) - 8 // as after a CALL: (sp+8) % 16 == 0
	if !mm.EnsureMapped(sp, fp+fxSize-sp) {
		crash(tf, "cannot map the signal frame")
	}
	for i := uintptr(0); i < frameSize; i += 8 {
		store64(sp+i, 0)
	}
	store64(sp, act.restorer)
	uc := sp + frameUC
	store64(uc+ucStack, t.AltStackSP)
	flags := uint64(0)
	if t.AltDisabled {
		flags = ssDisable
	}
	store64(uc+ucStack+8, flags)
	store64(uc+ucStack+16, t.AltStackLen)
	mc := uc + ucMcontext
	regs := mcRegs(tf)
	for i, r := range regs {
		store64(mc+uintptr(i)*8, *r)
	}
	store64(mc+mcRIP, tf.RIP)
	store64(mc+mcEflags, tf.RFLAGS)
	store64(mc+mcErr, tf.ErrorCode)
	store64(mc+mcTrapno, tf.Vector)
	store64(mc+mcOldmask, t.SigMask)
	store64(mc+mcCR2, addr)
	store64(mc+mcFPState, uint64(fp))
	if tf.FXFlags&x86.FXNone != 0 {
		freshFX(fp) // a system call's frame: its FPU state is Go's default
	} else {
		copyOut(fp, uintptr(ptrOf(&tf.FX[0])), fxSize)
	}
	store64(uc+ucSigmask, t.SigMask)
	info := sp + frameInfo
	store32(info, sig)
	store32(info+8, uint32(code))
	if code == siTkill {
		store32(info+16, 1) // si_pid
	} else {
		store64(info+16, addr) // si_addr
	}
	if act.flags&saNodefer == 0 {
		t.SigMask |= sigbit(sig)
	}
	t.SigMask |= act.mask
	tf.RSP = uint64(sp)
	tf.RIP = act.handler
	tf.RDI = uint64(sig)
	tf.RSI = uint64(info)
	tf.RDX = uint64(uc)
	tf.RAX = 0
	tf.RFLAGS &^= x86.FlagDF | x86.FlagTF
	Counters.Signals++
	return true
}

// sysRtSigreturn restores the context saved by setupFrame, including any
// changes the handler made to it (the runtime rewrites RIP/RSP to inject
// asyncPreempt or sigpanic). At the SYSCALL, RSP points at the ucontext.
func sysRtSigreturn(tf *x86.TrapFrame) {
	uc := uintptr(tf.RSP)
	mc := uc + ucMcontext
	regs := mcRegs(tf)
	for i, r := range regs {
		*r = load64(mc + uintptr(i)*8)
	}
	tf.RIP = load64(mc + mcRIP)
	const userFlags = 0xCD5 | x86.FlagDF | x86.FlagTF | x86.FlagAC
	tf.RFLAGS = tf.RFLAGS&^userFlags | load64(mc+mcEflags)&userFlags | x86.FlagIF
	if fp := uintptr(load64(mc + mcFPState)); fp != 0 {
		copyOut(uintptr(ptrOf(&tf.FX[0])), fp, fxSize)
		// Keep MXCSR's reserved bits clear or FXRSTOR faults.
		*(*uint32)(ptr(uintptr(ptrOf(&tf.FX[24])))) &= 0xFFFF
		tf.FXFlags &^= x86.FXNone // the exit loads this image
	}
	sched.Cur().SigMask = load64(uc + ucSigmask)
}

// freshFX writes at a the FXSAVE image of Go's default FPU state: the
// power-on x87 control word, MXCSR 0x1F80 (all exceptions masked) and
// zeroed registers (X15 among them).
func freshFX(a uintptr) {
	for i := uintptr(0); i < fxSize; i += 8 {
		store64(a+i, 0)
	}
	store32(a, 0x037F)    // FCW
	store32(a+24, 0x1F80) // MXCSR
	store32(a+28, 0xFFFF) // MXCSR_MASK
}
