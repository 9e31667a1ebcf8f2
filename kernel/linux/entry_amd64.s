// The kernel ELF's entry point (linked with -E gomenuos/kernel/linux.entry).
// The boot stub arrives here in long mode with RDI = multiboot magic,
// RSI = the multiboot information and RDX = the image's physical address. We run early() on a boot stack with the
// kernel TLS (fake g), then enter the stock runtime exactly as Linux would
// start a static binary: RSP at argc/argv/envp/auxv, FS base 0.
#include "textflag.h"

TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
	MOVQ $·bootStack+32752(SB), SP
	MOVQ DI, ·bootMagic(SB)
	MOVQ SI, ·bootInfo(SB)
	MOVQ DX, ·bootImagePhys(SB)
	MOVQ $·fakeG(SB), AX
	MOVQ AX, ·kernelTLS(SB)
	MOVQ $·kernelTLS+8(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $0xC0000100, CX
	WRMSR
	SUBQ $16, SP
	CALL ·early(SB)
	MOVQ 0(SP), BX            // early's result: the process stack pointer
	MOVQ BX, SP
	XORQ AX, AX
	XORQ DX, DX
	MOVL $0xC0000100, CX
	WRMSR                     // FS base 0 until arch_prctl
	XORQ BX, BX
	STI
	JMP _rt0_amd64_linux(SB)
