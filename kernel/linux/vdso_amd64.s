// The vDSO's one function, __vdso_clock_gettime, with the C ABI the
// runtime uses for vDSO calls (DI = clock id, SI = *timespec, result in
// AX; no stack). It reads the TSC and scales it exactly like
// monotonicNS/realtimeNS, so most of the runtime's clock reads need no
// SYSCALL. Other clocks fall back to the system call.
#include "textflag.h"

// Offsets in the clock struct (clock.go); TestClockLayout checks them.
#define CLOCK_tscBoot 0
#define CLOCK_mult 8
#define CLOCK_realBase 16

TEXT ·vdsoClockGettime(SB),NOSPLIT|NOFRAME,$0
	CMPQ DI, $1
	JA fallback
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	SUBQ ·clock+CLOCK_tscBoot(SB), AX
	MULQ ·clock+CLOCK_mult(SB)        // DX:AX = ticks · (ns per tick in 32.32)
	SHRQ $32, DX, AX                  // AX = ns since boot
	CMPQ DI, $0
	JNE monotonic
	ADDQ ·clock+CLOCK_realBase(SB), AX // CLOCK_REALTIME
	JMP split
monotonic:
	ADDQ $1000000000, AX               // CLOCK_MONOTONIC never reads zero
split:
	XORQ DX, DX
	MOVQ $1000000000, CX
	DIVQ CX
	MOVQ AX, 0(SI)
	MOVQ DX, 8(SI)
	XORQ AX, AX
	RET
fallback:
	MOVQ $228, AX
	SYSCALL
	RET

TEXT ·vdsoClockGettimeEnd(SB),NOSPLIT|NOFRAME,$0
	RET

TEXT ·vdsoFuncPC(SB),NOSPLIT,$0-16
	MOVQ $·vdsoClockGettime(SB), AX
	MOVQ AX, start+0(FP)
	MOVQ $·vdsoClockGettimeEnd(SB), AX
	MOVQ AX, end+8(FP)
	RET
