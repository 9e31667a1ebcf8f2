#include "textflag.h"

TEXT ·InvalidOpcode(SB),NOSPLIT,$0-0
	BYTE $0x0F; BYTE $0x0B // UD2
	RET
