package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gomenuos/fs"
	"gomenuos/fs/initramfs"
)

// Packing the repository's initramfs folder and unpacking it gives back
// the same files, and packing twice gives the same bytes.
func TestPackRepoFolderRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "build", "initramfs.cpio")
	if err := pack(out, "../../../initramfs"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := pack(out, "../../../initramfs"); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(out)
	if !bytes.Equal(data, again) {
		t.Fatal("two packs of the same folder differ")
	}
	ns := fs.NewRoot()
	if err := initramfs.Unpack(ns, data); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("../../../initramfs/etc/hostname")
	f, err := ns.Open(nil, "/etc/hostname", fs.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, _ := f.Read(nil, buf)
	if string(buf[:n]) != string(want) || n == 0 {
		t.Fatalf("/etc/hostname = %q, want %q", buf[:n], want)
	}
	if _, err := ns.Lookup(nil, "/README"); err != nil {
		t.Fatal(err)
	}
}

// Symbolic links (busybox's applets) are packed and unpack as links;
// later folders join earlier ones.
func TestPackSymlinksAndMergesFolders(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := os.Symlink("busybox", filepath.Join(b, "ls")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, "motd"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "o.cpio")
	if err := pack(out, a, b); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ns := fs.NewRoot()
	if err := initramfs.Unpack(ns, data); err != nil {
		t.Fatal(err)
	}
	if target, err := ns.Readlink(nil, "/ls"); err != nil || target != "busybox" {
		t.Fatalf("/ls -> %q, %v; want busybox", target, err)
	}
	if _, err := ns.Lookup(nil, "/motd"); err != nil {
		t.Fatal(err)
	}
}

func TestPackRefusesFIFOs(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pack(filepath.Join(t.TempDir(), "o.cpio"), dir); err == nil {
		t.Fatal("fifo packed")
	}
}
