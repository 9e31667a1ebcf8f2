package integration

import (
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/ktrace"
)

// The seed's SystemTap demo on our kernel, from the Go shell's replyhi
// and hello: probes on our counterparts of *@net/socket.c print the tree
// from sock_create through __sock_create and sock_alloc to sock_map_fd,
// each task with its own indentation, and count every call exactly.
func TestQEMUTraceSocketPath(t *testing.T) {
	res := traceSocketRun(t)
	// Each task's tree is exact; how two tasks' lines interleave depends
	// on which runs first, so the tasks are compared one by one.
	shell := []string{
		// replyhi, in the shell's goroutine: socket(), then the fd.
		"replyhi: -> sock_create [inet.(*Net).Socket]",
		"replyhi:  -> __sock_create [inet.(*Net).sockCreate]",
		"replyhi:   -> sock_alloc [inet.(*Net).sockAlloc]",
		"replyhi:   <- sock_alloc [inet.(*Net).sockAlloc]",
		"replyhi:  <- __sock_create [inet.(*Net).sockCreate]",
		"replyhi: <- sock_create [inet.(*Net).Socket]",
		"replyhi: -> sock_map_fd [inet.(*Socket).sockMapFd]",
		"replyhi:  -> sock_map_fd [sockfs.MapFd]",
		"replyhi:   -> sock_alloc_file [sockfs.AllocFile]",
		"replyhi:   <- sock_alloc_file [sockfs.AllocFile]",
		"replyhi:  <- sock_map_fd [sockfs.MapFd]",
		"replyhi: <- sock_map_fd [inet.(*Socket).sockMapFd]",
		// hello, in the same goroutine: its socket, "hello" out, "hi" in.
		"hello: -> sock_create [inet.(*Net).Socket]",
		"hello:  -> __sock_create [inet.(*Net).sockCreate]",
		"hello:   -> sock_alloc [inet.(*Net).sockAlloc]",
		"hello:   <- sock_alloc [inet.(*Net).sockAlloc]",
		"hello:  <- __sock_create [inet.(*Net).sockCreate]",
		"hello: <- sock_create [inet.(*Net).Socket]",
		"hello: -> sock_sendmsg [inet.(*Socket).sockSendmsg]",
		"hello: <- sock_sendmsg [inet.(*Socket).sockSendmsg]",
		"hello: -> sock_recvmsg [inet.(*Socket).sockRecvmsg]",
		"hello: <- sock_recvmsg [inet.(*Socket).sockRecvmsg]",
	}
	server := []string{
		// replyhi's server job accepts (the child's socket), reads
		// "hello" and answers "hi".
		"replyhi: -> sock_alloc [inet.(*Net).sockAlloc]",
		"replyhi: <- sock_alloc [inet.(*Net).sockAlloc]",
		"replyhi: -> sock_recvmsg [inet.(*Socket).sockRecvmsg]",
		"replyhi: <- sock_recvmsg [inet.(*Socket).sockRecvmsg]",
		"replyhi: -> sock_sendmsg [inet.(*Socket).sockSendmsg]",
		"replyhi: <- sock_sendmsg [inet.(*Socket).sockSendmsg]",
	}
	var ids []int64
	byTask := map[int64][]string{}
	for _, e := range res.Events {
		if e.Probe {
			arrow := "->"
			if e.Return {
				arrow = "<-"
			}
			if byTask[e.ID] == nil {
				ids = append(ids, e.ID)
			}
			byTask[e.ID] = append(byTask[e.ID], e.Comm+":"+strings.Repeat(" ", e.Depth+1)+arrow+" "+e.Func)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("probe hits in %d tasks, want 2 (the shell's goroutine, the server job):\n%s", len(ids), res.Trace)
	}
	for i, want := range [][]string{shell, server} {
		if got := byTask[ids[i]]; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("probe tree of task %d:\n%s\nwant:\n%s\ntrace:\n%s", ids[i], strings.Join(got, "\n"), strings.Join(want, "\n"), res.Trace)
		}
	}
	// Times count from the first event and never go back.
	times := timesOf(res.Events)
	if times[0] != 0 {
		t.Errorf("the first event is at %d µs, want 0", times[0])
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Fatalf("time goes back at event %d: %v", i, times)
		}
	}
	// The glob may reach more of our functions than this workload calls
	// (sock_poll's, say); those it calls, it calls exactly so often.
	table := strings.ReplaceAll(res.Counts, "\n", "\r\n")
	for fn, want := range map[string]int{
		"sock_alloc [inet.(*Net).sockAlloc]":        3,
		"sock_create [inet.(*Net).Socket]":          2,
		"__sock_create [inet.(*Net).sockCreate]":    2,
		"sock_alloc_file [sockfs.AllocFile]":        1,
		"sock_map_fd [sockfs.MapFd]":                1,
		"sock_map_fd [inet.(*Socket).sockMapFd]":    1,
		"sock_sendmsg [inet.(*Socket).sockSendmsg]": 2,
		"sock_recvmsg [inet.(*Socket).sockRecvmsg]": 2,
	} {
		if got := callsOf(table, fn); got != want {
			t.Errorf("%s: %d calls, want %d:\n%s", fn, got, want, res.Counts)
		}
		if !strings.Contains(res.Counts, fmt.Sprintf("%8d %8d  %s\n", want, want, fn)) {
			t.Errorf("%s: returns differ from calls:\n%s", fn, res.Counts)
		}
	}
	if !regexp.MustCompile(`^trace: \d+ functions probed at \d+ points\n$`).MatchString(res.Setup) {
		t.Errorf("setting the probes said %q", res.Setup)
	}
}

