package proc

import (
	"encoding/binary"
	"path"
	"strings"
	"syscall"

	"gomenuos/fs"
	"gomenuos/fs/sockfs"
)

// File system calls (Linux: fs/read_write.c, fs/open.c, fs/namei.c,
// fs/stat.c, fs/readdir.c, fs/fcntl.c, fs/file.c).

func init() {
	register(0, "read", ksysRead)
	register(1, "write", ksysWrite)
	register(2, "open", func(t *Thread, a args) (uintptr, error) { return t.openat(atFDCWD, a[0], int(a[1]), uint32(a[2])) })
	register(3, "close", func(t *Thread, a args) (uintptr, error) { return 0, t.files().Close(int(a[0])) })
	register(8, "lseek", sysLseek)
	register(16, "ioctl", sysIoctl)
	register(17, "pread64", sysPread)
	register(18, "pwrite64", sysPwrite)
	register(19, "readv", func(t *Thread, a args) (uintptr, error) { return t.rwv(a, false) })
	register(20, "writev", func(t *Thread, a args) (uintptr, error) { return t.rwv(a, true) })
	register(21, "access", func(t *Thread, a args) (uintptr, error) { return t.access(atFDCWD, a[0]) })
	register(32, "dup", sysDup)
	register(33, "dup2", sysDup2)
	register(72, "fcntl", sysFcntl)
	register(73, "flock", func(*Thread, args) (uintptr, error) { return 0, nil })
	register(74, "fsync", sysFsync)
	register(75, "fdatasync", sysFsync)
	register(76, "truncate", sysTruncate)
	register(77, "ftruncate", sysFtruncate)
	register(79, "getcwd", sysGetcwd)
	register(80, "chdir", sysChdir)
	register(81, "fchdir", sysFchdir)
	register(82, "rename", func(t *Thread, a args) (uintptr, error) { return t.renameat(atFDCWD, a[0], atFDCWD, a[1]) })
	register(83, "mkdir", func(t *Thread, a args) (uintptr, error) { return t.mkdirat(atFDCWD, a[0], uint32(a[1])) })
	register(84, "rmdir", func(t *Thread, a args) (uintptr, error) { return t.unlinkat(atFDCWD, a[0], atRemoveDir) })
	register(85, "creat", func(t *Thread, a args) (uintptr, error) {
		return t.openat(atFDCWD, a[0], fs.O_CREAT|fs.O_WRONLY|fs.O_TRUNC, uint32(a[1]))
	})
	register(86, "link", func(t *Thread, a args) (uintptr, error) { return t.linkat(atFDCWD, a[0], atFDCWD, a[1]) })
	register(87, "unlink", func(t *Thread, a args) (uintptr, error) { return t.unlinkat(atFDCWD, a[0], 0) })
	register(88, "symlink", func(t *Thread, a args) (uintptr, error) { return t.symlinkat(a[0], atFDCWD, a[1]) })
	register(89, "readlink", func(t *Thread, a args) (uintptr, error) { return t.readlinkat(atFDCWD, a[0], a[1], a[2]) })
	register(90, "chmod", sysChmodOK)
	register(91, "fchmod", sysChmodOK)
	register(92, "chown", sysChmodOK)
	register(93, "fchown", sysChmodOK)
	register(94, "lchown", sysChmodOK)
	register(95, "umask", sysUmask)
	register(133, "mknod", func(t *Thread, a args) (uintptr, error) { return t.mknodat(atFDCWD, a[0], uint32(a[1]), a[2]) })
	register(162, "sync", func(*Thread, args) (uintptr, error) { return 0, nil })
	register(40, "sendfile", sysSendfile)
	register(217, "getdents64", sysGetdents64)
	register(257, "openat", func(t *Thread, a args) (uintptr, error) {
		return t.openat(int(int32(a[0])), a[1], int(a[2]), uint32(a[3]))
	})
	register(258, "mkdirat", func(t *Thread, a args) (uintptr, error) { return t.mkdirat(int(int32(a[0])), a[1], uint32(a[2])) })
	register(259, "mknodat", func(t *Thread, a args) (uintptr, error) { return t.mknodat(int(int32(a[0])), a[1], uint32(a[2]), a[3]) })
	register(260, "fchownat", sysChmodOK)
	register(263, "unlinkat", func(t *Thread, a args) (uintptr, error) { return t.unlinkat(int(int32(a[0])), a[1], int(a[2])) })
	register(264, "renameat", func(t *Thread, a args) (uintptr, error) {
		return t.renameat(int(int32(a[0])), a[1], int(int32(a[2])), a[3])
	})
	register(265, "linkat", func(t *Thread, a args) (uintptr, error) {
		return t.linkat(int(int32(a[0])), a[1], int(int32(a[2])), a[3])
	})
	register(266, "symlinkat", func(t *Thread, a args) (uintptr, error) { return t.symlinkat(a[0], int(int32(a[1])), a[2]) })
	register(267, "readlinkat", func(t *Thread, a args) (uintptr, error) {
		return t.readlinkat(int(int32(a[0])), a[1], a[2], a[3])
	})
	register(268, "fchmodat", sysChmodOK)
	register(269, "faccessat", func(t *Thread, a args) (uintptr, error) { return t.access(int(int32(a[0])), a[1]) })
	register(280, "utimensat", sysUtimensat)
	register(292, "dup3", sysDup3)
	register(316, "renameat2", func(t *Thread, a args) (uintptr, error) {
		if a[4] != 0 {
			return 0, syscall.EINVAL // RENAME_NOREPLACE etc.
		}
		return t.renameat(int(int32(a[0])), a[1], int(int32(a[2])), a[3])
	})
	register(439, "faccessat2", func(t *Thread, a args) (uintptr, error) { return t.access(int(int32(a[0])), a[1]) })
}

