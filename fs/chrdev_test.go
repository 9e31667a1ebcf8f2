package fs

import (
	"strings"
	"testing"

	"gomenuos/sched"
)

// echoDev answers every read with its minor number as text.
type echoDev struct{ NoFileOps }

func (echoDev) Read(_ *sched.Task, f *File, p []byte, _ *int64) (int, error) {
	return copy(p, string(rune('0'+f.Inode.Rdev.Minor()))), nil
}

func procDevices(t *testing.T) string {
	var b strings.Builder
	mustOK(t, WriteChrdevs(&b))
	return b.String()
}

func TestRegisterChrdevDynamicMajorsFromTheTop(t *testing.T) {
	m1, err := RegisterChrdev(0, "one", echoDev{})
	mustOK(t, err)
	m2, err := RegisterChrdev(0, "two", echoDev{})
	mustOK(t, err)
	m3, err := RegisterChrdev(1, "mem", echoDev{})
	mustOK(t, err)
	defer UnregisterChrdev(m3, "mem")
	if m1 != 254 || m2 != 253 || m3 != 1 {
		t.Fatalf("majors %d %d %d, want 254 253 1", m1, m2, m3)
	}
	want := "Character devices:\n  1 mem\n253 two\n254 one\n\nBlock devices:\n"
	if got := procDevices(t); got != want {
		t.Fatalf("/proc/devices =\n%q\nwant\n%q", got, want)
	}
	mustOK(t, UnregisterChrdev(m1, "one"))
	if m, _ := RegisterChrdev(0, "again", echoDev{}); m != 254 {
		t.Fatalf("freed 254 not reused, got %d", m)
	}
	mustOK(t, UnregisterChrdev(254, "again"))
	mustOK(t, UnregisterChrdev(m2, "two"))
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"taken major", second(RegisterChrdev(1, "dup", echoDev{})), EBUSY},
		{"major 512", second(RegisterChrdev(512, "big", echoDev{})), EINVAL},
		{"nil fops", second(RegisterChrdev(7, "nil", nil)), EINVAL},
		{"minors past 20 bits", second(RegisterChrdevRegion(7, 1<<20-1, 2, "wide", echoDev{})), EINVAL},
		{"unregister unknown", UnregisterChrdev(77, "x"), EINVAL},
		{"unregister wrong name", UnregisterChrdev(1, "memx"), EINVAL},
	} {
		if c.err != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
}

func second(_ uint32, err error) error { return err }

func TestDynamicMajorsSpillToTheExtendedRange(t *testing.T) {
	var got []uint32
	for range 22 {
		m, err := RegisterChrdev(0, "d", echoDev{})
		mustOK(t, err)
		got = append(got, m)
	}
	for _, m := range got {
		mustOK(t, UnregisterChrdev(m, "d"))
	}
	if got[0] != 254 || got[20] != 234 || got[21] != 511 {
		t.Fatalf("majors %v: want 254..234 then 511", got)
	}
}

func TestMinorRangesShareAMajor(t *testing.T) {
	_, err := RegisterChrdevRegion(5, 0, 1, "/dev/tty", echoDev{})
	mustOK(t, err)
	_, err = RegisterChrdevRegion(5, 1, 1, "/dev/console", echoDev{})
	mustOK(t, err)
	if _, err := RegisterChrdevRegion(5, 1, 2, "/dev/ptmx", echoDev{}); err != EBUSY {
		t.Fatalf("overlapping range: %v, want EBUSY", err)
	}
	want := "Character devices:\n  5 /dev/tty\n  5 /dev/console\n\nBlock devices:\n"
	if got := procDevices(t); got != want {
		t.Fatalf("/proc/devices = %q, want %q", got, want)
	}
	mustOK(t, UnregisterChrdev(5, "/dev/tty"))
	mustOK(t, UnregisterChrdev(5, "/dev/console"))
}

func TestDeviceNodeOpensTheDriverAndBusyBlocksUnregister(t *testing.T) {
	ns := newTree(t)
	major, err := RegisterChrdev(0, "echo", echoDev{})
	mustOK(t, err)
	mustOK(t, ns.Mknod(nil, "/tmp/echo3", ModeChr|0o666, Mkdev(major, 3)))
	mustOK(t, ns.Mknod(nil, "/tmp/nodrv", ModeChr|0o666, Mkdev(99, 0)))

	f, err := ns.Open(nil, "/tmp/echo3", O_RDONLY, 0)
	mustOK(t, err)
	buf := make([]byte, 4)
	if n, err := f.Read(nil, buf); err != nil || string(buf[:n]) != "3" {
		t.Fatalf("read = %q, %v; want the driver's \"3\"", buf[:n], err)
	}
	if err := UnregisterChrdev(major, "echo"); err != EBUSY {
		t.Fatalf("unregister while open: %v, want EBUSY", err)
	}
	g := f.Get()
	mustOK(t, f.Put())
	if err := UnregisterChrdev(major, "echo"); err != EBUSY {
		t.Fatalf("unregister with a reference left: %v, want EBUSY", err)
	}
	mustOK(t, g.Put())
	mustOK(t, UnregisterChrdev(major, "echo"))
	if _, err := ns.Open(nil, "/tmp/echo3", O_RDONLY, 0); err != ENXIO {
		t.Fatalf("open after unregister: %v, want ENXIO", err)
	}
	if _, err := ns.Open(nil, "/tmp/nodrv", O_RDONLY, 0); err != ENXIO {
		t.Fatalf("open with no driver: %v, want ENXIO", err)
	}
}

// memLike picks per-minor operations at open, as Linux's memory_open does;
// the open count must survive the switch.
type memLike struct{ NoFileOps }

func (memLike) Open(inode *Inode, f *File) error {
	f.ReplaceOps(echoDev{})
	return nil
}

func TestDriverChosenOpsStillCountOpens(t *testing.T) {
	ns := newTree(t)
	major, err := RegisterChrdev(0, "memlike", memLike{})
	mustOK(t, err)
	mustOK(t, ns.Mknod(nil, "/tmp/m7", ModeChr|0o666, Mkdev(major, 7)))
	f, err := ns.Open(nil, "/tmp/m7", O_RDONLY, 0)
	mustOK(t, err)
	buf := make([]byte, 1)
	if n, _ := f.Read(nil, buf); n != 1 || buf[0] != '7' {
		t.Fatalf("read %q, want the per-minor ops' \"7\"", buf[:n])
	}
	if err := UnregisterChrdev(major, "memlike"); err != EBUSY {
		t.Fatalf("unregister while open: %v, want EBUSY", err)
	}
	mustOK(t, f.Put())
	mustOK(t, UnregisterChrdev(major, "memlike"))
}
