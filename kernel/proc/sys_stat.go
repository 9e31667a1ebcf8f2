package proc

import (
	"encoding/binary"
	"syscall"

	"gomenuos/fs"
)

// stat and friends (Linux: fs/stat.c, fs/statfs.c).

func init() {
	register(4, "stat", func(t *Thread, a args) (uintptr, error) { return t.fstatat(atFDCWD, a[0], a[1], 0) })
	register(5, "fstat", sysFstat)
	register(6, "lstat", func(t *Thread, a args) (uintptr, error) {
		return t.fstatat(atFDCWD, a[0], a[1], atSymlinkNoFollow)
	})
	register(137, "statfs", func(t *Thread, a args) (uintptr, error) { return 0, t.statfs(a[1]) })
	register(138, "fstatfs", func(t *Thread, a args) (uintptr, error) { return 0, t.statfs(a[1]) })
	register(262, "newfstatat", func(t *Thread, a args) (uintptr, error) {
		return t.fstatat(int(int32(a[0])), a[1], a[2], int(a[3]))
	})
	register(332, "statx", sysStatx)
}

// userDev packs a device number as user space's dev_t (glibc's makedev).
func userDev(d fs.DevT) uint64 {
	major, minor := uint64(d.Major()), uint64(d.Minor())
	return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
}

// rootDev is the device number stat reports for every file (one
// namespace, one "disk").
const rootDev = 1

// statBuf lays out struct stat (x86-64, 144 bytes).
func statBuf(st fs.Stat) []byte {
	b := make([]byte, 144)
	le := binary.LittleEndian
	le.PutUint64(b[0:], rootDev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], uint64(st.Nlink))
	le.PutUint32(b[24:], uint32(st.Mode))
	le.PutUint64(b[40:], userDev(st.Rdev))
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[56:], 4096)
	le.PutUint64(b[64:], uint64((st.Size+511)/512))
	for i, tm := range []struct{ s, ns int64 }{
		{st.Atime.Unix(), int64(st.Atime.Nanosecond())},
		{st.Mtime.Unix(), int64(st.Mtime.Nanosecond())},
		{st.Ctime.Unix(), int64(st.Ctime.Nanosecond())},
	} {
		le.PutUint64(b[72+16*i:], uint64(tm.s))
		le.PutUint64(b[80+16*i:], uint64(tm.ns))
	}
	return b
}

func sysFstat(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	return 0, t.Proc.MM().CopyToUser(a[1], statBuf(f.Inode.Stat()))
}

// statPath finds the inode fstatat/statx mean: a path, or with
// AT_EMPTY_PATH and "" the file dirfd itself.
func (t *Thread) statPath(dirfd int, addr uintptr, flags int) (*fs.Inode, error) {
	if flags&atEmptyPath != 0 {
		s, err := t.Proc.MM().StrncpyFromUser(addr, maxPathLen)
		if err != nil {
			return nil, err
		}
		if s == "" {
			if dirfd == atFDCWD {
				return fs.Root().Lookup(t.task, t.Proc.Cwd())
			}
			f, err := t.file(dirfd)
			if err != nil {
				return nil, err
			}
			defer f.Put()
			return f.Inode, nil
		}
	}
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return nil, err
	}
	if flags&atSymlinkNoFollow != 0 {
		return fs.Root().LookupNoFollow(t.task, p)
	}
	return fs.Root().Lookup(t.task, p)
}

func (t *Thread) fstatat(dirfd int, addr, buf uintptr, flags int) (uintptr, error) {
	if flags&^(atSymlinkNoFollow|atEmptyPath|0x800) != 0 { // 0x800: AT_NO_AUTOMOUNT
		return 0, syscall.EINVAL
	}
	inode, err := t.statPath(dirfd, addr, flags)
	if err != nil {
		return 0, err
	}
	return 0, t.Proc.MM().CopyToUser(buf, statBuf(inode.Stat()))
}

// sysStatx fills struct statx (256 bytes) with the basic fields.
func sysStatx(t *Thread, a args) (uintptr, error) {
	inode, err := t.statPath(int(int32(a[0])), a[1], int(a[2])&(atSymlinkNoFollow|atEmptyPath))
	if err != nil {
		return 0, err
	}
	st := inode.Stat()
	b := make([]byte, 256)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0x7ff) // STATX_BASIC_STATS
	le.PutUint32(b[4:], 4096)
	le.PutUint32(b[16:], st.Nlink)
	le.PutUint16(b[28:], uint16(st.Mode))
	le.PutUint64(b[32:], st.Ino)
	le.PutUint64(b[40:], uint64(st.Size))
	le.PutUint64(b[48:], uint64((st.Size+511)/512))
	for off, tm := range map[int]struct{ s, ns int64 }{
		64:  {st.Atime.Unix(), int64(st.Atime.Nanosecond())},
		80:  {st.Ctime.Unix(), int64(st.Ctime.Nanosecond())}, // btime: creation unknown, ctime is close
		96:  {st.Ctime.Unix(), int64(st.Ctime.Nanosecond())},
		112: {st.Mtime.Unix(), int64(st.Mtime.Nanosecond())},
	} {
		le.PutUint64(b[off:], uint64(tm.s))
		le.PutUint32(b[off+8:], uint32(tm.ns))
	}
	le.PutUint32(b[128:], st.Rdev.Major())
	le.PutUint32(b[132:], st.Rdev.Minor())
	le.PutUint32(b[140:], rootDev)
	return 0, t.Proc.MM().CopyToUser(a[3], b)
}

// statfs reports a RAM file system (Linux: ramfs's simple_statfs).
func (t *Thread) statfs(buf uintptr) error {
	b := make([]byte, 120)
	le := binary.LittleEndian
	le.PutUint64(b[0:], 0x858458f6) // RAMFS_MAGIC
	le.PutUint64(b[8:], 4096)       // f_bsize
	le.PutUint64(b[64:], 255)       // f_namelen
	le.PutUint64(b[72:], 4096)      // f_frsize
	return t.Proc.MM().CopyToUser(buf, b)
}