const (
	atFDCWD           = -100
	atSymlinkNoFollow = 0x100
	atRemoveDir       = 0x200
	atEmptyPath       = 0x1000
	oCloexec          = 0x80000
	maxIO             = 1 << 20 // bytes moved per read/write chunk
)

func (t *Thread) files() *fs.FDTable { return t.Proc.Files() }

// file returns the open file at fd with a reference the caller puts.
func (t *Thread) file(fd int) (*fs.File, error) { return t.files().Get(fd) }

// userPath reads a path argument and makes it absolute against dirfd
// (Linux: getname + the dfd part of path_init).
func (t *Thread) userPath(dirfd int, addr uintptr) (string, error) {
	p, err := t.Proc.MM().StrncpyFromUser(addr, maxPathLen)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", syscall.ENOENT
	}
	return t.absPath(dirfd, p)
}

func (t *Thread) absPath(dirfd int, p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return p, nil
	}
	if dirfd == atFDCWD {
		return path.Join(t.Proc.Cwd(), p), nil
	}
	f, err := t.file(dirfd)
	if err != nil {
		return "", err
	}
	defer f.Put()
	if !f.Inode.Mode.IsDir() {
		return "", syscall.ENOTDIR
	}
	return path.Join(f.Path, p), nil
}

func (t *Thread) openat(dirfd int, addr uintptr, flags int, mode uint32) (uintptr, error) {
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	perm := fs.Mode(mode &^ t.Proc.umaskValue())
	f, err := fs.Root().Open(t.task, p, flags&^oCloexec, perm)
	if err != nil {
		return 0, err
	}
	fd, err := t.files().InstallFrom(f, 0, flags&oCloexec != 0)
	if err != nil {
		f.Put()
	}
	return uintptr(fd), err
}

func (p *Process) umaskValue() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.umask
}

