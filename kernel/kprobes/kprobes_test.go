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

// A hit that arrives while the handler is recording another (possible
// only through a fault inside the handler) is counted as missed and not
// recorded, and the displaced instruction still runs.
func TestHitWhileRecordingIsCountedAndSkipped(t *testing.T) {
	fakeText(t)
	trace.Discard()
	i, s := fn(t, "gomenuos/kernel/kprobes_test.framed")
	if _, errs := Arm([]Request{{Func: i, Entry: true}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	var g [8]uint64
	tf := &x86.TrapFrame{Vector: 3, CS: x86.KernelCS, RIP: uint64(s.Entry) + 1, RSP: 0x8000,
		R14: uint64(uintptr(unsafe.Pointer(&g)))}
	before := Stats.Recursion
	busy = true
	handled := Trap(tf)
	busy = false
	if !handled || tf.RIP != uint64(s.Entry)+4 {
		t.Fatalf("handled %v, RIP %#x: the instruction must still run", handled, tf.RIP)
	}
	if ev := readEvents(); len(ev) != 0 {
		t.Errorf("a hit inside the handler recorded %d events", len(ev))
	}
	p := Points()[0]
	if p.Hits != 1 || p.Missed != 1 || Stats.Recursion != before+1 {
		t.Errorf("hits %d missed %d recursion +%d, want 1 1 +1", p.Hits, p.Missed, Stats.Recursion-before)
	}
}

// A step out of line whose instruction faults puts the thread back at
// the probed address with its flags; the INT3 fires again on the retry
// and is not counted twice; the step ends at the instruction after the
// probed one.
func TestStepAbortAndRetry(t *testing.T) {
	fakeText(t)
	trace.Discard()
	i, s := fn(t, "gomenuos/kernel/kprobes_test.leaf")
	if _, errs := Arm([]Request{{Func: i, Entry: true}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	pt := &points[lookup(s.Entry)]
	tf := &x86.TrapFrame{Vector: 3, CS: x86.KernelCS, RIP: uint64(s.Entry) + 1, RFLAGS: x86.FlagIF | 2}
	if !Trap(tf) || tf.RIP != uint64(pt.xol) || tf.RFLAGS&x86.FlagTF == 0 || tf.RFLAGS&x86.FlagIF != 0 {
		t.Fatalf("after the INT3: RIP %#x (slot %#x), RFLAGS %#x: want the slot, TF on, IF off", tf.RIP, pt.xol, tf.RFLAGS)
	}
	tf.Vector = 14 // the copy faults
	if Trap(tf) {
		t.Fatal("the page fault was taken for the probe's")
	}
	if tf.RIP != uint64(s.Entry) || tf.RFLAGS != x86.FlagIF|2 || step.active {
		t.Fatalf("after the fault: RIP %#x RFLAGS %#x active %v: want the probed address and the old flags", tf.RIP, tf.RFLAGS, step.active)
	}
	tf.Vector, tf.RIP = 3, uint64(s.Entry)+1 // the retry
	if !Trap(tf) || tf.RIP != uint64(pt.xol) {
		t.Fatal("the retry was not stepped")
	}
	// The step's end: here the INT3 after the copy (what a #DB does the
	// same way, through finishStep).
	tf.RIP = uint64(pt.xol) + uint64(pt.len) + 1
	if !Trap(tf) || tf.RIP != uint64(s.Entry)+uint64(pt.len) || tf.RFLAGS != x86.FlagIF|2 || step.active {
		t.Fatalf("after the step: RIP %#x RFLAGS %#x", tf.RIP, tf.RFLAGS)
	}
	if p := Points()[0]; p.Hits != 1 {
		t.Errorf("%d hits for one call whose step was retried", p.Hits)
	}
	if ev := readEvents(); len(ev) != 1 {
		t.Errorf("%d events for one call", len(ev))
	}
}

// A big frame's check (LEA -N(SP), R12; CMP R12, 16(R14)) is emulated in
// its first half and a failing one is seen coming: that hit is a
// restart, not a call.
func TestBigFrameRestart(t *testing.T) {
	fakeText(t)
	trace.Discard()
	i, s := fn(t, "gomenuos/kernel/kprobes_test.bigFrame")
	if _, errs := Arm([]Request{{Func: i, Entry: true}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	pt := &points[lookup(s.Entry)]
	if pt.op != opLeaR12 || !pt.stackNext {
		t.Fatalf("bigFrame's entry: op %d stackNext %v (% x)", pt.op, pt.stackNext, pt.orig[:pt.len])
	}
	var g [8]uint64
	g[2] = 0x10000 // stackguard0
	tf := &x86.TrapFrame{Vector: 3, CS: x86.KernelCS, RIP: uint64(s.Entry) + 1, RSP: 0x10100,
		R14: uint64(uintptr(unsafe.Pointer(&g)))}
	Trap(tf) // RSP - frame is below the guard: morestack
	if tf.R12 != 0x10100+uint64(pt.disp) || tf.RIP != uint64(s.Entry)+uint64(pt.len) {
		t.Errorf("R12 %#x RIP %#x after the LEA", tf.R12, tf.RIP)
	}
	tf.RIP, tf.RSP = uint64(s.Entry)+1, 0x20000
	Trap(tf)
	if p := Points()[0]; p.Hits != 1 || p.Restarts != 1 {
		t.Errorf("hits %d restarts %d, want 1 and 1", p.Hits, p.Restarts)
	}
	if ev := readEvents(); len(ev) != 1 {
		t.Errorf("%d events, want 1", len(ev))
	}
}
