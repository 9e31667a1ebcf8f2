// Trap entry and exit (Linux: arch/x86/entry/entry_64.S). Every IDT vector
// stub and the SYSCALL entry build one TrapFrame (frame_amd64.h) on the
// running thread's kernel stack, switch FS to the kernel TLS (whose -8 slot
// points at a fake g with stackguard0 = 0, so Go prologues never call
// morestack here), call trapDispatch, and return with IRETQ into whatever
// context the frame it returns holds: the scheduler switches threads by
// rewriting the frame (see sched.switchTo), and a thread entering or
// leaving user mode resumes another frame: the user's registers in its
// UserContext, or the goroutine frame it left parked at the top of the
// thread's kernel stack (kernel/linux/usermode.go).
//
// Which stack the frame lands on (see desc.go for the two IDTs):
//   - from ring 3 (idtUser), the CPU loads TSS.RSP0: the running thread's
//     kernel stack, which switchTo keeps current;
//   - from ring 0 with nothing being handled (TrapDepth 0: a goroutine,
//     the runtime's g0, the idle loop; idtKernel), the CPU pushed its
//     words on an IST stack; they are moved to the same kernel stack;
//   - from ring 0 inside a trap (a fault in trap-context code), the frame
//     stays where the CPU put it (the kernel stack, or a fresh IST stack);
//   - NMI, #DF and #MC have IST stacks of their own (paranoidtraps).
// The outermost exit loads the IDT for the ring it returns to.
//
// GS: the kernel's per-CPU block while in ring 0, the user's base in ring
// 3. Entries from ring 3 and exits to ring 3 SWAPGS (KernelGSBase holds
// the other one).
#include "textflag.h"
#include "frame_amd64.h"

#define USER_CS 0x23
#define USER_SS 0x1b

// alltraps: a vector stub pushed the error code and the vector.
// 24(SP) is the interrupted CS.
TEXT ·alltraps(SB),NOSPLIT|NOFRAME,$0
	TESTQ $3, 24(SP)
	JZ    fromkernel
	SWAPGS
	JMP   ·trapCommon(SB)
fromkernel:
	CMPQ  CPU_TrapDepth(GS), $0
	JNE   nested
	MOVQ  AX, CPU_ScratchAX(GS)
	MOVQ  SP, AX
	MOVQ  CPU_KStackTop(GS), SP
	PUSHQ 48(AX)                   // SS
	PUSHQ 40(AX)                   // RSP
	PUSHQ 32(AX)                   // RFLAGS
	PUSHQ 24(AX)                   // CS
	PUSHQ 16(AX)                   // RIP
	PUSHQ 8(AX)                    // error code
	PUSHQ 0(AX)                    // vector
	MOVQ  CPU_ScratchAX(GS), AX
nested:
	JMP   ·trapCommon(SB)

// paranoidtraps: NMI, #DF, #MC on their IST stacks. They may interrupt the
// exit path after its SWAPGS, so the GS base MSR decides, not CS: the
// kernel's per-CPU block is in the upper half. These never return to the
// interrupted context (they are reported as fatal), so no swap back.
TEXT ·paranoidtraps(SB),NOSPLIT|NOFRAME,$0
	PUSHQ AX
	PUSHQ CX
	PUSHQ DX
	MOVL  $0xC0000101, CX          // MSR_GS_BASE
	RDMSR
	BTL   $31, DX
	JCS   kernelgs
	SWAPGS
kernelgs:
	POPQ  DX
	POPQ  CX
	POPQ  AX
	JMP   ·trapCommon(SB)

// PUSHREGS pushes the general-purpose registers in the frame's order.
#define PUSHREGS \
	PUSHQ AX; PUSHQ BX; PUSHQ CX; PUSHQ DX; PUSHQ SI; PUSHQ DI; PUSHQ BP; \
	PUSHQ R8; PUSHQ R9; PUSHQ R10; PUSHQ R11; PUSHQ R12; PUSHQ R13; PUSHQ R14; PUSHQ R15

