package shellcmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"gomenuos/fs"
	"gomenuos/fs/procfs"
	"gomenuos/sched"
)

var epoch = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// TestMain sets up a root with a fixed clock: /etc/motd, /tmp and /proc.
func TestMain(m *testing.M) {
	ns := fs.NewNamespace(fs.NewRamfs(func() time.Time { return epoch }))
	fs.SetRoot(ns)
	for _, err := range []error{
		ns.Mkdir(nil, "/etc", 0o755), ns.Mkdir(nil, "/tmp", 0o777), procfs.Mount(ns),
		Echo(nil, nil, []string{"Welcome", "to", "MenuOS", ">", "/etc/motd"}),
	} {
		if err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// sh runs one command line (already split into words) and returns its
// output and error text the way the shell shows them: "NAME: error".
func sh(t *testing.T, task *sched.Task, words ...string) string {
	t.Helper()
	for _, c := range Commands() {
		if c.Name == words[0] {
			var out bytes.Buffer
			if err := c.Run(task, &out, words[1:]); err != nil {
				out.WriteString(c.Name + ": " + err.Error() + "\n")
			}
			return out.String()
		}
	}
	t.Fatalf("no command %q", words[0])
	return ""
}

func expect(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCat(t *testing.T) {
	expect(t, sh(t, nil, "cat", "/etc/motd"), "Welcome to MenuOS\n")
	expect(t, sh(t, nil, "cat", "/etc/motd", "/etc/motd"), "Welcome to MenuOS\nWelcome to MenuOS\n")
	expect(t, sh(t, nil, "cat", "/nope"), "cat: /nope: No such file or directory\n")
	expect(t, sh(t, nil, "cat", "/etc/motd", "/etc"), "Welcome to MenuOS\ncat: /etc: Is a directory\n")
	expect(t, sh(t, nil, "cat"), "cat: usage: cat FILE...\n")
}

func TestEchoAndRedirection(t *testing.T) {
	expect(t, sh(t, nil, "echo", "hello", "world"), "hello world\n")
	expect(t, sh(t, nil, "echo", "-n", "x"), "x")
	expect(t, sh(t, nil, "echo", "one", ">", "/tmp/f"), "")
	expect(t, sh(t, nil, "echo", "two", ">>", "/tmp/f"), "")
	expect(t, sh(t, nil, "echo", "three", ">>/tmp/f"), "")
	expect(t, sh(t, nil, "echo", "four", "4>>/tmp/f"), "")
	expect(t, sh(t, nil, "cat", "/tmp/f"), "one\ntwo\nthree\nfour 4\n")
	expect(t, sh(t, nil, "echo", "new", ">/tmp/f"), "")
	expect(t, sh(t, nil, "cat", "/tmp/f"), "new\n")
	expect(t, sh(t, nil, "echo", "x", ">"), "echo: usage: echo WORDS > FILE: missing file name\n")
	expect(t, sh(t, nil, "echo", "x", ">", "/etc"), "echo: /etc: Is a directory\n")
	expect(t, sh(t, nil, "echo", "1", ">", "/proc/uptime"), "echo: /proc/uptime: Permission denied\n")
	expect(t, sh(t, nil, "echo", "x", ">", "/nodir/f"), "echo: /nodir/f: No such file or directory\n")
}

func TestMknodMkdirRmAndLs(t *testing.T) {
	expect(t, sh(t, nil, "mkdir", "/tmp/d"), "")
	expect(t, sh(t, nil, "mknod", "/tmp/d/globalvar", "c", "254", "0"), "")
	expect(t, sh(t, nil, "echo", "hi", ">", "/tmp/d/file"), "")
	expect(t, sh(t, nil, "ls", "/tmp/d"), "file\nglobalvar\n")
	expect(t, sh(t, nil, "ls", "-l", "/tmp/d"),
		"-rw-r--r--  1 root root        3 Nov 22 03:00 file\n"+
			"crw-r--r--  1 root root 254,   0 Nov 22 03:00 globalvar\n")
	expect(t, sh(t, nil, "ls", "-l", "/tmp/d/file"), "-rw-r--r--  1 root root        3 Nov 22 03:00 /tmp/d/file\n")
	expect(t, sh(t, nil, "ls", "/etc", "/tmp/d"), "/etc:\nmotd\n\n/tmp/d:\nfile\nglobalvar\n")
	expect(t, sh(t, nil, "ls", "-l", "/tmp"), "drwxr-xr-x  2 root root        0 Nov 22 03:00 d\n"+
		"-rw-r--r--  1 root root        4 Nov 22 03:00 f\n")

	for _, c := range []struct{ line, want string }{
		{"mknod /tmp/d/globalvar c 254 0", "mknod: /tmp/d/globalvar: File exists\n"},
		{"mknod /tmp/x c abc 0", "mknod: invalid major device number 'abc'\n"},
		{"mknod /tmp/x c 4096 0", "mknod: invalid major device number '4096'\n"},
		{"mknod /tmp/x c 1 -1", "mknod: invalid minor device number '-1'\n"},
		{"mknod /tmp/x b 8 0", "mknod: /tmp/x: block devices are not supported\n"},
		{"mknod /tmp/x c 1", "mknod: usage: mknod PATH c MAJOR MINOR\n"},
		{"mknod /nodir/x c 1 3", "mknod: /nodir/x: No such file or directory\n"},
		{"mkdir /tmp/d", "mkdir: /tmp/d: File exists\n"},
		{"rm /tmp/d", "rm: /tmp/d: Is a directory\n"},
		{"rmdir /tmp/d", "rmdir: /tmp/d: Directory not empty\n"},
		{"rm /tmp/nope", "rm: /tmp/nope: No such file or directory\n"},
		{"rm /proc/uptime", "rm: /proc/uptime: Permission denied\n"},
		{"ls /nope", "ls: /nope: No such file or directory\n"},
		{"cat /tmp/d/globalvar", "cat: /tmp/d/globalvar: No such device or address\n"},
		{"rm /tmp/d/globalvar /tmp/d/file", ""},
		{"rmdir /tmp/d", ""},
		{"ls /tmp", "f\n"},
	} {
		if got := sh(t, nil, strings.Fields(c.line)...); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.line, got, c.want)
		}
	}
}

func TestLsProcSelfFdAndFds(t *testing.T) {
	task := sched.NewTask("server")
	defer fs.ExitFiles(task)
	sock := fs.NewFile(fs.NewInode(fs.NewSuperBlock("sockfs", nil), fs.ModeSock|0o777, nil, nil), fs.O_RDWR, fs.NoFileOps{})
	sock.Path = "socket:[12]"
	_, err := fs.Root().OpenFD(task, "/etc/motd", fs.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.FilesOf(task).Install(sock); err != nil {
		t.Fatal(err)
	}
	got := sh(t, task, "ls", "-l", "/proc/self/fd")
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "lrwx------  1 root root       64 ") ||
		!strings.HasSuffix(lines[0], " 0 -> /etc/motd") || !strings.HasSuffix(lines[1], " 1 -> socket:[12]") {
		t.Fatalf("ls -l /proc/self/fd:\n%s", got)
	}
	expect(t, sh(t, task, "ls", "/proc/self/fd"), "0\n1\n")
	fds := sh(t, nil, "fds")
	id := task.ID()
	if !strings.Contains(fds, fmt.Sprintf("%d server: 0 -> /etc/motd\n%d server: 1 -> socket:[12]\n", id, id)) {
		t.Fatalf("fds:\n%s", fds)
	}
}

func TestPsThreads(t *testing.T) {
	procfs.SetThreads(func() []procfs.Thread {
		return []procfs.Thread{{TID: 1, State: "running", CPUTime: 2 * time.Second, Name: "main"}}
	})
	expect(t, sh(t, nil, "ps", "-L"), "  TID STATE           TIME NAME\n    1 running           2s main\n")
	expect(t, sh(t, nil, "ps", "-x"), "ps: usage: ps [-L]\n")
}

// TestPsIsProc: ps lists exactly the task directories `ls /proc` lists,
// with their names, and every one of them opens (comm and fd).
func TestPsIsProc(t *testing.T) {
	shell := sched.NewTask("shell")
	fs.FilesOf(shell)
	t.Cleanup(func() { fs.ExitFiles(shell) })
	job := sched.NewTask("replyhi")
	fs.ShareFiles(job, shell)
	t.Cleanup(func() { fs.ExitFiles(job) })
	ps := sched.NewTask("ps")
	fs.ShareFiles(ps, shell)
	t.Cleanup(func() { fs.ExitFiles(ps) })

	got := sh(t, ps, "ps")
	want := fmt.Sprintf("  PID CMD\n    0 kernel\n%5d shell\n%5d replyhi\n%5d ps\n", shell.ID(), job.ID(), ps.ID())
	assert.Equal(t, want, got)

	var listed []string
	for _, name := range strings.Fields(sh(t, ps, "ls", "/proc")) {
		if _, err := strconv.Atoi(name); err == nil {
			listed = append(listed, name)
		}
	}
	var pids []string
	for _, l := range strings.Split(strings.TrimSpace(got), "\n")[1:] {
		pids = append(pids, strings.Fields(l)[0])
	}
	assert.Equal(t, listed, pids, "ls /proc and ps list different tasks")
	for _, id := range listed {
		assert.NotContains(t, sh(t, ps, "ls", "-l", "/proc/"+id+"/fd"), "ls:", "/proc/%s/fd", id)
		assert.NotContains(t, sh(t, ps, "cat", "/proc/"+id+"/comm"), "cat:", "/proc/%s/comm", id)
	}
	// A task that has ended is gone from both.
	fs.ExitFiles(job)
	assert.NotContains(t, sh(t, ps, "ps"), "replyhi")
	assert.Equal(t, "ls: /proc/"+strconv.FormatUint(job.ID(), 10)+": No such file or directory\n",
		sh(t, ps, "ls", "/proc/"+strconv.FormatUint(job.ID(), 10)))
}

// endless is a device that never runs dry (like /dev/zero).
type endless struct{ fs.NoFileOps }

func (endless) Read(_ *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) { return len(p), nil }

func TestCatOfEndlessDeviceStopsOnInterrupt(t *testing.T) {
	major, err := fs.RegisterChrdev(0, "endless", endless{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.UnregisterChrdev(major, "endless")
	if err := fs.Root().Mknod(nil, "/tmp/endless", fs.ModeChr|0o666, fs.Mkdev(major, 0)); err != nil {
		t.Fatal(err)
	}
	defer fs.Root().Unlink(nil, "/tmp/endless")
	task := sched.NewTask("cat")
	out := &countingWriter{limit: 1 << 20, task: task}
	if err := Cat(task, out, []string{"/tmp/endless"}); !errors.Is(err, sched.ErrRestartSys) {
		t.Fatalf("cat ended with %v, want ErrRestartSys", err)
	}
}

// countingWriter interrupts its task once limit bytes went through.
type countingWriter struct {
	n, limit int
	task     *sched.Task
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n >= w.limit {
		w.task.Interrupt()
	}
	return len(p), nil
}

func TestWakelat(t *testing.T) {
	got := sh(t, nil, "wakelat", "200")
	var rounds, ns int
	if n, _ := fmt.Sscanf(got, "wakelat: %d rounds, median %d ns/switch\n", &rounds, &ns); n != 2 || rounds != 200 || ns <= 0 {
		t.Fatalf("wakelat printed %q", got)
	}
	expect(t, sh(t, nil, "wakelat", "0"), "wakelat: usage: wakelat [ROUNDS]\n")
}
