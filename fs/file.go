package fs

import (
	"sync"
	"sync/atomic"

	"gomenuos/sched"
)

// File is an open file: an inode, the operations chosen at open and a
// position (Linux: struct file). Several descriptors may share one File
// (dup); it is released when the last reference goes.
//
// Lock contract: posMu guards pos and is held across a read or write of a
// seekable file (regular files, directories) so concurrent users of one
// File see whole operations (Linux: f_pos_lock). Stream files never take it,
// so a blocked device read does not hold up anyone. opsMu guards ops.
type File struct {
	Inode   *Inode
	Flags   int    // O_* flags given at open
	Private any    // the file operations' own state (a socket, a driver buffer)
	Path    string // the name /proc/<id>/fd shows: the opened path, "socket:[ino]"

	refs      atomic.Int64
	opsMu     sync.RWMutex
	ops       FileOperations
	posMu     sync.Mutex
	pos       int64
	streamPos int64 // what a stream's ops get for a position (see withPos); meaningless between calls
}

// NewFile returns a File with one reference on inode using ops
// (Linux: alloc_file). It does not call Open.
func NewFile(inode *Inode, flags int, ops FileOperations) *File {
	f := &File{Inode: inode, Flags: flags, ops: ops}
	f.refs.Store(1)
	return f
}

// SetStatusFlags replaces the flags fcntl(F_SETFL) may change: O_APPEND
// and O_NONBLOCK (Linux: setfl).
func (f *File) SetStatusFlags(flags int) {
	f.posMu.Lock()
	defer f.posMu.Unlock()
	const changeable = O_APPEND | O_NONBLOCK
	f.Flags = f.Flags&^changeable | flags&changeable
}

// Seek sets the position of a seekable file (Linux: vfs_llseek with
// generic_file_llseek): whence 0 from the start, 1 from the position, 2
// from the end. Streams are ESPIPE.
func (f *File) Seek(off int64, whence int) (int64, error) {
	if !f.Inode.Mode.IsRegular() && !f.Inode.Mode.IsDir() {
		return 0, ESPIPE
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	base := int64(0)
	switch whence {
	case 0:
	case 1:
		base = f.pos
	case 2:
		base = f.Inode.Stat().Size
	default:
		return 0, EINVAL
	}
	if base+off < 0 {
		return 0, EINVAL
	}
	f.pos = base + off
	return f.pos, nil
}

// ReadAt reads at off without moving the position (Linux: pread).
func (f *File) ReadAt(t *sched.Task, p []byte, off int64) (int, error) {
	if f.Flags&O_ACCMODE == O_WRONLY {
		return 0, EBADF
	}
	if !f.Inode.Mode.IsRegular() {
		return 0, ESPIPE
	}
	return f.Ops().Read(t, f, p, &off)
}

// WriteAt writes at off without moving the position (Linux: pwrite).
func (f *File) WriteAt(t *sched.Task, p []byte, off int64) (int, error) {
	if f.Flags&O_ACCMODE == O_RDONLY {
		return 0, EBADF
	}
	if !f.Inode.Mode.IsRegular() {
		return 0, ESPIPE
	}
	return f.Ops().Write(t, f, p, &off)
}

// Ops is the file's current operations.
func (f *File) Ops() FileOperations {
	f.opsMu.RLock()
	ops := f.ops
	f.opsMu.RUnlock() // no defer: every read and write passes here
	return ops
}

// ReplaceOps switches the file to ops; a device's open uses it to hand the
// file to its driver (Linux: replace_fops in chrdev_open).
func (f *File) ReplaceOps(ops FileOperations) {
	f.opsMu.Lock()
	defer f.opsMu.Unlock()
	f.ops = ops
}

// Get takes another reference (Linux: get_file).
func (f *File) Get() *File {
	f.refs.Add(1)
	return f
}

// Put drops a reference and releases the file when it was the last one
// (Linux: fput).
func (f *File) Put() error {
	switch n := f.refs.Add(-1); {
	case n < 0:
		panic("fs: File.Put without a reference") // a double close: a bug to find, not hide
	case n > 0:
		return nil
	}
	return f.Ops().Release(f)
}

// Read reads into p at the file position and advances it (Linux: vfs_read).
func (f *File) Read(t *sched.Task, p []byte) (int, error) {
	if f.Flags&O_ACCMODE == O_WRONLY {
		return 0, EBADF
	}
	if f.stream() {
		return f.Ops().Read(t, f, p, &f.streamPos) // withPos's stream case, without its closure
	}
	return f.withPos(func(off *int64) (int, error) { return f.Ops().Read(t, f, p, off) })
}

// Write writes p at the file position and advances it (Linux: vfs_write).
func (f *File) Write(t *sched.Task, p []byte) (int, error) {
	if f.Flags&O_ACCMODE == O_RDONLY {
		return 0, EBADF
	}
	if f.stream() {
		return f.Ops().Write(t, f, p, &f.streamPos) // withPos's stream case, without its closure
	}
	return f.withPos(func(off *int64) (int, error) { return f.Ops().Write(t, f, p, off) })
}

// Poll reports the file's readiness.
func (f *File) Poll() PollMask { return f.Ops().Poll(f) }

// Ioctl passes a device-specific command to the file's operations.
func (f *File) Ioctl(t *sched.Task, cmd uint32, arg uintptr) (uintptr, error) {
	return f.Ops().Ioctl(t, f, cmd, arg)
}

// Pos is the file position.
func (f *File) Pos() int64 {
	f.posMu.Lock()
	defer f.posMu.Unlock()
	return f.pos
}

// stream reports whether the file has no position (not a regular file
// or a directory).
func (f *File) stream() bool { return !f.Inode.Mode.IsRegular() && !f.Inode.Mode.IsDir() }

// withPos runs op with the position; seekable files hold posMu meanwhile.
func (f *File) withPos(op func(off *int64) (int, error)) (int, error) {
	if f.stream() {
		// Streams have no position (Linux passes them none): their ops
		// get a scratch word, which saves a heap allocation per call.
		return op(&f.streamPos)
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	return op(&f.pos)
}

// WriteAll writes all of p, looping over short writes; a helper
// for the shell and tests.
func WriteAll(t *sched.Task, f *File, p []byte) error {
	for len(p) > 0 {
		n, err := f.Write(t, p)
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}
