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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/qemu/harness"
)

// dispatchSym is the shell function the gdb lab breaks on.
const dispatchSym = "gomenuos/kernel/menu.(*Shell).dispatch"

// gdbSession is QEMU waiting (-S) on a free port with gdb attached in batch
// mode, running exs after `target remote`.
type gdbSession struct {
	m      *harness.Machine
	gdb    *exec.Cmd
	out    bytes.Buffer
	kernel string
}

// startGDB boots under gdb and waits for the prompt (gdb's first
// `continue` in exs starts the CPU).
func startGDB(t *testing.T, exs ...string) *gdbSession {
	t.Helper()
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &gdbSession{m: harness.StartT(t, harness.Config{BuildDir: dir, GDBPort: port, WaitGDB: true})}
	_, s.kernel, _ = harness.Image(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	args := []string{"-batch", "-nx", "-iex", "add-auto-load-safe-path " + goroot(t),
		"-ex", "set pagination off", "-ex", "file " + s.kernel,
		"-ex", fmt.Sprintf("target remote 127.0.0.1:%d", port)}
	for _, ex := range exs {
		args = append(args, "-ex", ex)
	}
	s.gdb = exec.CommandContext(ctx, "gdb", args...)
	s.gdb.Stdout, s.gdb.Stderr = &s.out, &s.out
	if err := s.gdb.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.m.Expect(banner+prompt, bootTimeout*2); err != nil {
		t.Fatalf("guest under gdb did not reach the prompt: %v", err)
	}
	return s
}

// wait waits for gdb's batch to end and returns its output.
func (s *gdbSession) wait(t *testing.T) []byte {
	t.Helper()
	err := s.gdb.Wait()
	t.Logf("gdb output:\n%s", s.out.String())
	if err != nil {
		t.Fatalf("gdb: %v", err)
	}
	return s.out.Bytes()
}

// TestQEMUGDBBreakpointOnDispatch is the debugging flow of the course on our
// kernel: gdb breaks on the shell's dispatcher, typing a command stops the
// guest there, RIP lies inside the function, Go's runtime-gdb.py lists the
// goroutines, and after gdb detaches the command runs.
func TestQEMUGDBBreakpointOnDispatch(t *testing.T) {
	s := startGDB(t, "break '"+dispatchSym+"'", "continue", "info registers rip", "bt 1",
		"info goroutines", "delete", "detach")
	lo, hi := symbolRange(t, s.kernel, dispatchSym)
	s.m.Send("version\r")
	out := s.wait(t)
	hit := regexp.MustCompile(`Breakpoint 1, (0x[0-9a-f]+ in )?` + regexp.QuoteMeta(dispatchSym) + `\b`)
	if !hit.Match(out) {
		t.Errorf("gdb did not report the breakpoint hit in %s", dispatchSym)
	}
	rip := regexp.MustCompile(`rip\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <` + regexp.QuoteMeta(dispatchSym) + `(\+\d+)?>`)
	g := rip.FindSubmatch(out)
	if g == nil {
		t.Fatalf("info registers rip does not name %s", dispatchSym)
	}
	pc, _ := strconv.ParseUint(string(g[1]), 0, 64)
	if pc < lo || pc >= hi {
		t.Errorf("rip %#x outside %s [%#x, %#x)", pc, dispatchSym, lo, hi)
	}
	// Go's runtime-gdb.py works on the kernel: the shell's goroutine is
	// the running one.
	if !regexp.MustCompile(`(?m)^\* +\d+ running`).Match(out) {
		t.Errorf("info goroutines lists no running goroutine")
	}
	// Detached, the guest runs the command it stopped in.
	if _, err := s.m.Expect("gomenuos 0.1 (Go", cmdTimeout); err != nil {
		t.Errorf("guest did not continue after detach: %v", err)
	}
}

// TestQEMUGDBTCPLab is the course's TCP lab with gdb: breakpoints on the Go
// names of tcp_v4_connect and inet_csk_accept (what qemu/gdb's tcp-lab
// sets), `replyhi` stops the guest in the accept path, and after detaching
// `hello` gets its "hi".
func TestQEMUGDBTCPLab(t *testing.T) {
	s := startGDB(t, `rbreak \.tcpV4Connect$`, `rbreak \.inetCskAccept$`, "continue", "bt 3",
		"delete", "detach")
	s.m.Send("replyhi\r")
	out := s.wait(t)
	if !regexp.MustCompile(`Breakpoint \d+, (0x[0-9a-f]+ in )?gomenuos/\S+\.inetCskAccept \(`).Match(out) {
		t.Errorf("replyhi did not stop in inetCskAccept")
	}
	if _, err := s.m.Expect("Please input hello...\r\n"+prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	s.m.Send("hello\r")
	if _, err := s.m.Expect(`recv "hi" from 127.0.0.1:5001`, cmdTimeout); err != nil {
		t.Errorf("hello after the gdb session: %v", err)
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

// TestQEMUGDBGoroutines: in `make gdb`'s gdb, stopped where replyhi's
// server accepts, bt prints no Python exception (runtime-gdb.py's printers
// meet optimized-out slices in the job's frames) and info goroutines marks
// exactly one goroutine as on the CPU: the server's, at inetCskAccept,
// where goroutine N bt finds it too.
func TestQEMUGDBGoroutines(t *testing.T) {
	dir := harness.BuildDir()
	require.NoError(t, harness.CheckImage(dir))
	port, err := harness.FreePort()
	require.NoError(t, err)
	m := harness.StartT(t, harness.Config{BuildDir: dir, GDBPort: port, WaitGDB: true, Timeout: 3 * time.Minute})
	g := startMakeGDB(t, harness.BuildEnv+"="+dir, fmt.Sprintf("GDB_PORT=%d", port))
	g.send("break 'gomenuos/net/inet.(*Socket).inetCskAccept'", "continue")
	_, err = m.Expect(banner+prompt, bootTimeout*2)
	require.NoError(t, err, "guest under gdb did not reach the prompt")
	m.Send("replyhi\r")
	g.expect(t, regexp.MustCompile(`^Breakpoint 1, `))

	mark := len(g.drain())
	g.send("bt", "info goroutines", "echo END-OF-LIST\\n")
	g.expect(t, regexp.MustCompile(`END-OF-LIST`))
	out := g.output()[mark:]
	assert.NotContains(t, out, "Python Exception")
	assert.Contains(t, out, "args=<optimized out>", "runCommand's frame, whose slice used to raise")
	stars := regexp.MustCompile(`(?m)^(?:\(gdb\) )*\* (\d+) running  (\S+)$`).FindAllStringSubmatch(out, -1)
	require.Len(t, stars, 1, "info goroutines should mark one goroutine:\n%s", out)
	assert.Equal(t, "gomenuos/net/inet.(*Socket).inetCskAccept", stars[0][2])

	mark = len(g.output())
	g.send("goroutine "+stars[0][1]+" bt 1", "echo END-OF-BT\\n")
	g.expect(t, regexp.MustCompile(`END-OF-BT`))
	assert.Regexp(t, `#0 +gomenuos/net/inet\.\(\*Socket\)\.inetCskAccept `, g.output()[mark:])

	g.send("delete", "detach", "quit")
	g.wait(t)
	_, err = m.Expect("Please input hello...\r\n", cmdTimeout)
	assert.NoError(t, err)
}
