package integration

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// dispatchSym is the shell function the gdb lab breaks on.
const dispatchSym = "gomenuos/kernel/menu.(*Shell).dispatch"

// TestGDBBreakpointOnDispatch is the debugging flow of the course on our
// kernel: QEMU waits (-S) on a free port, gdb loads kernel.elf, breaks on the
// shell's dispatcher and continues; typing a command stops the guest there,
// RIP lies inside the function, and after gdb detaches the command runs.
func TestQEMUGDBBreakpointOnDispatch(t *testing.T) {
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		t.Fatal(err)
	}
	_, kernel, _ := harness.Image(dir)
	lo, hi := symbolRange(t, kernel, dispatchSym)
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := harness.StartT(t, harness.Config{BuildDir: dir, GDBPort: port, WaitGDB: true})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	gdb := exec.CommandContext(ctx, "gdb", "-batch", "-nx",
		"-iex", "add-auto-load-safe-path "+goroot(t),
		"-ex", "set pagination off",
		"-ex", "file "+kernel,
		"-ex", fmt.Sprintf("target remote 127.0.0.1:%d", port),
		"-ex", "break '"+dispatchSym+"'",
		"-ex", "continue",
		"-ex", "info registers rip",
		"-ex", "bt 1",
		"-ex", "info goroutines",
		"-ex", "delete",
		"-ex", "detach")
	gdb.Stdout, gdb.Stderr = &out, &out
	if err := gdb.Start(); err != nil {
		t.Fatal(err)
	}
	// gdb's continue starts the CPU: the guest boots to the prompt.
	if _, err := m.Expect(banner+prompt, bootTimeout*2); err != nil {
		t.Fatalf("guest under gdb did not reach the prompt: %v\ngdb: %s", err, out.String())
	}
	m.Send("version\r")
	if err := gdb.Wait(); err != nil {
		t.Fatalf("gdb: %v\n%s", err, out.String())
	}
	t.Logf("gdb output:\n%s", out.String())
	hit := regexp.MustCompile(`Breakpoint 1, (0x[0-9a-f]+ in )?` + regexp.QuoteMeta(dispatchSym) + `\b`)
	if !hit.Match(out.Bytes()) {
		t.Errorf("gdb did not report the breakpoint hit in %s", dispatchSym)
	}
	rip := regexp.MustCompile(`rip\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <` + regexp.QuoteMeta(dispatchSym) + `(\+\d+)?>`)
	g := rip.FindSubmatch(out.Bytes())
	if g == nil {
		t.Fatalf("info registers rip does not name %s", dispatchSym)
	}
	pc, _ := strconv.ParseUint(string(g[1]), 0, 64)
	if pc < lo || pc >= hi {
		t.Errorf("rip %#x outside %s [%#x, %#x)", pc, dispatchSym, lo, hi)
	}
	// Go's runtime-gdb.py works on the kernel: the shell's goroutine is
	// the running one.
	if !regexp.MustCompile(`(?m)^\* +\d+ running`).Match(out.Bytes()) {
		t.Errorf("info goroutines lists no running goroutine")
	}
	// Detached, the guest runs the command it stopped in.
	if _, err := m.Expect("gomenuos 0.1 (Go", cmdTimeout); err != nil {
		t.Errorf("guest did not continue after detach: %v", err)
	}
}

// symbolRange returns [start, end) of a function symbol in the ELF.
func symbolRange(t *testing.T, path, name string) (uint64, uint64) {
	t.Helper()
	f, err := elf.Open(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			return s.Value, s.Value + s.Size
		}
	}
	t.Fatalf("%s has no function %s (inlined or not linked in?)", path, name)
	return 0, 0
}

// goroot is where gdb finds src/runtime/runtime-gdb.py.
func goroot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}
