package harness

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Machine is one running QEMU (or Config.Command) with its console.
type Machine struct {
	cfg     Config
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *console // serial console (stdout)
	errOut  *console // QEMU's own diagnostics (stderr)
	done    chan struct{}
	started time.Time

	mu       sync.Mutex // guards state below
	state    *os.ProcessState
	waitErr  error
	watchdog bool // the watchdog killed the process
}

// ErrWatchdog is returned by Wait when the watchdog had to kill the guest.
var ErrWatchdog = errors.New("harness: watchdog killed the guest")

// Start launches the machine described by cfg.
func Start(cfg Config) (*Machine, error) {
	args := cfg.Args()
	m := &Machine{cfg: cfg, out: newConsole(), errOut: newConsole(), done: make(chan struct{})}
	m.cmd = exec.Command(args[0], args[1:]...)
	m.cmd.Env = append(os.Environ(), cfg.Env...)
	// Own process group: Kill takes QEMU and anything it spawned.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	m.cmd.Stdout = m.out
	m.cmd.Stderr = m.errOut
	stdin, err := m.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	m.stdin = stdin
	m.started = time.Now()
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", args[0], err)
	}
	go m.reap()
	go m.watch(cfg.timeout())
	return m, nil
}

// StartT starts a machine for a test: the test fails if it cannot start,
// the machine is killed when the test ends, and a failed test's console
// transcript is saved and its path logged.
func StartT(t testing.TB, cfg Config) *Machine {
	t.Helper()
	m, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Kill()
		if t.Failed() {
			path, err := m.SaveTranscript(t.Name())
			if err != nil {
				t.Logf("saving transcript: %v", err)
			} else {
				t.Logf("console transcript: %s", path)
			}
		}
	})
	return m
}

// reap waits for the process; cmd.Wait returns after stdout/stderr drained.
func (m *Machine) reap() {
	err := m.cmd.Wait()
	m.out.close()
	m.errOut.close()
	m.mu.Lock()
	m.state, m.waitErr = m.cmd.ProcessState, err
	m.mu.Unlock()
	close(m.done)
}

// watch kills the guest when it outlives the watchdog timeout.
func (m *Machine) watch(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.done:
	case <-t.C:
		m.mu.Lock()
		m.watchdog = true
		m.mu.Unlock()
		m.Kill()
	}
}

// Kill ends the process group at once; safe to call more than once.
func (m *Machine) Kill() {
	select {
	case <-m.done:
		return
	default:
	}
	if p := m.cmd.Process; p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
	<-m.done
}

// Pid is QEMU's process id (for a host profiler such as perf).
func (m *Machine) Pid() int { return m.cmd.Process.Pid }

// Send types s on the serial console.
func (m *Machine) Send(s string) error {
	_, err := io.WriteString(m.stdin, s)
	return err
}

// CloseInput closes the console's input (EOF on QEMU's stdin).
func (m *Machine) CloseInput() error { return m.stdin.Close() }

// Expect waits for the literal s in the unread console output and returns
// everything up to and including it.
func (m *Machine) Expect(s string, timeout time.Duration) (string, error) {
	text, _, err := m.out.expect(fmt.Sprintf("%q", s), literal(s), timeout)
	return text, m.withStderr(err)
}

// Command types line and a carriage return at the shell and returns what
// the command printed: the text after the console's echo of line, up to
// and without the next prompt. Output that arrives before the echo is
// skipped: a background job that prints after the previous command's
// prompt makes the console redraw that prompt (drivers/tty's reprint),
// and taking the redrawn prompt for this command's end would shift every
// later command's output by one.
func (m *Machine) Command(line, prompt string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	if err := m.Send(line + "\r"); err != nil {
		return "", err
	}
	if _, err := m.Expect(line+"\r\n", timeout); err != nil {
		return "", fmt.Errorf("the echo of %q: %w", line, err)
	}
	out, err := m.Expect(prompt, max(time.Until(deadline), time.Second))
	return strings.TrimSuffix(out, prompt), err
}

// ExpectRegexp waits for re in the unread console output; it returns the
// text up to the end of the match and the match's groups (0 = whole match).
func (m *Machine) ExpectRegexp(re *regexp.Regexp, timeout time.Duration) (string, []string, error) {
	text, groups, err := m.out.expect("/"+re.String()+"/", pattern(re), timeout)
	return text, groups, m.withStderr(err)
}

// withStderr adds QEMU's own complaints (bad option, missing file) to err.
func (m *Machine) withStderr(err error) error {
	if err == nil {
		return nil
	}
	if e := m.errOut.Bytes(); len(e) > 0 {
		return fmt.Errorf("%w; stderr: %q", err, tail(e))
	}
	return err
}

// Output returns everything the guest printed so far.
func (m *Machine) Output() string { return string(m.out.Bytes()) }

// Stderr returns everything QEMU (or Config.Command) wrote on its stderr
// so far: its diagnostics, or qemu/run.sh's messages.
func (m *Machine) Stderr() string { return string(m.errOut.Bytes()) }

// Since returns the time elapsed since the process started.
func (m *Machine) Since() time.Duration { return time.Since(m.started) }

// Wait waits for the process to exit and returns its exit status. A guest
// the watchdog killed, or one still running after timeout (then killed),
// returns an error.
func (m *Machine) Wait(timeout time.Duration) (int, error) {
	select {
	case <-m.done:
	case <-time.After(timeout):
		m.Kill()
		return -1, fmt.Errorf("harness: guest still running after %v (killed)", timeout)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watchdog {
		return -1, ErrWatchdog
	}
	if m.state == nil {
		return -1, m.waitErr
	}
	if ws, ok := m.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, fmt.Errorf("harness: guest killed by %v", ws.Signal())
	}
	return m.state.ExitCode(), nil
}

// SaveTranscript writes the console output and QEMU's stderr to a file
// named after the test and returns its path.
func (m *Machine) SaveTranscript(name string) (string, error) {
	dir := os.Getenv(TranscriptEnv)
	if dir == "" {
		bd := m.cfg.BuildDir
		if bd == "" {
			bd = BuildDir()
		}
		dir = filepath.Join(bd, "transcripts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(name)+".log")
	var b strings.Builder
	fmt.Fprintf(&b, "# command: %s\n# console:\n", m.cfg)
	b.Write(m.out.Bytes())
	fmt.Fprintf(&b, "\n# stderr:\n%s", m.errOut.Bytes())
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
