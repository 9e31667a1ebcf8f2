package fs

import (
	"errors"
	"testing"
	"time"

	"gomenuos/sched"
)

var epoch = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return epoch }

// newTree builds / with /etc/motd ("hello\n") and /tmp.
func newTree(t *testing.T) *Namespace {
	t.Helper()
	ns := NewNamespace(NewRamfs(fixedClock))
	mustOK(t, ns.Mkdir(nil, "/etc", 0o755))
	mustOK(t, ns.Mkdir(nil, "/tmp", 0o1777))
	writeFile(t, ns, "/etc/motd", "hello\n", O_WRONLY|O_CREAT|O_TRUNC)
	return ns
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, ns *Namespace, path, data string, flags int) {
	t.Helper()
	f, err := ns.Open(nil, path, flags, 0o644)
	mustOK(t, err)
	mustOK(t, WriteAll(nil, f, []byte(data)))
	mustOK(t, f.Put())
}

func readFile(t *testing.T, ns *Namespace, path string) string {
	t.Helper()
	f, err := ns.Open(nil, path, O_RDONLY, 0)
	mustOK(t, err)
	defer f.Put()
	var out []byte
	buf := make([]byte, 3) // small on purpose: several reads per file
	for {
		n, err := f.Read(nil, buf)
		mustOK(t, err)
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func TestPathLookupDotAndDotDot(t *testing.T) {
	ns := newTree(t)
	motd, err := ns.Lookup(nil, "/etc/motd")
	mustOK(t, err)
	for _, p := range []string{"etc/motd", "/etc/./motd", "/tmp/../etc/motd", "/../../etc//motd", "/etc/../etc/../etc/motd"} {
		got, err := ns.Lookup(nil, p)
		if err != nil || got != motd {
			t.Errorf("Lookup(%q) = %v, %v; want /etc/motd", p, got, err)
		}
	}
	for _, c := range []struct {
		path string
		err  error
	}{
		{"/nope", ENOENT},
		{"", ENOENT},
		{"/etc/nope/x", ENOENT},
		{"/etc/motd/x", ENOTDIR},
		{"/etc/motd/", ENOTDIR},
		{"/etc/motd/..", ENOTDIR},
		{"/" + string(make([]byte, 256)), ENAMETOOLONG},
	} {
		if _, err := ns.Lookup(nil, c.path); err != c.err {
			t.Errorf("Lookup(%q) err = %v, want %v", c.path, err, c.err)
		}
	}
	if root, _ := ns.Lookup(nil, "/.."); root != ns.RootInode() {
		t.Error("/.. is not the root")
	}
}

func TestMountCrossingAndDotDotFromMountedRoot(t *testing.T) {
	ns := newTree(t)
	mustOK(t, ns.Mkdir(nil, "/dev", 0o755))
	devRoot := NewRamfs(fixedClock)
	mustOK(t, ns.Mount("/dev", devRoot))
	if err := ns.Mount("/dev", NewRamfs(fixedClock)); err != EBUSY {
		t.Fatalf("second mount on /dev: %v, want EBUSY", err)
	}
	if err := ns.Mount("/etc/motd", NewRamfs(fixedClock)); err != ENOTDIR {
		t.Fatalf("mount on a file: %v, want ENOTDIR", err)
	}
	mustOK(t, ns.Mknod(nil, "/dev/null", ModeChr|0o666, Mkdev(1, 3)))
	null, err := ns.Lookup(nil, "/dev/null")
	mustOK(t, err)
	if null.Sb != devRoot.Sb || null.Rdev != Mkdev(1, 3) {
		t.Fatalf("/dev/null on sb %v rdev %v, want the mounted ramfs and 1,3", null.Sb, null.Rdev)
	}
	if got, _ := ns.Lookup(nil, "/dev/../etc/motd"); got == nil {
		t.Fatal("/dev/.. did not lead back to the root")
	}
	if err := ns.Rmdir(nil, "/dev"); err != EBUSY {
		t.Fatalf("rmdir of a mount point: %v, want EBUSY", err)
	}
}

func TestRamfsReadWriteTruncateAppend(t *testing.T) {
	ns := newTree(t)
	if got := readFile(t, ns, "/etc/motd"); got != "hello\n" {
		t.Fatalf("motd = %q", got)
	}
	writeFile(t, ns, "/etc/motd", "more\n", O_WRONLY|O_APPEND)
	if got := readFile(t, ns, "/etc/motd"); got != "hello\nmore\n" {
		t.Fatalf("after append = %q", got)
	}
	writeFile(t, ns, "/etc/motd", "HE", O_WRONLY)
	if got := readFile(t, ns, "/etc/motd"); got != "HEllo\nmore\n" {
		t.Fatalf("after overwrite = %q", got)
	}
	writeFile(t, ns, "/etc/motd", "new\n", O_WRONLY|O_TRUNC)
	st := mustLookup(t, ns, "/etc/motd").Stat()
	if got := readFile(t, ns, "/etc/motd"); got != "new\n" || st.Size != 4 || st.Mode != ModeReg|0o644 || st.Mtime != epoch {
		t.Fatalf("after truncate = %q, stat %+v", got, st)
	}
}

func mustLookup(t *testing.T, ns *Namespace, path string) *Inode {
	t.Helper()
	i, err := ns.Lookup(nil, path)
	mustOK(t, err)
	return i
}

func TestOpenErrors(t *testing.T) {
	ns := newTree(t)
	for _, c := range []struct {
		path  string
		flags int
		err   error
	}{
		{"/nope", O_RDONLY, ENOENT},
		{"/nope/x", O_WRONLY | O_CREAT, ENOENT},
		{"/etc/motd", O_WRONLY | O_CREAT | O_EXCL, EEXIST},
		{"/etc", O_WRONLY, EISDIR},
		{"/etc", O_RDONLY | O_CREAT, EISDIR},
		{"/etc/motd", O_RDONLY | O_DIRECTORY, ENOTDIR},
	} {
		if _, err := ns.Open(nil, c.path, c.flags, 0o644); err != c.err {
			t.Errorf("Open(%q, %#x) err = %v, want %v", c.path, c.flags, err, c.err)
		}
	}
	f, err := ns.Open(nil, "/etc", O_RDONLY, 0)
	mustOK(t, err)
	if _, err := f.Read(nil, make([]byte, 8)); err != EISDIR {
		t.Errorf("read of a directory: %v, want EISDIR", err)
	}
	if _, err := f.Write(nil, []byte("x")); err != EBADF {
		t.Errorf("write on O_RDONLY: %v, want EBADF", err)
	}
	mustOK(t, ns.Mknod(nil, "/tmp/sock", ModeSock|0o777, 0))
	if _, err := ns.Open(nil, "/tmp/sock", O_RDWR, 0); err != ENXIO {
		t.Errorf("open of a mknod socket: %v, want ENXIO", err)
	}
}

func TestReadOnlyAndWriteProtectedFiles(t *testing.T) {
	ns := newTree(t)
	ro := NewRamfs(fixedClock)
	mustOK(t, ns.Mkdir(nil, "/ro", 0o755))
	mustOK(t, ns.Mount("/ro", ro))
	mustOK(t, ns.Mknod(nil, "/ro/f", ModeReg|0o444, 0))
	ro.Sb.ReadOnly = true
	if _, err := ns.Open(nil, "/ro/f", O_WRONLY, 0); err != EROFS {
		t.Errorf("write-open on a read-only fs: %v, want EROFS", err)
	}
	if err := ns.Mkdir(nil, "/ro/d", 0o755); err != EROFS {
		t.Errorf("mkdir on a read-only fs: %v, want EROFS", err)
	}
	if err := ns.Unlink(nil, "/ro/f"); err != EROFS {
		t.Errorf("unlink on a read-only fs: %v, want EROFS", err)
	}
	mustOK(t, ns.Mknod(nil, "/tmp/r", ModeReg|0o444, 0))
	if _, err := ns.Open(nil, "/tmp/r", O_WRONLY, 0); err != EACCES {
		t.Errorf("write-open of a 0444 file: %v, want EACCES", err)
	}
}

func TestMkdirUnlinkRmdirAndLinkCounts(t *testing.T) {
	ns := newTree(t)
	mustOK(t, ns.Mkdir(nil, "/tmp/a", 0o755))
	mustOK(t, ns.Mkdir(nil, "/tmp/a/b", 0o755))
	if n := mustLookup(t, ns, "/tmp/a").Stat().Nlink; n != 3 {
		t.Fatalf("nlink of a dir with one subdir = %d, want 3", n)
	}
	for _, c := range []struct {
		op   string
		err  error
		want error
	}{
		{"mkdir existing", ns.Mkdir(nil, "/tmp/a", 0o755), EEXIST},
		{"mkdir /", ns.Mkdir(nil, "/", 0o755), EEXIST},
		{"mkdir empty", ns.Mkdir(nil, "", 0o755), ENOENT},
		{"mkdir under file", ns.Mkdir(nil, "/etc/motd/x", 0o755), ENOTDIR},
		{"rmdir non-empty", ns.Rmdir(nil, "/tmp/a"), ENOTEMPTY},
		{"unlink dir", ns.Unlink(nil, "/tmp/a/b"), EISDIR},
		{"rmdir file", ns.Rmdir(nil, "/etc/motd"), ENOTDIR},
		{"unlink missing", ns.Unlink(nil, "/tmp/zz"), ENOENT},
		{"mknod dir type", ns.Mknod(nil, "/tmp/d", ModeDir|0o755, 0), EINVAL},
	} {
		if c.err != c.want {
			t.Errorf("%s: %v, want %v", c.op, c.err, c.want)
		}
	}
	mustOK(t, ns.Rmdir(nil, "/tmp/a/b"))
	mustOK(t, ns.Rmdir(nil, "/tmp/a"))
	mustOK(t, ns.Unlink(nil, "/etc/motd"))
	ents, err := ns.ReadDir(nil, "/")
	mustOK(t, err)
	if len(ents) != 2 || ents[0].Name != "etc" || ents[1].Name != "tmp" {
		t.Fatalf("ReadDir(/) = %v", ents)
	}
	if ents, _ := ns.ReadDir(nil, "/etc"); len(ents) != 0 {
		t.Fatalf("/etc still lists %v", ents)
	}
}

func TestErrnoTextAndMapping(t *testing.T) {
	if ENOENT.Error() != "No such file or directory" || EBUSY.Error() != "Device or resource busy" || Errno(4095).Error() != "Unknown error 4095" {
		t.Fatal("strerror text differs from Linux")
	}
	for _, c := range []struct {
		err  error
		want Errno
	}{
		{nil, 0}, {ENOTDIR, 20}, {sched.ErrRestartSys, ERESTARTSYS}, {sched.ErrTimedOut, ETIMEDOUT},
		{errors.New("other"), EIO}, {errors.Join(EEXIST), EEXIST},
	} {
		if got := ToErrno(c.err); got != c.want {
			t.Errorf("ToErrno(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestModeStringAndDevT(t *testing.T) {
	for m, want := range map[Mode]string{
		ModeDir | 0o755: "drwxr-xr-x", ModeChr | 0o666: "crw-rw-rw-", ModeReg | 0o644: "-rw-r--r--",
		ModeLink | 0o777: "lrwxrwxrwx", ModeSock | 0o777: "srwxrwxrwx",
	} {
		if m.String() != want {
			t.Errorf("%o: %q, want %q", m, m.String(), want)
		}
	}
	d := Mkdev(254, 3)
	if d.Major() != 254 || d.Minor() != 3 || uint32(d) != 254<<20|3 {
		t.Fatalf("Mkdev(254,3) = %#x major %d minor %d", uint32(d), d.Major(), d.Minor())
	}
}
