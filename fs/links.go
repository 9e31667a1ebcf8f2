package fs

import (
	"sync"

	"gomenuos/sched"
)

// Symbolic links, hard links and rename (Linux: fs/namei.c's
// do_symlinkat, do_linkat, do_renameat2), for file systems that support
// them through the optional directory operations below.

// Symlinker creates symbolic links (Linux: i_op->symlink).
type Symlinker interface {
	Symlink(dir *Inode, name, target string) (*Inode, error)
}

// HardLinker adds a name for an existing inode (Linux: i_op->link).
type HardLinker interface {
	Link(dir *Inode, name string, inode *Inode) error
}

// Renamer moves an entry, replacing what the new name held (Linux:
// i_op->rename). Both directories are of the same file system.
type Renamer interface {
	Rename(oldDir *Inode, oldName string, newDir *Inode, newName string) error
}

// Symlink creates path as a symbolic link to target.
func (ns *Namespace) Symlink(t *sched.Task, target, path string) error {
	dir, name, err := ns.walkParent(t, path)
	if err != nil {
		if err == EINVAL {
			err = EEXIST
		}
		return err
	}
	s, ok := dir.Ops.(Symlinker)
	switch {
	case !ok:
		return EPERM
	case dir.Sb.ReadOnly:
		return EROFS
	}
	_, err = s.Symlink(dir, name, target)
	return err
}

// Link makes newPath another name of oldPath's inode.
func (ns *Namespace) Link(t *sched.Task, oldPath, newPath string) error {
	inode, err := ns.walk(t, oldPath, false)
	if err != nil {
		return err
	}
	if inode.Mode.IsDir() {
		return EPERM
	}
	dir, name, err := ns.walkParent(t, newPath)
	if err != nil {
		if err == EINVAL {
			err = EEXIST
		}
		return err
	}
	l, ok := dir.Ops.(HardLinker)
	switch {
	case dir.Sb != inode.Sb:
		return EXDEV
	case !ok:
		return EPERM
	case dir.Sb.ReadOnly:
		return EROFS
	}
	return l.Link(dir, name, inode)
}

// Rename moves oldPath to newPath.
func (ns *Namespace) Rename(t *sched.Task, oldPath, newPath string) error {
	od, on, err := ns.walkParent(t, oldPath)
	if err != nil {
		return err
	}
	nd, nn, err := ns.walkParent(t, newPath)
	if err != nil {
		return err
	}
	victim, err := ns.lookupChild(od, on)
	if err != nil {
		return err
	}
	r, ok := od.Ops.(Renamer)
	switch {
	case od.Sb != nd.Sb:
		return EXDEV
	case !ok:
		return EPERM
	case od.Sb.ReadOnly:
		return EROFS
	case ns.isMountPoint(victim):
		return EBUSY
	}
	return r.Rename(od, on, nd, nn)
}

// ramSymlink is a ramfs symbolic link: its target text.
type ramSymlink struct{ target string }

type ramfsLinkOps struct{}

func (ramfsLinkOps) Lookup(*Inode, string) (*Inode, error)            { return nil, ENOTDIR }
func (ramfsLinkOps) Mknod(*Inode, string, Mode, DevT) (*Inode, error) { return nil, ENOTDIR }
func (ramfsLinkOps) Unlink(*Inode, string) error                      { return ENOTDIR }
func (ramfsLinkOps) Readdir(*Inode) ([]Dirent, error)                 { return nil, ENOTDIR }
func (ramfsLinkOps) Readlink(_ *sched.Task, i *Inode) (string, error) {
	return i.Private.(*ramSymlink).target, nil
}

// Symlink creates a ramfs symbolic link (Linux: ramfs_symlink).
func (ramfsDirOps) Symlink(dir *Inode, name, target string) (*Inode, error) {
	if len(target) == 0 || len(target) >= 4096 {
		return nil, ENOENT
	}
	d := dir.Private.(*ramDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return nil, EEXIST
	}
	link := NewInode(dir.Sb, ModeLink|0o777, ramfsLinkOps{}, nil)
	link.Private = &ramSymlink{target}
	link.SetSize(int64(len(target)))
	d.entries[name] = link
	dir.Touch()
	return link, nil
}

// Link adds a name for inode (Linux: simple_link).
func (ramfsDirOps) Link(dir *Inode, name string, inode *Inode) error {
	d := dir.Private.(*ramDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return EEXIST
	}
	d.entries[name] = inode
	inode.AddLink(1)
	dir.Touch()
	return nil
}

// renameMu serializes ramfs renames so two never lock directories in
// opposite orders (Linux: s_vfs_rename_mutex).
var renameMu sync.Mutex

// Rename moves an entry (Linux: simple_rename). A directory may only
// replace an empty directory, a non-directory only a non-directory.
func (ramfsDirOps) Rename(od *Inode, on string, nd *Inode, nn string) error {
	renameMu.Lock()
	defer renameMu.Unlock()
	src, dst := od.Private.(*ramDir), nd.Private.(*ramDir)
	src.mu.Lock()
	victim, ok := src.entries[on]
	src.mu.Unlock()
	if !ok {
		return ENOENT
	}
	if victim.Mode.IsDir() && isAncestor(victim, nd) {
		return EINVAL
	}
	dst.mu.Lock()
	old, exists := dst.entries[nn]
	if exists && old == victim {
		dst.mu.Unlock()
		return nil
	}
	if exists {
		if err := canReplace(old, victim); err != nil {
			dst.mu.Unlock()
			return err
		}
		old.AddLink(-1)
	}
	dst.entries[nn] = victim
	dst.mu.Unlock()
	src.mu.Lock()
	delete(src.entries, on)
	src.mu.Unlock()
	if victim.Mode.IsDir() && od != nd {
		od.AddLink(-1)
		nd.AddLink(1)
	}
	od.Touch()
	nd.Touch()
	return nil
}

func canReplace(old, victim *Inode) error {
	switch {
	case old.Mode.IsDir() && !victim.Mode.IsDir():
		return EISDIR
	case !old.Mode.IsDir() && victim.Mode.IsDir():
		return ENOTDIR
	case old.Mode.IsDir():
		od := old.Private.(*ramDir)
		od.mu.Lock()
		defer od.mu.Unlock()
		if len(od.entries) > 0 {
			return ENOTEMPTY
		}
	}
	return nil
}

// isAncestor reports whether dir is inside tree (moving a directory into
// itself is EINVAL). Ramfs keeps no parent links, so search down.
func isAncestor(tree, dir *Inode) bool {
	if tree == dir {
		return true
	}
	d, ok := tree.Private.(*ramDir)
	if !ok {
		return false
	}
	d.mu.Lock()
	kids := make([]*Inode, 0, len(d.entries))
	for _, c := range d.entries {
		if c.Mode.IsDir() {
			kids = append(kids, c)
		}
	}
	d.mu.Unlock()
	for _, c := range kids {
		if isAncestor(c, dir) {
			return true
		}
	}
	return false
}

// Truncater sets a regular file's size (Linux: do_truncate → setattr).
type Truncater interface {
	Truncate(inode *Inode, size int64) error
}

// Truncate sets a ramfs file's size, zero-filling growth.
func (ramFileOps) Truncate(inode *Inode, size int64) error {
	if size < 0 {
		return EINVAL
	}
	if size > MaxRamFileSize {
		return EFBIG
	}
	rf := inode.Private.(*ramFile)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if size <= int64(len(rf.data)) {
		rf.data = rf.data[:size:size]
	} else {
		rf.data = append(rf.data, make([]byte, size-int64(len(rf.data)))...)
	}
	inode.SetSize(size)
	return nil
}