// traceSocketRun is `make trace` with its defaults, shared by the tests
// of its output and of its pictures.
var socketRun struct {
	res *ktrace.Result
	err error
}

func traceSocketRun(t *testing.T) *ktrace.Result {
	t.Helper()
	if socketRun.res == nil && socketRun.err == nil {
		specs, err := ktrace.ReadSpecs("../ktrace/socket.stp")
		if err != nil {
			t.Fatal(err)
		}
		socketRun.res, socketRun.err = ktrace.Run(ktrace.Config{BuildDir: harness.BuildDir(), Specs: specs,
			Script: []string{"replyhi", "hello"}})
	}
	if socketRun.err != nil {
		if socketRun.res != nil {
			t.Logf("console:\n%s", socketRun.res.Console)
		}
		t.Fatal(socketRun.err)
	}
	return socketRun.res
}

func timesOf(ev []ktrace.Event) []int64 {
	var out []int64
	for _, e := range ev {
		out = append(out, e.US)
	}
	return out
}

// A probe on a function that runs in trap context works (the timer tick,
// the context switch, the syscall dispatcher); one on the trap path the
// probe handler itself takes, or on the probe machinery, is refused with
// the reason; a function whose first instruction is single-stepped out of
// line counts exactly; nothing crashes and the shell still answers.
func TestQEMUTraceTrapContextAndRefusals(t *testing.T) {
	m := boot(t, harness.Config{})
	out := run(t, m, "trace -c sched.Tick sched.switchTo linux.doSyscall")
	if !strings.Contains(out, "trace: 3 functions probed at ") {
		t.Fatalf("probing trap-context functions:\n%s", out)
	}
	run(t, m, "sleep 1")
	out = run(t, m, "trace -c")
	for _, fn := range []string{"scheduler_tick [sched.Tick]", "context_switch [sched.switchTo]", "do_syscall_64 [linux.doSyscall]"} {
		if calls := callsOf(out, fn); calls <= 0 {
			t.Errorf("%s: %d calls during sleep 1:\n%s", fn, calls, out)
		}
	}
	run(t, m, "trace off")

	out = run(t, m, "trace linux.trap linux.pageFault x86.alltraps kprobes.Arm trace.Reserve")
	for _, want := range []string{
		"trace: cannot probe gomenuos/kernel/linux.trap: it runs in the trap path of a probe hit (linux.trap)\r\n",
		"trace: cannot probe gomenuos/kernel/linux.pageFault: it runs in the trap path of a probe hit (linux.trap → linux.pageFault)\r\n",
		"trace: cannot probe gomenuos/arch/x86.alltraps: it runs in the trap path of a probe hit (x86.alltraps)\r\n",
		"trace: cannot probe gomenuos/kernel/kprobes.Arm: it is part of the probe machinery (gomenuos/kernel/kprobes)\r\n",
		"trace: cannot probe gomenuos/sched/trace.Reserve: it is part of the probe machinery (gomenuos/sched/trace)\r\n",
		"trace: 0 functions probed at 0 points\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("refusals lack %q:\n%s", want, out)
		}
	}

	// fs.mayOpen starts with TEST, which is stepped out of line; each cat
	// opens one file.
	run(t, m, "trace -c fs.mayOpen")
	if out := run(t, m, "trace -l"); !strings.Contains(out, " entry  stepped  hits=0 ") {
		t.Errorf("fs.mayOpen's entry is not stepped out of line:\n%s", out)
	}
	run(t, m, "cat /proc/uptime")
	run(t, m, "cat /proc/uptime")
	if out := run(t, m, "trace -c"); !strings.Contains(out, "       2        2  fs.mayOpen\r\n") {
		t.Errorf("two opens, counted:\n%s", out)
	}
	run(t, m, "trace off")
	if out := run(t, m, "version"); !strings.Contains(out, "gomenuos") {
		t.Errorf("the shell after all that: %q", out)
	}
}

