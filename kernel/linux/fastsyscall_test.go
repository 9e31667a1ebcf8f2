package linux

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A system call from ring 3 first runs x86.fastSyscallDispatch and the
// handler it calls (userFastSyscall) before the entry saves the user's
// FPU state (arch/x86/trap_amd64.s, userSyscallCommon). That code must
// leave every SSE register but X15 (saved around it) as user code left
// it. The compiler decides which registers Go code uses, so read the
// machine code the kernel is linked with: from the entry's call into Go,
// every instruction reachable through direct calls, and the handler the
// indirect call reaches, must name no XMM register but X15.
func TestFastSyscallPathLeavesSSEAlone(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not found: %v", err)
	}
	elf := filepath.Join(t.TempDir(), "kernel.elf")
	// The Makefile's entry point: without it the linker drops the trap entry.
	build := exec.Command(goBin, "build", "-o", elf, "-ldflags=-E gomenuos/kernel/linux.entry", "gomenuos/kernel")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The entry calls the ABI wrapper; the dispatcher's one indirect call
	// goes to the handler kernel/linux registers.
	dis := disassembler{t: t, goBin: goBin, elf: elf, seen: map[string]bool{},
		indirect: map[string]int{"gomenuos/arch/x86.fastSyscallDispatch": 1}}
	dis.check("gomenuos/arch/x86.fastSyscallDispatch.abi0")
	dis.check("gomenuos/kernel/linux.userFastSyscall")
	if !dis.seen["gomenuos/arch/x86.fastSyscallDispatch"] {
		t.Errorf("the wrapper does not call gomenuos/arch/x86.fastSyscallDispatch: the test reads the wrong code")
	}
}

type disassembler struct {
	t     *testing.T
	goBin string
	elf   string
	seen  map[string]bool
	// indirect: how many indirect calls a function may make (the
	// dispatcher's call through the handler variable); none elsewhere.
	indirect map[string]int
}

var (
	xmmReg    = regexp.MustCompile(`\bX([0-9]+)\b`)
	directTo  = regexp.MustCompile(`^CALL ([^ (]+)\(SB\)`)
	neverBack = regexp.MustCompile(`^runtime\.(morestack|panic)`) // never return into the fast path
)

// check reads fn's machine code and everything it calls directly.
func (d *disassembler) check(fn string) {
	if d.seen[fn] || neverBack.MatchString(fn) {
		return
	}
	d.seen[fn] = true
	out, err := exec.Command(d.goBin, "tool", "objdump", "-s", "^"+regexp.QuoteMeta(fn)+"$", d.elf).CombinedOutput()
	if err != nil {
		d.t.Fatalf("objdump %s: %v\n%s", fn, err, out)
	}
	var calls []string
	n, indirects := 0, 0
	for _, line := range strings.Split(string(out), "\n") {
		// "  file:line\taddress\tbytes\tINSTRUCTION", with more tabs
		var f []string
		for _, w := range strings.Split(line, "\t") {
			if w = strings.TrimSpace(w); w != "" {
				f = append(f, w)
			}
		}
		if len(f) < 4 || strings.HasPrefix(line, "TEXT ") {
			continue
		}
		n++
		insn := strings.Join(f[3:], " ")
		for _, m := range xmmReg.FindAllStringSubmatch(insn, -1) {
			if m[1] != "15" {
				d.t.Errorf("%s uses X%s, which holds user state on the fast system-call path: %s", fn, m[1], strings.TrimSpace(line))
			}
		}
		if m := directTo.FindStringSubmatch(insn); m != nil {
			calls = append(calls, m[1])
		} else if strings.HasPrefix(insn, "CALL ") {
			indirects++
		}
	}
	if n == 0 {
		d.t.Fatalf("objdump found no code for %s", fn)
	}
	if indirects > d.indirect[fn] {
		d.t.Errorf("%s makes %d indirect calls (allowed %d): the test cannot follow them", fn, indirects, d.indirect[fn])
	}
	for _, c := range calls {
		d.check(c)
	}
}
