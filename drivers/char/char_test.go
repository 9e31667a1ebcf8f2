package char

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"gomenuos/fs"
	"gomenuos/fs/devfs"
	"gomenuos/fs/procfs"
	"gomenuos/fs/shellcmd"
	"gomenuos/sched"
)

// TestMain boots the file systems the way the kernel does: root ramfs,
// devfs, procfs, then the always-present drivers.
func TestMain(m *testing.M) {
	ns := fs.NewRoot()
	for _, err := range []error{devfs.Mount(ns), procfs.Mount(ns), Init()} {
		if err != nil {
			panic(err)
		}
	}
	fs.SetRoot(ns)
	os.Exit(m.Run())
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, path string, flags int) *fs.File {
	t.Helper()
	f, err := fs.Root().Open(nil, path, flags, 0)
	mustOK(t, err)
	return f
}

func TestNullZeroURandom(t *testing.T) {
	null := open(t, "/dev/null", fs.O_RDWR)
	defer null.Put()
	if n, err := null.Read(nil, make([]byte, 8)); n != 0 || err != nil {
		t.Fatalf("read /dev/null = %d, %v; want end of file", n, err)
	}
	if n, err := null.Write(nil, []byte("gone")); n != 4 || err != nil {
		t.Fatalf("write /dev/null = %d, %v", n, err)
	}
	zero := open(t, "/dev/zero", fs.O_RDONLY)
	defer zero.Put()
	buf := []byte("xxxxxxxx")
	if n, err := zero.Read(nil, buf); n != 8 || err != nil || !bytes.Equal(buf, make([]byte, 8)) {
		t.Fatalf("read /dev/zero = %d %v %q", n, err, buf)
	}
	ur := open(t, "/dev/urandom", fs.O_RDONLY)
	defer ur.Put()
	a, b := make([]byte, 32), make([]byte, 32)
	ur.Read(nil, a)
	ur.Read(nil, b)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 32)) {
		t.Fatal("/dev/urandom repeats itself")
	}
	mustOK(t, fs.Root().Mknod(nil, "/dev/mem7", fs.ModeChr|0o600, fs.Mkdev(MemMajor, 7)))
	if _, err := fs.Root().Open(nil, "/dev/mem7", fs.O_RDONLY, 0); err != fs.ENXIO {
		t.Fatalf("unknown mem minor: %v, want ENXIO", err)
	}
}

// fakeTerm is a terminal with scripted lines that records what is written.
type fakeTerm struct {
	mu    sync.Mutex
	lines []string
	out   bytes.Buffer
}

func (f *fakeTerm) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

func (f *fakeTerm) ReadLine(*sched.Task) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lines) == 0 {
		return "", sched.ErrRestartSys
	}
	l := f.lines[0]
	f.lines = f.lines[1:]
	return l, nil
}

func TestConsoleSeam(t *testing.T) {
	SetConsole(nil)
	if _, err := fs.Root().Open(nil, "/dev/console", fs.O_RDWR, 0); err != fs.ENODEV {
		t.Fatalf("open without a terminal: %v, want ENODEV", err)
	}
	term := &fakeTerm{lines: []string{"hello world", "x"}}
	SetConsole(term)
	defer SetConsole(nil)
	con := open(t, "/dev/console", fs.O_RDWR)
	defer con.Put()
	mustOK(t, fs.WriteAll(nil, con, []byte("MenuOS>>")))
	buf := make([]byte, 6)
	var got []string
	for range 3 {
		n, err := con.Read(nil, buf)
		mustOK(t, err)
		got = append(got, string(buf[:n]))
	}
	if strings.Join(got, "|") != "hello |world\n|x\n" || term.out.String() != "MenuOS>>" {
		t.Fatalf("reads %q, terminal got %q", got, term.out.String())
	}
}

func TestProcDevicesListsBuiltinDrivers(t *testing.T) {
	var b bytes.Buffer
	mustOK(t, fs.WriteChrdevs(&b))
	want := "Character devices:\n  1 mem\n  5 /dev/console\n\nBlock devices:\n"
	if b.String() != want {
		t.Fatalf("/proc/devices = %q, want %q", b.String(), want)
	}
}

