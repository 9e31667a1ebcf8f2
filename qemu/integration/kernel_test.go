package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/qemu/harness"
)

// The runtime-hosting self-tests, run by the `selftest` boot parameter:
// QEMU powers off with status 0 only if every one passed.
func TestQEMUSelftestBootParameter(t *testing.T) {
	m := harness.StartT(t, harness.Config{BuildDir: harness.BuildDir(), Cmdline: "selftest", Timeout: 5 * time.Minute})
	out, err := m.Expect("selftest: 5 passed, 0 failed", 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gc", "preempt", "nilderef", "sleep", "gomaxprocs"} {
		if !strings.Contains(out, "selftest "+name+": ok: ") {
			t.Errorf("no ok line for %s in:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "recovered: runtime error: invalid memory address or nil pointer dereference") {
		t.Errorf("nil dereference not recovered as a Go panic:\n%s", out)
	}
	status, err := m.Wait(30 * time.Second)
	if err != nil || status != 0 {
		t.Fatalf("QEMU exit status %d (%v), want 0", status, err)
	}
}

var dumpLines = []*regexp.Regexp{
	regexp.MustCompile(`error code 0x[0-9a-f]{16}  RIP 0x[0-9a-f]{16}  RSP 0x[0-9a-f]{16}`),
	regexp.MustCompile(`CR2 0x[0-9a-f]{16}  FS base 0x[0-9a-f]{16}  RFLAGS 0x[0-9a-f]{16}`),
	regexp.MustCompile(`RAX 0x[0-9a-f]{16} RBX 0x[0-9a-f]{16} RCX 0x[0-9a-f]{16} RDX 0x[0-9a-f]{16}`),
	regexp.MustCompile(`R13 0x[0-9a-f]{16} R14 0x[0-9a-f]{16} R15 0x[0-9a-f]{16} CS  0x0{14}08`),
}

// A fault inside a syscall handler (trap context) prints the exception,
// every register, and exits QEMU with a non-zero status.
func TestQEMUKernelFaultDump(t *testing.T) {
	m := boot(t, harness.Config{})
	m.Send("crash kernel\r")
	out, err := m.Expect("threads\r\n", cmdTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "*** gomenuos: page fault in kernel context: #PF page fault (vector 14)") ||
		!strings.Contains(out, "CR2 0x0000000000000010") {
		t.Errorf("no page-fault report:\n%s", out)
	}
	for _, re := range dumpLines {
		if !re.MatchString(out) {
			t.Errorf("dump lacks %v:\n%s", re, out)
		}
	}
	if status, err := m.Wait(10 * time.Second); err != nil || status != 2*0x3f+1 {
		t.Fatalf("QEMU exit status %d (%v), want %d", status, err, 2*0x3f+1)
	}
}

// An invalid opcode in a Go thread: the kernel's register dump, then the
// runtime's own report with a goroutine traceback, then a non-zero exit.
func TestQEMUGoThreadFaultTraceback(t *testing.T) {
	m := boot(t, harness.Config{})
	m.Send("crash ud2\r")
	out, err := m.Expect("gomenuos: exit 2 after", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"*** gomenuos: unexpected exception in a Go thread: #UD invalid opcode (vector 6)",
		"SIGILL: illegal instruction",
		"goroutine ",
		"gomenuos/kernel/linux.InvalidOpcode",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if status, err := m.Wait(10 * time.Second); err != nil || status != 5 {
		t.Fatalf("QEMU exit status %d (%v), want 5 (exit_group(2))", status, err)
	}
}

// The seed's char-device walkthrough: register globalvar with a dynamic
// major, see it in /proc/devices, make the node, block a reader, wake it
// with writes.
func TestQEMUGlobalvarDemo(t *testing.T) {
	m := boot(t, harness.Config{})
	out := run(t, m, "insmod globalvar")
	mm := regexp.MustCompile(`major = (\d+)\r\n`).FindStringSubmatch(out)
	if mm == nil {
		t.Fatalf("no major line: %q", out)
	}
	major := mm[1]
	if out := run(t, m, "cat /proc/devices"); !regexp.MustCompile(`\r\n *` + major + ` globalvar\r\n`).MatchString(out) {
		t.Fatalf("/proc/devices lacks globalvar:\n%s", out)
	}
	if out := run(t, m, "mknod /dev/globalvar c "+major+" 0"); out != "mknod /dev/globalvar c "+major+" 0\r\n"+prompt {
		t.Fatalf("mknod: %q", out)
	}
	run(t, m, "cat /dev/globalvar &")
	time.Sleep(300 * time.Millisecond) // let the reader block
	for _, v := range []string{"123", "1234567"} {
		m.Send("echo " + v + " > /dev/globalvar\r")
		if _, err := m.Expect("\r\n"+v+"\r\n"+prompt, cmdTimeout); err != nil { // the tty redraws the prompt
			t.Fatalf("reader did not print %s: %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := run(t, m, "rmmod globalvar"); !strings.Contains(out, "in use") {
		t.Fatalf("rmmod of a busy device: %q", out)
	}
}

// sockfs: the replyhi listener is a socket inode mapped to descriptor 3
// of the shell's table (0-2 are the console), like Linux's
// sock_alloc + sock_map_fd.
func TestQEMUSocketInProcSelfFd(t *testing.T) {
	m := boot(t, harness.Config{})
	run(t, m, "replyhi")
	out := run(t, m, "ls -l /proc/self/fd")
	for _, re := range []string{`0 -> /dev/console\r\n`, `2 -> /dev/console\r\n`, `3 -> socket:\[\d+\]\r\n`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Fatalf("no %s in:\n%s", re, out)
		}
	}
	run(t, m, "kill 1")
	time.Sleep(300 * time.Millisecond)
	if out := run(t, m, "ls -l /proc/self/fd"); strings.Contains(out, "socket:") {
		t.Fatalf("socket still open after the server was killed:\n%s", out)
	}
}

// Ctrl-C ends a read blocked in wait_event_interruptible.
func TestQEMUCtrlCInterruptsBlockedRead(t *testing.T) {
	m := boot(t, harness.Config{})
	out := run(t, m, "insmod globalvar")
	major := regexp.MustCompile(`major = (\d+)`).FindStringSubmatch(out)[1]
	run(t, m, "mknod /dev/globalvar c "+major+" 0")
	m.Send("cat /dev/globalvar\r")
	time.Sleep(500 * time.Millisecond)
	m.Send("\x03")
	if _, err := m.Expect("^C\r\ncat: interrupted\r\n"+prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
}

// Bad input gets a clear error and the prompt back.
func TestQEMUFileErrors(t *testing.T) {
	m := boot(t, harness.Config{})
	for cmd, want := range map[string]string{
		"cat /nope":               "cat: /nope: No such file or directory\r\n",
		"mknod /dev/x c abc 0":    "mknod: invalid major device number 'abc'\r\n",
		"echo 1 > /proc/uptime":   "echo: /proc/uptime: Permission denied\r\n",
		"rmmod globalvar":         "rmmod: ERROR: Module globalvar is not currently loaded\r\n",
		"hello 10.0.0.1 notaport": "hello: bad port \"notaport\"\r\n",
	} {
		out := run(t, m, cmd)
		if !strings.HasSuffix(out, want+prompt) {
			t.Errorf("%s: got %q, want %q", cmd, out, want)
		}
	}
}

// The runtime reads the clock through our vDSO (AT_SYSINFO_EHDR): after
// boot and a timer-heavy command, no clock_gettime (228) SYSCALL was made.
func TestQEMUClockThroughVDSO(t *testing.T) {
	m := boot(t, harness.Config{})
	run(t, m, "selftest sleep")
	out := run(t, m, "kstat")
	line := regexp.MustCompile(`syscalls:[ 0-9:]*`).FindString(out)
	if line == "" || strings.Contains(line, " 228:") {
		t.Fatalf("clock_gettime went through SYSCALL: %q", line)
	}
	if !strings.Contains(line, " 202:") { // sanity: futex is there
		t.Fatalf("no syscall counts: %q", line)
	}
}

// TestQEMUProcIsPs: with a program running in the background, `ls /proc`
// and `ps` list the same processes, and every one listed opens: its fd
// directory and its comm, which names it as ps does.
func TestQEMUProcIsPs(t *testing.T) {
	m := boot(t, harness.Config{})
	run(t, m, "/bin/sleep 600 &")
	// The job's prompt comes back before the program has been exec'd:
	// wait until it is a process, then compare.
	for i := 0; !strings.Contains(run(t, m, "ps"), " sleep\r\n"); i++ {
		require.Less(t, i, 300, "sleep never showed up in ps")
		time.Sleep(100 * time.Millisecond)
	}

	ls := run(t, m, "ls -l /proc")
	var listed []string
	for _, g := range regexp.MustCompile(`(?m)^dr-xr-xr-x .* (\d+)\r$`).FindAllStringSubmatch(ls, -1) {
		listed = append(listed, g[1])
	}
	ps := run(t, m, "ps")
	names := map[string]string{}
	var pids []string
	for _, g := range regexp.MustCompile(`(?m)^ *(\d+) (\S+)\r$`).FindAllStringSubmatch(ps, -1) {
		pids = append(pids, g[1])
		names[g[1]] = g[2]
	}
	assert.Equal(t, listed, pids, "ls /proc:\n%s\nps:\n%s", ls, ps)
	var comms []string
	for _, id := range pids {
		comms = append(comms, names[id])
		assert.NotContains(t, run(t, m, "ls -l /proc/"+id+"/fd"), "ls:")
		assert.Equal(t, "cat /proc/"+id+"/comm\r\n"+names[id]+"\r\n"+prompt, run(t, m, "cat /proc/"+id+"/comm"))
	}
	assert.Contains(t, comms, "sleep", "ps:\n%s", ps)
	require.NotEmpty(t, pids)
}
