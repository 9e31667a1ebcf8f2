package kprobes

// An x86-64 instruction decoder, just deep enough for probes (Linux:
// arch/x86/lib/insn.c): the length of any instruction, where its
// displacement and immediate sit, whether it addresses memory relative to
// RIP, and whether it transfers control. Written from the Intel SDM's
// opcode maps (volume 2, appendix A); checked against objdump over a whole
// Go binary by insn_test.go. Goroutine context (probes are decoded when
// they are placed, never when they fire).

// Insn is one decoded instruction.
type Insn struct {
	Len      int
	Opsize   bool // 0x66 prefix
	Addrsize bool // 0x67 prefix
	Rep      bool // 0xF3
	Repne    bool // 0xF2
	Lock     bool // 0xF0
	NPrefix  int  // legacy prefix bytes (REX, VEX and EVEX not counted)
	REX      byte // 0 when absent
	Vex      bool // VEX or EVEX encoded
	Map      int  // 0: one-byte opcodes, 1: 0F, 2: 0F 38, 3: 0F 3A (VEX/EVEX: their map field)
	Op       byte
	OpOff    int // offset of the opcode byte
	HasModRM bool
	ModRM    byte
	DispOff  int // offset of the displacement, DispLen bytes (0: none)
	DispLen  int
	ImmOff   int // offset of the immediate, ImmLen bytes (0: none)
	ImmLen   int
	RIPRel   bool // ModRM addresses memory relative to the next instruction
}

// Reg is the ModRM reg field (with REX.R).
func (i *Insn) Reg() int { return int(i.ModRM>>3&7) | int(i.REX>>2&1)<<3 }

// RM is the ModRM rm field (with REX.B).
func (i *Insn) RM() int { return int(i.ModRM&7) | int(i.REX&1)<<3 }

// Mod is the ModRM mod field.
func (i *Insn) Mod() int { return int(i.ModRM >> 6) }

// Operand encodings of the one-byte and 0F maps.
const (
	fModRM   = 1 << iota
	fImm8    // ib
	fImm16   // iw
	fImmZ    // iz: 4 bytes, 2 with 0x66
	fImmV    // iv (MOV r, imm): 8 with REX.W, 2 with 0x66, else 4
	fMoffs   // moffs: 8 bytes, 4 with 0x67
	fRel32   // rel32, always 4 bytes in 64-bit mode
	fGrp3    // F6/F7: ib/iz only for /0 and /1 (TEST)
	fInvalid // not an instruction in 64-bit mode
)

var oneByte, twoByte [256]uint16

func init() {
	for op := 0; op < 0x40; op++ { // the eight ALU rows: r/m,r and r,r/m forms, AL/eAX,imm
		switch op & 7 {
		case 0, 1, 2, 3:
			oneByte[op] = fModRM
		case 4:
			oneByte[op] = fImm8
		case 5:
			oneByte[op] = fImmZ
		default:
			oneByte[op] = fInvalid // push/pop segment, DAA, DAS, AAA, AAS (prefixes and 0F are taken first)
		}
	}
	set := func(t *[256]uint16, f uint16, ops ...int) {
		for _, op := range ops {
			t[op] = f
		}
	}
	rng := func(lo, hi int) []int {
		var r []int
		for op := lo; op <= hi; op++ {
			r = append(r, op)
		}
		return r
	}
	set(&oneByte, fInvalid, 0x60, 0x61, 0x82, 0x9A, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA)
	set(&oneByte, fModRM, 0x63, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F,
		0xD0, 0xD1, 0xD2, 0xD3, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xFE, 0xFF)
	set(&oneByte, fImmZ, 0x68, 0xA9)
	set(&oneByte, fModRM|fImmZ, 0x69, 0x81, 0xC7)
	set(&oneByte, fImm8, append(rng(0x70, 0x7F), 0x6A, 0xA8, 0xCD, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xEB)...)
	set(&oneByte, fImm8, rng(0xB0, 0xB7)...)
	set(&oneByte, fModRM|fImm8, 0x6B, 0x80, 0x83, 0xC0, 0xC1, 0xC6)
	set(&oneByte, fMoffs, 0xA0, 0xA1, 0xA2, 0xA3)
	set(&oneByte, fImmV, rng(0xB8, 0xBF)...)
	set(&oneByte, fImm16, 0xC2, 0xCA)
	set(&oneByte, fImm16|fImm8, 0xC8)
	set(&oneByte, fRel32, 0xE8, 0xE9)
	set(&oneByte, fModRM|fGrp3, 0xF6, 0xF7)

	for op := range twoByte {
		twoByte[op] = fModRM
	}
	set(&twoByte, 0, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0E, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37,
		0x77, 0xA0, 0xA1, 0xA2, 0xA8, 0xA9, 0xAA)
	set(&twoByte, 0, rng(0xC8, 0xCF)...)
	set(&twoByte, fRel32, rng(0x80, 0x8F)...)
	set(&twoByte, fModRM|fImm8, 0x0F, 0x70, 0x71, 0x72, 0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4, 0xC5, 0xC6)
}

