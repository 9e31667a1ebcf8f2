package fs

import (
	"path"
	"sync"
	"sync/atomic"

	"gomenuos/sched"
)

// Namespace is a tree of mounted file systems with one root (Linux: struct
// mnt_namespace, minus per-task views). Its methods are the VFS entry
// points the shell and syscalls use; paths are absolute (relative ones
// start at the root).
//
// Lock contract: mu guards mounts.
type Namespace struct {
	root *Inode

	mu     sync.RWMutex
	mounts map[*Inode]*Inode // mount point directory → mounted root
}

// NewNamespace returns a namespace whose root is the directory root.
func NewNamespace(root *Inode) *Namespace {
	return &Namespace{root: root, mounts: map[*Inode]*Inode{}}
}

// NewRoot returns a namespace rooted in a fresh ramfs: the boot-time root
// file system that the initramfs is unpacked into.
func NewRoot() *Namespace { return NewNamespace(NewRamfs(nil)) }

var current atomic.Pointer[Namespace]

// SetRoot makes ns the namespace that Root returns: the kernel sets it once
// at boot and the shell commands and /proc use it.
func SetRoot(ns *Namespace) { current.Store(ns) }

// Root is the namespace set by SetRoot, or nil.
func Root() *Namespace { return current.Load() }

// RootInode is the root directory.
func (ns *Namespace) RootInode() *Inode { return ns.root }