// call is a probe's entry at a depth.
type call struct {
	fn    string
	depth int
}

// countRuns counts where want appears whole, in order, in calls.
func countRuns(calls, want []call) int {
	n := 0
	for i := 0; i+len(want) <= len(calls); i++ {
		if fmt.Sprint(calls[i:i+len(want)]) == fmt.Sprint(want) {
			n++
		}
	}
	return n
}

// callsOf reads a function's calls from trace -c's table (-1: missing).
func callsOf(table, fn string) int {
	for _, l := range strings.Split(table, "\r\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasSuffix(l, "  "+fn) {
			n, err := strconv.Atoi(f[0])
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// Setting and removing probes on every function of ours that can carry
// one (over a thousand), then on every function of the Go runtime that can
// (the allocator, the GC, the scheduler, locks: over a thousand again),
// while a bulk transfer over loopback keeps the TCP stack busy: the kernel
// keeps serving, and afterwards its text is byte for byte the ELF's.
func TestQEMUTraceThousandProbesUnderLoad(t *testing.T) {
	m := boot(t, harness.Config{Timeout: 5 * time.Minute})
	before := run(t, m, "cat /proc/tracing/text_sha256")
	// The load: a sink and a source of 4 GB (bounded; killed below long
	// before it ends).
	run(t, m, "tcpsink -n 5003 1 &")
	if _, err := m.Expect("tcpsink: listening on port 5003\r\n"+prompt, cmdTimeout); err != nil {
		t.Fatal(err) // the job's line comes with a fresh prompt
	}
	run(t, m, "tcpsource -n 127.0.0.1 5003 4000000000 &")
	probed := regexp.MustCompile(`trace: (\d+) functions probed at (\d+) points \(counting only\)`)
	for round, r := range []struct{ spec, busy string }{
		{"gomenuos/*", "tcp_v4_rcv [tcp.(*Proto).tcpV4RcvLocked]"},
		{"runtime.*", "runtime.mallocgc"},
	} {
		out := runLong(t, m, "trace -c "+r.spec, 2*time.Minute)
		g := probed.FindStringSubmatch(out)
		if g == nil {
			t.Fatalf("round %d: %s", round, out)
		}
		if n, _ := strconv.Atoi(g[1]); n < 1000 {
			t.Fatalf("round %d: only %d functions probed", round, n)
		}
		counts := runLong(t, m, "trace -c", time.Minute)
		if calls := callsOf(counts, r.busy); calls <= 0 {
			t.Errorf("round %d: %s not called under load:\n%s", round, r.busy, counts)
		}
		if out := runLong(t, m, "trace off", 2*time.Minute); !strings.Contains(out, "trace: off ("+g[1]+" functions unprobed)") {
			t.Fatalf("round %d: trace off said %q", round, out)
		}
	}
	run(t, m, "kill 2")
	waitOutput(t, m, "[2] interrupted  tcpsource", time.Minute)
	waitOutput(t, m, "[1] done  tcpsink", time.Minute) // the sink saw the source's close
	settle(t, m)
	after := run(t, m, "cat /proc/tracing/text_sha256")
	if after != before {
		t.Errorf("text hash before %q, after %q", before, after)
	}
	f := strings.Fields(strings.SplitN(after, "\r\n", 3)[1])
	start, _ := strconv.ParseUint(f[0], 0, 64)
	end, _ := strconv.ParseUint(f[1], 0, 64)
	if want := elfTextHash(t, start, end); f[2] != want {
		t.Errorf("text %#x-%#x hashes to %s in the guest, %s in the ELF", start, end, f[2], want)
	}
	if out := runLong(t, m, "netbench 20", time.Minute); !strings.Contains(out, "netbench: 20 round trips") ||
		!strings.Contains(out, ", 0 errors") {
		t.Errorf("the kernel does not serve after the probes: %q", out)
	}
}

// settle consumes the background jobs' output (each line comes with a
// fresh prompt) by waiting for the echo of a marker.
func settle(t *testing.T, m *harness.Machine) {
	t.Helper()
	if err := m.Send("echo settled\r"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Expect("\r\nsettled\r\n"+prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
}

// waitOutput waits until the console has shown s (asynchronous output of
// a background job, which an Expect may already have passed).
func waitOutput(t *testing.T, m *harness.Machine, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(m.Output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the console within %v", s, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runLong is run with a longer bound, for commands that arm or list
// thousands of probes under TCG.
func runLong(t *testing.T, m *harness.Machine, line string, d time.Duration) string {
	t.Helper()
	if err := m.Send(line + "\r"); err != nil {
		t.Fatal(err)
	}
	out, err := m.Expect(prompt, d)
	if err != nil {
		t.Fatalf("after %q: %v", line, err)
	}
	return out
}

// elfTextHash is the SHA-256 of the kernel ELF's bytes from start to end
// (virtual addresses in its text segment).
func elfTextHash(t *testing.T, start, end uint64) string {
	t.Helper()
	_, kernel, _ := harness.Image(harness.BuildDir())
	f, err := elf.Open(kernel)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && start >= p.Vaddr && end <= p.Vaddr+p.Filesz {
			b := make([]byte, end-start)
			if _, err := p.ReadAt(b, int64(start-p.Vaddr)); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%x", sha256.Sum256(b))
		}
	}
	t.Fatalf("%s: no segment holds %#x-%#x", kernel, start, end)
	return ""
}

// /proc/tracing works like Linux's tracefs: kprobe_events takes specs
// (> replaces, >> adds, -SPEC removes), set_event tracepoints,
// kprobe_profile counts, trace_pipe hands the events over once, error_log
// says why a write failed.
func TestQEMUTraceProcFiles(t *testing.T) {
	m := boot(t, harness.Config{})
	run(t, m, `echo 'kernel.function("inet_create")' > /proc/tracing/kprobe_events`)
	run(t, m, `echo 'tcp_v4_connect' >> /proc/tracing/kprobe_events`)
	if out := run(t, m, "cat /proc/tracing/kprobe_events"); !strings.Contains(out,
		"\r\nkernel.function(\"inet_create\")\r\ntcp_v4_connect\r\n"+prompt) {
		t.Errorf("kprobe_events: %q", out)
	}
	run(t, m, "echo sock:inet_sock_set_state > /proc/tracing/set_event")
	if out := run(t, m, "cat /proc/tracing/set_event"); !strings.HasSuffix(out, "\r\nsock:inet_sock_set_state\r\n"+prompt) {
		t.Errorf("set_event: %q", out)
	}
	// netbench 3: a listener and three clients are created; each client
	// connects once.
	run(t, m, "netbench 3")
	profile := run(t, m, "cat /proc/tracing/kprobe_profile")
	for fn, want := range map[string]int{"inet_create [inet.(*Net).inetCreate]": 4,
		"tcp_v4_connect [tcp.(*Sock).tcpV4ConnectLocked]": 3} {
		if got := callsOf(profile, fn); got != want {
			t.Errorf("%s: %d calls, want %d:\n%s", fn, got, want, profile)
		}
	}
	pipe := run(t, m, "cat /proc/tracing/trace_pipe")
	if n := strings.Count(pipe, "-> inet_create [inet.(*Net).inetCreate]"); n != 4 {
		t.Errorf("trace_pipe shows %d entries of inet_create, want 4:\n%s", n, pipe)
	}
	if n := strings.Count(pipe, "newstate=TCP_ESTABLISHED"); n != 6 {
		t.Errorf("trace_pipe shows %d moves to ESTABLISHED, want 6 (3 clients, 3 children):\n%s", n, pipe)
	}
	if again := run(t, m, "cat /proc/tracing/trace_pipe"); strings.Contains(again, "inet_create") {
		t.Errorf("trace_pipe gave the events twice:\n%s", again)
	}
	run(t, m, `echo '-tcp_v4_connect' >> /proc/tracing/kprobe_events`)
	if out := run(t, m, "cat /proc/tracing/kprobe_events"); !strings.HasSuffix(out, "\r\nkernel.function(\"inet_create\")\r\n"+prompt) {
		t.Errorf("after -tcp_v4_connect: %q", out)
	}
	if out := run(t, m, `echo 'no_such_function' >> /proc/tracing/kprobe_events`); !strings.Contains(out, "echo: /proc/tracing/kprobe_events: Invalid argument\r\n") {
		t.Errorf("a spec naming nothing: %q", out)
	}
	if out := run(t, m, "cat /proc/tracing/error_log"); !strings.Contains(out, `no function of this kernel matches "no_such_function"`) {
		t.Errorf("error_log: %q", out)
	}
	run(t, m, "echo > /proc/tracing/kprobe_events")
	run(t, m, "echo > /proc/tracing/set_event")
	if out := run(t, m, "trace -l"); !strings.Contains(out, "trace: 0 probe points; tracepoints on: none;") {
		t.Errorf("after clearing both files: %q", out)
	}
}

// A user process's system calls reach the probed kernel functions in the
// process's own goroutine, which traces show with the program's name and
// process id, as SystemTap shows ftp(7223).
func TestQEMUTraceUserProcess(t *testing.T) {
	m := boot(t, harness.Config{})
	run(t, m, "trace vfs_write")
	if out := run(t, m, "/bin/hello a b"); !strings.Contains(out, "hello, world\r\nargv[1] = a\r\nargv[2] = b\r\n") {
		t.Fatalf("/bin/hello: %q", out)
	}
	out := run(t, m, "trace")
	line := regexp.MustCompile(`(?m)^ *\d+ hello\((\d+)\): (->|<-) vfs_write \[fs\.\(\*File\)\.Write\]\r$`)
	hits := line.FindAllStringSubmatch(out, -1)
	if len(hits) < 2 || len(hits)%2 != 0 {
		t.Fatalf("vfs_write from hello: %d lines:\n%s", len(hits), out)
	}
	for i, h := range hits {
		if h[1] != hits[0][1] || h[1] == "1" || (i%2 == 0) != (h[2] == "->") {
			t.Errorf("line %d: %q (want one process id, not the shell's, entries then returns)", i, h[0])
		}
	}
	if n := strings.Count(out, "\r\n") - 1; n != len(hits) { // the echo ends one line
		t.Errorf("%d trace lines, %d of them hello's vfs_write:\n%s", n, len(hits), out)
	}
}

// The seed's demo as the course runs it: a program's socket() system call
// (the C MenuOS's replyhi and hello) under the *@net/socket.c probes
// prints the tree from __sys_socket through sock_create, __sock_create
// and sock_alloc to sock_map_fd, in the process's name and id; replyhi's
// forked server shows its accept.
func TestQEMUTraceUserSocket(t *testing.T) {
	specs, err := ktrace.ReadSpecs("../ktrace/socket.stp")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ktrace.Run(ktrace.Config{BuildDir: harness.BuildDir(), Specs: specs,
		Script: []string{"menu", "replyhi", "hello", "quit"}})
	if err != nil {
		if res != nil {
			t.Logf("console:\n%s", res.Console)
		}
		t.Fatal(err)
	}
	// The calls each process made, in order, with their depth: Linux's
	// __sys_socket → sock_create → __sock_create → sock_alloc, then
	// sock_map_fd → sock_alloc_file.
	calls := map[int64][]call{}
	var pids []int64
	for _, e := range res.Events {
		if !e.Probe || e.Return {
			continue
		}
		if e.Comm != "menu" {
			t.Errorf("a probe hit outside the menu processes: %s", e.Line)
		}
		if calls[e.ID] == nil {
			pids = append(pids, e.ID)
		}
		calls[e.ID] = append(calls[e.ID], call{e.Func, e.Depth})
	}
	if len(pids) != 2 {
		t.Fatalf("probe hits from processes %v, want the menu and replyhi's server:\n%s", pids, res.Trace)
	}
	socket := []call{{"__sys_socket [proc.(*Thread).sysSocket]", 0}, {"sock_create [inet.(*Net).Socket]", 1},
		{"__sock_create [inet.(*Net).sockCreate]", 2}, {"sock_alloc [inet.(*Net).sockAlloc]", 3},
		{"sock_map_fd [proc.(*Thread).sockMapFd]", 1}, {"sock_alloc_file [sockfs.AllocFile]", 2}}
	accept := []call{{"sock_alloc [inet.(*Net).sockAlloc]", 1}, {"sock_map_fd [proc.(*Thread).sockMapFd]", 1},
		{"sock_alloc_file [sockfs.AllocFile]", 2}}
	// Other socket.c counterparts (bind, listen, sockfd_lookup, ...) come
	// between; these trees come whole, replyhi's and hello's socket() in
	// the menu, the accept (inside __sys_accept4) in the server.
	if n := countRuns(calls[pids[0]], socket); n != 2 {
		t.Errorf("menu(%d) made %d socket() trees, want 2: %v", pids[0], n, calls[pids[0]])
	}
	if n := countRuns(calls[pids[1]], accept); n != 1 || calls[pids[1]][0].fn != "__sys_accept4 [proc.(*Thread).sysAccept4]" {
		t.Errorf("menu(%d), the server: %d accept trees, want 1 inside __sys_accept4: %v", pids[1], n, calls[pids[1]])
	}
	if t.Failed() {
		t.Logf("trace:\n%s", res.Trace)
	}
	if pids[0] == 1 || pids[1] == 1 {
		t.Errorf("process ids %v: the shell's goroutine is 1, a process has its own", pids)
	}
}
