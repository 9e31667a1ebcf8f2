// CPU instruction wrappers: port I/O, MSRs, control registers, descriptor
// tables, TLB, TSC, CPUID. All NOSPLIT: trap context calls them.
#include "textflag.h"

TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW port+0(FP), DX
	XORQ AX, AX
	INB
	MOVB AL, ret+8(FP)
	RET

TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW port+0(FP), DX
	MOVB v+2(FP), AL
	OUTB
	RET

TEXT ·Inw(SB),NOSPLIT,$0-10
	MOVW port+0(FP), DX
	XORQ AX, AX
	INW
	MOVW AX, ret+8(FP)
	RET

TEXT ·Outw(SB),NOSPLIT,$0-4
	MOVW port+0(FP), DX
	MOVW v+2(FP), AX
	OUTW
	RET

TEXT ·Inl(SB),NOSPLIT,$0-12
	MOVW port+0(FP), DX
	INL
	MOVL AX, ret+8(FP)
	RET

TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW port+0(FP), DX
	MOVL v+4(FP), AX
	OUTL
	RET

TEXT ·Rdmsr(SB),NOSPLIT,$0-16
	MOVL msr+0(FP), CX
	RDMSR
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+8(FP)
	RET

TEXT ·Wrmsr(SB),NOSPLIT,$0-16
	MOVL msr+0(FP), CX
	MOVQ v+8(FP), AX
	MOVQ AX, DX
	SHRQ $32, DX
	WRMSR
	RET

TEXT ·ReadCR0(SB),NOSPLIT,$0-8
	MOVQ CR0, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·WriteCR0(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, CR0
	RET

TEXT ·ReadCR2(SB),NOSPLIT,$0-8
	MOVQ CR2, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·ReadCR3(SB),NOSPLIT,$0-8
	MOVQ CR3, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·WriteCR3(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, CR3
	RET

TEXT ·ReadCR4(SB),NOSPLIT,$0-8
	MOVQ CR4, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·WriteCR4(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, CR4
	RET

TEXT ·Invlpg(SB),NOSPLIT,$0-8
	MOVQ addr+0(FP), AX
	INVLPG (AX)
	RET

// Cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·Cpuid(SB),NOSPLIT,$0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

TEXT ·Rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET

// Rdrand returns a hardware random number; ok is false if the CPU had none ready.
TEXT ·Rdrand(SB),NOSPLIT,$0-9
	BYTE $0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf0 // RDRAND RAX
	SETCS ok+8(FP)
	MOVQ AX, v+0(FP)
	RET

TEXT ·Lgdt(SB),NOSPLIT,$0-8
	MOVQ ptr+0(FP), AX
	LGDT (AX)
	RET

TEXT ·Lidt(SB),NOSPLIT,$0-8
	MOVQ ptr+0(FP), AX
	LIDT (AX)
	RET

TEXT ·Ltr(SB),NOSPLIT,$0-2
	MOVW sel+0(FP), AX
	LTR AX
	RET

// ReloadSegments loads CS with the kernel code selector (via a far return
// built by hand: Go's assembler has no LRETQ) and the data segments.
TEXT ·ReloadSegments(SB),NOSPLIT,$0-0
	MOVQ $0x10, AX
	MOVW AX, DS
	MOVW AX, ES
	MOVW AX, SS
	POPQ AX          // our return address
	PUSHQ $0x08
	PUSHQ AX
	BYTE $0x48; BYTE $0xcb // LRETQ
	
TEXT ·Hlt(SB),NOSPLIT,$0-0
	HLT
	RET

TEXT ·Sti(SB),NOSPLIT,$0-0
	STI
	RET

TEXT ·Cli(SB),NOSPLIT,$0-0
	CLI
	RET

// StiHlt enables interrupts and halts in one step (no lost wake-up between them).
TEXT ·StiHlt(SB),NOSPLIT,$0-0
	STI
	HLT
	RET

TEXT ·Pause(SB),NOSPLIT,$0-0
	PAUSE
	RET

TEXT ·ReadRFLAGS(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ AX
	MOVQ AX, ret+0(FP)
	RET

// ZeroPage clears the 4 KiB page at addr.
TEXT ·ZeroPage(SB),NOSPLIT,$0-8
	MOVQ addr+0(FP), DI
	MOVQ $512, CX
	XORQ AX, AX
	CLD
	REP; STOSQ
	RET

// CopyPage copies the 4 KiB page at src to dst.
TEXT ·CopyPage(SB),NOSPLIT,$0-16
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ $512, CX
	CLD
	REP; MOVSQ
	RET

// IdleLoop is the body of each CPU's idle thread: halt with interrupts on.
TEXT ·IdleLoop(SB),NOSPLIT|NOFRAME,$0
loop:
	STI
	HLT
	JMP loop