// readFile reads up to n bytes into user memory at buf (Linux: ksys_read → vfs_read).
func (t *Thread) readFile(f *fs.File, buf, n uintptr, at int64) (uintptr, error) {
	if n == 0 {
		return 0, nil
	}
	// Check the buffer before reading, so a bad pointer loses no input
	// (Linux: vfs_read's access_ok; here every page is checked).
	if !t.Proc.MM().CheckAccess(buf, min(n, maxIO), true) {
		return 0, syscall.EFAULT
	}
	k := t.buffer(min(n, maxIO))
	var got int
	var err error
	if at >= 0 {
		got, err = f.ReadAt(t.task, k, at)
	} else {
		got, err = f.Read(t.task, k)
	}
	if got > 0 {
		if cerr := t.Proc.MM().CopyToUser(buf, k[:got]); cerr != nil {
			return 0, cerr
		}
		return uintptr(got), nil
	}
	return 0, t.ioErr(f, err)
}

// writeFile writes n bytes from user memory (Linux: ksys_write → vfs_write).
// A write to a pipe or socket nobody reads raises SIGPIPE.
func (t *Thread) writeFile(f *fs.File, buf, n uintptr, at int64) (uintptr, error) {
	done := uintptr(0)
	for done < n || n == 0 {
		k := t.buffer(min(n-done, maxIO))
		if err := t.Proc.MM().CopyFromUser(k, buf+done); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		var w int
		var err error
		if at >= 0 {
			w, err = f.WriteAt(t.task, k, at+int64(done))
		} else {
			w, err = f.Write(t.task, k)
		}
		done += uintptr(w)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, t.ioErr(f, err)
		}
		if w < len(k) || n == 0 {
			break
		}
	}
	return done, nil
}

// scratchMax is the largest I/O buffer a thread keeps between calls.
const scratchMax = 64 << 10

// buffer returns n bytes of scratch space for copying between user memory
// and a file: the thread's own for calls up to 64 KiB, so a read or write
// allocates nothing (files never keep the slice they are given).
func (t *Thread) buffer(n uintptr) []byte {
	if n > scratchMax {
		return make([]byte, n)
	}
	if uintptr(len(t.scratch)) < n {
		t.scratch = make([]byte, max(n, 4096))
	}
	return t.scratch[:n]
}

// ioErr turns a file error into the syscall's: EPIPE sends SIGPIPE, an
// interrupted wait restarts or fails with EINTR after the handler.
func (t *Thread) ioErr(f *fs.File, err error) error {
	if err == nil {
		return nil
	}
	if fs.ToErrno(err) == fs.EPIPE {
		t.sendSignal(sigInfo{signo: sigPIPE, code: siUser, pid: int32(t.Proc.PID)})
	}
	if fs.ToErrno(err) == fs.ERESTARTSYS {
		return errRestartSys
	}
	return err
}

func ksysRead(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	n, err := t.readFile(f, a[1], a[2], -1)
	f.Put() // no defer: the busiest calls there are
	return n, err
}

func ksysWrite(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	n, err := t.writeFile(f, a[1], a[2], -1)
	f.Put()
	return n, err
}

func sysPread(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	if int64(a[3]) < 0 {
		return 0, syscall.EINVAL
	}
	return t.readFile(f, a[1], a[2], int64(a[3]))
}

func sysPwrite(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	if int64(a[3]) < 0 {
		return 0, syscall.EINVAL
	}
	return t.writeFile(f, a[1], a[2], int64(a[3]))
}

// rwv serves readv/writev: one iovec at a time, stopping at a short one.
func (t *Thread) rwv(a args, write bool) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	iov, err := t.readIovec(a[1], int(a[2]))
	if err != nil {
		return 0, err
	}
	total := uintptr(0)
	for _, v := range iov {
		var n uintptr
		if write {
			n, err = t.writeFile(f, v[0], v[1], -1)
		} else {
			n, err = t.readFile(f, v[0], v[1], -1)
		}
		total += n
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n < v[1] {
			break
		}
	}
	return total, nil
}