// decode decodes the instruction at the start of b (at most 15 bytes are
// looked at). It reports false for bytes that are no instruction or are
// cut short.
func decode(b []byte) (Insn, bool) {
	var in Insn
	if len(b) > 15 {
		b = b[:15]
	}
	p := 0
	next := func() (byte, bool) {
		if p >= len(b) {
			return 0, false
		}
		p++
		return b[p-1], true
	}
	c, ok := next()
	for ok {
		switch c {
		case 0x66:
			in.Opsize = true
		case 0x67:
			in.Addrsize = true
		case 0xF3:
			in.Rep = true
		case 0xF2:
			in.Repne = true
		case 0xF0:
			in.Lock = true
		case 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65:
		default:
			goto prefixesDone
		}
		in.NPrefix++
		c, ok = next()
	}
	return in, false
prefixesDone:
	if c&0xF0 == 0x40 {
		in.REX = c
		if c, ok = next(); !ok {
			return in, false
		}
	}
	switch {
	case c == 0xC4 || c == 0xC5 || c == 0x62:
		if in.REX != 0 {
			return in, false
		}
		return decodeVex(b, p, c, in)
	case c == 0x0F:
		if c, ok = next(); !ok {
			return in, false
		}
		switch c {
		case 0x38, 0x3A:
			in.Map = 2
			f := uint16(fModRM)
			if c == 0x3A {
				in.Map, f = 3, fModRM|fImm8
			}
			if c, ok = next(); !ok {
				return in, false
			}
			in.Op, in.OpOff = c, p-1
			return operands(b, p, f, in)
		}
		in.Map, in.Op, in.OpOff = 1, c, p-1
		return operands(b, p, twoByte[c], in)
	}
	in.Op, in.OpOff = c, p-1
	return operands(b, p, oneByte[c], in)
}

// decodeVex decodes a VEX (C4, C5) or EVEX (62) instruction; p is just
// past the escape byte.
func decodeVex(b []byte, p int, esc byte, in Insn) (Insn, bool) {
	in.Vex = true
	var payload int
	switch esc {
	case 0xC5:
		payload, in.Map = 1, 1
	case 0xC4:
		payload = 2
	default:
		payload = 3
	}
	if p+payload >= len(b) {
		return in, false
	}
	switch esc {
	case 0xC4:
		in.Map = int(b[p] & 0x1F)
	case 0x62:
		in.Map = int(b[p] & 0x07)
	}
	// REX-equivalent bits, for Reg/RM (stored inverted in the prefix).
	if esc != 0xC5 {
		in.REX = 0x40 | (^b[p]>>7&1)<<2 | (^b[p]>>5&1)&1
	} else {
		in.REX = 0x40 | (^b[p]>>7&1)<<2
	}
	p += payload
	in.Op, in.OpOff = b[p], p
	p++
	if in.Map < 1 || in.Map > 6 || in.Map == 4 {
		return in, false
	}
	f := uint16(fModRM)
	switch {
	case in.Map == 1 && in.Op == 0x77 && esc != 0x62: // VZEROUPPER, VZEROALL
		f = 0
	case in.Map == 3:
		f |= fImm8
	case in.Map == 1 && (in.Op >= 0x70 && in.Op <= 0x73 || in.Op == 0xC2 || in.Op >= 0xC4 && in.Op <= 0xC6):
		f |= fImm8
	}
	return operands(b, p, f, in)
}

// operands decodes ModRM, SIB, displacement and immediate; p is just past
// the opcode.
func operands(b []byte, p int, f uint16, in Insn) (Insn, bool) {
	if f&fInvalid != 0 {
		return in, false
	}
	if f&fModRM != 0 {
		var ok bool
		if p, ok = modrm(b, p, &in); !ok {
			return in, false
		}
	}
	if imm := immLen(f, &in); imm > 0 {
		in.ImmOff, in.ImmLen = p, imm
		p += imm
	}
	if p > len(b) {
		return in, false
	}
	in.Len = p
	return in, true
}

