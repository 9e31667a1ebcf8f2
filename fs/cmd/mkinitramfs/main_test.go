package main

import (
	"bytes"
	"os"
	"path/filepath"
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

func TestPackRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("x", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := pack(filepath.Join(t.TempDir(), "o.cpio"), dir); err == nil {
		t.Fatal("symlink packed")
	}
}
