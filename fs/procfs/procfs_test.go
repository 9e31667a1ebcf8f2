package procfs

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"gomenuos/fs"
	"gomenuos/sched"
)

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newNS(t *testing.T) *fs.Namespace {
	t.Helper()
	ns := fs.NewRoot()
	mustOK(t, Mount(ns))
	return ns
}

func read(t *testing.T, ns *fs.Namespace, task *sched.Task, path string) string {
	t.Helper()
	f, err := ns.Open(task, path, fs.O_RDONLY, 0)
	mustOK(t, err)
	defer f.Put()
	var b bytes.Buffer
	buf := make([]byte, 7) // small reads must still see one snapshot
	for {
		n, err := f.Read(task, buf)
		mustOK(t, err)
		if n == 0 {
			return b.String()
		}
		b.Write(buf[:n])
	}
}

type nopDev struct{ fs.NoFileOps }

func TestProcDevicesLinuxFormat(t *testing.T) {
	ns := newNS(t)
	_, err := fs.RegisterChrdev(1, "mem", nopDev{})
	mustOK(t, err)
	defer fs.UnregisterChrdev(1, "mem")
	m, err := fs.RegisterChrdev(0, "globalvar", nopDev{})
	mustOK(t, err)
	defer fs.UnregisterChrdev(m, "globalvar")
	want := "Character devices:\n  1 mem\n254 globalvar\n\nBlock devices:\n"
	if got := read(t, ns, nil, "/proc/devices"); got != want {
		t.Fatalf("/proc/devices = %q, want %q", got, want)
	}
}

func TestRegisteredFileRegeneratedAtEachOpen(t *testing.T) {
	ns := newNS(t)
	opens := 0
	show := func(w io.Writer) {
		opens++
		fmt.Fprintf(w, "  sl  local_address rem_address   st\n   %d: 0100007F:1F90 00000000:0000 0A\n", opens-1)
	}
	mustOK(t, Register("net/tcp", show))
	if err := Register("net/tcp", show); err != fs.EEXIST {
		t.Fatalf("second Register: %v, want EEXIST", err)
	}
	if err := Register("net/tcp/x", show); err != fs.ENOTDIR {
		t.Fatalf("Register under a file: %v, want ENOTDIR", err)
	}
	for _, bad := range []string{"self", "42", "net/..", "../x", ""} {
		if err := Register(bad, show); err != fs.EINVAL {
			t.Fatalf("Register(%q): %v, want EINVAL", bad, err)
		}
	}
	want := "  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A\n"
	if got := read(t, ns, nil, "/proc/net/tcp"); got != want {
		t.Fatalf("/proc/net/tcp = %q, want %q", got, want)
	}
	if got := read(t, ns, nil, "/proc/net/tcp"); !strings.Contains(got, "   1: ") {
		t.Fatalf("second open did not regenerate: %q", got)
	}
	ents, err := ns.ReadDir(nil, "/proc/net")
	mustOK(t, err)
	if len(ents) != 1 || ents[0].Name != "tcp" {
		t.Fatalf("/proc/net lists %v", ents)
	}
	if st := mustLookup(t, ns, "/proc/net").Stat(); st.Mode != fs.ModeDir|0o555 || st.Nlink != 2 {
		t.Fatalf("/proc/net: %v nlink %d, want dr-xr-xr-x and 2", st.Mode, st.Nlink)
	}
}