// insmod runs the shell's insmod and returns what it printed.
func insmod(t *testing.T, name string) (string, error) {
	var out bytes.Buffer
	err := insmodCmd(nil, &out, []string{name})
	return out.String(), err
}

func TestGlobalvarSemantics(t *testing.T) {
	out, err := insmod(t, "globalvar")
	mustOK(t, err)
	defer Rmmod("globalvar")
	if out != "major = 254\n" {
		t.Fatalf("insmod printed %q, want \"major = 254\\n\"", out)
	}
	mustOK(t, fs.Root().Mknod(nil, "/dev/gv-sem", fs.ModeChr|0o644, fs.Mkdev(254, 0)))
	defer fs.Root().Unlink(nil, "/dev/gv-sem")
	f := open(t, "/dev/gv-sem", fs.O_RDWR)
	defer f.Put()

	// Two writes before a read: the read returns both, then the flag is clear.
	mustOK(t, fs.WriteAll(nil, f, []byte("123\n")))
	mustOK(t, fs.WriteAll(nil, f, []byte("45\n")))
	if f.Poll() != fs.PollIn|fs.PollOut {
		t.Fatalf("poll after write = %#x, want IN|OUT", f.Poll())
	}
	buf := make([]byte, 2048)
	if n, err := f.Read(nil, buf); string(buf[:n]) != "123\n45\n" || err != nil {
		t.Fatalf("read = %q, %v", buf[:n], err)
	}
	nb := open(t, "/dev/gv-sem", fs.O_RDONLY|fs.O_NONBLOCK)
	defer nb.Put()
	if _, err := nb.Read(nil, buf); err != fs.EAGAIN {
		t.Fatalf("nonblocking read with no write: %v, want EAGAIN", err)
	}

	// Overflow: too big for the buffer, or for the room left; nothing changes.
	if _, err := f.Write(nil, bytes.Repeat([]byte("x"), GlobalvarSize+1)); err != fs.EFBIG {
		t.Fatalf("1025-byte write: %v, want EFBIG", err)
	}
	mustOK(t, fs.WriteAll(nil, f, bytes.Repeat([]byte("a"), 1000)))
	if _, err := f.Write(nil, bytes.Repeat([]byte("b"), 25)); err != fs.ENOSPC {
		t.Fatalf("write past the room left: %v, want ENOSPC", err)
	}
	mustOK(t, fs.WriteAll(nil, f, bytes.Repeat([]byte("c"), 24)))
	small := make([]byte, 1000)
	if n, _ := f.Read(nil, small); n != 1000 || small[999] != 'a' {
		t.Fatalf("partial read got %d bytes", n)
	}
	if n, _ := f.Read(nil, buf); string(buf[:n]) != strings.Repeat("c", 24) {
		t.Fatalf("rest of a partial read = %q", buf[:n])
	}

	// A blocked read is ended by an interrupt with ERESTARTSYS.
	task := sched.NewTask("cat")
	res := make(chan error)
	go func() { _, err := f.Read(task, buf); res <- err }()
	time.Sleep(10 * time.Millisecond)
	task.Interrupt()
	select {
	case err := <-res:
		if err != sched.ErrRestartSys {
			t.Fatalf("interrupted read: %v, want ErrRestartSys", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("interrupt did not end the read")
	}
}

func TestInsmodRmmodErrors(t *testing.T) {
	_, err := insmod(t, "globalvar.ko")
	mustOK(t, err)
	if _, err := insmod(t, "globalvar"); err == nil || err.Error() != "ERROR: could not insert module globalvar: File exists" {
		t.Fatalf("second insmod: %v", err)
	}
	if _, err := insmod(t, "e1000"); !errors.Is(err, fs.ENOENT) || err.Error() != "ERROR: could not insert module e1000: No such file or directory" {
		t.Fatalf("unknown module: %v", err)
	}
	var out bytes.Buffer
	mustOK(t, lsmodCmd(nil, &out, nil))
	if out.String() != "globalvar\n" {
		t.Fatalf("lsmod = %q", out.String())
	}
	mustOK(t, fs.Root().Mknod(nil, "/dev/gv-busy", fs.ModeChr|0o644, fs.Mkdev(254, 0)))
	defer fs.Root().Unlink(nil, "/dev/gv-busy")
	f := open(t, "/dev/gv-busy", fs.O_RDONLY)
	if err := rmmodCmd(nil, nil, []string{"globalvar"}); !errors.Is(err, fs.EBUSY) || err.Error() != "ERROR: Module globalvar is in use" {
		t.Fatalf("rmmod while open: %v", err)
	}
	f.Put()
	mustOK(t, rmmodCmd(nil, nil, []string{"globalvar"}))
	if err := rmmodCmd(nil, nil, []string{"globalvar"}); err == nil || err.Error() != "ERROR: Module globalvar is not currently loaded" {
		t.Fatalf("second rmmod: %v", err)
	}
	if _, err := fs.Root().Open(nil, "/dev/gv-busy", fs.O_RDONLY, 0); err != fs.ENXIO {
		t.Fatalf("open after rmmod: %v, want ENXIO", err)
	}
	if err := insmodCmd(nil, nil, nil); err == nil || err.Error() != "usage: insmod MODULE" {
		t.Fatalf("insmod without args: %v", err)
	}
}

// syncBuffer is the console a background job writes to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if s.String() == want {
			return
		}
	}
	t.Fatalf("console shows %q, want %q", s.String(), want)
}

