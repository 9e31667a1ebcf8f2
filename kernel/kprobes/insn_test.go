package kprobes

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The decoder must cut a whole Go binary's text (this test binary: Go
// code, the runtime's assembly with SSE, AVX2 and AVX-512) into the same
// instructions as objdump does.
func TestDecodeMatchesObjdump(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Fatalf("objdump (binutils, which the build needs for ld) not found: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	code, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn", "-j", ".text", exe).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	want := map[uint64]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		addr, rest, ok := strings.Cut(l, ":\t")
		if !ok {
			continue
		}
		a, err := strconv.ParseUint(addr, 16, 64)
		if err != nil {
			continue
		}
		want[a] = rest
	}
	if len(want) < 100000 {
		t.Fatalf("objdump listed only %d instructions", len(want))
	}
	bad := 0
	n := 0
	for off := 0; off < len(code); {
		addr := text.Addr + uint64(off)
		in, ok := decode(code[off:])
		m, listed := want[addr]
		switch {
		case !listed:
			t.Errorf("%#x: we decode an instruction (% x) where objdump has none", addr, code[off:off+max(in.Len, 1)])
			bad++
		case !ok && !strings.Contains(m, "(bad)"):
			t.Errorf("%#x: cannot decode % x (objdump: %s)", addr, code[off:min(off+15, len(code))], m)
			bad++
		}
		if bad > 10 {
			t.Fatal("too many differences")
		}
		if !ok {
			in.Len = 1
		}
		off += in.Len
		n++
	}
	if n != len(want) {
		t.Errorf("we cut %d instructions, objdump %d", n, len(want))
	}
}

func TestDecodeFields(t *testing.T) {
	for _, c := range []struct {
		code     []byte
		len      int
		riprel   bool
		flow     int
		dispOff  int
		immLen   int
		modrmReg int
	}{
		{[]byte{0x49, 0x3b, 0x66, 0x10}, 4, false, flowNone, 3, 0, 4},                         // cmp 0x10(%r14),%rsp
		{[]byte{0x4c, 0x8d, 0x64, 0x24, 0xd8}, 5, false, flowNone, 4, 0, 12},                  // lea -0x28(%rsp),%r12
		{[]byte{0x48, 0x8d, 0x05, 1, 2, 3, 4}, 7, true, flowNone, 3, 0, 0},                    // lea 0x4030201(%rip),%rax
		{[]byte{0x80, 0x3d, 1, 2, 3, 4, 0}, 7, true, flowNone, 2, 1, 7},                       // cmpb $0,0x4030201(%rip)
		{[]byte{0xe8, 0, 0, 0, 0}, 5, false, flowCall, 0, 4, 0},                               // call
		{[]byte{0xc3}, 1, false, flowRet, 0, 0, 0},                                            // ret
		{[]byte{0xf3, 0xc3}, 2, false, flowRet, 0, 0, 0},                                      // rep ret
		{[]byte{0xff, 0xd0}, 2, false, flowIndirect, 0, 0, 2},                                 // call *%rax
		{[]byte{0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 10, false, flowNone, 0, 8, 0},            // movabs
		{[]byte{0x66, 0xb8, 1, 2}, 4, false, flowNone, 0, 2, 0},                               // mov $0x201,%ax
		{[]byte{0xc5, 0xf8, 0x77}, 3, false, flowNone, 0, 0, 0},                               // vzeroupper
		{[]byte{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x44, 0x24, 0x01}, 8, false, flowNone, 7, 0, 0}, // vmovups 0x40(%rsp),%zmm0
		{[]byte{0x0f, 0x84, 1, 0, 0, 0}, 6, false, flowJcc, 0, 4, 0},                          // je rel32
		{[]byte{0xf7, 0xc0, 1, 0, 0, 0}, 6, false, flowNone, 0, 4, 0},                         // test $1,%eax
		{[]byte{0xf7, 0xd8}, 2, false, flowNone, 0, 0, 3},                                     // neg %eax
	} {
		in, ok := decode(c.code)
		if !ok || in.Len != c.len || in.RIPRel != c.riprel || in.flow() != c.flow || in.DispOff != c.dispOff ||
			in.ImmLen != c.immLen || (in.HasModRM && in.Reg() != c.modrmReg) {
			t.Errorf("% x: got ok=%v %+v flow %d", c.code, ok, in, in.flow())
		}
	}
}