// SAVEFS stores the interrupted context's FS base at 8(SP) (TF_FSBase).
#define SAVEFS \
	MOVL $0xC0000100, CX; RDMSR; SHLQ $32, DX; ORQ DX, AX; MOVQ AX, 8(SP)

// KERNELFS loads the kernel TLS for trap-context Go.
#define KERNELFS \
	MOVQ CPU_KernelFS(GS), AX; MOVQ AX, DX; SHRQ $32, DX; MOVL $0xC0000100, CX; WRMSR

// The XMM15 slot of an FXSAVE64 image (XMM0 is at 160).
#define FX_XMM15 400

// trapCommon saves the rest of the frame, calls trapDispatch and returns
// through the (possibly rewritten) frame.
TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSHREGS
	INCQ  CPU_TrapDepth(GS)
	SUBQ  $16, SP                 // FSBase, FXFlags
	MOVQ  $0, 0(SP)
	SAVEFS
	SUBQ  $512, SP
	FXSAVE64 (SP)
	JMP   ·trapDispatchReturn(SB)

// kernelSyscallCommon is trapCommon for SYSCALL from ring 0: the Go
// runtime's own system calls (futex, nanosleep, epoll_pwait, ...) and the
// kernel's SysRunUser, made by the goroutine of a user thread to enter
// ring 3. Every one is made from an assembly function that Go code calls,
// and across a call Go keeps nothing in SSE registers but X15's zero and
// its default MXCSR, so the caller's FPU state is not saved: the frame is
// marked FXNone, and whenever this frame is resumed (the call returns,
// the thread is switched back in after blocking, the goroutine gets it
// back from leaveUser) the exit gives it a fresh state instead of an
// FXRSTOR. A signal delivered there writes a fresh image into its frame,
// and rt_sigreturn clears the mark when it loads one (linux.setupFrame,
// sysRtSigreturn).
TEXT ·kernelSyscallCommon(SB),NOSPLIT|NOFRAME,$0
	PUSHREGS
	INCQ  CPU_TrapDepth(GS)
	SUBQ  $16, SP
	MOVQ  $1, 0(SP)               // FXNone
	SAVEFS
	SUBQ  $512, SP
	MOVQ  TF_RAX(SP), AX
	CMPQ  AX, ·runUserNR(SB)
	JNE   general
	JMP   ·runUserReturn(SB)
general:
	JMP   ·trapDispatchReturn(SB)

// userSyscallCommon is trapCommon for SYSCALL from ring 3 (Linux:
// entry_SYSCALL_64 → do_syscall_64). The trap handler first tries to
// answer in trap context without the user's FPU state (the fast handler
// touches no SSE register but X15, kept in the frame meanwhile; a host
// test reads its machine code); otherwise the state is saved and the
// call takes the common path. Like Linux, a syscall needs no FPU save of
// its own: only the code that would clobber the registers pays for it.
TEXT ·userSyscallCommon(SB),NOSPLIT|NOFRAME,$0
	PUSHREGS
	INCQ  CPU_TrapDepth(GS)
	SUBQ  $16, SP
	MOVQ  $0, 0(SP)
	SAVEFS
	SUBQ  $512, SP
	MOVQ  TF_RAX(SP), AX
	CMPQ  AX, $256
	JAE   slow
	BTQ   AX, ·fastSyscallNRs(SB)  // a number the fast handler may answer?
	JCC   slow
	MOVOU X15, FX_XMM15(SP)
	KERNELFS
	CLD
	MOVQ  SP, AX
	SUBQ  $16, SP
	MOVQ  AX, 0(SP)
	CALL  ·fastSyscallDispatch(SB)
	MOVBLZX 8(SP), AX
	ADDQ  $16, SP
	MOVOU FX_XMM15(SP), X15
	TESTL AX, AX
	JZ    slow
	ADDQ  $512, SP                // answered: only GPRs in the frame changed
	MOVQ  8(SP), AX
	MOVQ  AX, DX
	SHRQ  $32, DX
	MOVL  $0xC0000100, CX
	WRMSR
	ADDQ  $16, SP
	DECQ  CPU_TrapDepth(GS)       // 0: from ring 3, back to ring 3, same IDT
	JMP   ·trapPopReturn(SB)
