// Command mkinitramfs packs a folder of the repository into the newc cpio
// archive that the kernel unpacks into its root file system at boot:
//
//	go run ./fs/cmd/mkinitramfs -o build/initramfs.cpio initramfs build/rootfs
//
// Several folders are merged in order (the build's programs join the
// repository's files). The archive is reproducible: entries in lexical
// order per folder, inode numbers counted from 1, owner root and times
// zero. Directories, regular files and symbolic links are packed
// (busybox's applets are links); anything else is an error.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/u-root/u-root/pkg/cpio"
)

func main() {
	out := flag.String("o", "build/initramfs.cpio", "archive to write")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: mkinitramfs -o OUT.cpio DIR...")
		os.Exit(2)
	}
	if err := pack(*out, flag.Args()...); err != nil {
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
}

func pack(out string, dirs ...string) error {
	var records []cpio.Record
	seen := map[string]bool{}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); os.IsNotExist(err) && len(records) > 0 {
			continue // an optional build folder not made (yet)
		}
		rs, err := collect(dir)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Mode&cpio.S_IFMT == cpio.S_IFDIR && seen[r.Name] {
				continue // a folder both trees have
			}
			seen[r.Name] = true
			r.Ino = uint64(len(records) + 1)
			records = append(records, r)
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := cpio.Newc.Writer(f)
	if err := cpio.WriteRecords(w, records); err != nil {
		f.Close()
		return err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// collect turns dir's tree into records, named relative to dir.
func collect(dir string) ([]cpio.Record, error) {
	var records []cpio.Record
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := uint64(info.Mode().Perm())
		var r cpio.Record
		switch {
		case d.IsDir():
			r = cpio.Directory(rel, perm)
			r.NLink = 2
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			r = cpio.StaticFile(rel, string(data), perm)
			r.NLink = 1
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			r = cpio.Symlink(rel, target)
			r.NLink = 1
		default:
			return fmt.Errorf("%s: only directories, regular files and symbolic links are packed", path)
		}
		r.Ino = uint64(len(records) + 1)
		records = append(records, r)
		return nil
	})
	return records, err
}
