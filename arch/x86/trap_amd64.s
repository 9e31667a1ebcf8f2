// Trap entry and exit (Linux: arch/x86/entry/entry_64.S). Every IDT vector
// stub and the SYSCALL entry build one TrapFrame (frame_amd64.h) on the
// running thread's kernel stack, switch FS to the kernel TLS (whose -8 slot
// points at a fake g with stackguard0 = 0, so Go prologues never call
// morestack here), call trapDispatch, and return with IRETQ into whatever
// context the frame then holds: the scheduler switches threads by
// rewriting the frame (see sched.switchTo), and a thread entering or
// leaving user mode likewise swaps a ring-0 frame for a ring-3 one.
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

// trapCommon saves the rest of the frame, calls trapDispatch and returns
// through the (possibly rewritten) frame.
TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSHQ AX
	PUSHQ BX
	PUSHQ CX
	PUSHQ DX
	PUSHQ SI
	PUSHQ DI
	PUSHQ BP
	PUSHQ R8
	PUSHQ R9
	PUSHQ R10
	PUSHQ R11
	PUSHQ R12
	PUSHQ R13
	PUSHQ R14
	PUSHQ R15
	INCQ  CPU_TrapDepth(GS)
	SUBQ $16, SP                  // FSBase, Pad
	MOVL $0xC0000100, CX          // MSR_FS_BASE
	RDMSR
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, 8(SP)
	SUBQ $512, SP
	FXSAVE64 (SP)
	MOVQ CPU_KernelFS(GS), AX     // kernel TLS for trap-context Go
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $0xC0000100, CX
	WRMSR
	CLD
	MOVQ SP, AX
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	CALL ·trapDispatch(SB)
	ADDQ $16, SP
	FXRSTOR64 (SP)
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
	JMP   ·trapCommon(SB)
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
	JMP   ·trapCommon(SB)

TEXT ·syscallEntryPC(SB),NOSPLIT,$0-8
	MOVQ $·syscallEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·IdleLoopPC(SB),NOSPLIT,$0-8
	MOVQ $·IdleLoop(SB), AX
	MOVQ AX, ret+0(FP)
	RET
