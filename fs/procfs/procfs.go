// Package procfs is the /proc file system: read-only files whose text is
// generated when they are opened (/proc/devices, /proc/meminfo,
// /proc/uptime, /proc/interrupts, /proc/threads, and whatever other
// packages Register, such as net/tcp), plus one directory per task with
// open files (/proc/<id>/fd) and /proc/self (Linux: fs/proc).
package procfs

import (
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"gomenuos/fs"
)

// sb is the one proc super block; all mounts show the same tree.
var sb = fs.NewSuperBlock("proc", nil)

// procDir is a directory of registered entries (Linux: struct
// proc_dir_entry for a directory). Lock contract: mu guards entries.
type procDir struct {
	mu      sync.Mutex
	entries map[string]*fs.Inode
}

// root is /proc: the registered tree, with the per-task entries added by
// rootDirOps.
var root = newDir(rootDirOps{})

func newDir(ops fs.InodeOperations) *fs.Inode {
	dir := newDirInode(0o555, ops)
	dir.Private = &procDir{entries: map[string]*fs.Inode{}}
	return dir
}

// Mount makes /proc in ns (if missing) and mounts procfs there
// (Linux: proc_root_init + mount -t proc). The kernel calls it at boot.
func Mount(ns *fs.Namespace) error {
	if err := ns.Mkdir(nil, "/proc", 0o555); err != nil && err != fs.EEXIST {
		return err
	}
	return ns.Mount("/proc", root)
}

// Register adds the read-only file /proc/PATH ("net/tcp") whose content is
// what show writes, produced afresh at each open; missing directories on
// the way are made. A taken name is EEXIST (Linux: proc_create_single).
func Register(path string, show func(w io.Writer)) error {
	return registerFile(path, fs.NewInode(sb, fs.ModeReg|0o444, nil, seqFops{show}))
}

// registerFile adds file as /proc/PATH, making missing directories.
func registerFile(path string, file *fs.Inode) error {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	dir := root
	for _, name := range parts[:len(parts)-1] {
		var err error
		if dir, err = subdir(dir, name); err != nil {
			return err
		}
	}
	return addEntry(dir, parts[len(parts)-1], file)
}

// subdir returns dir's subdirectory name, making it if missing
// (Linux: proc_mkdir).
func subdir(dir *fs.Inode, name string) (*fs.Inode, error) {
	if name == "" || name == "." || name == ".." {
		return nil, fs.EINVAL
	}
	d := dir.Private.(*procDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if sub, ok := d.entries[name]; ok {
		if !sub.Mode.IsDir() {
			return nil, fs.ENOTDIR
		}
		return sub, nil
	}
	sub := newDir(dirOps{})
	d.entries[name] = sub
	return sub, nil
}

func addEntry(dir *fs.Inode, name string, inode *fs.Inode) error {
	if name == "" || name == "." || name == ".." || name == "self" || isTaskID(name) {
		return fs.EINVAL
	}
	d := dir.Private.(*procDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return fs.EEXIST
	}
	d.entries[name] = inode
	return nil
}

// dirOps serve registered directories: lookups and listings only; /proc
// cannot be changed from user space.
type dirOps struct{}

func (dirOps) Lookup(dir *fs.Inode, name string) (*fs.Inode, error) {
	d := dir.Private.(*procDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, ok := d.entries[name]; ok {
		return i, nil
	}
	return nil, fs.ENOENT
}

func (dirOps) Mknod(*fs.Inode, string, fs.Mode, fs.DevT) (*fs.Inode, error) {
	return nil, fs.EACCES
}

func (dirOps) Unlink(*fs.Inode, string) error { return fs.EACCES }

func (dirOps) Readdir(dir *fs.Inode) ([]fs.Dirent, error) {
	d := dir.Private.(*procDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	var ents []fs.Dirent
	for _, name := range slices.Sorted(maps.Keys(d.entries)) {
		ents = append(ents, fs.Dirent{Name: name, Inode: d.entries[name]})
	}
	return ents, nil
}

// newDirInode makes a /proc directory inode with two links ("." and its
// name), as ls -l shows directories.
func newDirInode(perm fs.Mode, ops fs.InodeOperations) *fs.Inode {
	dir := fs.NewInode(sb, fs.ModeDir|perm, ops, dirFops{})
	dir.AddLink(1)
	return dir
}

// dirFops: an open /proc directory cannot be read with read(2).
type dirFops struct{ fs.NoFileOps }
