// Copies to and from user memory through the user's own mappings, with
// a fault fixup (Linux: copy_user_generic and the _ASM_EXTABLE_UA entries
// of arch/x86/lib/copy_user_64.S). See uaccess.go.
//
// Every instruction that touches a user address lies between
// ·copyToUser and ·uaccessEnd: a page fault there goes to
// UserAccessFault (the exception-table lookup), which faults the user
// page in and lets the instruction run again, or resumes at
// ·copyUserFixup, which returns false from the routine that faulted.
// Both routines keep their frame empty (NOFRAME, no pushes), so the
// fixup's RET returns from the routine that faulted; they keep the
// address of their result in R10 for the fixup and the *MM to fault
// pages into in DX for the handler.
#include "textflag.h"
#include "frame_amd64.h"

// func copyToUser(dst uintptr, src unsafe.Pointer, n, root, mm uintptr) bool
TEXT ·copyToUser(SB),NOSPLIT|NOFRAME,$0-41
	MOVQ root+24(FP), AX
	CMPQ AX, CPU_UserCR3(GS)      // the running thread's tree is the one to copy to
	JNE  tofail
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ mm+32(FP), DX
	LEAQ ret+40(FP), R10
	JMP  ·copyUserGeneric(SB)
tofail:
	MOVB $0, ret+40(FP)
	RET

// func copyFromUser(dst unsafe.Pointer, src uintptr, n, root, mm uintptr) bool
// Its arguments lie where copyToUser's do, so it is copyToUser.
TEXT ·copyFromUser(SB),NOSPLIT|NOFRAME,$0-41
	JMP ·copyToUser(SB)

// copyUserGeneric copies CX bytes from SI to DI and stores true at
// (R10); the caller's frame is still the one on the stack (its entry
// jumped here), so RET returns from it.
TEXT ·copyUserGeneric(SB),NOSPLIT|NOFRAME,$0
	CMPQ CX, $32
	JB   words
block:
	MOVQ 0(SI), AX
	MOVQ 8(SI), BX
	MOVQ 16(SI), R8
	MOVQ 24(SI), R9
	MOVQ AX, 0(DI)
	MOVQ BX, 8(DI)
	MOVQ R8, 16(DI)
	MOVQ R9, 24(DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  block
words:
	CMPQ CX, $8
	JB   bytes
	MOVQ (SI), AX
	MOVQ AX, (DI)
	ADDQ $8, SI
	ADDQ $8, DI
	SUBQ $8, CX
	JMP  words
bytes:
	TESTQ CX, CX
	JZ    done
	MOVB (SI), AX
	MOVB AX, (DI)
	INCQ SI
	INCQ DI
	DECQ CX
	JMP  bytes
done:
	MOVB $1, (R10)
	RET

// func faultInWriteable(addr, n, root, mm uintptr) bool
// Touches every page of [addr, addr+n) (n > 0) with a locked OR of zero:
// a write as far as the MMU is concerned (so a missing page is faulted in
// and copy-on-write broken, as the process's own write would), a no-op
// for the bytes.
TEXT ·faultInWriteable(SB),NOSPLIT|NOFRAME,$0-33
	MOVQ root+16(FP), AX
	CMPQ AX, CPU_UserCR3(GS)
	JNE  pfail
	MOVQ addr+0(FP), DI
	MOVQ n+8(FP), CX
	ADDQ DI, CX                   // end
	MOVQ mm+24(FP), DX
	LEAQ ret+32(FP), R10
touch:
	LOCK
	ORB  $0, (DI)
	ANDQ $-4096, DI
	ADDQ $0x1000, DI
	CMPQ DI, CX
	JB   touch
	MOVB $1, ret+32(FP)
	RET
pfail:
	MOVB $0, ret+32(FP)
	RET

// uaccessEnd marks the end of the instructions that touch user memory.
TEXT ·uaccessEnd(SB),NOSPLIT|NOFRAME,$0
	RET

// copyUserFixup is where a user access that cannot be completed resumes:
// the faulting routine's frame is still in place (it has frame size 0 and
// pushes nothing), so this returns false from it through R10.
TEXT ·copyUserFixup(SB),NOSPLIT|NOFRAME,$0
	MOVB $0, (R10)
	RET

TEXT ·uaccessPCs(SB),NOSPLIT,$0-48
	MOVQ $·copyToUser(SB), AX
	MOVQ AX, toUser+0(FP)
	MOVQ $·copyFromUser(SB), AX
	MOVQ AX, fromUser+8(FP)
	MOVQ $·copyUserGeneric(SB), AX
	MOVQ AX, generic+16(FP)
	MOVQ $·faultInWriteable(SB), AX
	MOVQ AX, probe+24(FP)
	MOVQ $·uaccessEnd(SB), AX
	MOVQ AX, end+32(FP)
	MOVQ $·copyUserFixup(SB), AX
	MOVQ AX, fixup+40(FP)
	RET
