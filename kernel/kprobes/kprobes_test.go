package kprobes

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"unsafe"

	"gomenuos/arch/x86"
	"gomenuos/kernel/ksyms"
	"gomenuos/sched/trace"
)

// subFlags must set the arithmetic flags exactly as the CPU's CMP does:
// the stack check's JLS reads CF and ZF.
func TestSubFlagsMatchesCPU(t *testing.T) {
	vals := []uint64{0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 1 << 31, 1<<63 - 1, 1 << 63, 1<<64 - 1, 0x10, 0xf}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		vals = append(vals, r.Uint64())
	}
	for _, a := range vals {
		for _, b := range vals[:40] {
			want := cmpFlags(a, b) & flagArith
			if got := subFlags(0, a, b); got != want {
				t.Fatalf("CMP %#x, %#x: flags %#x, CPU %#x", a, b, got, want)
			}
		}
	}
}

// pokes records what textPoke would have written to kernel text.
type pokes map[uintptr]byte

func fakeText(t *testing.T) pokes {
	p := pokes{}
	old := textPoke
	textPoke = func(addr uintptr, b []byte) {
		for i, c := range b {
			p[addr+uintptr(i)] = c
		}
	}
	t.Cleanup(func() { DisarmAll(); textPoke = old })
	return p
}

func fn(t *testing.T, name string) (int, ksyms.Sym) {
	t.Helper()

	tab, err := ksyms.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	i, ok := tab.ByName(name)
	if !ok {
		t.Fatalf("%s not in the table", name)
	}
	return i, tab.Syms[i]
}

func readEvents() []trace.Event {
	buf := make([]trace.Event, 64)
	return buf[:trace.Read(buf)]
}

// An entry and a return probe on a Go function with a stack check: the
// INT3s land on the first instruction and every RET; an entry hit records
// an event and emulates the check; a hit whose check fails (the function
// will grow its stack and start over) is counted as a restart, not a
// call; a return hit records and returns; removal puts every byte back.
func TestArmHitDisarm(t *testing.T) {
	text := fakeText(t)
	trace.Discard()
	i, s := fn(t, "gomenuos/kernel/kprobes_test.framed")
	n, errs := Arm([]Request{{Func: i, Entry: true, Returns: true}})
	if len(errs) > 0 || n < 2 {
		t.Fatalf("Arm: %d points, %v", n, errs)
	}
	if text[s.Entry] != 0xCC {
		t.Fatalf("no INT3 at the entry")
	}
	var rets []uintptr
	for _, p := range Points() {
		if p.Return {
			rets = append(rets, p.Addr)
			if text[p.Addr] != 0xCC || textPeek(p.Addr, 1)[0] != 0xC3 {
				t.Errorf("return point %#x: poked %#x over %#x", p.Addr, text[p.Addr], textPeek(p.Addr, 1)[0])
			}
		}
	}
	if len(rets) == 0 {
		t.Fatal("no return points")
	}

	var g [8]uint64 // a fake g: stackguard0 at +16
	g[2] = 0x1000
	tf := &x86.TrapFrame{Vector: 3, CS: x86.KernelCS, RIP: uint64(s.Entry) + 1, RSP: 0x8000,
		R14: uint64(uintptr(unsafe.Pointer(&g)))}
	if !Trap(tf) {
		t.Fatal("the entry hit was not handled")
	}
	if tf.RIP != uint64(s.Entry)+4 || tf.RFLAGS&(flagCF|flagZF) != 0 {
		t.Errorf("after the emulated check RIP %#x (want %#x), flags %#x", tf.RIP, s.Entry+4, tf.RFLAGS)
	}
	g[2] = 0x9000 // the stack is too small: morestack, then a second hit
	tf.RIP, tf.RFLAGS = uint64(s.Entry)+1, 0
	Trap(tf)
	if tf.RFLAGS&flagCF == 0 {
		t.Errorf("a failing check left CF clear: %#x", tf.RFLAGS)
	}
	stack := [2]uint64{0x1234, 0}
	tf.RSP, tf.RIP = uint64(uintptr(unsafe.Pointer(&stack))), uint64(rets[0])+1
	if !Trap(tf) || tf.RIP != 0x1234 || tf.RSP != uint64(uintptr(unsafe.Pointer(&stack[1]))) {
		t.Errorf("the return hit: RIP %#x RSP %#x", tf.RIP, tf.RSP)
	}
	ev := readEvents()
	if len(ev) != 2 || ev[0].Kind != trace.KindProbeEntry || ev[1].Kind != trace.KindProbeReturn ||
		ev[0].Probe().Func != uint64(i) || ev[1].Probe().Addr != uint64(rets[0]) {
		t.Fatalf("events: %+v", ev)
	}
	for _, p := range Points() {
		if p.Entry && (p.Hits != 1 || p.Restarts != 1) {
			t.Errorf("entry point: %d hits, %d restarts; want 1 and 1", p.Hits, p.Restarts)
		}
	}

	if Disarm([]int{i}) != 1 {
		t.Fatal("Disarm did not find the probes")
	}
	for a, b := range text {
		if orig := textPeek(a, 1)[0]; b != orig {
			t.Errorf("%#x: %#x left behind, the text has %#x", a, b, orig)
		}
	}
	tf.RIP = uint64(s.Entry) + 1
	if Trap(tf) || Armed() != 0 {
		t.Error("a removed probe still handles its INT3")
	}
}

