package fs

import (
	"slices"
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
	mu    sync.Mutex
	files []*File // index = fd; nil = free
}

// Install puts f at the lowest free descriptor and returns it; the table
// takes over the caller's reference (Linux: get_unused_fd_flags + fd_install).
func (ft *FDTable) Install(f *File) (int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	fd := slices.Index(ft.files, nil)
	if fd < 0 {
		if len(ft.files) >= MaxFDs {
			return -1, EMFILE
		}
		fd = len(ft.files)
		ft.files = append(ft.files, nil)
	}
	ft.files[fd] = f
	return fd, nil
}

// Get returns the file at fd with a new reference; the caller Puts it
// (Linux: fget).
func (ft *FDTable) Get(fd int) (*File, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	f := ft.lookupLocked(fd)
	if f == nil {
		return nil, EBADF
	}
	return f.Get(), nil
}

// Close frees fd and drops its reference (Linux: close_fd).
func (ft *FDTable) Close(fd int) error {
	ft.mu.Lock()
	f := ft.lookupLocked(fd)
	if f != nil {
		ft.files[fd] = nil
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
func (ft *FDTable) Dup2(oldfd, newfd int) (int, error) {
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
	for len(ft.files) <= newfd {
		ft.files = append(ft.files, nil)
	}
	old := ft.files[newfd]
	ft.files[newfd] = f.Get()
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
	ft.files = nil
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
