package fs

import (
	"sync"
	"unsafe"

	"gomenuos/sched"
)

// MaxRamFileSize bounds one ramfs file so a runaway writer gets EFBIG
// instead of exhausting the kernel's memory.
const MaxRamFileSize = 16 << 20

// ramFile is a ramfs regular file's data.
// Lock contract: mu guards data; the inode's size is updated under it.
type ramFile struct {
	mu   sync.RWMutex
	data []byte
}

// ramFileOps read and write a ramFile at the file position
// (Linux: ramfs_file_operations over the page cache).
type ramFileOps struct{ NoFileOps }

// Open truncates under O_TRUNC (Linux: do_truncate from do_open).
func (ramFileOps) Open(inode *Inode, f *File) error {
	if f.Flags&O_TRUNC == 0 {
		return nil
	}
	rf := inode.Private.(*ramFile)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.data = nil
	inode.SetSize(0)
	return nil
}

// Read copies from *off and advances it; 0 at the end of the file.
func (ramFileOps) Read(_ *sched.Task, f *File, p []byte, off *int64) (int, error) {
	rf := f.Inode.Private.(*ramFile)
	rf.mu.RLock()
	defer rf.mu.RUnlock()
	if *off >= int64(len(rf.data)) {
		return 0, nil
	}
	n := copy(p, rf.data[*off:])
	*off += int64(n)
	return n, nil
}

// Write stores p at *off (at the end under O_APPEND), growing the file.
func (ramFileOps) Write(_ *sched.Task, f *File, p []byte, off *int64) (int, error) {
	rf := f.Inode.Private.(*ramFile)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if f.Flags&O_APPEND != 0 {
		*off = int64(len(rf.data))
	}
	end := *off + int64(len(p))
	if end > MaxRamFileSize {
		return 0, EFBIG
	}
	if end > int64(len(rf.data)) {
		rf.data = append(rf.data, make([]byte, end-int64(len(rf.data)))...)
	}
	copy(rf.data[*off:], p)
	*off = end
	f.Inode.SetSize(int64(len(rf.data)))
	return len(p), nil
}

// Bytes returns the file's data for exec and private mappings (Linux:
// ramfs's generic_file_mmap over the page cache). The slice is the file's
// own storage: later writes in place show through pages not yet faulted
// in, as a shared page cache would.
//
// The storage starts on a page boundary, so that a page of the file is a
// page of memory the fault handler can map into every process that reads
// it, as Linux maps page-cache pages (kernel/mm's shared file pages). A
// file adopted from the initramfs archive, at any offset in it, is
// copied to page-aligned memory the first time it is mapped (Linux copies
// each initramfs file into the page cache as it unpacks).
func (ramFileOps) Bytes(f *File) ([]byte, error) {
	rf := f.Inode.Private.(*ramFile)
	rf.mu.RLock()
	data := rf.data
	rf.mu.RUnlock()
	if len(data) < pageSize || pageAligned(data) {
		return data, nil
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if len(rf.data) >= pageSize && !pageAligned(rf.data) {
		rf.data = pageAlignedCopy(rf.data)
	}
	return rf.data, nil
}

const pageSize = 4096

func pageAligned(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%pageSize == 0 }

// pageAlignedCopy copies b to memory that starts on a page boundary; the
// copy's capacity is its length, so growing the file moves it again.
func pageAlignedCopy(b []byte) []byte {
	buf := make([]byte, len(b)+pageSize-1)
	off := (pageSize - uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%pageSize) % pageSize
	c := buf[off : off+uintptr(len(b)) : off+uintptr(len(b))]
	copy(c, b)
	return c
}

// Adopter is implemented by file operations that can take a buffer as a
// file's contents without copying it (the initramfs unpacker's files).
type Adopter interface {
	Adopt(f *File, data []byte) error
}

// Adopt makes data the file's contents; the file owns it from now on
// (writes may change it in place; growing it copies). MaxRamFileSize does
// not apply: the memory is in use already.
func (ramFileOps) Adopt(f *File, data []byte) error {
	rf := f.Inode.Private.(*ramFile)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.data = data
	f.Inode.SetSize(int64(len(data)))
	return nil
}