// A function whose first instruction is not one we emulate is stepped
// out of line: its copy sits in a slot, with a RIP-relative operand
// re-aimed from there.
func TestOutOfLineSlot(t *testing.T) {
	text := fakeText(t)
	i, s := fn(t, "gomenuos/kernel/kprobes_test.leaf")
	if _, errs := Arm([]Request{{Func: i, Entry: true}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	p := Points()[0]
	if p.Emulated {
		t.Fatalf("leaf's first instruction (% x) was emulated", textPeek(s.Entry, 4))
	}
	in, _ := decode(textPeek(s.Entry, 15))
	slot := points[lookup(s.Entry)].xol
	for k := 0; k < in.Len; k++ {
		if text[slot+uintptr(k)] != textPeek(s.Entry+uintptr(k), 1)[0] {
			t.Fatalf("slot byte %d differs from the instruction", k)
		}
	}

	// A RIP-relative first instruction: the copy must reach the same address.
	tab, _ := ksyms.Kernel()
	for j, s := range tab.Syms {
		code := textPeek(s.Entry, 15)
		in, ok := decode(code)
		if !ok || !in.RIPRel || in.flow() != flowNone || Refused(j) != "" {
			continue
		}
		if _, errs := Arm([]Request{{Func: j, Entry: true}}); len(errs) > 0 {
			t.Fatal(errs)
		}
		slot := points[lookup(s.Entry)].xol
		var copied [15]byte
		for k := range copied[:in.Len] {
			copied[k] = text[slot+uintptr(k)]
		}
		want := s.Entry + uintptr(in.Len) + uintptr(int32(le32(code[in.DispOff:])))
		got := slot + uintptr(in.Len) + uintptr(int32(le32(copied[in.DispOff:])))
		if got != want {
			t.Errorf("%s: the slot's copy addresses %#x, the original %#x", s.Name, got, want)
		}
		return
	}
	t.Fatal("no function starts with a RIP-relative instruction")
}

// The probe machinery and what its handler calls are refused, with the
// call chain in the reason.
func TestRefusals(t *testing.T) {
	fakeText(t)
	for name, want := range map[string]string{
		"gomenuos/kernel/kprobes.trap": "part of the probe machinery (gomenuos/kernel/kprobes)",
		"gomenuos/sched/trace.Reserve": "part of the probe machinery (gomenuos/sched/trace)",
		"gomenuos/arch/x86.Rdtsc":      "runs in the trap path of a probe hit (kprobes.trap → ",
		"gomenuos/kernel/ksyms.Short":  "",
	} {
		i, _ := fn(t, name)
		_, errs := Arm([]Request{{Func: i, Entry: true}})
		var e *Error
		switch {
		case want == "" && len(errs) == 0:
		case want == "" || len(errs) != 1 || !errors.As(errs[0], &e):
			t.Errorf("%s: %v", name, errs)
		case !strings.Contains(e.Reason, want):
			t.Errorf("%s: refused because %q, want %q", name, e.Reason, want)
		}
	}
}

// Most Go functions start with an instruction we emulate.
func TestPlansOfAllFunctions(t *testing.T) {
	tab, _ := ksyms.Kernel()
	ops := map[uint8]int{}
	fails := 0
	for _, s := range tab.Syms {
		p, err := planEntry(s)
		if err != nil {
			fails++
			continue
		}
		ops[p.op]++
	}
	emulated := len(tab.Syms) - fails - ops[opXOL]
	t.Logf("%d functions: %d emulated (%d stack checks), %d stepped, %d refused", len(tab.Syms), emulated,
		ops[opStackCheck], ops[opXOL], fails)
	if ops[opStackCheck] < len(tab.Syms)/2 || fails > len(tab.Syms)/20 {
		t.Errorf("stack checks %d, refused %d of %d", ops[opStackCheck], fails, len(tab.Syms))
	}
}
