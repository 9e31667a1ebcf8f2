// Package mm manages physical page frames and the address space the Go
// runtime sees as "its process": VMAs created by mmap, populated on demand
// by the page-fault handler with zeroed frames.
//
// Trap context: every function here may run in a trap handler (no
// allocation, no panics, no Go pointers stored in the tables). Goroutine
// code reads the statistics only.
package mm

import (
	"sync/atomic"

	"gomenuos/arch/x86"
)

// MaxFrames bounds physical memory we manage (2 GiB).
const MaxFrames = 1 << 19

const pageSize = x86.PageSize

// frames is a stack of free frame numbers (Linux: the buddy allocator's
// free lists, collapsed to order 0).
var frames struct {
	free  [MaxFrames]uint32
	nfree int
	total int
	start uintptr // first managed physical address
	end   uintptr
}

// Stats counts memory events for /proc/meminfo and the exit report.
var Stats struct {
	AddressSpaces atomic.Int64 // user address spaces alive
	PageFaults    uint64       // demand-zero faults served
	KernelFaults  uint64       // of which taken by trap-context code
	Unmapped      uint64       // pages returned by munmap/madvise
	PeakUsed      int          // most frames in use at once
	UserFaults    uint64       // faults of user address spaces served
	COWCopied     uint64       // copy-on-write faults that copied a frame
	COWReused     uint64       // copy-on-write faults that found the frame unshared
	FileShared    uint64       // read faults that mapped a file's own page (no copy)
}

// InitFrames hands the physical range [start, end) to the allocator.
func InitFrames(start, end uintptr) {
	start = (start + pageSize - 1) &^ (pageSize - 1)
	end &^= pageSize - 1
	if end-start > MaxFrames*pageSize {
		end = start + MaxFrames*pageSize
	}
	dmaPool.next, dmaPool.end, dmaPool.zeroed = start, start+DMAPoolSize, start
	start += DMAPoolSize
	frames.start, frames.end = start, end
	for pa := end - pageSize; pa >= start && pa < end; pa -= pageSize {
		frames.free[frames.nfree] = uint32(pa / pageSize)
		frames.nfree++
	}
	frames.total = frames.nfree
}

// frameRefs counts the mappings of each managed frame beyond the first
// (Linux: struct page's _refcount/_mapcount, for frames that copy-on-write
// and shared mappings put in several page tables). 0 means one owner.
var frameRefs [MaxFrames]uint16

func refIndex(pa uintptr) (int, bool) {
	if pa < frames.start || pa >= frames.end {
		return 0, false
	}
	return int((pa - frames.start) / pageSize), true
}

// AllocFrame returns a zeroed frame with one owner, or 0 when memory is
// exhausted.
func AllocFrame() uintptr {
	pa := AllocFrameDirty()
	if pa != 0 {
		x86.ZeroPage(x86.PhysToVirt(pa))
	}
	return pa
}

// AllocFrameDirty returns a frame with one owner without clearing it (the
// caller fills all of it), or 0.
func AllocFrameDirty() uintptr {
	if frames.nfree == 0 {
		return 0
	}
	frames.nfree--
	pa := uintptr(frames.free[frames.nfree]) * pageSize
	if i, ok := refIndex(pa); ok {
		frameRefs[i] = 0
	}
	if u := frames.total - frames.nfree; u > Stats.PeakUsed {
		Stats.PeakUsed = u
	}
	return pa
}

// GetFrame adds an owner to a frame (one more page table maps it). It
// reports false when the count would overflow.
func GetFrame(pa uintptr) bool {
	i, ok := refIndex(pa)
	if !ok || frameRefs[i] == ^uint16(0) {
		return false
	}
	frameRefs[i]++
	return true
}

// FrameShared reports whether a frame has more than one owner.
func FrameShared(pa uintptr) bool {
	i, ok := refIndex(pa)
	return ok && frameRefs[i] > 0
}

// FreeFrame drops an owner and returns the frame to the allocator with
// the last one (Linux: put_page).
func FreeFrame(pa uintptr) {
	if i, ok := refIndex(pa); ok && frameRefs[i] > 0 {
		frameRefs[i]--
		return
	}
	frames.free[frames.nfree] = uint32(pa / pageSize)
	frames.nfree++
}

// dmaPool is a physically contiguous region set aside at boot for device
// rings and buffers; drivers allocate from it once and never free.
var dmaPool struct{ next, end, zeroed uintptr }

// DMAPoolSize is the size of the DMA region.
const DMAPoolSize = 8 << 20

// DMAUsed reports how much of the DMA region has been handed out.
func DMAUsed() uintptr { return dmaPool.zeroed - (dmaPool.end - DMAPoolSize) }

// AllocContig returns size bytes of physically contiguous, zeroed memory
// aligned to align (a power of two), or 0.
func AllocContig(size, align uintptr) uintptr {
	if align < 16 {
		align = 16
	}
	pa := (dmaPool.next + align - 1) &^ (align - 1)
	if pa+size > dmaPool.end {
		return 0
	}
	dmaPool.next = pa + size
	for z := pa &^ (pageSize - 1); z < pa+size; z += pageSize {
		if z >= dmaPool.zeroed {
			x86.ZeroPage(x86.PhysToVirt(z))
			dmaPool.zeroed = z + pageSize
		}
	}
	return pa
}

// FreeFrames reports free and total frames.
func FreeFrames() (free, total int) { return frames.nfree, frames.total }
