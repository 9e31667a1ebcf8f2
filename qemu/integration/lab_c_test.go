package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/lab"
)

// TestQEMULabCHandshakeOrder runs `make lab-c` (the lab on the C MenuOS,
// init=/bin/menu) and checks its hits: replyhi's system calls exactly,
// each with the Linux chain below it and the process it ran for (socket,
// bind and listen in pid 1, accept in the forked server child); hello's
// socket and connect; then the same handshake chains as the Go shell's
// lab.
func TestQEMULabCHandshakeOrder(t *testing.T) {
	tr := runLab(t, lab.Config{BuildDir: harness.BuildDir(), Menu: lab.MenuC})

	// replyhi: pid 1 reads the line and makes socket, bind and listen;
	// the child it forks sleeps in accept. Nothing else.
	tr.exactlyFrom("replyhi", []string{
		"menu[1] __sys_socket", "menu[1] sock_create", "menu[1] inet_create",
		"menu[1] __sys_bind", "menu[1] inet_bind",
		"menu[1] __sys_listen", "menu[1] inet_listen", "menu[1] inet_csk_listen_start",
		"server __sys_accept4", "server inet_accept", "server inet_csk_accept"})

	// hello, in pid 1: socket, then connect down to the SYN's transmit.
	hello := tr.run("__sys_connect", "", "__sys_connect", "inet_stream_connect", "tcp_v4_connect",
		"tcp_connect", "tcp_transmit_skb SYN")
	if p := tr.hits[hello].Proc; p != "menu[1]" {
		t.Errorf("__sys_connect ran for %q, want menu[1]", p)
	}
	if got := steps(tr.commandHits("hello")[:3]); got != "__sys_socket | sock_create | inet_create" {
		t.Errorf("hello starts with %s, want __sys_socket | sock_create | inet_create", got)
	}
	for _, c := range tr.commands() {
		if c.Proc != "menu[1]" {
			t.Errorf("the console gave %q to %q, want menu[1]", c.Cmd, c.Proc)
		}
	}

	tr.handshake()
	// The accept that returns the child is the server's.
	if p := tr.hits[tr.find("inet_csk_accept", "returns")].Proc; p != tr.server() {
		t.Errorf("inet_csk_accept returned in %q, want the server child %q", p, tr.server())
	}
	tr.filesMatchMap()
}

// server is the process replyhi's accept ran in: menu[N], N > 1.
func (tr *trace) server() string {
	tr.t.Helper()
	p := tr.hits[tr.find("__sys_accept4", "")].Proc
	m := regexp.MustCompile(`^menu\[(\d+)\]$`).FindStringSubmatch(p)
	if m == nil || m[1] == "1" {
		tr.t.Fatalf("__sys_accept4 ran in %q, want the forked server, menu[N] with N > 1", p)
	}
	return p
}

// exactlyFrom is exactly with each step prefixed by the process it ran
// for; "server" stands for the server child (see server).
func (tr *trace) exactlyFrom(cmd string, want []string) {
	tr.t.Helper()
	server := tr.server()
	var got []string
	for _, h := range tr.commandHits(cmd) {
		got = append(got, h.Proc+" "+step(h))
	}
	for i, w := range want {
		want[i] = strings.Replace(w, "server ", server+" ", 1)
	}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		tr.t.Errorf("%s:\n got  %s\n want %s", cmd, strings.Join(got, " | "), strings.Join(want, " | "))
	}
}

// commandHits returns the hits between cmd's marker and the next one.
func (tr *trace) commandHits(cmd string) []lab.Hit {
	var out []lab.Hit
	in := false
	for _, h := range tr.hits {
		if h.Cmd != "" {
			in = h.Cmd == cmd
			continue
		}
		if in {
			out = append(out, h)
		}
	}
	return out
}

// commands returns the command markers.
func (tr *trace) commands() []lab.Hit {
	var out []lab.Hit
	for _, h := range tr.hits {
		if h.Cmd != "" {
			out = append(out, h)
		}
	}
	if len(out) != 2 {
		tr.t.Errorf("%d command markers, want 2 (replyhi, hello)", len(out))
	}
	return out
}

func steps(hits []lab.Hit) string {
	var s []string
	for _, h := range hits {
		s = append(s, step(h))
	}
	return strings.Join(s, " | ")
}

