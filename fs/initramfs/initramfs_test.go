package initramfs

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"

	"gomenuos/fs"
)

// archive packs records into newc bytes the way mkinitramfs does.
func archive(t testing.TB, records ...cpio.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w := cpio.Newc.Writer(&b)
	if err := cpio.WriteRecords(w, records); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readAll(t *testing.T, ns *fs.Namespace, path string) string {
	t.Helper()
	f, err := ns.Open(nil, path, fs.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Put()
	var out []byte
	buf := make([]byte, 64)
	for {
		n, err := f.Read(nil, buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func TestUnpackCreatesDirsFilesAndDeviceNodes(t *testing.T) {
	ns := fs.NewRoot()
	if err := ns.Mkdir(nil, "/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	data := archive(t,
		cpio.Directory(".", 0o755),
		cpio.Directory("etc", 0o755),
		cpio.StaticFile("etc/motd", "hello from cpio\n", 0o644),
		cpio.StaticFile("etc/empty", "", 0o600),
		cpio.Directory("dev", 0o755), // exists: kept
		cpio.CharDev("dev/null", 0o666, 1, 3),
	)
	if err := Unpack(ns, data); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, ns, "/etc/motd"); got != "hello from cpio\n" {
		t.Fatalf("/etc/motd = %q", got)
	}
	for path, want := range map[string]fs.Stat{
		"/etc/motd":  {Mode: fs.ModeReg | 0o644, Size: 16},
		"/etc/empty": {Mode: fs.ModeReg | 0o600},
		"/etc":       {Mode: fs.ModeDir | 0o755},
		"/dev/null":  {Mode: fs.ModeChr | 0o666, Rdev: fs.Mkdev(1, 3)},
	} {
		i, err := ns.Lookup(nil, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		st := i.Stat()
		if st.Mode != want.Mode || st.Size != want.Size || st.Rdev != want.Rdev {
			t.Errorf("%s: mode %v size %d rdev %#x; want %v %d %#x", path, st.Mode, st.Size, st.Rdev, want.Mode, want.Size, want.Rdev)
		}
	}
}

func TestUnpackSymlinks(t *testing.T) {
	ns := fs.NewRoot()
	if err := Unpack(ns, archive(t, cpio.Directory("usr", 0o755), cpio.Directory("usr/bin", 0o755),
		cpio.StaticFile("usr/bin/busybox", "ELF", 0o755), cpio.Symlink("bin", "usr/bin"))); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, ns, "/bin/busybox"); got != "ELF" {
		t.Fatalf("/bin/busybox through the link = %q", got)
	}
}

func TestUnpackRefusesFIFOsAndBadArchives(t *testing.T) {
	ns := fs.NewRoot()
	fifo := cpio.Record{Info: cpio.Info{Name: "pipe", Mode: cpio.S_IFIFO | 0o644}}
	err := Unpack(ns, archive(t, fifo))
	if !errors.Is(err, ErrUnsupported) || err.Error() != "initramfs: pipe: entry type not supported" {
		t.Fatalf("fifo: %v", err)
	}
	if err := Unpack(ns, archive(t, cpio.StaticFile("a/b", "x", 0o644))); !errors.Is(err, fs.ENOENT) {
		t.Fatalf("file in a missing dir: %v, want ENOENT", err)
	}
	good := archive(t, cpio.StaticFile("f", "0123456789", 0o644))
	if err := Unpack(fs.NewRoot(), good[:len(good)/2]); err != io.ErrUnexpectedEOF {
		t.Fatalf("archive cut before its trailer: %v, want io.ErrUnexpectedEOF", err)
	}
	if err := Unpack(fs.NewRoot(), []byte("070701zz")); err == nil {
		t.Fatal("garbage unpacked without error")
	}
	if err := Unpack(fs.NewRoot(), nil); err != nil {
		t.Fatalf("empty archive: %v", err)
	}
}

// FuzzUnpack: arbitrary bytes must never panic the unpacker (the archive
// comes from outside the kernel); run with go test -fuzz FuzzUnpack -fuzztime 10s.
func FuzzUnpack(f *testing.F) {
	f.Add(archive(f, cpio.Directory("etc", 0o755), cpio.StaticFile("etc/motd", "hi\n", 0o644)))
	f.Add(archive(f, cpio.CharDev("null", 0o666, 1, 3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		Unpack(fs.NewRoot(), data)
	})
}
