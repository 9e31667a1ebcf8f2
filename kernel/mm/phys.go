// Package mm manages physical page frames and the address space the Go
// runtime sees as "its process": VMAs created by mmap, populated on demand
// by the page-fault handler with zeroed frames.
//
// Trap context: every function here may run in a trap handler (no
// allocation, no panics, no Go pointers stored in the tables). Goroutine
// code reads the statistics only.
package mm

import "gomenuos/arch/x86"

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
	PageFaults   uint64 // demand-zero faults served
	KernelFaults uint64 // of which taken by trap-context code
	Unmapped     uint64 // pages returned by munmap/madvise
	PeakUsed     int    // most frames in use at once
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

// AllocFrame returns a zeroed frame, or 0 when memory is exhausted.
func AllocFrame() uintptr {
	if frames.nfree == 0 {
		return 0
	}
	frames.nfree--
	pa := uintptr(frames.free[frames.nfree]) * pageSize
	x86.ZeroPage(x86.PhysToVirt(pa))
	if u := frames.total - frames.nfree; u > Stats.PeakUsed {
		Stats.PeakUsed = u
	}
	return pa
}

// FreeFrame returns a frame to the allocator.
func FreeFrame(pa uintptr) {
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