// TestQEMULabCInteractive is docs/gdb-lab.md's by-hand flow on the C
// MenuOS: `make debug` with init=/bin/menu, `make gdb` (qemu/run.sh gdb,
// gomenuos.gdb), `user-symbols`, `tcp-lab-all user`, replyhi. The stops
// are replyhi's system calls and what they call, each in its process; at
// inet_csk_accept, `bt` shows the kernel's frames down to the thread's run
// loop and then the server child's own: __syscall_cp_c and accept (musl),
// serve, Replyhi, ExecuteMenu and main, each of the program's frames at
// the line of its call; `user-context bt full` shows the program's locals.
// Then hello's stops include __sys_connect and the handshake, and hello
// gets its "hi" after detach.
func TestQEMULabCInteractive(t *testing.T) {
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := harness.StartT(t, harness.Config{BuildDir: dir, GDBPort: port, WaitGDB: true, Cmdline: lab.CInit,
		Timeout: 3 * time.Minute})
	_, kernel, _ := harness.Image(dir)
	g := startMakeGDB(t, harness.BuildEnv+"="+filepath.Dir(kernel), fmt.Sprintf("GDB_PORT=%d", port))
	g.send("user-symbols", "tcp-lab-all user", "continue")
	if _, err := m.Expect(banner+prompt, bootTimeout*2); err != nil {
		t.Fatalf("guest under gdb did not reach the prompt: %v", err)
	}
	m.Send("replyhi\r")
	server := g.continueUntil(t, func(s labStop) bool { return s.linux == "inet_csk_accept" }, 20)
	var got []string
	for _, s := range server {
		got = append(got, s.proc+" "+s.linux)
	}
	child := server[len(server)-1].proc
	if child == "menu[1]" || !strings.HasPrefix(child, "menu[") {
		t.Errorf("inet_csk_accept stopped in %q, want the forked server child", child)
	}
	want := []string{"menu[1] __sys_socket", "menu[1] sock_create", "menu[1] inet_create",
		"menu[1] __sys_bind", "menu[1] inet_bind", "menu[1] __sys_listen", "menu[1] inet_listen",
		"menu[1] inet_csk_listen_start",
		child + " __sys_accept4", child + " inet_accept", child + " inet_csk_accept"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("replyhi stopped at\n %s\nwant\n %s", strings.Join(got, " | "), strings.Join(want, " | "))
	}

	g.send("info user", "echo @@bt\\n", "bt", "echo @@end\\n")
	if user := g.expect(t, regexp.MustCompile(`^menu\[\d+\] tid \d+`)); !strings.HasPrefix(user, child+" ") {
		t.Errorf("info user: %q, want %s", user, child)
	}
	g.expect(t, regexp.MustCompile(`^@@bt`))
	var lines []string
	for {
		l := g.expect(t, regexp.MustCompile(`.`))
		if strings.HasPrefix(l, "@@end") {
			break
		}
		lines = append(lines, l)
	}
	checkUserBacktrace(t, strings.Join(lines, "\n"))

	// user-context bt full: the program's backtrace alone, with its
	// locals (serve's len is sizeof peer until accept returns; the line
	// ExecuteMenu split holds replyhi); then frame 0 is the kernel's again.
	g.send("user-context bt full", "echo @@ctx\\n", "bt 1", "echo @@end\\n")
	var full []string
	for {
		l := g.expect(t, regexp.MustCompile(`.`))
		if strings.HasPrefix(l, "@@ctx") {
			break
		}
		full = append(full, l)
	}
	ctx := strings.Join(full, "\n")
	t.Logf("user-context bt full:\n%s", ctx)
	for _, re := range []string{`(?m)^#0\s+0x[0-9a-f]+ in __syscall_cp_c \(\)$`,
		`(?m)^#2\s+0x[0-9a-f]+ in serve \(s=\d+\) at user/menu/net\.c:\d+\n(.*\n)*?\s+len = 16$`,
		`(?m)^\s+argv = \{0x[0-9a-f]+ "replyhi", 0x0 <repeats \d+ times>\}$`,
		`(?m)^#5\s+0x[0-9a-f]+ in main \(\) at user/menu/main\.c:\d+$`} {
		if !regexp.MustCompile(re).MatchString(ctx) {
			t.Errorf("user-context bt full has no %s", re)
		}
	}
	if l := g.expect(t, regexp.MustCompile(`^#0 `)); !strings.Contains(l, "inetCskAccept") {
		t.Errorf("after user-context, frame 0 is %q, want inetCskAccept", l)
	}
	g.expect(t, regexp.MustCompile(`^@@end`))

	g.send("continue")
	if _, err := m.Expect(lab.ReplyhiOut+prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	m.Send("hello\r")
	hs := g.continueUntil(t, func(s labStop) bool { return s.linux == "inet_csk_accept" && s.returns }, 80)
	order := []string{"__sys_socket", "sock_create", "inet_create", "__sys_connect", "inet_stream_connect",
		"tcp_v4_connect", "tcp_connect", "tcp_v4_conn_request", "tcp_rcv_synsent_state_process",
		"tcp_check_req", "tcp_v4_syn_recv_sock", "tcp_child_process", "inet_csk_accept"}
	if !subsequence(names(hs), order) {
		t.Errorf("hello's stops\n %v\ndo not contain, in order,\n %v", names(hs), order)
	}
	g.send("delete", "detach", "quit")
	if _, err := m.Expect(lab.HelloOut, cmdTimeout); err != nil {
		t.Errorf("hello after detaching: %v", err)
	}
	g.wait(t)
}

// checkUserBacktrace checks bt at inet_csk_accept in the C MenuOS's
// server child: the kernel's frames, then the user's, in order.
func checkUserBacktrace(t *testing.T, bt string) {
	t.Helper()
	t.Logf("bt:\n%s", bt)
	got := btFrames(bt)

	// The kernel's half, from the breakpoint to the thread's run loop.
	kernelWant := []string{"gomenuos/net/inet.(*Socket).inetCskAccept", "gomenuos/net/inet.(*Socket).inetAccept",
		"gomenuos/kernel/proc.(*Thread).sysAccept4", "gomenuos/kernel/proc.(*Thread).doSyscall64",
		"gomenuos/kernel/proc.(*Thread).run"}
	var names []string
	for _, f := range got {
		names = append(names, f.fn)
	}
	if !subsequence(names, kernelWant) {
		t.Errorf("bt's kernel frames\n %v\ndo not contain, in order,\n %v", names, kernelWant)
	}
	// The user's half: right below run, each of the program's frames at
	// the line of its call (read from the source, so edits keep it true).
	userWant := []btFrame{
		{fn: "__syscall_cp_c"},
		{fn: "accept"},
		{fn: "serve", at: "user/menu/net.c:" + lineOf(t, "user/menu/net.c", "int c = accept(s,")},
		{fn: "Replyhi", at: "user/menu/net.c:" + lineOf(t, "user/menu/net.c", "serve(s);")},
		{fn: "ExecuteMenu", at: "user/menu/menu.c:" + lineOf(t, "user/menu/menu.c", "c->handler(argc, argv)")},
		{fn: "main", at: "user/menu/main.c:" + lineOf(t, "user/menu/main.c", "return ExecuteMenu();")},
	}
	run := -1
	for i, f := range got {
		if f.fn == "gomenuos/kernel/proc.(*Thread).run" {
			run = i
		}
	}
	if run < 0 || len(got) < run+1+len(userWant) {
		t.Fatalf("bt has no user frames below the run loop:\n%s", bt)
	}
	for i, w := range userWant {
		if f := got[run+1+i]; f.fn != w.fn || f.at != w.at {
			t.Errorf("frame #%d: %s at %q, want %s at %q", run+1+i, f.fn, f.at, w.fn, w.at)
		}
	}
	if strings.Contains(bt, "Backtrace stopped") || strings.Contains(bt, "Python Exception") {
		t.Errorf("bt ends in an error:\n%s", bt)
	}
}

// btFrame is one frame of gdb's bt: its function and, when gdb knows it,
// file:line ("user/menu/net.c:40").
type btFrame struct{ fn, at string }

var (
	btStart = regexp.MustCompile(`^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(`)
	btAt    = regexp.MustCompile(`(?:^| )at (\S+:\d+)$`)
)

// btFrames parses bt's output (a frame's arguments may wrap onto more
// lines; its file:line ends the last of them).
func btFrames(bt string) []btFrame {
	var out []btFrame
	for _, l := range strings.Split(bt, "\n") {
		if m := btStart.FindStringSubmatch(l); m != nil {
			out = append(out, btFrame{fn: m[2]})
		}
		if m := btAt.FindStringSubmatch(strings.TrimSpace(l)); m != nil && len(out) > 0 {
			out[len(out)-1].at = m[1]
		}
	}
	return out
}

// lineOf returns the number of the one line of file (repository-relative)
// that contains s.
func lineOf(t *testing.T, file, s string) string {
	t.Helper()
	n := 0
	for i, l := range strings.Split(string(readRepoFile(t, file)), "\n") {
		if strings.Contains(l, s) {
			if n != 0 {
				t.Fatalf("%s: %q on lines %d and %d", file, s, n, i+1)
			}
			n = i + 1
		}
	}
	if n == 0 {
		t.Fatalf("%s has no line with %q", file, s)
	}
	return strconv.Itoa(n)
}
