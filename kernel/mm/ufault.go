package mm

// Page faults of user address spaces: demand-zero, file-backed and
// copy-on-write pages (Linux: handle_mm_fault → do_anonymous_page,
// do_read_fault/do_cow_fault, do_wp_page).
//
// Trap context: the fault handler runs in the trap that a user thread's
// fault raised, without allocating. It only ever adds mappings or replaces
// a copy-on-write page, never frees one that goroutine code could be
// copying through; the goroutine-context changes (mmap, munmap, fork, the
// uaccess copies) hold MM.mu and set MM.busy, and a fault that finds busy
// set is handed to the thread's goroutine, which takes mu (FaultRetry).

import (
	"unsafe"

	"gomenuos/arch/x86"
)

// PTECOW marks a present, read-only PTE as copy-on-write: a write fault
// copies the frame unless this page table is its only owner. PTENoRef
// marks a frame the allocator does not manage (the vDSO's): never counted
// or freed. Both are bits the CPU leaves to software.
const (
	PTECOW   = 1 << 9
	PTENoRef = 1 << 10
)

// Fault error-code bits (the CPU's #PF error code).
const (
	FaultErrPresent = 1 << 0
	FaultErrWrite   = 1 << 1
	FaultErrUser    = 1 << 2
	FaultErrFetch   = 1 << 4
)

// FaultRetry: the address space is being changed by goroutine code; the
// fault must be handled in goroutine context.
const FaultRetry FaultResult = 100

// UserFault resolves a fault at addr in the address space m points at, as
// the trap handler sees it: m is the *MM of the faulting thread, passed as
// an integer so trap context stores no Go pointer.
func UserFault(m uintptr, addr uintptr, errCode uint64) FaultResult {
	mm := (*MM)(x86.VirtPointer(m))
	if mm.busy.Load() != 0 {
		return FaultRetry
	}
	return mm.handleMMFault(addr, errCode)
}

// handleMMFault handles a fault with the tables not being changed by anyone
// else (trap context, or a goroutine holding mu).
func (m *MM) handleMMFault(addr uintptr, errCode uint64) FaultResult {
	i := m.findVMA(addr)
	if i < 0 {
		return FaultNoVMA
	}
	v := &m.vmas[i]
	write := errCode&FaultErrWrite != 0
	if v.Prot&(ProtRead|ProtWrite|ProtExec) == 0 || (write && v.Prot&ProtWrite == 0) ||
		(errCode&FaultErrFetch != 0 && v.Prot&ProtExec == 0) {
		return FaultProt
	}
	va := addr &^ (pageSize - 1)
	pte := x86.Walk(m.Root, va, AllocFrame)
	if pte == nil {
		return FaultOOM
	}
	switch {
	case !pte.Present() && !write && v.sharedFilePage(va) != 0:
		// Linux: do_read_fault mapping the page-cache page.
		*pte = userPTE(v.sharedFilePage(va), v)&^x86.PTEWrite | PTECOW | PTENoRef
		m.RSS++
		Stats.FileShared++
	case !pte.Present():
		pa := m.fillPage(v, va)
		if pa == 0 {
			return FaultOOM
		}
		*pte = userPTE(pa, v)
		m.RSS++
	case write && *pte&x86.PTEWrite == 0:
		if *pte&PTECOW == 0 {
			return FaultProt
		}
		if !doWPPage(pte) {
			return FaultOOM
		}
	}
	x86.Invlpg(va) // harmless when another tree is loaded
	Stats.UserFaults++
	return FaultMapped
}

// sharedFilePage returns the physical page holding the file's bytes for
// page va of v, when the process may map that page itself instead of a
// copy: the page lies wholly inside v.File (no bytes past the end to
// zero), and the file's memory there is one page of the kernel's own
// 4 KiB mappings (ramfs keeps mapped files page aligned). Otherwise 0.
//
// Such a page is mapped read-only and copy-on-write, with PTENoRef: the
// file owns the frame (v.File keeps its memory alive as long as the
// mapping exists), so no process counts or frees it, and a write gives
// the writer its own copy (doWPPage). Every process running a program
// thus executes the same physical pages, as on Linux, where they are the
// file's page-cache pages: besides the copy saved, under QEMU's TCG the
// code translated for those pages stays valid from one exec to the
// next, where a fresh copy had to be translated again every time (and
// the translations of the freed copy thrown away when the frame was
// written again).
func (v *UVMA) sharedFilePage(va uintptr) uintptr {
	off := va - v.Start + v.FileOff
	if v.File == nil || off+pageSize > uintptr(len(v.File)) {
		return 0
	}
	kva := uintptr(unsafe.Pointer(&v.File[off]))
	if kva%pageSize != 0 {
		return 0
	}
	kpte := x86.Walk(kernelRoot, kva, nil)
	if kpte == nil || !kpte.Present() {
		return 0
	}
	return kpte.Addr()
}