func TestProcIsReadOnly(t *testing.T) {
	ns := newNS(t)
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"write-open", second(ns.Open(nil, "/proc/uptime", fs.O_WRONLY, 0)), fs.EACCES},
		{"mkdir", ns.Mkdir(nil, "/proc/x", 0o755), fs.EACCES},
		{"rm", ns.Unlink(nil, "/proc/uptime"), fs.EACCES},
		{"missing", second(ns.Open(nil, "/proc/nope", fs.O_RDONLY, 0)), fs.ENOENT},
	} {
		if c.err != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestMeminfoUptimeInterruptsThreadsFormats(t *testing.T) {
	ns := newNS(t)
	SetMemInfo(func() MemInfo { return MemInfo{Total: 512 << 20, Free: 300 << 20, Available: 310 << 20} })
	SetUptime(func() (time.Duration, time.Duration) {
		return 3723*time.Second + 450*time.Millisecond, 12 * time.Second
	})
	SetInterrupts(func() []IRQ {
		return []IRQ{{0, 12345, "IO-APIC", "timer"}, {4, 67, "IO-APIC", "ttyS0"}, {11, 8, "IO-APIC", "virtio0"}}
	})
	SetThreads(func() []Thread {
		return []Thread{{1, "running", 1500 * time.Millisecond, "main"}, {2, "sleeping", 0, "idle"}}
	})
	for path, want := range map[string]string{
		"/proc/meminfo": "MemTotal:         524288 kB\nMemFree:          307200 kB\nMemAvailable:     317440 kB\n",
		"/proc/uptime":  "3723.45 12.00\n",
		"/proc/interrupts": "           CPU0       \n" +
			"  0:      12345   IO-APIC  timer\n" +
			"  4:         67   IO-APIC  ttyS0\n" +
			" 11:          8   IO-APIC  virtio0\n",
		"/proc/threads": "  TID STATE           TIME NAME\n" +
			"    1 running         1.5s main\n" +
			"    2 sleeping          0s idle\n",
	} {
		if got := read(t, ns, nil, path); got != want {
			t.Errorf("%s =\n%q\nwant\n%q", path, got, want)
		}
	}
}

// sockOps stands in for sockfs: a file whose name is socket:[ino].
type sockOps struct{ fs.NoFileOps }

func TestSelfAndFdLinks(t *testing.T) {
	ns := newNS(t)
	mustOK(t, ns.Mkdir(nil, "/etc", 0o755))
	task := sched.NewTask("replyhi")
	defer fs.ExitFiles(task)
	fd0, err := ns.OpenFD(task, "/etc/../etc/motd", fs.O_WRONLY|fs.O_CREAT, 0o644)
	mustOK(t, err)
	sock := fs.NewFile(fs.NewInode(sb, fs.ModeSock|0o777, nil, nil), fs.O_RDWR, sockOps{})
	sock.Path = "socket:[4242]"
	fd1, err := fs.FilesOf(task).Install(sock)
	mustOK(t, err)
	if fd0 != 0 || fd1 != 1 {
		t.Fatalf("fds %d %d", fd0, fd1)
	}
	id := fmt.Sprint(task.ID())
	if got, err := ns.Readlink(task, "/proc/self"); got != id || err != nil {
		t.Fatalf("readlink /proc/self = %q, %v; want %q", got, err, id)
	}
	ents, err := ns.ReadDir(task, "/proc/self/fd")
	mustOK(t, err)
	var lines []string
	for _, e := range ents {
		target, err := fs.Readlink(task, e.Inode)
		mustOK(t, err)
		lines = append(lines, e.Name+" -> "+target)
	}
	if got := strings.Join(lines, "\n"); got != "0 -> /etc/motd\n1 -> socket:[4242]" {
		t.Fatalf("/proc/self/fd:\n%s", got)
	}
	if got, _ := ns.Readlink(nil, "/proc/"+id+"/fd/1"); got != "socket:[4242]" {
		t.Fatalf("readlink /proc/%s/fd/1 = %q", id, got)
	}
	if _, err := ns.Lookup(nil, "/proc/"+id+"/fd/7"); err != fs.ENOENT {
		t.Fatalf("closed fd: %v, want ENOENT", err)
	}
	other := sched.NewTask("other")
	if ents, _ := ns.ReadDir(other, "/proc/self/fd"); len(ents) != 0 {
		t.Fatalf("another task's /proc/self/fd lists %v", ents)
	}
	fs.ExitFiles(other)
	fs.ExitFiles(task)
	if _, err := ns.Lookup(nil, "/proc/"+id); err != fs.ENOENT {
		t.Fatalf("/proc/<id> after exit: %v, want ENOENT", err)
	}
}

func mustLookup(t *testing.T, ns *fs.Namespace, path string) *fs.Inode {
	t.Helper()
	i, err := ns.Lookup(nil, path)
	mustOK(t, err)
	return i
}

// A process's /proc/<pid>/fd goes through the same directory as a task's:
// the links name the open files, and a link held after the process has
// exited reads ENOENT, as Linux's does.
func TestProcessFdLinksAndExit(t *testing.T) {
	ns := newNS(t)
	task := sched.NewTask("menu")
	defer fs.ExitFiles(task)
	sock := fs.NewFile(fs.NewInode(sb, fs.ModeSock|0o777, nil, nil), fs.O_RDWR, sockOps{})
	sock.Path = "socket:[77]"
	_, err := fs.FilesOf(task).Install(sock)
	mustOK(t, err)
	alive := true
	SetProcesses(ProcessSource{
		PIDs: func() []int { return []int{7} },
		Info: func(pid int) (ProcInfo, bool) {
			if pid != 7 || !alive {
				return ProcInfo{}, false
			}
			return ProcInfo{PID: 7, Comm: "menu", State: 'S', Files: fs.FilesOf(task)}, true
		},
		Self: func(*sched.Task) int { return 7 },
	})
	defer func() {
		processes.mu.Lock()
		processes.src = nil
		processes.mu.Unlock()
	}()
	ents, err := ns.ReadDir(nil, "/proc/7/fd")
	mustOK(t, err)
	if len(ents) != 1 || ents[0].Name != "0" {
		t.Fatalf("/proc/7/fd lists %v, want one entry 0", ents)
	}
	if got, err := fs.Readlink(task, ents[0].Inode); got != "socket:[77]" || err != nil {
		t.Fatalf("readlink /proc/7/fd/0 = %q, %v", got, err)
	}
	if _, err := ns.Lookup(nil, "/proc/7/fd/1"); err != fs.ENOENT {
		t.Fatalf("/proc/7/fd/1: %v, want ENOENT", err)
	}
	alive = false
	if _, err := fs.Readlink(task, ents[0].Inode); err != fs.ENOENT {
		t.Fatalf("readlink of a held link after exit: %v, want ENOENT", err)
	}
}
