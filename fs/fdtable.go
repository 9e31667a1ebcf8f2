package fs

import (
	"sync"
)

// MaxFDs is the per-table descriptor limit (Linux's default RLIMIT_NOFILE).
const MaxFDs = 1024

// FDTable maps a task's descriptors to open files (Linux: struct
// files_struct with its fdtable). The zero value is an empty table.
//
// Lock contract: mu guards files. File operations are never called with mu
// held: Close and Dup2 drop the replaced file after unlocking.
type FDTable struct {
	mu      sync.Mutex
	files   []*File // index = fd; nil = free
	cloexec []bool  // index = fd: FD_CLOEXEC (Linux: fdtable.close_on_exec)
}

// Install puts f at the lowest free descriptor and returns it; the table
// takes over the caller's reference (Linux: get_unused_fd_flags + fd_install).
func (ft *FDTable) Install(f *File) (int, error) { return ft.InstallFrom(f, 0, false) }

// InstallFrom puts f at the lowest free descriptor >= min, with
// FD_CLOEXEC set as asked (Linux: F_DUPFD, O_CLOEXEC opens).
func (ft *FDTable) InstallFrom(f *File, min int, cloexec bool) (int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if min < 0 || min >= MaxFDs {
		return -1, EINVAL
	}
	fd := -1
	for i := min; i < len(ft.files); i++ {
		if ft.files[i] == nil {
			fd = i
			break
		}
	}
	if fd < 0 {
		fd = max(min, len(ft.files))
		if fd >= MaxFDs {
			return -1, EMFILE
		}
		ft.growLocked(fd)
	}
	ft.files[fd] = f
	ft.cloexec[fd] = cloexec
	return fd, nil
}

func (ft *FDTable) growLocked(fd int) {
	for len(ft.files) <= fd {
		ft.files = append(ft.files, nil)
	}
	for len(ft.cloexec) < len(ft.files) {
		ft.cloexec = append(ft.cloexec, false)
	}
}

// SetCloexec sets or clears FD_CLOEXEC (fcntl F_SETFD).
func (ft *FDTable) SetCloexec(fd int, on bool) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.lookupLocked(fd) == nil {
		return EBADF
	}
	ft.cloexec[fd] = on
	return nil
}

// Cloexec reports FD_CLOEXEC (fcntl F_GETFD).
func (ft *FDTable) Cloexec(fd int) (bool, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.lookupLocked(fd) == nil {
		return false, EBADF
	}
	return ft.cloexec[fd], nil
}

// CloseOnExec closes every FD_CLOEXEC descriptor (Linux: do_close_on_exec).
func (ft *FDTable) CloseOnExec() {
	ft.mu.Lock()
	var drop []*File
	for fd, f := range ft.files {
		if f != nil && ft.cloexec[fd] {
			drop = append(drop, f)
			ft.files[fd], ft.cloexec[fd] = nil, false
		}
	}
	ft.mu.Unlock()
	for _, f := range drop {
		f.Put()
	}
}

// Clone returns a copy of the table whose descriptors share the same
// open files (Linux: dup_fd, for fork without CLONE_FILES).
func (ft *FDTable) Clone() *FDTable {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n := &FDTable{files: make([]*File, len(ft.files)), cloexec: make([]bool, len(ft.files))}
	for fd, f := range ft.files {
		if f != nil {
			n.files[fd] = f.Get()
			n.cloexec[fd] = ft.cloexec[fd]
		}
	}
	return n
}

// Len is one more than the highest descriptor in use.
func (ft *FDTable) Len() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(ft.files)
}

// Get returns the file at fd with a new reference; the caller Puts it
// (Linux: fget).
func (ft *FDTable) Get(fd int) (*File, error) {
	ft.mu.Lock()
	f := ft.lookupLocked(fd)
	if f != nil {
		f.Get()
	}
	ft.mu.Unlock() // no defer: every read and write passes here
	if f == nil {
		return nil, EBADF
	}
	return f, nil
}

// Close frees fd and drops its reference (Linux: close_fd).
func (ft *FDTable) Close(fd int) error {
	ft.mu.Lock()
	f := ft.lookupLocked(fd)
	if f != nil {
		ft.files[fd], ft.cloexec[fd] = nil, false
	}
	ft.mu.Unlock()
	if f == nil {
		return EBADF
	}
	return f.Put()
}

// Dup installs another descriptor for fd's file at the lowest free slot
// (Linux: dup).
func (ft *FDTable) Dup(fd int) (int, error) {
	f, err := ft.Get(fd)
	if err != nil {
		return -1, err
	}
	nfd, err := ft.Install(f)
	if err != nil {
		f.Put()
	}
	return nfd, err
}

// Dup2 makes newfd refer to oldfd's file, closing what newfd held
// (Linux: dup2).
func (ft *FDTable) Dup2(oldfd, newfd int) (int, error) { return ft.Dup3(oldfd, newfd, false) }

// Dup3 is Dup2 setting FD_CLOEXEC on newfd as asked (Linux: dup3).
func (ft *FDTable) Dup3(oldfd, newfd int, cloexec bool) (int, error) {
	if newfd < 0 || newfd >= MaxFDs {
		return -1, EBADF
	}
	ft.mu.Lock()
	f := ft.lookupLocked(oldfd)
	if f == nil {
		ft.mu.Unlock()
		return -1, EBADF
	}
	if oldfd == newfd {
		ft.mu.Unlock()
		return newfd, nil
	}
	ft.growLocked(newfd)
	old := ft.files[newfd]
	ft.files[newfd] = f.Get()
	ft.cloexec[newfd] = cloexec
	ft.mu.Unlock()
	if old != nil {
		old.Put()
	}
	return newfd, nil
}

// FD is one open descriptor as /proc/<pid>/fd lists it.
type FD struct {
	Num  int
	File *File
}

// List returns the open descriptors in ascending order.
func (ft *FDTable) List() []FD {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var fds []FD
	for fd, f := range ft.files {
		if f != nil {
			fds = append(fds, FD{fd, f})
		}
	}
	return fds
}

// CloseAll closes every descriptor (Linux: exit_files).
func (ft *FDTable) CloseAll() {
	ft.mu.Lock()
	files := ft.files
	ft.files, ft.cloexec = nil, nil
	ft.mu.Unlock()
	for _, f := range files {
		if f != nil {
			f.Put()
		}
	}
}

func (ft *FDTable) lookupLocked(fd int) *File {
	if fd < 0 || fd >= len(ft.files) {
		return nil
	}
	return ft.files[fd]
}

// InstallAt puts f at descriptor fd, closing what fd held; the table takes
// over the caller's reference.
func (ft *FDTable) InstallAt(f *File, fd int) error {
	if fd < 0 || fd >= MaxFDs {
		return EBADF
	}
	ft.mu.Lock()
	ft.growLocked(fd)
	old := ft.files[fd]
	ft.files[fd], ft.cloexec[fd] = f, false
	ft.mu.Unlock()
	if old != nil {
		old.Put()
	}
	return nil
}
