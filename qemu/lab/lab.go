// Package lab runs the course's TCP handshake lab on gomenuos without a
// human at the keyboard (what `make lab` does): QEMU starts with its CPU
// stopped and a gdb stub on a free port, gdb attaches in batch mode with
// qemu/gdb/tcplab.py's breakpoints (our counterparts of tcp_v4_connect,
// inet_csk_accept, tcp_v4_rcv, ... — they print and go on rather than
// stop), the shell gets `replyhi` and then `hello` typed at its prompt,
// and once hello has printed its `recv "hi"` the lab interrupts gdb and
// kills QEMU (by its PID). Run returns every breakpoint hit in order; Write prints
// them as `Linux name  ->  our function (file:line)`.
//
// With Config.Menu = MenuC the same lab runs on the C MenuOS (user/menu)
// booted as init: its socket calls are system calls, so the trace adds the
// system-call layer (__sys_socket, __sys_bind, __sys_listen,
// __sys_accept4, inet_accept, __sys_connect) and tags each hit with the
// process it ran for; replyhi's server is a forked child.
package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/ktrace"
)

// Config describes one lab run. The zero value uses the default image and
// finds the repository from the working directory.
type Config struct {
	BuildDir string        // image directory; "" means harness.BuildDir()
	Root     string        // repository root (holds qemu/gdb/tcplab.py); "" = found from the working directory
	Timeout  time.Duration // the whole run; 0 means DefaultTimeout
	Menu     string        // "go" (or ""): the Go shell; "c": the C MenuOS as init (MenuC)
	// Pictures, when set, is a directory for SVG pictures of the run: the
	// kernel's tracepoints are on from boot (trace_event=), and once gdb
	// has detached the lab reads the trace and draws each TCP connection
	// and the context switches (qemu/ktrace). The Go shell's `trace`
	// command reads it, so only with MenuGo.
	Pictures string
}

// The two MenuOS programs the lab can type at.
const (
	MenuGo = "go" // the kernel's Go shell (pid 1 without a process of its own)
	MenuC  = "c"  // user/menu, a ring-3 C program on the system calls, booted as init
)

// CInit is the kernel command line that makes the C MenuOS init.
const CInit = "init=/bin/menu"

// DefaultTimeout bounds a run: under TCG with ~70 breakpoint hits the
// exchange takes a few seconds.
const DefaultTimeout = 3 * time.Minute

// Console lines the lab waits for (MenuOS's replyhi and hello, see
// docs/gdb-lab.md).
const (
	Prompt     = "MenuOS>>"
	ReplyhiOut = "Please input hello...\r\n"
	HelloOut   = `recv "hi" from 127.0.0.1:5001`
)

// Result is one run: the breakpoint hits in the order gdb reported them
// (typed commands appear as hits with Cmd set), the guest's console and
// gdb's own output.
type Result struct {
	Hits     []Hit
	Warnings []string // lab functions gdb could not find in this kernel
	Console  string
	GDB      string
	Port     int           // QEMU's gdb stub: 127.0.0.1:Port
	Elapsed  time.Duration // from QEMU's start to gdb's exit
	Trace    string        // the kernel's trace after the run (with Config.Pictures)
	Files    []string      // the pictures written
}

// Run performs the lab once. On error the Result still holds what was
// seen so far.
func Run(cfg Config) (*Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.BuildDir == "" {
		cfg.BuildDir = harness.BuildDir()
	}
	cmdline, trace := "", "tcp-lab-trace json"
	switch cfg.Menu {
	case "", MenuGo:
	case MenuC:
		cmdline, trace = CInit, "tcp-lab-trace json user"
		if cfg.Pictures != "" {
			return nil, fmt.Errorf("lab: pictures read the trace with the Go shell's trace command; not with menu %q", MenuC)
		}
	default:
		return nil, fmt.Errorf("lab: menu %q: want %q or %q", cfg.Menu, MenuGo, MenuC)
	}
	if cfg.Root == "" {
		root, err := findRoot()
		if err != nil {
			return nil, err
		}
		cfg.Root = root
	}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		return nil, err
	}
	port, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	hc := harness.Config{BuildDir: cfg.BuildDir, GDBPort: port, WaitGDB: true, Cmdline: cmdline, Timeout: cfg.Timeout}
	if cfg.Pictures != "" {
		hc.Cmdline = "trace_event=" + strings.Join(ktrace.DefaultEvents, ",")
	}
	m, err := harness.Start(hc)
	if err != nil {
		return nil, err
	}
	defer m.Kill()
	_, kernel, _ := harness.Image(cfg.BuildDir)
	g, err := startGDB(cfg.Root, kernel, port, trace, cfg.Timeout, cfg.Pictures != "")
	if err != nil {
		return nil, err
	}
	res := &Result{Port: port}
	err = drive(m, g, cfg.Timeout)
	res.Hits, res.Warnings, res.GDB, err = g.finish(err)
	res.Console, res.Elapsed = m.Output(), m.Since()
	if err == nil && cfg.Pictures != "" {
		err = pictures(m, cfg, res)
	}
	return res, err
}

// pictures reads the kernel's trace once gdb has detached (the guest runs
// on) and draws it.
func pictures(m *harness.Machine, cfg Config, res *Result) error {
	out, err := m.Command("trace", Prompt, time.Minute)
	if err != nil {
		return fmt.Errorf("lab: reading the trace: %w", err)
	}
	res.Trace = strings.ReplaceAll(out, "\r\n", "\n")
	res.Files, err = ktrace.WriteSVGs(cfg.Pictures, ktrace.Parse(res.Trace))
	return err
}

// drive types the two commands at the right moments and waits for the
// exchange to finish. Each wait is bounded by the run's timeout.
func drive(m *harness.Machine, g *gdbProc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	left := func() time.Duration { return max(time.Until(deadline), time.Second) }
	expect := func(s string) error {
		if _, err := m.Expect(s, left()); err != nil {
			return fmt.Errorf("lab: waiting for %q: %w", s, err)
		}
		return nil
	}
	if err := expect(Prompt); err != nil {
		return err
	}
	if err := m.Send("replyhi\r"); err != nil {
		return err
	}
	if err := expect(ReplyhiOut + Prompt); err != nil {
		return err
	}
	// As in the Linux lab, hello waits until the server sleeps in accept
	// (its job may start after the prompt is back).
	if !g.waitHit("inet_csk_accept", left()) {
		return fmt.Errorf("lab: replyhi's server never reached inet_csk_accept")
	}
	if err := m.Send("hello\r"); err != nil {
		return err
	}
	if err := expect(HelloOut); err != nil {
		return err
	}
	if err := expect(Prompt); err != nil {
		return err
	}
	// hello has its answer; the FIN exchange of both closes is still on
	// its way. It is over when gdb has reported nothing for a while.
	g.quiet(500*time.Millisecond, min(left(), 20*time.Second))
	return nil
}

// findRoot walks up from the working directory to the directory holding
// qemu/gdb/tcplab.py.
func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ScriptPath)); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("lab: no %s above %s", ScriptPath, wd)
		}
	}
}

// ScriptPath is the gdb script, relative to the repository root.
const ScriptPath = "qemu/gdb/tcplab.py"

// ErrNoGDB is returned when gdb is not installed (`make deps` installs it).
var ErrNoGDB = errors.New("lab: gdb not found (make deps installs it)")
