// Package initramfs unpacks the boot archive, a cpio file in the "newc"
// format that the boot loader hands over as a multiboot module, into the
// root file system (Linux: init/initramfs.c, unpack_to_rootfs).
package initramfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"

	"gomenuos/fs"
)

// Unpack creates every directory, regular file, symbolic link and
// character device of the newc archive data in ns, in archive order; a
// directory that exists already is kept. Other entry types (sockets,
// FIFOs) are refused with ErrUnsupported, naming the entry. An archive must end with
// its trailer record (a cut-off one is io.ErrUnexpectedEOF); empty data is
// an empty archive. Linux: unpack_to_rootfs.
func Unpack(ns *fs.Namespace, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	src := &cutDetector{r: bytes.NewReader(data), data: data}
	rr := cpio.Newc.Reader(src) // returns io.EOF at the trailer
	for {
		r, err := rr.ReadRecord()
		switch {
		case err == io.EOF && src.cut:
			return io.ErrUnexpectedEOF
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
		if err := unpackRecord(ns, src, r); err != nil {
			return fmt.Errorf("initramfs: %s: %w", r.Name, err)
		}
	}
}

// cutDetector notes a read past the end of the archive: u-root's reader
// reports both the trailer and a cut-off archive as io.EOF, and only the
// cut one ever reads short. It keeps the archive's bytes so a file's
// contents can be taken without a copy.
type cutDetector struct {
	r    *bytes.Reader
	data []byte
	cut  bool
}

// contents returns the bytes of an entry's content section in the
// archive itself (Linux copies them into the page cache; the archive's
// memory is never freed here, so the file keeps using it).
func (c *cutDetector) contents(ra io.ReaderAt, size uint64) ([]byte, bool) {
	sr, ok := ra.(*io.SectionReader)
	if !ok {
		return nil, false
	}
	outer, off, n := sr.Outer()
	if outer != c || off < 0 || n != int64(size) || off+n > int64(len(c.data)) {
		return nil, false
	}
	return c.data[off : off+n : off+n], true
}

func (c *cutDetector) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	if n < len(p) {
		c.cut = true
	}
	return n, err
}

// ErrUnsupported is an archive entry of a type the root file system has no
// place for.
var ErrUnsupported = errors.New("entry type not supported")

// unpackRecord creates one entry (Linux: do_name + do_copy).
func unpackRecord(ns *fs.Namespace, src *cutDetector, r cpio.Record) error {
	if r.Name == "." {
		return nil // the archive's root is ours already
	}
	if r.Name == ".." || strings.HasPrefix(r.Name, "../") {
		return fs.EINVAL
	}
	path := "/" + r.Name
	mode := fs.Mode(r.Mode)
	perm := mode & fs.ModePerm
	switch mode.Type() {
	case fs.ModeDir:
		if err := ns.Mkdir(nil, path, perm); err != nil && err != fs.EEXIST {
			return err
		}
		return nil
	case fs.ModeChr:
		return ns.Mknod(nil, path, fs.ModeChr|perm, fs.Mkdev(uint32(r.Rmajor), uint32(r.Rminor)))
	case fs.ModeReg:
		return unpackFile(ns, src, path, perm, r)
	case fs.ModeLink:
		target, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			return err
		}
		return ns.Symlink(nil, string(target), path)
	}
	return ErrUnsupported
}

// unpackFile makes a ramfs file of a regular entry: its data stays in
// the archive's memory (a 200 MB initramfs needs no second 200 MB), or is
// copied when the archive is not the kernel's (tests).
func unpackFile(ns *fs.Namespace, src *cutDetector, path string, perm fs.Mode, r cpio.Record) error {
	f, err := ns.Open(nil, path, fs.O_WRONLY|fs.O_CREAT|fs.O_TRUNC, perm)
	if err != nil {
		return err
	}
	defer f.Put()
	if data, ok := src.contents(r.ReaderAt, r.FileSize); ok {
		if a, ok := f.Ops().(fs.Adopter); ok {
			return a.Adopt(f, data)
		}
	}
	data, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
	if err != nil {
		return err
	}
	if uint64(len(data)) != r.FileSize {
		return io.ErrUnexpectedEOF
	}
	return fs.WriteAll(nil, f, data)
}