// readIovec reads an iovec array (Linux: import_iovec; UIO_MAXIOV 1024).
func (t *Thread) readIovec(addr uintptr, n int) ([][2]uintptr, error) {
	if n < 0 || n > 1024 {
		return nil, syscall.EINVAL
	}
	b := make([]byte, 16*n)
	if err := t.Proc.MM().CopyFromUser(b, addr); err != nil {
		return nil, err
	}
	iov := make([][2]uintptr, n)
	for i := range iov {
		iov[i] = [2]uintptr{uintptr(binary.LittleEndian.Uint64(b[16*i:])), uintptr(binary.LittleEndian.Uint64(b[16*i+8:]))}
		if int64(iov[i][1]) < 0 {
			return nil, syscall.EINVAL
		}
	}
	return iov, nil
}

func sysLseek(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	pos, err := f.Seek(int64(a[1]), int(a[2]))
	return uintptr(pos), err
}

func sysDup(t *Thread, a args) (uintptr, error) {
	fd, err := t.files().Dup(int(a[0]))
	return uintptr(fd), err
}

func sysDup2(t *Thread, a args) (uintptr, error) {
	fd, err := t.files().Dup2(int(a[0]), int(a[1]))
	return uintptr(fd), err
}

func sysDup3(t *Thread, a args) (uintptr, error) {
	if a[0] == a[1] || a[2]&^oCloexec != 0 {
		return 0, syscall.EINVAL
	}
	fd, err := t.files().Dup3(int(a[0]), int(a[1]), a[2]&oCloexec != 0)
	return uintptr(fd), err
}

// fcntl commands.
const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fGetlk        = 5
	fSetlk        = 6
	fSetlkw       = 7
	fDupfdCloexec = 1030
	fdCloexec     = 1
)

func sysFcntl(t *Thread, a args) (uintptr, error) {
	fd, cmd, arg := int(a[0]), int(a[1]), a[2]
	ft := t.files()
	f, err := ft.Get(fd)
	if err != nil {
		return 0, err
	}
	defer f.Put()
	switch cmd {
	case fDupfd, fDupfdCloexec:
		nfd, err := ft.InstallFrom(f.Get(), int(arg), cmd == fDupfdCloexec)
		if err != nil {
			f.Put()
		}
		return uintptr(nfd), err
	case fGetfd:
		on, err := ft.Cloexec(fd)
		if on {
			return fdCloexec, err
		}
		return 0, err
	case fSetfd:
		return 0, ft.SetCloexec(fd, arg&fdCloexec != 0)
	case fGetfl:
		return uintptr(f.Flags), nil
	case fSetfl:
		setStatusFlags(f, int(arg))
		return 0, nil
	case fGetlk:
		// No other process holds a lock: report F_UNLCK (2) in l_type.
		return 0, putU16(t, arg, 2)
	case fSetlk, fSetlkw:
		return 0, nil // advisory locks always granted (one writer at a time is not enforced)
	}
	return 0, syscall.EINVAL
}

func putU16(t *Thread, addr uintptr, v uint16) error {
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], v)
	return t.Proc.MM().CopyToUser(addr, b[:])
}

func sysFsync(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	f.Put()
	return 0, nil // ramfs: nothing to write back
}

func truncate(f *fs.File, size int64) error {
	tr, ok := f.Ops().(fs.Truncater)
	if !ok || !f.Inode.Mode.IsRegular() {
		return syscall.EINVAL
	}
	return tr.Truncate(f.Inode, size)
}

