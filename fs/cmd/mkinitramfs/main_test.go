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

// -file packs a repository file under a new directory.
func TestPackExtraFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.cpio")
	if err := packWith(out, "../../../initramfs", []string{"boot/linux-map.md=../../../docs/linux-map.md"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	ns := fs.NewRoot()
	if err := initramfs.Unpack(ns, data); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("../../../docs/linux-map.md")
	f, err := ns.Open(nil, "/boot/linux-map.md", fs.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want)+10)
	n := 0
	for {
		m, err := f.Read(nil, got[n:])
		if err != nil {
			t.Fatal(err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	if !bytes.Equal(got[:n], want) {
		t.Fatalf("/boot/linux-map.md holds %d bytes, docs/linux-map.md %d", n, len(want))
	}
	if err := packWith(out, "../../../initramfs", []string{"etc/hostname=../../../README.md"}); err == nil {
		t.Error("a -file over a folder file was packed")
	}
}
