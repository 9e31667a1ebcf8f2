package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// gdbProc is the batch gdb attached to the guest: tcplab.py's trace in
// JSON mode, one `continue` that lasts until interrupt.
type gdbProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when stdout hit EOF and cmd.Wait returned

	mu      sync.Mutex // guards the fields below
	hits    []Hit
	warns   []string     // tcplab.py's complaints (a lab function missing)
	raw     bytes.Buffer // gdb's output other than the hit lines
	lastHit time.Time
	waitErr error
}

// hitPrefix starts each line tcplab.py prints for a hit in JSON mode,
// warnPrefix its warnings.
const (
	hitPrefix  = "@lab "
	warnPrefix = "tcplab: "
)

// startGDB attaches gdb to QEMU's stub on port with the kernel's symbols
// and starts trace (tcp-lab-trace json, or tcp-lab-trace json user).
// With detach, gdb lets the guest run on when it ends (instead of leaving
// it stopped), for what the lab does after gdb.
func startGDB(root, kernel string, port int, trace string, timeout time.Duration, detach bool) (*gdbProc, error) {
	if _, err := exec.LookPath("gdb"); err != nil {
		return nil, ErrNoGDB
	}
	args := []string{"-q", "-batch", "-nx",
		"-iex", "set auto-load python-scripts off",
		"-ex", "set pagination off",
		"-ex", "file " + kernel,
		"-ex", fmt.Sprintf("target remote 127.0.0.1:%d", port),
		"-x", filepath.Join(root, ScriptPath),
		"-ex", trace,
		"-ex", "continue",
		"-ex", "tcp-lab-summary"}
	if detach {
		args = append(args, "-ex", "detach")
	}
	g := &gdbProc{cmd: exec.Command("gdb", args...), done: make(chan struct{}), lastHit: time.Now()}
	// Its own process group, so a terminal's Ctrl-C reaches it only
	// through us; it dies with us.
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	g.cmd.Stderr = g.cmd.Stdout
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	go g.read(out)
	go g.watch(timeout)
	return g, nil
}

// read collects gdb's output until EOF, then reaps the process.
func (g *gdbProc) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		g.line(sc.Text())
	}
	err := g.cmd.Wait()
	g.mu.Lock()
	g.waitErr = err
	g.mu.Unlock()
	close(g.done)
}

func (g *gdbProc) line(s string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if js, ok := strings.CutPrefix(s, hitPrefix); ok {
		var h Hit
		if err := json.Unmarshal([]byte(js), &h); err == nil {
			g.hits = append(g.hits, h)
			g.lastHit = time.Now()
			return
		}
	}
	if strings.HasPrefix(s, warnPrefix) {
		g.warns = append(g.warns, s)
	}
	g.raw.WriteString(s)
	g.raw.WriteByte('\n')
}

// watch kills gdb (by its PID) if it outlives the run.
func (g *gdbProc) watch(d time.Duration) {
	select {
	case <-g.done:
	case <-time.After(d):
		g.kill()
	}
}

func (g *gdbProc) kill() {
	if p := g.cmd.Process; p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
}

// quiet waits until no hit has arrived for idle, or at most limit.
func (g *gdbProc) quiet(idle, limit time.Duration) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		g.mu.Lock()
		since := time.Since(g.lastHit)
		g.mu.Unlock()
		if since >= idle {
			return
		}
		time.Sleep(idle - since)
	}
}

// waitHit waits up to limit for a hit of the Linux function linux.
func (g *gdbProc) waitHit(linux string, limit time.Duration) bool {
	end := time.Now().Add(limit)
	for seen := 0; time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		g.mu.Lock()
		for ; seen < len(g.hits); seen++ {
			if g.hits[seen].Linux == linux {
				g.mu.Unlock()
				return true
			}
		}
		g.mu.Unlock()
	}
	return false
}

// finish interrupts gdb's `continue` (SIGINT stops the guest; the script
// then prints its summary and gdb exits) and returns the hits, the
// script's warnings and gdb's other output. runErr is the driving error,
// returned first.
func (g *gdbProc) finish(runErr error) ([]Hit, []string, string, error) {
	if p := g.cmd.Process; p != nil {
		_ = p.Signal(syscall.SIGINT)
	}
	select {
	case <-g.done:
	case <-time.After(20 * time.Second):
		g.kill()
		<-g.done
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	err := runErr
	if err == nil && g.waitErr != nil {
		err = fmt.Errorf("lab: gdb: %w", g.waitErr)
	}
	return g.hits, g.warns, g.raw.String(), err
}
