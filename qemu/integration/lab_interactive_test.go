package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/lab"
)

// TestQEMULabInteractive is docs/gdb-lab.md's interactive flow, the Linux
// lab's steps on our kernel: `make gdb`'s gdb (qemu/run.sh gdb, which
// sources qemu/gdb/gomenuos.gdb), `tcp-lab-all`, `continue`, type replyhi and keep
// continuing until the server sleeps in accept, type hello and keep
// continuing through the handshake; then detach and hello gets its "hi".
func TestQEMULabInteractive(t *testing.T) {
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := harness.StartT(t, harness.Config{BuildDir: dir, GDBPort: port, WaitGDB: true, Timeout: 3 * time.Minute})
	_, kernel, _ := harness.Image(dir)
	g := startMakeGDB(t, harness.BuildEnv+"="+filepath.Dir(kernel), fmt.Sprintf("GDB_PORT=%d", port))

	g.send("tcp-lab-all", "continue")
	if _, err := m.Expect(banner+prompt, bootTimeout*2); err != nil {
		t.Fatalf("guest under gdb did not reach the prompt: %v", err)
	}
	m.Send("replyhi\r")
	server := g.continueUntil(t, func(s labStop) bool { return s.linux == "inet_csk_accept" }, 20)
	want := []string{"__sys_socket", "inet_create", "inet_bind", "inet_listen", "inet_csk_listen_start", "inet_csk_accept"}
	if got := names(server); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("replyhi stopped at\n %v\nwant\n %v", got, want)
	}

	g.send("continue")
	if _, err := m.Expect(lab.ReplyhiOut+prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	m.Send("hello\r")
	hs := g.continueUntil(t, func(s labStop) bool { return s.linux == "inet_csk_accept" && s.returns }, 80)
	t.Logf("replyhi stops: %v\nhello stops: %v", names(server), names(hs))
	order := []string{"inet_stream_connect", "tcp_v4_connect", "tcp_connect", "tcp_v4_conn_request",
		"tcp_rcv_synsent_state_process", "tcp_check_req", "tcp_v4_syn_recv_sock", "tcp_child_process", "inet_csk_accept"}
	if !subsequence(names(hs), order) {
		t.Errorf("hello's stops\n %v\ndo not contain, in order,\n %v", names(hs), order)
	}
	// gdb itself stopped there, in our function.
	if !regexp.MustCompile(`Breakpoint \d+, (0x[0-9a-f]+ in )?gomenuos/net/tcp\.\(\*Sock\)\.tcpV4ConnectLocked \(`).MatchString(g.output()) {
		t.Errorf("gdb did not report stopping in tcpV4ConnectLocked")
	}

	g.send("delete", "detach", "quit")
	if _, err := m.Expect(lab.HelloOut, cmdTimeout); err != nil {
		t.Errorf("hello after detaching: %v", err)
	}
	g.wait(t)
}

// labStop is one stop as tcplab.py prints it.
type labStop struct {
	linux, sym, file string
	returns          bool
	proc             string // comm[pid] with tcp-lab-all user
}

// stopLine matches tcplab.py's line for a stop:
// "tcp_v4_rcv                     ->  gomenuos/net/tcp.(*Proto).tcpV4RcvLocked (net/tcp/input.go:78)  [SYN 41234->5001]",
// with `tcp-lab-all user` the process last: "...  [to :5001]  menu[1]".
var stopLine = regexp.MustCompile(`^(\w+)\s+->  (\S+) \(([^)]+)\)(  \[([^]]*)\])?(  (\S+\[\d+\]))?$`)

// interactiveGDB is gdb reading commands from a pipe, as from a keyboard.
type interactiveGDB struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	all   strings.Builder // everything gdb printed (read by the test goroutine only)
}

// startMakeGDB runs `qemu/run.sh gdb` (what `make gdb` runs) with env
// added to the environment (the image directory, GDB_PORT).
func startMakeGDB(t *testing.T, env ...string) *interactiveGDB {
	t.Helper()
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	g := &interactiveGDB{lines: make(chan string, 1024)}
	g.cmd = exec.CommandContext(ctx, filepath.Join(root, "qemu/run.sh"), "gdb")
	g.cmd.Env = append(os.Environ(), env...)
	var err error
	if g.in, err = g.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g.cmd.Stderr = g.cmd.Stdout
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			g.lines <- sc.Text()
		}
		close(g.lines)
	}()
	return g
}

// send types gdb commands.
func (g *interactiveGDB) send(cmds ...string) {
	for _, c := range cmds {
		io.WriteString(g.in, c+"\n")
	}
}

// continueUntil collects stops, answering each with `continue`, until
// last(stop) holds (that stop is left stopped) or max stops.
func (g *interactiveGDB) continueUntil(t *testing.T, last func(labStop) bool, max int) []labStop {
	t.Helper()
	var stops []labStop
	timeout := time.After(2 * time.Minute)
	for len(stops) < max {
		select {
		case line, ok := <-g.lines:
			if !ok {
				t.Fatalf("gdb exited; output:\n%s", g.all.String())
			}
			g.all.WriteString(line + "\n")
			m := stopLine.FindStringSubmatch(strings.TrimPrefix(line, "(gdb) "))
			if m == nil {
				continue
			}
			s := labStop{linux: m[1], sym: m[2], file: m[3], returns: m[5] == "returns", proc: m[7]}
			stops = append(stops, s)
			if last(s) {
				return stops
			}
			g.send("continue")
		case <-timeout:
			t.Fatalf("no stop for 2 minutes; stops so far %v; output:\n%s", names(stops), g.all.String())
		}
	}
	t.Fatalf("%d stops without the last one: %v", max, names(stops))
	return nil
}

// expect reads gdb's lines until one matches re (after gdb's prompts).
func (g *interactiveGDB) expect(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-g.lines:
			if !ok {
				t.Fatalf("gdb exited before %v; output:\n%s", re, g.all.String())
			}
			g.all.WriteString(line + "\n")
			l := line
			for strings.HasPrefix(l, "(gdb) ") {
				l = l[len("(gdb) "):]
			}
			if re.MatchString(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("gdb printed no %v in a minute; output:\n%s", re, g.all.String())
		}
	}
}

// drain returns what gdb printed so far, including lines not read yet.
func (g *interactiveGDB) drain() string {
	for {
		select {
		case line, ok := <-g.lines:
			if !ok {
				return g.all.String()
			}
			g.all.WriteString(line + "\n")
		default:
			return g.all.String()
		}
	}
}

// output returns what gdb printed so far.
func (g *interactiveGDB) output() string { return g.all.String() }

// wait closes gdb's input and waits for it to exit.
func (g *interactiveGDB) wait(t *testing.T) {
	t.Helper()
	g.in.Close()
	for line := range g.lines {
		g.all.WriteString(line + "\n")
	}
	if err := g.cmd.Wait(); err != nil {
		t.Errorf("gdb: %v; output:\n%s", err, g.all.String())
	}
}

func names(stops []labStop) []string {
	var out []string
	for _, s := range stops {
		n := s.linux
		if s.returns {
			n += "(returns)"
		}
		out = append(out, n)
	}
	return out
}

// subsequence reports whether want appears in got in order (gaps allowed);
// "inet_csk_accept" in want matches its return too.
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && strings.TrimSuffix(g, "(returns)") == want[i] {
			i++
		}
	}
	return i == len(want)
}
