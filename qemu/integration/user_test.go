package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// User processes: ring-3 programs from user/ (musl, static) and Debian's
// busybox-static (glibc, static), run from the Go shell. Every check is
// on the exact console output.

// userTimeout is for programs that fork or exec many times under TCG.
const userTimeout = 3 * time.Minute

func expectOutput(t *testing.T, m *harness.Machine, line, want string) {
	t.Helper()
	if got := run(t, m, line); got != crlf(line+"\n"+want)+prompt {
		t.Errorf("%s:\n got %q\nwant %q", line, got, crlf(line+"\n"+want)+prompt)
	}
}

func TestQEMUUserHelloForkExecWait(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, "/bin/hello a b", "hello, world\nargv[1] = a\nargv[2] = b\n")
	expectOutput(t, m, "echo $?", "2\n")
	expectOutput(t, m, "forkexec", "child 1 exited with 0\nchild 1 exited with 7\nchild 1 exited with 14\n"+
		"hello, world\nargv[1] = from\nargv[2] = exec\nchild 1 exited with 2\nno more children: ECHILD\n")
	expectOutput(t, m, "nosuchprogram", "This is a wrong cmd!\n")
	expectOutput(t, m, "echo $?", "127\n")
}

func TestQEMUUserCopyOnWriteAndPipes(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, "cow", "child sees data=2 heap=child bss=c\nparent sees data=1 heap=parent bss=p shared=42\n")
	expectOutput(t, m, "pipe", "read 48 bytes: through the pipethrough the pipethrough the pipe\n"+
		"write with no reader: Broken pipe\nwriter killed by signal 13\n")
}

// A process's SSE registers, MXCSR and x87 stack come back unchanged from
// a system call answered in trap context (which saves no FPU state), one
// served by the kernel, a sleep while another process used the same
// registers, and timer preemption between two busy processes.
func TestQEMUUserRegistersSurviveTheKernel(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, "fpu", "getppid (answered in trap context): registers kept\n"+
		"write (served by the kernel): registers kept\n"+
		"read (slept while another process ran): registers kept\n"+
		"a busy loop (the timer switched processes): registers kept\nfpu: ok\n")
}

// Faults and privileged instructions in user code become signals with
// Linux's one-line reports; the shell prints bash's words for the death
// and the kernel keeps serving.
func TestQEMUUserFaultsBecomeSignals(t *testing.T) {
	m := boot(t, harness.Config{})
	where := ` in fault\[401000\+[0-9a-f]+\]`
	for _, c := range []struct{ arg, report, death string }{
		{"null", `fault\[\d+\]: segfault at 0 ip [0-9a-f]{16} sp [0-9a-f]{16} error 4` + where, "Segmentation fault"},
		{"kwrite", `fault\[\d+\]: segfault at ffffffff84001000 ip [0-9a-f]{16} sp [0-9a-f]{16} error 7` + where, "Segmentation fault"},
		{"kread", `fault\[\d+\]: segfault at ffff888000100000 ip [0-9a-f]{16} sp [0-9a-f]{16} error 5` + where, "Segmentation fault"},
		{"hlt", `traps: fault\[\d+\] general protection fault ip:[0-9a-f]+ sp:[0-9a-f]+ error:0` + where, "Segmentation fault"},
		{"cli", `traps: fault\[\d+\] general protection fault ip:[0-9a-f]+ sp:[0-9a-f]+ error:0` + where, "Segmentation fault"},
		{"wrmsr", `traps: fault\[\d+\] general protection fault ip:[0-9a-f]+ sp:[0-9a-f]+ error:0` + where, "Segmentation fault"},
		{"div0", `traps: fault\[\d+\] trap divide error ip:[0-9a-f]+ sp:[0-9a-f]+ error:0` + where, "Floating point exception"},
		{"ud2", `traps: fault\[\d+\] trap invalid opcode ip:[0-9a-f]+ sp:[0-9a-f]+ error:0` + where, "Illegal instruction"},
		{"stack", `fault\[\d+\]: segfault at 10 ip [0-9a-f]{16} sp 0000000000000010 error 4` + where, "Segmentation fault"},
	} {
		out := run(t, m, "fault "+c.arg)
		re := regexp.MustCompile(`^fault ` + c.arg + "\r\n" + c.report + "\r\n" + c.death + "\r\n" + prompt + `$`)
		if !re.MatchString(out) {
			t.Errorf("fault %s:\n got %q\nwant %v", c.arg, out, re)
		}
	}
	expectOutput(t, m, "echo $?", "139\n")
	expectOutput(t, m, "fault int3", "Trace/breakpoint trap\n")
	var want strings.Builder
	for _, p := range []string{"0xffff888000100000", "0xffffffff84001000", "0x1000", "0x7ffffffff000", "0xffffffffffffffff"} {
		fmt.Fprintf(&want, "write(%s): -1 Bad address\nread(%s): -1 Bad address\n", p, p)
	}
	want.WriteString("read(PROT_READ): -1 Bad address\nwrite(PROT_NONE): -1 Bad address\nread(PROT_NONE): -1 Bad address\n")
	expectOutput(t, m, "fault efault", want.String())
	expectOutput(t, m, "/bin/hello still", "hello, world\nargv[1] = still\n")
}

