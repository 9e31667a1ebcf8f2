package fs

import "gomenuos/sched"

// InodeOperations are what a file system does with its directories
// (Linux: struct inode_operations). Names are single path components,
// never "", "." or "..": the path walk handles those.
type InodeOperations interface {
	// Lookup finds name in dir (ENOENT when absent).
	Lookup(dir *Inode, name string) (*Inode, error)
	// Mknod creates name in dir: a directory, regular file, device node or
	// socket according to mode's type (EEXIST when present). Linux folds
	// this into create, mkdir and mknod.
	Mknod(dir *Inode, name string, mode Mode, rdev DevT) (*Inode, error)
	// Unlink removes name from dir; a directory must be empty (ENOTEMPTY).
	Unlink(dir *Inode, name string) error
	// Readdir lists dir's entries sorted by name, without "." and "..".
	Readdir(dir *Inode) ([]Dirent, error)
}

// Dirent is one directory entry.
type Dirent struct {
	Name  string
	Inode *Inode
}

// FileOperations are what an open file does (Linux: struct
// file_operations). Operations that may sleep take the calling task so an
// interrupt can end the sleep with sched.ErrRestartSys. off is the file
// position for seekable files (regular files, directories); stream files
// (devices, sockets) ignore it. Embed NoFileOps to get Linux's defaults
// for the operations a file does not support.
type FileOperations interface {
	Read(t *sched.Task, f *File, p []byte, off *int64) (int, error)
	Write(t *sched.Task, f *File, p []byte, off *int64) (int, error)
	// Poll reports which of PollIn, PollOut, ... would not block now.
	Poll(f *File) PollMask
	Ioctl(t *sched.Task, f *File, cmd uint32, arg uintptr) (uintptr, error)
	// Release runs once, when the last reference to f goes.
	Release(f *File) error
}

// Opener is implemented by file operations that act when a file is opened
// (Linux: f_op->open). Open may replace f's operations with f.ReplaceOps.
type Opener interface {
	Open(inode *Inode, f *File) error
}

// Linker is implemented by the inode operations of symbolic links
// (Linux: i_op->get_link). The target may depend on who asks (/proc/self).
type Linker interface {
	Readlink(t *sched.Task, link *Inode) (string, error)
}

// PollMask is a readiness bitmask with Linux's EPOLL* values.
type PollMask uint32

// Readiness bits.
const (
	PollIn  PollMask = 0x001
	PollPri PollMask = 0x002
	PollOut PollMask = 0x004
	PollErr PollMask = 0x008
	PollHup PollMask = 0x010
)

// NoFileOps gives Linux's answers for unsupported operations: EINVAL for
// read and write, ENOTTY for ioctl, always ready for poll, nothing to
// release.
type NoFileOps struct{}

// Read fails with EINVAL.
func (NoFileOps) Read(*sched.Task, *File, []byte, *int64) (int, error) { return 0, EINVAL }

// Write fails with EINVAL.
func (NoFileOps) Write(*sched.Task, *File, []byte, *int64) (int, error) { return 0, EINVAL }

// Poll reports readable and writable (Linux: DEFAULT_POLLMASK).
func (NoFileOps) Poll(*File) PollMask { return PollIn | PollOut }

// Ioctl fails with ENOTTY.
func (NoFileOps) Ioctl(*sched.Task, *File, uint32, uintptr) (uintptr, error) { return 0, ENOTTY }

// Release does nothing.
func (NoFileOps) Release(*File) error { return nil }

// Mapper is implemented by file operations whose data can be mapped into
// a process (Linux: f_op->mmap): Bytes returns the file's contents as they
// are now. Private mappings and exec read pages from it on demand.
type Mapper interface {
	Bytes(f *File) ([]byte, error)
}