slow:
	// The user's state goes where the goroutine that serves the call
	// keeps the user's registers (its UserContext's Regs.FX), so neither
	// leaveUser nor the next SysRunUser copies its 512 bytes.
	MOVQ  CPU_UserFX(GS), AX
	TESTQ AX, AX
	JZ    inframe
	FXSAVE64 (AX)
	ORQ   $2, AX                  // FXElsewhere
	MOVQ  AX, TF_FXFlags(SP)
	JMP   ·userSyscallReturn(SB)
inframe:
	FXSAVE64 (SP)
	JMP   ·userSyscallReturn(SB)

// trapDispatchReturn: the frame is complete (FX saved or marked FXNone).
// Call trapDispatch and return through the frame it returns: usually
// this one, but a thread entering or leaving user mode resumes another
// whole frame (see x86.SetTrapHandler), so the exit pops from there.
TEXT ·trapDispatchReturn(SB),NOSPLIT|NOFRAME,$0
	KERNELFS
	CLD
	MOVQ SP, AX
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	CALL ·trapDispatch(SB)
	MOVQ 8(SP), SP                // the frame to resume
	JMP  ·trapExit(SB)

// runUserReturn is trapDispatchReturn for the kernel's way into user
// mode (SetRunUserHandler): the same frame, a handler of its own.
TEXT ·runUserReturn(SB),NOSPLIT|NOFRAME,$0
	KERNELFS
	CLD
	MOVQ SP, AX
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	CALL ·runUserDispatch(SB)
	MOVQ 8(SP), SP                // the frame to resume
	JMP  ·trapExit(SB)

// userSyscallReturn is trapDispatchReturn for a system call from ring 3
// that the fast handler did not answer (SetUserSyscallHandler).
TEXT ·userSyscallReturn(SB),NOSPLIT|NOFRAME,$0
	KERNELFS
	CLD
	MOVQ SP, AX
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	CALL ·userSyscallDispatch(SB)
	MOVQ 8(SP), SP                // the frame to resume
	JMP  ·trapExit(SB)

// trapExit returns through the frame at SP: its FPU state, FS base,
// TrapDepth, the IDT for the ring it returns to, then the registers.
TEXT ·trapExit(SB),NOSPLIT|NOFRAME,$0
	MOVQ TF_FXFlags(SP), AX
	TESTQ $1, AX
	JNZ  fxfresh
	TESTQ $2, AX
	JNZ  fxelsewhere
	FXRSTOR64 (SP)
	JMP  fxdone
fxelsewhere:
	// A user context whose state is in its UserContext (SysRunUser,
	// the fast path's return after userSyscallCommon saved it there).
	ANDQ $-16, AX
	FXRSTOR64 (AX)
	JMP  fxdone
fxfresh:
	// A goroutine back from a system call (kernelSyscallCommon): Go's
	// default MXCSR and its zero X15; the other SSE registers are dead
	// across the call.
	LDMXCSR ·mxcsrDefault(SB)
	XORPS X15, X15
fxdone:
	ADDQ $512, SP
	MOVQ 8(SP), AX                // FS base of the context we return to
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $0xC0000100, CX
	WRMSR
	ADDQ $16, SP
	DECQ  CPU_TrapDepth(GS)
	JNZ   pops                    // nested: the outer exit picks the IDT
	MOVQ  144(SP), AX             // CS we return to (AX is popped below)
	ANDQ  $3, AX
	CMPQ  AX, CPU_IDTMode(GS)
	JEQ   pops
	MOVQ  AX, CPU_IDTMode(GS)
	MOVQ  $·idtKernelDesc+6(SB), BX
	CMPQ  AX, $0
	JEQ   loadidt
	MOVQ  $·idtUserDesc+6(SB), BX
