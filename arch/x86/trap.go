package x86

import "unsafe"

// VectorSyscall is the Vector recorded in frames built by SYSCALL.
const VectorSyscall = 256

// First vectors of the remapped legacy PIC lines.
const (
	VectorIRQBase = 32
	VectorTimer   = VectorIRQBase + 0
)

var trapHandler func(tf *TrapFrame) *TrapFrame

// SetTrapHandler installs the kernel's trap handler. Call it once during
// early boot, before interrupts are enabled. The handler returns the frame
// the exit resumes: tf, or another context's whole frame elsewhere (a
// thread entering user mode resumes its UserContext's registers, one
// leaving it the goroutine frame it parked on its kernel stack).
func SetTrapHandler(h func(tf *TrapFrame) *TrapFrame) { trapHandler = h }

// trapDispatch is called by alltraps on a kernel stack with the kernel TLS.
func trapDispatch(tf *TrapFrame) *TrapFrame { return trapHandler(tf) }

// FXNone in TrapFrame.FXFlags: the frame's FX area holds no saved state;
// the exit gives the context a fresh one (Go's MXCSR, X15 zero).
const FXNone = 1

// FXElsewhere in TrapFrame.FXFlags: the context's FXSAVE image is not in
// the frame but at the 16-byte aligned address in the flags' other bits
// (a user thread's UserContext.Regs.FX: see PerCPU.UserFX); the exit
// loads it from there.
const FXElsewhere = 2

// mxcsrDefault is the MXCSR Go code runs with (all exceptions masked).
var mxcsrDefault uint32 = 0x1f80

var fastSyscallHandler func(tf *TrapFrame) bool

// runUserNR is the kernel's own system call that enters user mode, which
// kernelSyscallCommon sends to runUserHandler (no number until set).
var (
	runUserNR      uint64 = ^uint64(0)
	runUserHandler func(tf *TrapFrame) *TrapFrame
)

// SetRunUserHandler makes ring-0 SYSCALLs with number nr (the goroutine
// of a user thread entering user mode, twice per system call the thread
// makes) go to h instead of the trap handler, with the same frame and the
// same contract. Call it once during early boot.
func SetRunUserHandler(nr uint64, h func(tf *TrapFrame) *TrapFrame) {
	runUserHandler = h
	runUserNR = nr
}

var userSyscallHandler func(tf *TrapFrame) *TrapFrame

// SetUserSyscallHandler makes the system calls from ring 3 that the fast
// handler did not answer go to h, their FPU state saved, instead of the
// trap handler, with the same contract. Call it once during early boot.
func SetUserSyscallHandler(h func(tf *TrapFrame) *TrapFrame) { userSyscallHandler = h }

// userSyscallDispatch is called by userSyscallReturn.
func userSyscallDispatch(tf *TrapFrame) *TrapFrame {
	if h := userSyscallHandler; h != nil {
		return h(tf)
	}
	return trapHandler(tf)
}

// runUserDispatch is called by runUserReturn.
func runUserDispatch(tf *TrapFrame) *TrapFrame { return runUserHandler(tf) }

// fastSyscallNRs has a bit for each system call number (below 256) the
// fast handler may answer: userSyscallCommon calls it for those only.
var fastSyscallNRs [4]uint64

// SetFastSyscallHandler installs the handler that may answer a system
// call from ring 3 before the entry saves the user's FPU state, for the
// numbers nrs (each below 256; others never reach it). It runs with the
// user's SSE registers live: it must not touch any but X15
// (TestFastSyscallPathLeavesSSEAlone reads its machine code), and it
// reports whether it answered; if not, the call takes trapDispatch's path.
func SetFastSyscallHandler(h func(tf *TrapFrame) bool, nrs ...uint64) {
	fastSyscallHandler = h
	for _, nr := range nrs {
		fastSyscallNRs[nr/64] |= 1 << (nr % 64)
	}
}

// fastSyscallDispatch is called by userSyscallCommon.
func fastSyscallDispatch(tf *TrapFrame) bool {
	if h := fastSyscallHandler; h != nil {
		return h(tf)
	}
	return false
}

// Entry addresses of assembly entry points (not Go func values: those
// would point at ABI wrappers).
func syscallEntryPC() uintptr

// IdleLoopPC is where idle threads start.
func IdleLoopPC() uintptr

// exceptionNames names the 32 architectural exception vectors.
var exceptionNames = [32]string{
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack-segment fault", "#GP general protection",
	"#PF page fault", "reserved (15)", "#MF x87 floating-point", "#AC alignment check",
	"#MC machine check", "#XM SIMD floating-point", "#VE virtualization",
	"#CP control protection", "reserved (22)", "reserved (23)", "reserved (24)",
	"reserved (25)", "reserved (26)", "reserved (27)", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved (31)",
}

// ExceptionName names vector v for crash reports.
func ExceptionName(v uint64) string {
	switch {
	case v < 32:
		return exceptionNames[v]
	case v == VectorSyscall:
		return "syscall"
	default:
		return "interrupt"
	}
}

// frameRegs is the part of a TrapFrame after its FX area: FXFlags, the FS
// base, the general-purpose registers and the CPU's words.
type frameRegs [(unsafe.Sizeof(TrapFrame{}) - 512) / 8]uint64

// CopyFrame copies the context src into dst; when src's FX area holds no
// FPU state (FXNone, FXElsewhere) its 512 bytes are skipped, and dst's
// keeps stale bytes that the copied mark tells every reader to ignore.
// Trap context.
func CopyFrame(dst, src *TrapFrame) {
	if src.FXFlags&(FXNone|FXElsewhere) != 0 {
		CopyFrameRegs(dst, src)
		return
	}
	*dst = *src
}

// CopyFrameRegs copies everything but the FX area (FXFlags included).
func CopyFrameRegs(dst, src *TrapFrame) {
	*(*frameRegs)(unsafe.Pointer(&dst.FXFlags)) = *(*frameRegs)(unsafe.Pointer(&src.FXFlags))
}
