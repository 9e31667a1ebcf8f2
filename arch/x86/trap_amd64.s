// Trap entry and exit: every IDT vector stub and the SYSCALL entry build
// one TrapFrame (frame_amd64.h) on the current kernel stack, switch FS to
// the kernel TLS (whose -8 slot points at a fake g with stackguard0 = 0, so
// Go prologues never call morestack here), call trapDispatch, and return
// with IRETQ into whatever context the frame then holds: the scheduler
// switches threads by rewriting the frame (see sched.switchTo).
#include "textflag.h"
#include "frame_amd64.h"

TEXT ·alltraps(SB),NOSPLIT|NOFRAME,$0
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
	IRETQ

// syscallEntry is the LSTAR target. In ring 0 SYSCALL keeps RSP, so switch
// to the running thread's kernel stack first and build an IRETQ frame by
// hand (RCX = return RIP, R11 = RFLAGS; FMASK already cleared IF/DF/TF).
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ SP, CPU_ScratchRSP(GS)
	MOVQ CPU_KStackTop(GS), SP
	PUSHQ $0x10
	PUSHQ CPU_ScratchRSP(GS)
	PUSHQ R11
	PUSHQ $0x08
	PUSHQ CX
	PUSHQ $0
	PUSHQ $256
	JMP ·alltraps(SB)

TEXT ·syscallEntryPC(SB),NOSPLIT,$0-8
	MOVQ $·syscallEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·IdleLoopPC(SB),NOSPLIT,$0-8
	MOVQ $·IdleLoop(SB), AX
	MOVQ AX, ret+0(FP)
	RET
