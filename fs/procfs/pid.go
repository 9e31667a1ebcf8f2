package procfs

import (
	"fmt"
	"io"
	"strconv"

	"gomenuos/fs"
	"gomenuos/sched"
)

// The per-task part of /proc: /proc/self, /proc/<id> for every task with a
// descriptor table (0 is the kernel's), /proc/<id>/comm (the task's name)
// and /proc/<id>/fd/<n> links naming each open file (Linux:
// fs/proc/base.c, fs/proc/fd.c). Their inodes are made afresh at each
// lookup, as Linux's are. ps lists exactly these directories.

// rootDirOps is /proc itself: the registered entries, then self and the
// task directories (Linux: proc_root_lookup, proc_root_readdir).
type rootDirOps struct{ dirOps }

func (o rootDirOps) Lookup(dir *fs.Inode, name string) (*fs.Inode, error) {
	if name == "self" {
		return newLink(selfLink{}), nil
	}
	if src := processSource(); src != nil {
		if id, ok := taskID(name); ok {
			if _, ok := src.Info(int(id)); ok {
				return newPIDDir(int(id)), nil
			}
			return nil, fs.ENOENT
		}
		return o.dirOps.Lookup(dir, name)
	}
	if id, ok := taskID(name); ok {
		if _, ok := fs.FilesByID(id); ok {
			return newTaskDir(id), nil
		}
	}
	return o.dirOps.Lookup(dir, name)
}

func (o rootDirOps) Readdir(dir *fs.Inode) ([]fs.Dirent, error) {
	ents, _ := o.dirOps.Readdir(dir)
	ents = append(ents, fs.Dirent{Name: "self", Inode: newLink(selfLink{})})
	if src := processSource(); src != nil {
		for _, pid := range src.PIDs() {
			ents = append(ents, fs.Dirent{Name: strconv.Itoa(pid), Inode: newPIDDir(pid)})
		}
		return ents, nil
	}
	for _, tf := range fs.AllTaskFiles() {
		id := uint64(0)
		if tf.Task != nil {
			id = tf.Task.ID()
		}
		ents = append(ents, fs.Dirent{Name: strconv.FormatUint(id, 10), Inode: newTaskDir(id)})
	}
	return ents, nil
}

func taskID(name string) (uint64, bool) {
	id, err := strconv.ParseUint(name, 10, 64)
	return id, err == nil && strconv.FormatUint(id, 10) == name
}

func isTaskID(name string) bool { _, ok := taskID(name); return ok }

// linkOps make an inode a symbolic link whose target is computed when read.
type linkOps interface {
	fs.InodeOperations
	fs.Linker
}

func newLink(ops linkOps) *fs.Inode { return fs.NewInode(sb, fs.ModeLink|0o777, ops, nil) }

// noDir is embedded by link operations: links are not directories.
type noDir struct{}

func (noDir) Lookup(*fs.Inode, string) (*fs.Inode, error) { return nil, fs.ENOTDIR }
func (noDir) Mknod(*fs.Inode, string, fs.Mode, fs.DevT) (*fs.Inode, error) {
	return nil, fs.ENOTDIR
}
func (noDir) Unlink(*fs.Inode, string) error         { return fs.ENOTDIR }
func (noDir) Readdir(*fs.Inode) ([]fs.Dirent, error) { return nil, fs.ENOTDIR }

// selfLink is /proc/self: it points at the asking task's directory
// (Linux: proc_self_get_link).
type selfLink struct{ noDir }

func (selfLink) Readlink(t *sched.Task, _ *fs.Inode) (string, error) {
	if src := processSource(); src != nil {
		return strconv.Itoa(src.Self(t)), nil
	}
	if t == nil {
		return "0", nil
	}
	fs.FilesOf(t) // the task may have opened nothing yet: give it its table
	return strconv.FormatUint(t.ID(), 10), nil
}

// taskDir is /proc/<id>: comm and fd.
type taskDir struct {
	dirOps
	id uint64
}