func sysTruncate(t *Thread, a args) (uintptr, error) {
	p, err := t.userPath(atFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	f, err := fs.Root().Open(t.task, p, fs.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Put()
	return 0, truncate(f, int64(a[1]))
}

func sysFtruncate(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	if f.Flags&fs.O_ACCMODE == fs.O_RDONLY {
		return 0, syscall.EINVAL
	}
	return 0, truncate(f, int64(a[1]))
}

func sysGetcwd(t *Thread, a args) (uintptr, error) {
	cwd := t.Proc.Cwd()
	if uintptr(len(cwd)+1) > a[1] {
		return 0, syscall.ERANGE
	}
	if err := t.Proc.MM().CopyToUser(a[0], append([]byte(cwd), 0)); err != nil {
		return 0, err
	}
	return uintptr(len(cwd) + 1), nil
}

func (t *Thread) chdir(p string) error {
	inode, err := fs.Root().Lookup(t.task, p)
	if err != nil {
		return err
	}
	if !inode.Mode.IsDir() {
		return syscall.ENOTDIR
	}
	t.Proc.mu.Lock()
	t.Proc.cwd = path.Clean(p)
	t.Proc.mu.Unlock()
	return nil
}

func sysChdir(t *Thread, a args) (uintptr, error) {
	p, err := t.userPath(atFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.chdir(p)
}

func sysFchdir(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	return 0, t.chdir(f.Path)
}

func (t *Thread) mkdirat(dirfd int, addr uintptr, mode uint32) (uintptr, error) {
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	return 0, fs.Root().Mkdir(t.task, p, fs.Mode(mode&^t.Proc.umaskValue()))
}

func (t *Thread) mknodat(dirfd int, addr uintptr, mode uint32, dev uintptr) (uintptr, error) {
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	m := fs.Mode(mode)
	if m.Type() == 0 {
		m |= fs.ModeReg
	}
	perm := m & fs.ModePerm &^ fs.Mode(t.Proc.umaskValue())
	major, minor := uint32((dev>>8)&0xfff|(dev>>32)&^0xfff), uint32(dev&0xff|(dev>>12)&^0xff)
	return 0, fs.Root().Mknod(t.task, p, m.Type()|perm, fs.Mkdev(major, minor))
}

func (t *Thread) unlinkat(dirfd int, addr uintptr, flags int) (uintptr, error) {
	if flags&^atRemoveDir != 0 {
		return 0, syscall.EINVAL
	}
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	if flags&atRemoveDir != 0 {
		return 0, fs.Root().Rmdir(t.task, p)
	}
	return 0, fs.Root().Unlink(t.task, p)
}

func (t *Thread) renameat(odir int, oaddr uintptr, ndir int, naddr uintptr) (uintptr, error) {
	op, err := t.userPath(odir, oaddr)
	if err != nil {
		return 0, err
	}
	np, err := t.userPath(ndir, naddr)
	if err != nil {
		return 0, err
	}
	return 0, fs.Root().Rename(t.task, op, np)
}

func (t *Thread) linkat(odir int, oaddr uintptr, ndir int, naddr uintptr) (uintptr, error) {
	op, err := t.userPath(odir, oaddr)
	if err != nil {
		return 0, err
	}
	np, err := t.userPath(ndir, naddr)
	if err != nil {
		return 0, err
	}
	return 0, fs.Root().Link(t.task, op, np)
}

func (t *Thread) symlinkat(target uintptr, dirfd int, addr uintptr) (uintptr, error) {
	tgt, err := t.Proc.MM().StrncpyFromUser(target, maxPathLen)
	if err != nil {
		return 0, err
	}
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	return 0, fs.Root().Symlink(t.task, tgt, p)
}

func (t *Thread) readlinkat(dirfd int, addr, buf, size uintptr) (uintptr, error) {
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	if int(size) <= 0 {
		return 0, syscall.EINVAL
	}
	target, err := fs.Root().Readlink(t.task, p)
	if err != nil {
		return 0, err
	}
	n := min(uintptr(len(target)), size)
	return n, t.Proc.MM().CopyToUser(buf, []byte(target[:n]))
}

func (t *Thread) access(dirfd int, addr uintptr) (uintptr, error) {
	p, err := t.userPath(dirfd, addr)
	if err != nil {
		return 0, err
	}
	_, err = fs.Root().Lookup(t.task, p)
	return 0, err // everyone is root: existence is access
}

func sysChmodOK(*Thread, args) (uintptr, error) { return 0, nil } // one user, root: modes are not enforced

// sysUtimensat sets a file's times to now (Linux: do_utimes); explicit
// times are not kept apart from "now". A missing file is ENOENT, which
// touch(1) relies on to create it.
func sysUtimensat(t *Thread, a args) (uintptr, error) {
	var inode *fs.Inode
	if a[1] == 0 { // futimens
		f, err := t.file(int(int32(a[0])))
		if err != nil {
			return 0, err
		}
		defer f.Put()
		inode = f.Inode
	} else {
		var err error
		if inode, err = t.statPath(int(int32(a[0])), a[1], int(a[3])); err != nil {
			return 0, err
		}
	}
	inode.Touch()
	return 0, nil
}

func sysUmask(t *Thread, a args) (uintptr, error) {
	p := t.Proc
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.umask
	p.umask = uint32(a[0]) & 0o777
	return uintptr(old), nil
}

// sysGetdents64 lists a directory from the file position on (Linux:
// getdents64 → iterate_dir): "." and ".." first, then the entries.
func sysGetdents64(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	if !f.Inode.Mode.IsDir() || f.Inode.Ops == nil {
		return 0, syscall.ENOTDIR
	}
	ents, err := fs.Root().ReadDir(t.task, f.Path)
	if err != nil {
		return 0, err
	}
	all := append([]fs.Dirent{{Name: ".", Inode: f.Inode}, {Name: "..", Inode: f.Inode}}, ents...)
	pos := f.Pos()
	var out []byte
	i := int(pos)
	for ; i < len(all); i++ {
		e := all[i]
		reclen := (19 + len(e.Name) + 1 + 7) &^ 7
		if uintptr(len(out)+reclen) > a[2] {
			break
		}
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], e.Inode.Ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(i+1))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = dtype(e.Inode.Mode)
		copy(rec[19:], e.Name)
		out = append(out, rec...)
	}
	if len(out) == 0 && i < len(all) {
		return 0, syscall.EINVAL // buffer too small for one entry
	}
	if err := t.Proc.MM().CopyToUser(a[1], out); err != nil {
		return 0, err
	}
	f.Seek(int64(i), 0)
	return uintptr(len(out)), nil
}

// setStatusFlags changes O_APPEND/O_NONBLOCK; a socket keeps its own
// non-blocking flag (Linux: sock_fcntl's O_NONBLOCK reaches the socket
// through the file; ours reads it from the socket).
func setStatusFlags(f *fs.File, flags int) {
	f.SetStatusFlags(flags)
	if s, ok := sockfs.SocketOf(f); ok {
		if nb, ok := s.(interface{ SetNonblock(bool) }); ok {
			nb.SetNonblock(flags&fs.O_NONBLOCK != 0)
		}
	}
}

// dtype is the d_type of a mode (Linux: fs_umode_to_dtype).
func dtype(m fs.Mode) byte { return byte(m.Type() >> 12) }

// sysSendfile copies between two files in the kernel (Linux:
// do_sendfile): from in's position, or *offset without moving it.
func sysSendfile(t *Thread, a args) (uintptr, error) {
	out, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer out.Put()
	in, err := t.file(int(a[1]))
	if err != nil {
		return 0, err
	}
	defer in.Put()
	var off int64 = -1
	m := t.Proc.MM()
	if a[2] != 0 {
		var b [8]byte
		if err := m.CopyFromUser(b[:], a[2]); err != nil {
			return 0, err
		}
		off = int64(binary.LittleEndian.Uint64(b[:]))
	}
	buf := make([]byte, min(a[3], maxIO))
	var n int
	if off >= 0 {
		n, err = in.ReadAt(t.task, buf, off)
	} else {
		n, err = in.Read(t.task, buf)
	}
	if n == 0 {
		return 0, t.ioErr(in, err)
	}
	w, err := out.Write(t.task, buf[:n])
	if w == 0 && err != nil {
		return 0, t.ioErr(out, err)
	}
	if off >= 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(off+int64(w)))
		if err := m.CopyToUser(a[2], b[:]); err != nil {
			return 0, err
		}
	} else if w < n {
		in.Seek(int64(w-n), 1) // give back what out did not take
	}
	return uintptr(w), nil
}
