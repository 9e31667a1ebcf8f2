package mm

// Copies between the kernel and a user address space (Linux:
// copy_from_user, copy_to_user, strncpy_from_user, clear_user).
// Goroutine context.
//
// Two paths. The fast one, for the process whose goroutine is running (a
// system call's own), copies through the user's own mappings with a fault
// fixup (x86.CopyToUserDirect: the fault handler faults pages in as the
// process's own access would, and a fault it cannot resolve makes the copy
// report failure instead of crashing). Whenever it fails — another tree
// loaded, the address space busy, a bad page — the slow path decides: each
// page is looked up in the process's page tables under mu (faulting it in,
// or breaking copy-on-write for a write, exactly as the process's own
// access would) and copied through the direct map. A pointer into the
// kernel half, a non-canonical one, or one no mapping covers with the
// needed access gives EFAULT; nothing a process passes can make the kernel
// crash.

import (
	"syscall"
	"unsafe"

	"gomenuos/arch/x86"
)

// userRange reports whether [addr, addr+n) lies in the user half.
func userRange(addr, n uintptr) bool {
	return addr+n >= addr && addr+n <= x86.UserEnd
}

// pageFor returns the direct-map address of the page holding addr, after
// making it present (and writable for write) as a user access would.
func (m *MM) pageForLocked(addr uintptr, write bool) (uintptr, bool) {
	va := addr &^ (pageSize - 1)
	pte := x86.Walk(m.Root, va, nil)
	ok := pte != nil && pte.Present() && *pte&x86.PTEUser != 0 && (!write || *pte&x86.PTEWrite != 0)
	if !ok {
		code := uint64(FaultErrUser)
		if write {
			code |= FaultErrWrite
		}
		if pte != nil && pte.Present() {
			code |= FaultErrPresent
		}
		if m.handleMMFault(addr, code) != FaultMapped {
			return 0, false
		}
		pte = x86.Walk(m.Root, va, nil)
		if pte == nil || !pte.Present() || *pte&x86.PTEUser == 0 {
			return 0, false
		}
	}
	return x86.PhysToVirt(pte.Addr()), true
}

// direct reports whether the direct copies may be tried (see kernelOnly);
// x86's routines themselves check that m's tree is the running thread's.
func (m *MM) direct() bool { return !m.kernelOnly.Load() }

func (m *MM) id() uintptr { return uintptr(unsafe.Pointer(m)) }

// CopyFromUser copies len(dst) bytes from user address addr (Linux:
// copy_from_user).
func (m *MM) CopyFromUser(dst []byte, addr uintptr) error {
	if !userRange(addr, uintptr(len(dst))) {
		return syscall.EFAULT
	}
	if m.direct() && x86.CopyFromUserDirect(dst, addr, m.Root, m.id()) {
		return nil
	}
	m.lock()
	defer m.unlock()
	for len(dst) > 0 {
		page, ok := m.pageForLocked(addr, false)
		if !ok {
			return syscall.EFAULT
		}
		off := addr & (pageSize - 1)
		n := copy(dst, pageBytes(page)[off:])
		dst, addr = dst[n:], addr+uintptr(n)
	}
	return nil
}

// CopyToUser copies src to user address addr (Linux: copy_to_user).
func (m *MM) CopyToUser(addr uintptr, src []byte) error {
	if !userRange(addr, uintptr(len(src))) {
		return syscall.EFAULT
	}
	if m.direct() && x86.CopyToUserDirect(addr, src, m.Root, m.id()) {
		return nil
	}
	m.lock()
	defer m.unlock()
	for len(src) > 0 {
		page, ok := m.pageForLocked(addr, true)
		if !ok {
			return syscall.EFAULT
		}
		off := addr & (pageSize - 1)
		n := copy(pageBytes(page)[off:], src)
		src, addr = src[n:], addr+uintptr(n)
	}
	return nil
}

// StrncpyFromUser copies a NUL-terminated string of at most max bytes (the NUL
// not counted) from addr: ENAMETOOLONG when there is no NUL within max.
func (m *MM) StrncpyFromUser(addr uintptr, max int) (string, error) {
	m.lock()
	defer m.unlock()
	var buf []byte
	for len(buf) <= max {
		if !userRange(addr, 1) {
			return "", syscall.EFAULT
		}
		page, ok := m.pageForLocked(addr, false)
		if !ok {
			return "", syscall.EFAULT
		}
		b := pageBytes(page)[addr&(pageSize-1):]
		for i, c := range b {
			if c == 0 {
				return string(append(buf, b[:i]...)), nil
			}
		}
		buf = append(buf, b...)
		addr += uintptr(len(b))
	}
	return "", syscall.ENAMETOOLONG
}

// CheckAccess reports whether every page of [addr, addr+n) can be read
// (and written, with write) by the process, faulting pages in on the way
// (Linux: access_ok plus what the copy would find).
func (m *MM) CheckAccess(addr, n uintptr, write bool) bool {
	if !userRange(addr, n) {
		return false
	}
	if write && m.direct() && x86.FaultInWriteable(addr, n, m.Root, m.id()) {
		return true
	}
	m.lock()
	defer m.unlock()
	for va := addr &^ (pageSize - 1); va < addr+n; va += pageSize {
		if _, ok := m.pageForLocked(max(va, addr), write); !ok {
			return false
		}
	}
	return true
}

func pageBytes(va uintptr) []byte {
	return unsafe.Slice((*byte)(x86.VirtPointer(va)), pageSize)
}

// PhysAddr returns the physical address behind user address addr,
// faulting the page in (a shared futex's name).
func (m *MM) PhysAddr(addr uintptr) (uintptr, error) {
	if !userRange(addr, 1) {
		return 0, syscall.EFAULT
	}
	m.lock()
	defer m.unlock()
	page, ok := m.pageForLocked(addr, false)
	if !ok {
		return 0, syscall.EFAULT
	}
	return page - x86.DirectMap + addr&(pageSize-1), nil
}