// modrm decodes the ModRM byte at p, a SIB byte and the displacement, and
// returns the offset after them.
func modrm(b []byte, p int, in *Insn) (int, bool) {
	if p >= len(b) {
		return p, false
	}
	in.HasModRM, in.ModRM = true, b[p]
	p++
	mod, rm := in.ModRM>>6, in.ModRM&7
	if mod == 3 {
		return p, true
	}
	switch {
	case rm == 4: // SIB
		if p >= len(b) {
			return p, false
		}
		if mod == 0 && b[p]&7 == 5 {
			in.DispLen = 4
		}
		p++
	case mod == 0 && rm == 5:
		in.DispLen, in.RIPRel = 4, true
	}
	switch mod {
	case 1:
		in.DispLen = 1
	case 2:
		in.DispLen = 4
	}
	if in.DispLen > 0 {
		in.DispOff = p
		p += in.DispLen
	}
	return p, true
}

// immLen is the length of the immediate the encoding f calls for.
func immLen(f uint16, in *Insn) int {
	imm := 0
	switch {
	case f&fGrp3 != 0:
		if in.ModRM>>3&7 < 2 { // TEST
			imm = immZ(*in)
			if in.Op == 0xF6 {
				imm = 1
			}
		}
	case f&fImmV != 0:
		switch {
		case in.REX&8 != 0:
			imm = 8
		case in.Opsize:
			imm = 2
		default:
			imm = 4
		}
	case f&fMoffs != 0:
		imm = 8
		if in.Addrsize {
			imm = 4
		}
	case f&fImmZ != 0:
		imm = immZ(*in)
	case f&fRel32 != 0:
		imm = 4
	}
	if f&fImm16 != 0 {
		imm += 2
	}
	if f&fImm8 != 0 {
		imm++
	}
	return imm
}

func immZ(in Insn) int {
	if in.Opsize {
		return 2
	}
	return 4
}

// Control-flow classes.
const (
	flowNone     = iota
	flowRet      // RET (C3), REP RET
	flowRetImm   // RET imm16, far returns, IRET
	flowCall     // CALL rel32
	flowJmp      // JMP rel8/rel32
	flowJcc      // conditional jumps, LOOP, JRCXZ
	flowIndirect // CALL/JMP through a register or memory
	flowTrap     // INT, INT3, INT1, UD2, HLT, SYSCALL, SYSRET, SYSENTER, SYSEXIT
)

// flow classifies how the instruction transfers control.
func (i *Insn) flow() int {
	switch i.Map {
	case 0:
		switch {
		case i.Op == 0xC3:
			return flowRet
		case i.Op == 0xC2 || i.Op == 0xCA || i.Op == 0xCB || i.Op == 0xCF:
			return flowRetImm
		case i.Op == 0xE8:
			return flowCall
		case i.Op == 0xE9 || i.Op == 0xEB:
			return flowJmp
		case i.Op >= 0x70 && i.Op <= 0x7F, i.Op >= 0xE0 && i.Op <= 0xE3:
			return flowJcc
		case i.Op == 0xCC || i.Op == 0xCD || i.Op == 0xF1 || i.Op == 0xF4:
			return flowTrap
		case i.Op == 0xFF && i.ModRM>>3&7 >= 2 && i.ModRM>>3&7 <= 5:
			return flowIndirect
		}
	case 1:
		if i.Vex {
			return flowNone
		}
		switch {
		case i.Op >= 0x80 && i.Op <= 0x8F:
			return flowJcc
		case i.Op == 0x05 || i.Op == 0x07 || i.Op == 0x0B || i.Op == 0x34 || i.Op == 0x35:
			return flowTrap
		}
	}
	return flowNone
}

// target is the destination of a relative CALL, JMP or Jcc at addr.
func (i *Insn) target(b []byte, addr uintptr) uintptr {
	var rel int64
	switch i.ImmLen {
	case 1:
		rel = int64(int8(b[i.ImmOff]))
	case 4:
		rel = int64(int32(le32(b[i.ImmOff:])))
	}
	return addr + uintptr(i.Len) + uintptr(rel)
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
