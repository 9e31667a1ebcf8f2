package fs

import (
	"sync"
	"sync/atomic"
	"time"
)

// SuperBlock is one mounted instance of a file system: it numbers its
// inodes and stamps their times (Linux: struct super_block).
type SuperBlock struct {
	Name     string           // file-system type, "ramfs", "proc", "sockfs"
	Clock    func() time.Time // injected so tests get fixed times
	ReadOnly bool             // writes and namespace changes fail with EROFS

	lastIno atomic.Uint64
}

// NewSuperBlock returns a super block for the file system called name;
// a nil clock means time.Now.
func NewSuperBlock(name string, clock func() time.Time) *SuperBlock {
	if clock == nil {
		clock = time.Now
	}
	return &SuperBlock{Name: name, Clock: clock}
}

// NextIno hands out inode numbers, counting from 1 (Linux: get_next_ino).
func (sb *SuperBlock) NextIno() uint64 { return sb.lastIno.Add(1) }

// Inode is a file's identity and attributes (Linux: struct inode).
// Ino, Mode, Rdev, Sb, Ops, Fops and Private are set at creation and never
// change.
//
// Lock contract: mu guards nlink, size, atime, mtime and ctime. File
// systems may take mu inside their own locks, never the other way round.
type Inode struct {
	Ino     uint64
	Mode    Mode
	Rdev    DevT // device number of a ModeChr inode
	Sb      *SuperBlock
	Ops     InodeOperations // directory operations; nil for non-directories
	Fops    FileOperations  // what an open of this inode starts from (Linux: i_fop)
	Private any             // the file system's own state

	mu                  sync.Mutex
	nlink               uint32
	size                int64
	atime, mtime, ctime time.Time
}

// NewInode returns an inode of sb with a fresh number, one link and all
// three times set to now (Linux: new_inode + inode_init_owner).
func NewInode(sb *SuperBlock, mode Mode, ops InodeOperations, fops FileOperations) *Inode {
	now := sb.Clock()
	return &Inode{
		Ino: sb.NextIno(), Mode: mode, Sb: sb, Ops: ops, Fops: fops,
		nlink: 1, atime: now, mtime: now, ctime: now,
	}
}

// Stat is a snapshot of an inode's attributes (Linux: struct kstat).
type Stat struct {
	Ino   uint64
	Mode  Mode
	Nlink uint32
	Size  int64
	Rdev  DevT
	Atime time.Time
	Mtime time.Time
	Ctime time.Time
}

// Stat returns the inode's attributes (Linux: generic_fillattr).
func (i *Inode) Stat() Stat {
	i.mu.Lock()
	defer i.mu.Unlock()
	return Stat{Ino: i.Ino, Mode: i.Mode, Nlink: i.nlink, Size: i.size, Rdev: i.Rdev,
		Atime: i.atime, Mtime: i.mtime, Ctime: i.ctime}
}

// SetSize records a new size and marks the data modified now.
func (i *Inode) SetSize(size int64) {
	now := i.Sb.Clock()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.size, i.mtime, i.ctime = size, now, now
}

// AddLink changes the link count by delta and marks the inode changed.
func (i *Inode) AddLink(delta int) {
	now := i.Sb.Clock()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.nlink = uint32(int(i.nlink) + delta)
	i.ctime = now
}

// Touch marks the inode's data modified now (a directory gaining or
// losing an entry).
func (i *Inode) Touch() {
	now := i.Sb.Clock()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.mtime, i.ctime = now, now
}
