package fs

import (
	"maps"
	"slices"
	"sync"
	"time"

	"gomenuos/sched"
)

// ramfs keeps directories and file data in memory (Linux: fs/ramfs).
// Directories are ramDir, regular files ramFile, device nodes and sockets
// special inodes with no data.

// ramDir is a ramfs directory's entries.
// Lock contract: mu guards entries and the nlink of the directory and its
// subdirectories as far as ramfs changes them. It is taken before any
// inode's mu; two ramDir locks are only ever held parent first, then child
// (Unlink checking that a directory is empty), so the tree order rules out
// deadlock.
type ramDir struct {
	mu      sync.Mutex
	entries map[string]*Inode
}

type ramfsDirOps struct{}

// NewRamfs returns the root directory of a fresh ramfs (Linux:
// ramfs_fill_super); a nil clock means time.Now.
func NewRamfs(clock func() time.Time) *Inode {
	return newRamDir(NewSuperBlock("ramfs", clock), 0o755)
}

func newRamDir(sb *SuperBlock, perm Mode) *Inode {
	dir := NewInode(sb, ModeDir|perm, ramfsDirOps{}, dirFileOps{})
	dir.Private = &ramDir{entries: map[string]*Inode{}}
	dir.AddLink(1) // "." as well as the entry in the parent
	return dir
}

// Lookup finds name in dir (Linux: simple_lookup).
func (ramfsDirOps) Lookup(dir *Inode, name string) (*Inode, error) {
	d := dir.Private.(*ramDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if child, ok := d.entries[name]; ok {
		return child, nil
	}
	return nil, ENOENT
}

// Mknod creates a directory, regular file, device node or socket
// (Linux: ramfs_mknod, ramfs_mkdir, ramfs_create).
func (ramfsDirOps) Mknod(dir *Inode, name string, mode Mode, rdev DevT) (*Inode, error) {
	d := dir.Private.(*ramDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return nil, EEXIST
	}
	var child *Inode
	switch mode.Type() {
	case ModeDir:
		child = newRamDir(dir.Sb, mode&ModePerm)
		dir.AddLink(1) // the child's ".."
	case ModeReg:
		child = NewInode(dir.Sb, mode, nil, ramFileOps{})
		child.Private = &ramFile{}
	case ModeChr, ModeSock, ModeFIFO:
		child = NewInode(dir.Sb, mode, nil, nil)
		child.Rdev = rdev
		InitSpecialInode(child)
	default:
		return nil, EINVAL
	}
	d.entries[name] = child
	dir.Touch()
	return child, nil
}

// Unlink removes name; a directory must be empty (Linux: simple_unlink,
// simple_rmdir).
func (ramfsDirOps) Unlink(dir *Inode, name string) error {
	d := dir.Private.(*ramDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	child, ok := d.entries[name]
	if !ok {
		return ENOENT
	}
	if child.Mode.IsDir() {
		cd := child.Private.(*ramDir)
		cd.mu.Lock()
		empty := len(cd.entries) == 0
		cd.mu.Unlock()
		if !empty {
			return ENOTEMPTY
		}
		dir.AddLink(-1)
		child.AddLink(-1)
	}
	child.AddLink(-1)
	delete(d.entries, name)
	dir.Touch()
	return nil
}

// Readdir lists the entries sorted by name (Linux: dcache_readdir).
func (ramfsDirOps) Readdir(dir *Inode) ([]Dirent, error) {
	d := dir.Private.(*ramDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	ents := make([]Dirent, 0, len(d.entries))
	for _, name := range slices.Sorted(maps.Keys(d.entries)) {
		ents = append(ents, Dirent{Name: name, Inode: d.entries[name]})
	}
	return ents, nil
}

// dirFileOps are the file operations of an open directory: reading it
// with read(2) is EISDIR, as in Linux (Linux: generic_read_dir).
type dirFileOps struct{ NoFileOps }

func (dirFileOps) Read(*sched.Task, *File, []byte, *int64) (int, error) { return 0, EISDIR }
