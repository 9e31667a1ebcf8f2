package kprobes

import (
	"fmt"

	"gomenuos/kernel/ksyms"
)

// Deciding where a function's probe points go and how each displaced
// instruction will run. Goroutine context.

// planned is a point before it is armed.
type planned struct {
	addr      uintptr
	kind      uint8
	op        uint8
	in        Insn
	code      []byte // the instruction's bytes
	disp      int64
	stackNext bool
}

// planEntry plans the entry point of s.
func planEntry(s ksyms.Sym) (planned, error) {
	code := textPeek(s.Entry, int(min(s.End-s.Entry, 32)))
	in, ok := decode(code)
	if !ok {
		return planned{}, fmt.Errorf("cannot decode its first instruction (% x)", code[:min(len(code), 8)])
	}
	p := planned{addr: s.Entry, kind: kindEntry, in: in, code: code[:in.Len]}
	if err := p.choose(code); err != nil {
		return planned{}, err
	}
	return p, nil
}

// planReturns plans a point on every RET of s.
func planReturns(s ksyms.Sym) ([]planned, error) {
	code := textPeek(s.Entry, int(s.End-s.Entry))
	var out []planned
	for off := 0; off < len(code); {
		in, ok := decode(code[off:])
		if !ok {
			if allINT3(code[off:]) {
				break // the padding after the body
			}
			return nil, fmt.Errorf("cannot decode its body at +%#x (% x)", off, code[off:min(len(code), off+8)])
		}
		if in.flow() == flowRet {
			out = append(out, planned{addr: s.Entry + uintptr(off), kind: kindReturn, op: opRet, in: in,
				code: code[off : off+in.Len]})
		}
		off += in.Len
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("it has no RET instruction (it never returns, or leaves by a tail jump)")
	}
	return out, nil
}

func allINT3(b []byte) bool {
	for _, c := range b {
		if c != 0xCC {
			return false
		}
	}
	return true
}

// choose picks how the displaced instruction runs: one of the emulated
// forms Go functions start with, else a single step out of line, unless
// the instruction cannot be moved.
func (p *planned) choose(code []byte) error {
	in := &p.in
	b := code[:in.Len]
	switch {
	case len(b) == 4 && b[0] == 0x49 && b[1] == 0x3B && b[2] == 0x66:
		p.op, p.disp = opStackCheck, int64(int8(b[3])) // CMP disp8(R14), RSP
	case len(b) == 5 && b[0] == 0x4C && b[1] == 0x8D && b[2] == 0x64 && b[3] == 0x24:
		p.op, p.disp = opLeaR12, int64(int8(b[4])) // LEA disp8(RSP), R12
	case len(b) == 8 && b[0] == 0x4C && b[1] == 0x8D && b[2] == 0xA4 && b[3] == 0x24:
		p.op, p.disp = opLeaR12, int64(int32(le32(b[4:]))) // LEA disp32(RSP), R12
	case len(b) == 3 && b[0] == 0x49 && b[1] == 0x89 && b[2] == 0xE4:
		p.op = opMovR12 // MOV RSP, R12
	case len(b) == 1 && b[0] == 0x55:
		p.op = opPushBP
	case len(b) == 1 && b[0] == 0x90, in.Map == 1 && in.Op == 0x1F && !in.Vex:
		p.op = opNop
	default:
		return p.chooseFlow(b)
	}
	if p.op == opLeaR12 && len(code) >= in.Len+4 {
		n := code[in.Len : in.Len+4]
		p.stackNext = n[0] == 0x4D && n[1] == 0x3B && n[2] == 0x66 && n[3] == 0x10 // CMP 16(R14), R12
	}
	return nil
}

func (p *planned) chooseFlow(b []byte) error {
	in := &p.in
	switch in.flow() {
	case flowRet:
		p.op = opRet
		return nil
	case flowJmp:
		p.op, p.disp = opJmp, int64(in.target(b, p.addr))
		return nil
	case flowCall:
		p.op, p.disp = opCall, int64(in.target(b, p.addr))
		return nil
	case flowNone:
	default:
		return fmt.Errorf("its first instruction (% x) transfers control in a way the probe cannot replay", b)
	}
	if in.Map == 0 && !in.Vex {
		switch in.Op {
		case 0x9C, 0x9D, 0xFA, 0xFB, 0x8E, 0x17, 0x1F:
			// PUSHF/POPF would see or change TF, CLI/STI and MOV SS
			// change what the single step relies on.
			return fmt.Errorf("its first instruction (% x) touches the flags a single step relies on", b)
		}
	}
	if in.Map == 1 && !in.Vex && (in.Op == 0x00 || in.Op == 0x01) {
		return fmt.Errorf("its first instruction (% x) is a system instruction the probe will not step", b)
	}
	p.op = opXOL
	return nil
}
