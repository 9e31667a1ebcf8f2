#include "textflag.h"

// func CurG() uintptr: the running goroutine's g, from the -8 slot of the
// thread's TLS where the runtime keeps it on linux/amd64.
TEXT ·CurG(SB),NOSPLIT,$0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