// Mount attaches the file system whose root directory is fsRoot at the
// directory path (Linux: do_mount). A directory takes one mount (EBUSY).
func (ns *Namespace) Mount(path string, fsRoot *Inode) error {
	dir, err := ns.walk(nil, path, true)
	if err != nil {
		return err
	}
	if !dir.Mode.IsDir() || !fsRoot.Mode.IsDir() {
		return ENOTDIR
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if dir == ns.root || ns.isMountPointLocked(dir) {
		return EBUSY // one file system per directory: no stacking
	}
	ns.mounts[dir] = fsRoot
	return nil
}

// followMount replaces a mount point by the root mounted on it.
func (ns *Namespace) followMount(i *Inode) *Inode {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	if m, ok := ns.mounts[i]; ok {
		return m
	}
	return i
}

// isMountPoint reports whether a file system is mounted on i or i is the
// root of a mounted file system.
func (ns *Namespace) isMountPoint(i *Inode) bool {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.isMountPointLocked(i)
}

func (ns *Namespace) isMountPointLocked(i *Inode) bool {
	for mp, root := range ns.mounts {
		if mp == i || root == i {
			return true
		}
	}
	return false
}

// Lookup returns the inode at path as t sees it, following symbolic links
// (Linux: kern_path with LOOKUP_FOLLOW).
func (ns *Namespace) Lookup(t *sched.Task, path string) (*Inode, error) {
	return ns.walk(t, path, true)
}

// LookupNoFollow is Lookup that returns a symbolic link at the end of path
// itself, as lstat does.
func (ns *Namespace) LookupNoFollow(t *sched.Task, path string) (*Inode, error) {
	return ns.walk(t, path, false)
}

// Open opens path with O_* flags, creating a regular file with permission
// bits perm under O_CREAT (Linux: do_sys_open → path_openat → vfs_open).
func (ns *Namespace) Open(t *sched.Task, path string, flags int, perm Mode) (*File, error) {
	inode, err := ns.openInode(t, path, flags, perm)
	if err != nil {
		return nil, err
	}
	if err := mayOpen(inode, flags); err != nil {
		return nil, err
	}
	if inode.Fops == nil {
		return nil, ENXIO
	}
	f := NewFile(inode, flags, inode.Fops)
	f.Path = cleanPath(path)
	if o, ok := inode.Fops.(Opener); ok {
		if err := o.Open(inode, f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// OpenFD opens path and installs the file in t's descriptor table.
func (ns *Namespace) OpenFD(t *sched.Task, path string, flags int, perm Mode) (int, error) {
	f, err := ns.Open(t, path, flags, perm)
	if err != nil {
		return -1, err
	}
	fd, err := FilesOf(t).Install(f)
	if err != nil {
		f.Put()
	}
	return fd, err
}

// openInode finds or, under O_CREAT, creates the inode to open.
func (ns *Namespace) openInode(t *sched.Task, path string, flags int, perm Mode) (*Inode, error) {
	inode, err := ns.walk(t, path, true)
	switch {
	case err == nil && flags&(O_CREAT|O_EXCL) == O_CREAT|O_EXCL:
		return nil, EEXIST
	case err == nil && flags&O_CREAT != 0 && inode.Mode.IsDir():
		return nil, EISDIR
	case err == ENOENT && flags&O_CREAT != 0:
		inode, err = ns.mknod(t, path, ModeReg|perm&ModePerm, 0)
		if err == EEXIST && flags&O_EXCL == 0 {
			return ns.walk(t, path, true) // another task created it first
		}
	}
	return inode, err
}

// mayOpen checks that inode may be opened with flags (Linux: may_open).
// Everyone is root here, so only the write bits matter: a file with none
// (/proc files) cannot be opened for writing.
func mayOpen(inode *Inode, flags int) error {
	writing := flags&O_ACCMODE != O_RDONLY || flags&O_TRUNC != 0
	switch {
	case flags&O_DIRECTORY != 0 && !inode.Mode.IsDir():
		return ENOTDIR
	case writing && inode.Mode.IsDir():
		return EISDIR
	case writing && inode.Sb.ReadOnly:
		return EROFS
	case writing && inode.Mode&0o222 == 0:
		return EACCES
	case inode.Mode.Type() == ModeLink:
		return ELOOP
	}
	return nil
}

// Mkdir creates the directory path (Linux: do_mkdirat → vfs_mkdir).
func (ns *Namespace) Mkdir(t *sched.Task, path string, perm Mode) error {
	_, err := ns.mknod(t, path, ModeDir|perm&ModePerm, 0)
	return err
}

// Mknod creates a device node, socket or regular file at path
// (Linux: do_mknodat → vfs_mknod).
func (ns *Namespace) Mknod(t *sched.Task, path string, mode Mode, rdev DevT) error {
	switch mode.Type() {
	case ModeChr, ModeReg, ModeSock, ModeFIFO:
	default:
		return EINVAL
	}
	_, err := ns.mknod(t, path, mode, rdev)
	return err
}

func (ns *Namespace) mknod(t *sched.Task, path string, mode Mode, rdev DevT) (*Inode, error) {
	dir, name, err := ns.walkParent(t, path)
	if err != nil {
		if err == EINVAL {
			err = EEXIST // "/", "." and ".." all exist
		}
		return nil, err
	}
	if dir.Sb.ReadOnly {
		return nil, EROFS
	}
	return dir.Ops.Mknod(dir, name, mode, rdev)
}

// Unlink removes the non-directory path (Linux: do_unlinkat).
func (ns *Namespace) Unlink(t *sched.Task, path string) error { return ns.remove(t, path, false) }

// Rmdir removes the empty directory path (Linux: do_rmdir).
func (ns *Namespace) Rmdir(t *sched.Task, path string) error { return ns.remove(t, path, true) }

func (ns *Namespace) remove(t *sched.Task, path string, wantDir bool) error {
	dir, name, err := ns.walkParent(t, path)
	if err != nil {
		return err
	}
	victim, err := ns.lookupChild(dir, name)
	switch {
	case err != nil:
		return err
	case victim.Mode.IsDir() && !wantDir:
		return EISDIR
	case !victim.Mode.IsDir() && wantDir:
		return ENOTDIR
	case ns.isMountPoint(victim):
		return EBUSY
	case dir.Sb.ReadOnly:
		return EROFS
	}
	return dir.Ops.Unlink(dir, name)
}

// ReadDir lists the directory path sorted by name (Linux: iterate_dir).
func (ns *Namespace) ReadDir(t *sched.Task, path string) ([]Dirent, error) {
	dir, err := ns.walk(t, path, true)
	if err != nil {
		return nil, err
	}
	if !dir.Mode.IsDir() || dir.Ops == nil {
		return nil, ENOTDIR
	}
	ents, err := dir.Ops.Readdir(dir)
	for i := range ents {
		ents[i].Inode = ns.followMount(ents[i].Inode)
	}
	return ents, err
}

// Readlink returns the target of the symbolic link at path
// (Linux: do_readlinkat).
func (ns *Namespace) Readlink(t *sched.Task, path string) (string, error) {
	inode, err := ns.walk(t, path, false)
	if err != nil {
		return "", err
	}
	return Readlink(t, inode)
}

// Readlink returns the target of the symbolic link inode as t sees it
// (EINVAL for anything else, as Linux's readlink).
func Readlink(t *sched.Task, inode *Inode) (string, error) {
	l, ok := inode.Ops.(Linker)
	if inode.Mode.Type() != ModeLink || !ok {
		return "", EINVAL
	}
	return l.Readlink(t, inode)
}

// cleanPath is path as an absolute name without ".", ".." or "//". The
// walk treats ".." lexically too, so the name is right unless a symbolic
// link was on the way.
func cleanPath(p string) string { return path.Clean("/" + p) }
