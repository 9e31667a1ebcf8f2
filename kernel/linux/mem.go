package linux

import (
	"unsafe"

	"gomenuos/arch/x86"
)

// ptr turns an address from a syscall argument into a pointer.
func ptr(a uintptr) unsafe.Pointer { return x86.PhysPointer(a) }

func load64(a uintptr) uint64     { return *(*uint64)(ptr(a)) }
func load32(a uintptr) uint32     { return *(*uint32)(ptr(a)) }
func store64(a uintptr, v uint64) { *(*uint64)(ptr(a)) = v }
func store32(a uintptr, v uint32) { *(*uint32)(ptr(a)) = v }

// userOK rejects addresses a syscall must not touch (NULL page, kernel
// half, non-canonical).
func userOK(a, n uintptr) bool {
	return a >= 4096 && a+n >= a && a+n <= 1<<47
}

// copyOut copies n bytes from kernel src to user dst.
func copyOut(dst, src, n uintptr) {
	for i := uintptr(0); i < n; i++ {
		*(*byte)(ptr(dst + i)) = *(*byte)(ptr(src + i))
	}
}

// ptrOf returns the address of kernel memory.
func ptrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }

// unsafeSlice views kernel memory outside the Go heap as a byte slice.
func unsafeSlice(pa uintptr, n int) []byte { return unsafe.Slice((*byte)(ptr(pa)), n) }