// The seed's char-device walkthrough with processes: a process's read of
// /dev/globalvar sleeps on the device's wait queue until another process
// writes; Ctrl-C interrupts a reader in the foreground.
func TestQEMUUserGlobalvarWaitQueue(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, "insmod globalvar", "major = 254\n")
	expectOutput(t, m, "mknod /dev/globalvar c 254 0", "")
	expectOutput(t, m, "/bin/cat /dev/globalvar &", "[1] started\n")
	if err := m.Send("/bin/echo 123 > /dev/globalvar\r"); err != nil {
		t.Fatal(err)
	}
	out, err := m.Expect("123\r\n", cmdTimeout)
	if err != nil {
		t.Fatalf("the sleeping reader did not print the write: %v", err)
	}
	if !strings.HasPrefix(out, "/bin/echo 123 > /dev/globalvar\r\n") {
		t.Errorf("unexpected output before 123: %q", out)
	}
	run(t, m, "")
	if err := m.Send("/bin/cat /dev/globalvar\r"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Expect("/bin/cat /dev/globalvar\r\n", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let the reader go to sleep: this is not a timing check
	if err := m.Send("\x03"); err != nil {
		t.Fatal(err)
	}
	if out, err := m.Expect(prompt, cmdTimeout); err != nil || out != "^C\r\n"+prompt {
		t.Fatalf("Ctrl-C: %q, %v", out, err)
	}
	expectOutput(t, m, "echo $?", "130\n")
}

// A fork bomb gets EAGAIN from the process limit; the kernel lives.
func TestQEMUUserForkBombContained(t *testing.T) {
	m := boot(t, harness.Config{Timeout: 5 * time.Minute})
	if err := m.Send("forkbomb\r"); err != nil {
		t.Fatal(err)
	}
	out, err := m.Expect(prompt, userTimeout)
	if err != nil {
		t.Fatal(err)
	}
	want := crlf("forkbomb\nfork failed after more than 100 children: Resource temporarily unavailable\nall children reaped: yes\n") + prompt
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	expectOutput(t, m, "/bin/hello alive", "hello, world\nargv[1] = alive\n")
}

var ramUsed = regexp.MustCompile(`RAM used (\d+) KiB`)

func kernelRAM(t *testing.T, m *harness.Machine) int {
	t.Helper()
	sub := ramUsed.FindStringSubmatch(run(t, m, "kstat -gc"))
	if sub == nil {
		t.Fatal("no RAM figure in kstat")
	}
	n, _ := strconv.Atoi(sub[1])
	return n
}

// 1,000 fork/exec/wait cycles leave memory where the 1,000 before left it: address
// spaces, page tables, files and kernel threads all come back. The bound
// is 1 KiB a cycle: a leak of one page or one page table per cycle (4 KiB)
// fails it; what varies between runs (the Go heap after a collection, how
// many spare kernel threads the runtime keeps) stays well under it.
func TestQEMUUserForkExecWaitLeavesMemoryFlat(t *testing.T) {
	m := boot(t, harness.Config{Timeout: 10 * time.Minute})
	cycle := func(n int) {
		if err := m.Send(fmt.Sprintf("cycle %d\r", n)); err != nil {
			t.Fatal(err)
		}
		out, err := m.Expect(prompt, 8*time.Minute)
		if err != nil || !strings.Contains(out, fmt.Sprintf("cycle: %d of %d fork/exec/wait cycles ok", n, n)) {
			t.Fatalf("cycle %d: %q, %v", n, out, err)
		}
	}
	// The first thousand cycles warm up: RAM in use grew by 1,108 KiB over
	// them in one run, then by -8 and +144 KiB over the next two thousands
	// (the Go heap's goal and the runtime's pools settle), so the check
	// starts after them.
	cycle(1000)
	before := kernelRAM(t, m)
	cycle(1000)
	after := kernelRAM(t, m)
	t.Logf("RAM in use after 1,000 cycles: %d KiB; after 1,000 more: %d KiB", before, after)
	if after > before+1024 {
		t.Fatalf("RAM grew by %d KiB over 1,000 fork/exec/wait cycles", after-before)
	}
}

// 100,000 random system calls with random arguments (seeded) leave the
// kernel serving.
func TestQEMUUserSyscallFuzzer(t *testing.T) {
	m := boot(t, harness.Config{Timeout: 20 * time.Minute})
	if err := m.Send("sysfuzz 100000 7\r"); err != nil {
		t.Fatal(err)
	}
	out, _, err := m.ExpectRegexp(regexp.MustCompile(`sysfuzz: 100000 calls made; batches killed after blocking: \d+, died of their own calls: \d+\r\n`), 18*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out[strings.LastIndex(out, "sysfuzz:"):])
	if _, err := m.Expect(prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	expectOutput(t, m, "/bin/hello alive", "hello, world\nargv[1] = alive\n")
}

// Debian's busybox-static, unmodified: its shell runs pipelines and
// redirections over our pipes, fork, exec and wait, and ps reads /proc.
func TestQEMUBusyboxShellPipeline(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, `sh -c "echo one two three | tr a-z A-Z | wc -w"`, "3\n")
	expectOutput(t, m, `sh -c "echo hi > /tmp/x; cat /tmp/x; ls /tmp"`, "hi\nx\n")
	expectOutput(t, m, `sh -c "seq 1 5 | sort -r | head -2"`, "5\n4\n")
	expectOutput(t, m, `sh -c "sleep 1 & wait; echo slept"`, "slept\n")
	// ps reads /proc/<pid>/stat and cmdline. busybox's sh runs ps in a
	// forked child without exec (it only renames itself), so ps shows its
	// own name in braces before its parent's command line, as on Linux.
	out := run(t, m, `sh -c "ps; true"`)
	for _, re := range []string{`(?m)^PID\s+USER\s+COMMAND\r$`, `(?m)^\s+1 root\s+menu\r$`,
		`(?m)^\s+\d+ root\s+sh -c ps; true\r$`, `(?m)^\s+\d+ root\s+\{ps\} sh -c ps; true\r$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("ps over /proc lacks %s:\n%s", re, out)
		}
	}
}
