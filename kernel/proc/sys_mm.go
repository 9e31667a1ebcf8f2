package proc

import (
	"syscall"

	"gomenuos/fs"
	"gomenuos/kernel/mm"
)

// Memory system calls (Linux: mm/mmap.c, mm/mprotect.c, mm/mremap.c,
// mm/madvise.c).

func init() {
	register(9, "mmap", sysMmap)
	register(10, "mprotect", func(t *Thread, a args) (uintptr, error) {
		return 0, t.Proc.MM().Protect(a[0], a[1], protOf(a[2]))
	})
	register(11, "munmap", func(t *Thread, a args) (uintptr, error) { return 0, t.Proc.MM().Unmap(a[0], a[1]) })
	register(12, "brk", func(t *Thread, a args) (uintptr, error) { return t.Proc.MM().SetBrk(a[0]), nil })
	register(25, "mremap", sysMremap)
	register(26, "msync", func(*Thread, args) (uintptr, error) { return 0, nil })
	register(27, "mincore", sysMincore)
	register(28, "madvise", sysMadvise)
	register(149, "mlock", func(*Thread, args) (uintptr, error) { return 0, nil })
	register(150, "munlock", func(*Thread, args) (uintptr, error) { return 0, nil })
}

// mmap flags.
const (
	mapShared         = 0x01
	mapPrivate        = 0x02
	mapFixed          = 0x10
	mapAnonymous      = 0x20
	mapFixedNoReplace = 0x100000
)

func protOf(p uintptr) uint32 { return uint32(p) & (mm.ProtRead | mm.ProtWrite | mm.ProtExec) }

// sysMmap maps anonymous memory or a file's pages (Linux: ksys_mmap_pgoff
// → do_mmap). Private file mappings read the file on demand; shared
// anonymous mappings stay shared across fork; shared writable file
// mappings need a page cache this kernel does not have (ENODEV).
func sysMmap(t *Thread, a args) (uintptr, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], protOf(a[2]), int(a[3]), int(int32(a[4])), a[5]
	if length == 0 || off%mm.PageSize != 0 {
		return 0, syscall.EINVAL
	}
	kind := flags & (mapShared | mapPrivate)
	if kind != mapShared && kind != mapPrivate {
		return 0, syscall.EINVAL
	}
	v := mm.UVMA{Prot: prot}
	if kind == mapShared {
		v.Flags |= mm.VMShared
	}
	if flags&mapAnonymous == 0 {
		if err := t.fileVMA(&v, fd, off, kind == mapShared && prot&mm.ProtWrite != 0); err != nil {
			return 0, err
		}
		v.Flags &^= mm.VMShared // a read-only shared file map behaves as a private one
	}
	m := t.Proc.MM()
	if flags&mapFixedNoReplace != 0 {
		if overlaps(m, addr, length) {
			return 0, syscall.EEXIST
		}
		flags |= mapFixed
	}
	return m.Map(addr, length, flags&mapFixed != 0, v)
}

func overlaps(m *mm.MM, addr, length uintptr) bool {
	for _, v := range m.VMAs() {
		if v.Start < addr+length && addr < v.End {
			return true
		}
	}
	return false
}

// fileVMA makes v map fd's data from off.
func (t *Thread) fileVMA(v *mm.UVMA, fd int, off uintptr, sharedWrite bool) error {
	f, err := t.file(fd)
	if err != nil {
		return err
	}
	defer f.Put()
	mp, ok := f.Ops().(fs.Mapper)
	switch {
	case !ok:
		return syscall.ENODEV
	case f.Flags&fs.O_ACCMODE == fs.O_WRONLY:
		return syscall.EACCES
	case sharedWrite:
		return syscall.ENODEV
	}
	data, err := mp.Bytes(f)
	if err != nil {
		return err
	}
	if off < uintptr(len(data)) {
		v.File = data[off:]
	} else {
		v.File = []byte{}
	}
	v.Name, v.Ino = f.Path, f.Inode.Ino
	return nil
}

// mremap flags.
const (
	mremapMayMove = 1
	mremapFixed   = 2
)

// sysMremap resizes a mapping in place, or moves it when allowed
// (Linux: mremap).
func sysMremap(t *Thread, a args) (uintptr, error) {
	old, oldLen, newLen, flags := a[0], a[1], a[2], int(a[3])
	if flags&^(mremapMayMove|mremapFixed) != 0 || flags&mremapFixed != 0 {
		return 0, syscall.EINVAL
	}
	return t.Proc.MM().Remap(old, oldLen, newLen, flags&mremapMayMove != 0)
}

func sysMadvise(t *Thread, a args) (uintptr, error) {
	const madvDontNeed = 4
	if a[0]%mm.PageSize != 0 {
		return 0, syscall.EINVAL
	}
	if a[2] == madvDontNeed {
		return 0, t.Proc.MM().DropPages(a[0], a[1])
	}
	return 0, nil // other advice is a hint
}

// sysMincore reports every page of a mapped range as resident.
func sysMincore(t *Thread, a args) (uintptr, error) {
	if a[0]%mm.PageSize != 0 {
		return 0, syscall.EINVAL
	}
	n := (a[1] + mm.PageSize - 1) / mm.PageSize
	if !t.Proc.MM().CheckAccess(a[0], a[1], false) {
		return 0, syscall.ENOMEM
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = 1
	}
	return 0, t.Proc.MM().CopyToUser(a[2], v)
}
