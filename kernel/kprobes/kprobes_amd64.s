#include "textflag.h"

// func readDR6() uint64
TEXT ·readDR6(SB),NOSPLIT,$0-8
	MOVQ DR6, AX
	MOVQ AX, ret+0(FP)
	RET

// func writeDR6(v uint64)
TEXT ·writeDR6(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, DR6
	RET

// func cmpFlags(a, b uint64) uint64: RFLAGS after CMPQ a, b (a - b). For
// the test of subFlags.
TEXT ·cmpFlags(SB),NOSPLIT,$0-24
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), BX
	CMPQ AX, BX
	PUSHFQ
	POPQ AX
	MOVQ AX, ret+16(FP)
	RET

// xolArea is the out-of-line slots: displaced instructions are copied
// here (through textPoke) and single-stepped. Filled with INT3 so that an
// instruction that runs past its end traps.
#define CC4 BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
#define CC16 CC4; CC4; CC4; CC4
#define CC64 CC16; CC16; CC16; CC16
#define CC256 CC64; CC64; CC64; CC64
#define CC1K CC256; CC256; CC256; CC256
#define CC4K CC1K; CC1K; CC1K; CC1K
TEXT ·xolArea(SB),NOSPLIT|NOFRAME,$0
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K
	CC4K

// func xolAreaPC() uintptr
TEXT ·xolAreaPC(SB),NOSPLIT,$0-8
	MOVQ $·xolArea(SB), AX
	MOVQ AX, ret+0(FP)
	RET