loadidt:
	LIDT  (BX)
pops:
	JMP   ·trapPopReturn(SB)

// trapPopReturn pops the general-purpose registers and returns: SYSRETQ
// to ring 3 when the frame is a plain system-call return (RCX = RIP and
// R11 = RFLAGS, as SYSCALL left them, a lower-half RIP, no TF or RF;
// Linux's test in do_syscall_64), IRETQ otherwise. SP is at R15. The
// choice is made before the pops (AX is free then) and left in the
// frame's vector slot, which nothing reads after this.
TEXT ·trapPopReturn(SB),NOSPLIT|NOFRAME,$0
	MOVQ  $0, 120(SP)             // vector slot: 1 = return with SYSRETQ
	TESTQ $3, 144(SP)             // CS
	JZ    pop
	MOVQ  96(SP), AX              // RCX
	CMPQ  AX, 136(SP)             // RIP
	JNE   pop
	SHRQ  $47, AX
	JNZ   pop
	MOVQ  32(SP), AX              // R11
	CMPQ  AX, 152(SP)             // RFLAGS
	JNE   pop
	TESTQ $0x10100, AX            // RF, TF
	JNZ   pop
	MOVQ  $1, 120(SP)
pop:
	POPQ R15
	POPQ R14
	POPQ R13
	POPQ R12
	POPQ R11
	POPQ R10
	POPQ R9
	POPQ R8
	POPQ BP
	POPQ DI
	POPQ SI
	POPQ DX
	POPQ CX
	POPQ BX
	POPQ AX
	CMPQ 0(SP), $1
	JNE  popiret
	SWAPGS
	MOVQ 40(SP), SP               // the user's RSP (vector, error, RIP, CS, RFLAGS before it)
	BYTE $0x48; BYTE $0x0F; BYTE $0x07 // SYSRETQ (Go's SYSRET lacks REX.W)
popiret:
	ADDQ $16, SP                  // vector, error code
	TESTQ $3, 8(SP)               // returning to ring 3?
	JZ   iret
	SWAPGS
iret:
	IRETQ

// syscallEntry is the LSTAR target (Linux: entry_SYSCALL_64). SYSCALL
// keeps RSP in both rings, so switch to the running thread's kernel stack
// and build an IRETQ frame by hand (RCX = return RIP, R11 = RFLAGS; FMASK
// already cleared IF/DF/TF/AC). Two callers: the Go runtime (ring 0) and
// user processes (ring 3). The kernel's text is in the upper half and user
// code can only run in the lower half, so bit 63 of the return address
// tells them apart; only the user's entry swaps GS.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	BTQ   $63, CX
	JCS   kernelcall
	SWAPGS
	MOVQ  SP, CPU_ScratchRSP(GS)
	MOVQ  CPU_KStackTop(GS), SP
	PUSHQ $USER_SS
	PUSHQ CPU_ScratchRSP(GS)
	PUSHQ R11
	PUSHQ $USER_CS
	PUSHQ CX
	PUSHQ $0
	PUSHQ $256
	JMP   ·userSyscallCommon(SB)
kernelcall:
	MOVQ  SP, CPU_ScratchRSP(GS)
	MOVQ  CPU_KStackTop(GS), SP
	PUSHQ $0x10
	PUSHQ CPU_ScratchRSP(GS)
	PUSHQ R11
	PUSHQ $0x08
	PUSHQ CX
	PUSHQ $0
	PUSHQ $256
	JMP   ·kernelSyscallCommon(SB)

TEXT ·syscallEntryPC(SB),NOSPLIT,$0-8
	MOVQ $·syscallEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·IdleLoopPC(SB),NOSPLIT,$0-8
	MOVQ $·IdleLoop(SB), AX
	MOVQ AX, ret+0(FP)
	RET
