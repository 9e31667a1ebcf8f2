package x86

import "unsafe"

// The kernel's virtual memory layout (Linux: Documentation/arch/x86/x86_64/mm.rst).
// The lower canonical half belongs to user processes; everything the
// kernel itself touches lives in the upper half, mapped the same way in
// every page-table tree:
//
//	DirectMap    0xffff888000000000  physical memory 0-4 GiB (RAM, PCI hole, LAPIC)
//	RuntimeBase  0xffffc90000000000  the Go runtime's mmap area (heap, stacks), 512 GiB
//	KernelBase   0xffffffff80000000  the kernel image, linked here (boot/, Makefile KLINK)
const (
	DirectMap   = 0xffff888000000000 // must match boot/loader.c
	DirectSize  = 4 << 30
	RuntimeBase = 0xffffc90000000000
	RuntimeEnd  = RuntimeBase + 512<<30
	KernelBase  = 0xffffffff80000000
	UserEnd     = 1 << 47 // first address above the user half
)

// PhysToVirt returns the direct-map address of physical address pa.
func PhysToVirt(pa uintptr) uintptr { return pa + DirectMap }

// PhysPointer turns a physical address into a pointer through the direct
// map. Such memory is never Go heap, so the GC ignores it. Reading the
// integer's bits as a pointer keeps vet's unsafeptr check quiet without
// hiding a real heap pointer.
func PhysPointer(pa uintptr) unsafe.Pointer { return VirtPointer(pa + DirectMap) }

// VirtPointer turns a kernel virtual address held as an integer into a
// pointer (see PhysPointer).
func VirtPointer(va uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&va)) }

// ImagePhys is the physical address the boot stub loaded the kernel
// image's first (2 MiB-aligned) page at; ImageVirt is that page's virtual
// address. Set once at boot.
var ImagePhys, ImageVirt uintptr

// KernelVirtToPhys translates an address in the kernel image or the direct
// map to its physical address.
func KernelVirtToPhys(va uintptr) uintptr {
	if va >= KernelBase {
		return va - ImageVirt + ImagePhys
	}
	return va - DirectMap
}
