package linux

import (
	"unsafe"

	"gomenuos/arch/x86"
)

// ptr turns a kernel virtual address (a runtime syscall's argument) into a
// pointer; physPtr a physical address, through the direct map.
func ptr(a uintptr) unsafe.Pointer     { return x86.VirtPointer(a) }
func physPtr(a uintptr) unsafe.Pointer { return x86.PhysPointer(a) }

func load64(a uintptr) uint64     { return *(*uint64)(ptr(a)) }
func load32(a uintptr) uint32     { return *(*uint32)(ptr(a)) }
func store64(a uintptr, v uint64) { *(*uint64)(ptr(a)) = v }
func store32(a uintptr, v uint32) { *(*uint32)(ptr(a)) = v }

// userOK rejects addresses a runtime syscall must not touch. The runtime
// lives entirely in the upper half (its image, the direct map, its mmap
// area), so anything in the lower half — a user process's memory, or a
// nil-ish pointer — is refused.
func userOK(a, n uintptr) bool {
	return a >= x86.DirectMap && a+n >= a
}

// copyOut copies n bytes from kernel src to user dst.
func copyOut(dst, src, n uintptr) {
	for i := uintptr(0); i < n; i++ {
		*(*byte)(ptr(dst + i)) = *(*byte)(ptr(src + i))
	}
}

// ptrOf returns the address of kernel memory.
func ptrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }

// physSlice views physical memory outside the Go heap as a byte slice.
func physSlice(pa uintptr, n int) []byte { return unsafe.Slice((*byte)(physPtr(pa)), n) }