func run(t *testing.T, name string, out *syncBuffer, args ...string) error {
	t.Helper()
	for _, c := range append(shellcmd.Commands(), Commands()...) {
		if c.Name == name {
			return c.Run(sched.NewTask(name), out, args)
		}
	}
	t.Fatalf("no command %q", name)
	return nil
}

// The seed's demo through the shell commands, the cat running as a
// background job:
//
//	MenuOS>>insmod globalvar
//	major = 254
//	MenuOS>>cat /proc/devices
//	MenuOS>>mknod /dev/globalvar c 254 0
//	MenuOS>>cat /dev/globalvar &
//	MenuOS>>echo 123 > /dev/globalvar
//	123
//	MenuOS>>echo 1234567 > /dev/globalvar
//	1234567
func TestSeedGlobalvarDemo(t *testing.T) {
	var fg, bg syncBuffer
	mustOK(t, run(t, "insmod", &fg, "globalvar"))
	defer Rmmod("globalvar")
	mustOK(t, run(t, "cat", &fg, "/proc/devices"))
	mustOK(t, run(t, "mknod", &fg, "/dev/globalvar", "c", "254", "0"))
	defer fs.Root().Unlink(nil, "/dev/globalvar")
	want := "major = 254\nCharacter devices:\n  1 mem\n  5 /dev/console\n254 globalvar\n\nBlock devices:\n"
	if fg.String() != want {
		t.Fatalf("foreground output %q, want %q", fg.String(), want)
	}

	catTask := sched.NewTask("cat")
	done := make(chan error)
	go func() { done <- shellcmd.Cat(catTask, &bg, []string{"/dev/globalvar"}) }()
	mustOK(t, run(t, "echo", &fg, "123", ">", "/dev/globalvar"))
	bg.waitFor(t, "123\n")
	mustOK(t, run(t, "echo", &fg, "1234567", ">/dev/globalvar"))
	bg.waitFor(t, "123\n1234567\n")

	if err := run(t, "rmmod", &fg, "globalvar"); !errors.Is(err, fs.EBUSY) {
		t.Fatalf("rmmod while cat has the device open: %v, want EBUSY", err)
	}
	catTask.Interrupt() // Ctrl-C / kill of the background cat
	select {
	case err := <-done:
		if err != sched.ErrRestartSys {
			t.Fatalf("cat ended with %v, want ErrRestartSys", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("interrupt did not end the blocked cat")
	}
	mustOK(t, run(t, "rmmod", &fg, "globalvar"))
}
