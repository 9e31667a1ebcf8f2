// Command mkinitramfs packs a folder of the repository into the newc cpio
// archive that the kernel unpacks into its root file system at boot:
//
//	go run ./fs/cmd/mkinitramfs -o build/initramfs.cpio initramfs
//
// The archive is reproducible: entries in lexical order, inode numbers
// counted from 1, owner root and times zero. Only directories and regular
// files are packed; anything else in the folder is an error.
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
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkinitramfs -o OUT.cpio DIR")
		os.Exit(2)
	}
	if err := pack(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
}

func pack(out, dir string) error {
	records, err := collect(dir)
	if err != nil {
		return err
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
		default:
			return fmt.Errorf("%s: only directories and regular files are packed", path)
		}
		r.Ino = uint64(len(records) + 1)
		records = append(records, r)
		return nil
	})
	return records, err
}