// fillPage returns a new frame with the contents va has before anyone
// wrote it: the file's bytes (zero past its end) or zeros.
func (m *MM) fillPage(v *UVMA, va uintptr) uintptr {
	off := va - v.Start + v.FileOff
	if v.File == nil || off >= uintptr(len(v.File)) {
		return AllocFrame()
	}
	pa := AllocFrameDirty()
	if pa == 0 {
		return 0
	}
	dst := unsafe.Slice((*byte)(x86.PhysPointer(pa)), pageSize)
	n := copy(dst, v.File[off:])
	clear(dst[n:])
	return pa
}

// userPTE is the entry for a fresh page of v: user-accessible, writable
// if the mapping is, executable only if it is.
func userPTE(pa uintptr, v *UVMA) x86.PTE {
	e := x86.PTE(pa) | x86.PTEPresent | x86.PTEUser
	if v.Prot&ProtExec == 0 {
		e |= x86.PTENoExec
	}
	if v.Prot&ProtWrite != 0 {
		e |= x86.PTEWrite
	}
	return e
}

// doWPPage gives a copy-on-write page a frame of its own (Linux:
// do_wp_page → wp_page_copy, or wp_page_reuse when no one else maps it).
func doWPPage(pte *x86.PTE) bool {
	old := pte.Addr()
	flags := *pte &^ (x86.PTEAddrMask | PTECOW | PTENoRef)
	fileOwned := *pte&PTENoRef != 0 // a file's page (sharedFilePage): always copied, never freed
	if !fileOwned && !FrameShared(old) {
		*pte = x86.PTE(old) | flags | x86.PTEWrite
		Stats.COWReused++
		return true
	}
	pa := AllocFrameDirty()
	if pa == 0 {
		return false
	}
	x86.CopyPage(x86.PhysToVirt(pa), x86.PhysToVirt(old))
	*pte = x86.PTE(pa) | flags | x86.PTEWrite
	if !fileOwned {
		FreeFrame(old)
	}
	Stats.COWCopied++
	return true
}

// findVMA returns the index of the mapping containing addr, or -1.
func (m *MM) findVMA(addr uintptr) int {
	lo, hi := 0, len(m.vmas)
	for lo < hi {
		mid := (lo + hi) / 2
		switch {
		case addr < m.vmas[mid].Start:
			hi = mid
		case addr >= m.vmas[mid].End:
			lo = mid + 1
		default:
			return mid
		}
	}
	return -1
}

// TrapCopyToUser copies n bytes from kernel memory at src to user address
// dst of the address space m points at, from trap context: pages are
// faulted in as the process's own write would. It reports false, having
// perhaps copied part, when it cannot — the address space is busy or the
// address is bad — and the caller then leaves the whole call to goroutine
// code.
func TrapCopyToUser(m uintptr, dst uintptr, src unsafe.Pointer, n uintptr) bool {
	mm := (*MM)(x86.VirtPointer(m))
	if mm.busy.Load() != 0 || dst+n < dst || dst+n > x86.UserEnd {
		return false
	}
	for done := uintptr(0); done < n; {
		va := dst + done
		pte := x86.Walk(mm.Root, va&^(pageSize-1), nil)
		if pte == nil || !pte.Present() || *pte&(x86.PTEWrite|x86.PTEUser) != x86.PTEWrite|x86.PTEUser {
			if mm.handleMMFault(va, FaultErrUser|FaultErrWrite) != FaultMapped {
				return false
			}
			pte = x86.Walk(mm.Root, va&^(pageSize-1), nil)
			if pte == nil || *pte&(x86.PTEPresent|x86.PTEWrite|x86.PTEUser) != x86.PTEPresent|x86.PTEWrite|x86.PTEUser {
				return false
			}
		}
		off := va & (pageSize - 1)
		chunk := min(n-done, pageSize-off)
		page := unsafe.Slice((*byte)(x86.PhysPointer(pte.Addr())), pageSize)
		copy(page[off:off+chunk], unsafe.Slice((*byte)(unsafe.Add(src, done)), chunk))
		done += chunk
	}
	return true
}