func newTaskDir(id uint64) *fs.Inode {
	return newDirInode(0o555, taskDir{id: id})
}

func (d taskDir) Lookup(_ *fs.Inode, name string) (*fs.Inode, error) {
	switch name {
	case "comm":
		tf, ok := fs.FilesByID(d.id)
		if !ok {
			return nil, fs.ENOENT // the task has exited
		}
		comm := "kernel"
		if tf.Task != nil {
			comm = tf.Task.Name()
		}
		return fs.NewInode(sb, fs.ModeReg|0o444, nil, seqFops{func(w io.Writer) { fmt.Fprintln(w, comm) }}), nil
	case "fd":
		return newDirInode(0o500, fdDir{taskFiles(d.id)}), nil
	}
	return nil, fs.ENOENT
}

func (d taskDir) Readdir(dir *fs.Inode) ([]fs.Dirent, error) {
	var ents []fs.Dirent
	for _, name := range []string{"comm", "fd"} {
		i, err := d.Lookup(dir, name)
		if err != nil {
			return nil, err
		}
		ents = append(ents, fs.Dirent{Name: name, Inode: i})
	}
	return ents, nil
}

// fdOwner finds the descriptor table behind a /proc/.../fd directory each
// time it is read: the owner may have exited since the directory was
// looked up (then ENOENT, as Linux's proc_fd_link on a dead task).
type fdOwner interface {
	table() (*fs.FDTable, error)
}

// taskFiles is a kernel task's table, by its task ID.
type taskFiles uint64

func (id taskFiles) table() (*fs.FDTable, error) {
	tf, ok := fs.FilesByID(uint64(id))
	if !ok {
		return nil, fs.ENOENT // the task has exited
	}
	return tf.Files, nil
}

// fdDir is /proc/<id>/fd and /proc/<pid>/fd: one link per open
// descriptor (Linux: proc_fd_operations, proc_readfd).
type fdDir struct{ owner fdOwner }

func (d fdDir) Lookup(_ *fs.Inode, name string) (*fs.Inode, error) {
	fd, err := strconv.Atoi(name)
	if err != nil {
		return nil, fs.ENOENT
	}
	ft, err := d.owner.table()
	if err != nil {
		return nil, err
	}
	f, err := ft.Get(fd)
	if err != nil {
		return nil, fs.ENOENT
	}
	f.Put()
	return newFdLink(d.owner, fd), nil
}

func (d fdDir) Readdir(*fs.Inode) ([]fs.Dirent, error) {
	ft, err := d.owner.table()
	if err != nil {
		return nil, err
	}
	var ents []fs.Dirent
	for _, e := range ft.List() {
		ents = append(ents, fs.Dirent{Name: strconv.Itoa(e.Num), Inode: newFdLink(d.owner, e.Num)})
	}
	return ents, nil
}

func (fdDir) Mknod(*fs.Inode, string, fs.Mode, fs.DevT) (*fs.Inode, error) {
	return nil, fs.EACCES
}

func (fdDir) Unlink(*fs.Inode, string) error { return fs.EACCES }

// fdLink is /proc/.../fd/<n>: its target is the open file's name, such
// as socket:[ino] (Linux: proc_fd_link + d_path, sockfs_dname).
type fdLink struct {
	noDir
	owner fdOwner
	fd    int
}

func newFdLink(owner fdOwner, fd int) *fs.Inode {
	i := fs.NewInode(sb, fs.ModeLink|0o700, fdLink{owner: owner, fd: fd}, nil)
	i.SetSize(64) // what Linux's ls -l shows for these links
	return i
}

func (l fdLink) Readlink(*sched.Task, *fs.Inode) (string, error) {
	ft, err := l.owner.table()
	if err != nil {
		return "", err
	}
	f, err := ft.Get(l.fd)
	if err != nil {
		return "", fs.ENOENT
	}
	defer f.Put()
	return f.Path, nil
}
