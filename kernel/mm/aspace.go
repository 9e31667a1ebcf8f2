package mm

import "gomenuos/arch/x86"

// The address space the runtime sees as its process's: mmap hands out
// addresses in the kernel's runtime area (x86.RuntimeBase..RuntimeEnd, in
// the upper half, so user processes never see them), top-down like Linux,
// and never backs them eagerly: the first touch faults in a zeroed frame.
// Hints outside the area are ignored (the runtime's heap-arena hints are
// lower-half addresses; it falls back to wherever mmap puts the arena).

const (
	userMin  = x86.RuntimeBase
	userMax  = x86.RuntimeEnd
	mmapBase = x86.RuntimeEnd
)

// Errno values returned (negated) by the mapping calls.
const (
	ENOMEM = 12
	EINVAL = 22
)

// runtimeRoot is the tree the runtime area is walked in: the kernel's
// (every tree shares its upper half).
var runtimeRoot uintptr

func pageAlign(n uintptr) uintptr { return (n + pageSize - 1) &^ (pageSize - 1) }

// Mmap creates an anonymous private mapping (Linux: do_mmap). hint is
// honoured when the range is free; fixed replaces whatever was there.
func Mmap(hint, length uintptr, prot uint32, fixed bool) (uintptr, int) {
	if length == 0 || length > userMax {
		return 0, -EINVAL
	}
	length = pageAlign(length)
	switch {
	case fixed:
		if hint&(pageSize-1) != 0 || hint < userMin || hint+length > userMax {
			return 0, -EINVAL
		}
		Munmap(hint, length)
	case hint >= userMin && hint&(pageSize-1) == 0 && hint+length <= userMax && !overlaps(hint, hint+length):
	default:
		hint = findFree(length)
		if hint == 0 {
			return 0, -ENOMEM
		}
	}
	if !insert(VMA{Start: hint, End: hint + length, Prot: prot}) {
		return 0, -ENOMEM
	}
	return hint, 0
}

// findFree returns the highest free gap of length below mmapBase.
func findFree(length uintptr) uintptr {
	top := uintptr(mmapBase)
	for i := vmas.n - 1; i >= 0; i-- {
		v := vmas.v[i]
		if v.Start >= top {
			continue
		}
		if v.End <= top-length {
			return top - length
		}
		top = v.Start
	}
	if top-length >= userMin {
		return top - length
	}
	return 0
}

// Munmap removes [addr, addr+length) and frees its frames (Linux: do_munmap).
func Munmap(addr, length uintptr) int {
	if addr&(pageSize-1) != 0 || addr < userMin {
		return -EINVAL
	}
	length = pageAlign(length)
	if !carve(addr, addr+length) {
		return -ENOMEM
	}
	unmapRange(addr, addr+length)
	return 0
}

// Mprotect changes the protection of whole pages in [addr, addr+length).
func Mprotect(addr, length uintptr, prot uint32) int {
	length = pageAlign(length)
	end := addr + length
	for i := 0; i < vmas.n; i++ {
		v := vmas.v[i]
		if v.End <= addr || v.Start >= end {
			continue
		}
		if v.Start < addr || v.End > end {
			// Split so that exactly the range changes.
			if !carve(maxp(v.Start, addr), minp(v.End, end)) {
				return -ENOMEM
			}
			insert(VMA{Start: maxp(v.Start, addr), End: minp(v.End, end), Prot: prot})
			i = -1
			continue
		}
		vmas.v[i].Prot = prot
	}
	for va := addr; va < end; va += pageSize {
		if pte := x86.Walk(runtimeRoot, va, nil); pte != nil && pte.Present() {
			*pte = pteFor(pte.Addr(), prot)
			x86.Invlpg(va)
		}
	}
	return 0
}

func maxp(a, b uintptr) uintptr {
	if a > b {
		return a
	}
	return b
}

func minp(a, b uintptr) uintptr {
	if a < b {
		return a
	}
	return b
}

// MadviseDontNeed drops the pages of [addr, addr+length): the next touch
// faults in a zero page. The runtime relies on that zeroing (it skips
// clearing scavenged spans), so this must really unmap.
func MadviseDontNeed(addr, length uintptr) int {
	if addr&(pageSize-1) != 0 {
		return -EINVAL
	}
	unmapRange(addr, addr+pageAlign(length))
	return 0
}

func unmapRange(start, end uintptr) {
	n := 0
	for va := start; va < end; va += pageSize {
		// Skip whole missing page tables quickly.
		pte := x86.Walk(runtimeRoot, va, nil)
		if pte == nil {
			next := (va + 2<<20) &^ (2<<20 - 1)
			va = next - pageSize
			continue
		}
		if !pte.Present() {
			continue
		}
		FreeFrame(pte.Addr())
		*pte = 0
		n++
		if n < 64 {
			x86.Invlpg(va)
		}
	}
	if n >= 64 {
		x86.WriteCR3(x86.ReadCR3()) // flush the whole TLB
	}
	Stats.Unmapped += uint64(n)
}

func pteFor(pa uintptr, prot uint32) x86.PTE {
	e := x86.PTE(pa) | x86.PTEPresent
	if prot&ProtWrite != 0 {
		e |= x86.PTEWrite
	}
	if prot&ProtExec == 0 {
		e |= x86.PTENoExec
	}
	return e
}

// FaultResult says what the page-fault handler did.
type FaultResult int

// Page-fault outcomes.
const (
	FaultMapped FaultResult = iota // a zero page was mapped in
	FaultNoVMA                     // address not mapped: SIGSEGV (nil dereference, ...)
	FaultProt                      // access violates the VMA's protection
	FaultOOM                       // no free frame
)

// HandleFault resolves a page fault at addr (Linux: handle_mm_fault for
// anonymous memory: do_anonymous_page).
func HandleFault(addr uintptr, write bool) FaultResult {
	i := find(addr)
	if i < 0 {
		return FaultNoVMA
	}
	v := vmas.v[i]
	if v.Prot == 0 || (write && v.Prot&ProtWrite == 0) {
		return FaultProt
	}
	va := addr &^ (pageSize - 1)
	pte := x86.Walk(runtimeRoot, va, AllocFrame)
	if pte == nil {
		return FaultOOM
	}
	if !pte.Present() {
		pa := AllocFrame()
		if pa == 0 {
			return FaultOOM
		}
		*pte = pteFor(pa, v.Prot)
		Stats.PageFaults++
	}
	x86.Invlpg(va)
	return FaultMapped
}

// EnsureMapped faults in every page of [addr, addr+n) that a VMA covers,
// so trap-context code can write there without taking a nested page fault.
// The kernel image and the direct map are always mapped.
func EnsureMapped(addr, n uintptr) bool {
	if addr < userMin || addr >= userMax {
		return addr >= x86.DirectMap && addr+n >= addr
	}
	for va := addr &^ (pageSize - 1); va < addr+n; va += pageSize {
		pte := x86.Walk(runtimeRoot, va, nil)
		if pte != nil && pte.Present() {
			continue
		}
		if HandleFault(va, true) != FaultMapped {
			return false
		}
	}
	return true
}
