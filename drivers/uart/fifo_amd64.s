// The FIFO switch of Init, in one straight run of instructions (see
// fifoOn in uart.go).
#include "textflag.h"

// func fifoOn(fcr uint8) (held uint16)
TEXT ·fifoOn(SB),NOSPLIT,$0-10
	XORQ BX, BX
	MOVW $0x3FD, DX // LSR
	XORQ AX, AX
	INB
	TESTB $1, AL    // data ready
	JZ write
	MOVW $0x3F8, DX // RBR
	INB
	MOVB AL, BL
	ORL $0x100, BX
write:
	MOVW $0x3FA, DX // FCR
	MOVB fcr+0(FP), AL
	OUTB
	MOVW BX, held+8(FP)
	RET
