// Command mkinitramfs packs a folder of the repository into the newc cpio
// archive that the kernel unpacks into its root file system at boot:
//
//	go run ./fs/cmd/mkinitramfs -o build/initramfs.cpio initramfs
//
// -file DEST=SRC (repeatable) also packs the repository file SRC as DEST
// (the Makefile adds docs/linux-map.md as /boot/linux-map.md, which the
// tracer reads), making DEST's missing directories.
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
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// extraFiles collects -file DEST=SRC flags.
type extraFiles []string

func (e *extraFiles) String() string     { return strings.Join(*e, " ") }
func (e *extraFiles) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	out := flag.String("o", "build/initramfs.cpio", "archive to write")
	var extra extraFiles
	flag.Var(&extra, "file", "also pack repository file SRC as DEST (DEST=SRC, repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkinitramfs -o OUT.cpio [-file DEST=SRC]... DIR")
		os.Exit(2)
	}
	if err := packWith(*out, flag.Arg(0), extra); err != nil {
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
}

func pack(out, dir string) error { return packWith(out, dir, nil) }

// packWith packs dir and the extra DEST=SRC files.
func packWith(out, dir string, extra []string) error {
	records, err := collect(dir)
	if err != nil {
		return err
	}
	if records, err = addFiles(records, extra); err != nil {
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

// addFiles appends DEST=SRC files, and the directories DEST needs that
// the folder did not have.
func addFiles(records []cpio.Record, extra []string) ([]cpio.Record, error) {
	have := map[string]bool{}
	for _, r := range records {
		have[r.Name] = true
	}
	for _, e := range extra {
		dest, src, ok := strings.Cut(e, "=")
		dest = strings.Trim(filepath.ToSlash(dest), "/")
		if !ok || dest == "" || src == "" {
			return nil, fmt.Errorf("-file %q: want DEST=SRC", e)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		parts := strings.Split(dest, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/")
			if !have[d] {
				r := cpio.Directory(d, 0o755)
				r.NLink, r.Ino = 2, uint64(len(records)+1)
				records = append(records, r)
				have[d] = true
			}
		}
		if have[dest] {
			return nil, fmt.Errorf("-file %s: already in the folder", dest)
		}
		r := cpio.StaticFile(dest, string(data), 0o644)
		r.NLink, r.Ino = 1, uint64(len(records)+1)
		records = append(records, r)
		have[dest] = true
	}
	return records, nil
}
