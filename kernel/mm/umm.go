package mm

// User address spaces (Linux: struct mm_struct, mm/mmap.c, mm/mprotect.c).
// Goroutine context: these functions allocate and block on MM.mu.
//
// A process's tree copies the kernel's upper-half PML4 entries, so kernel
// code, the direct map and the Go runtime's memory are present in every
// tree, supervisor-only; the lower half is the process's own, laid out as
// Linux lays out a static binary: text at its link address (0x400000, or a
// random base for static-PIE), brk after bss, mmap areas top-down below
// the stack, the stack at the top.

import (
	"sync"
	"sync/atomic"
	"syscall"

	"gomenuos/arch/x86"
)

// Layout of a user address space.
const (
	UserMin     = 0x10000                        // lowest mappable address (Linux: mmap_min_addr)
	StackTop    = 0x7ffffffff000                 // highest stack address (Linux: TASK_SIZE & PAGE_MASK)
	StackSize   = 8 << 20                        // the stack mapping (RLIMIT_STACK's default)
	MmapTop     = StackTop - StackSize - 128<<20 // mmap areas grow down from here
	PageSize    = pageSize
	maxUserVMAs = 65530 // Linux: vm.max_map_count
)

// Mapping flags of a UVMA.
const (
	VMShared = 1 << iota // MAP_SHARED: fork shares the frames, no copy-on-write
	VMStack              // the main thread's stack
	VMHeap               // the brk area
)

// UVMA is one mapping of a user address space [Start, End) (Linux: struct
// vm_area_struct).
type UVMA struct {
	Start, End uintptr
	Prot       uint32 // ProtRead | ProtWrite | ProtExec
	Flags      uint32 // VMShared, VMStack, VMHeap
	// File, for a private file mapping, holds the file's bytes from the
	// mapping's offset: page p of the mapping starts as File[p*4096:],
	// zero past its end (ELF bss, the tail of a data segment).
	File    []byte
	FileOff uintptr // offset in File of Start (after a split)
	Name    string  // what /proc/PID/maps shows: a path, [heap], [stack]
	Ino     uint64  // the file's inode number, for /proc/PID/maps
}

// MM is a user address space.
//
// Lock contract: mu guards vmas, the brk fields and the lower half of the
// page tables for goroutine code; busy is set whenever mu is held, so the
// trap-context fault handler (which cannot take mu) knows to leave the
// fault to goroutine code.
type MM struct {
	mu   sync.Mutex
	busy atomic.Uint32

	Root     uintptr // physical address of the PML4
	vmas     []UVMA  // sorted, disjoint
	BrkStart uintptr // start of the heap (end of bss, page aligned)
	Brk      uintptr // current break
	RSS      int     // resident pages this tree's faults mapped (approximate)
	users    atomic.Int32
	// kernelOnly is set once a PROT_NONE mprotect may have left present
	// pages mapped for the kernel only (reprotect): a kernel access there
	// would not fault, so the direct user copies (uaccess.go) are off for
	// this address space from then on. Sticky, and inherited by fork.
	kernelOnly atomic.Bool
}

// NewMM returns an empty address space whose upper half is the kernel's.
func NewMM() (*MM, error) {
	root := AllocFrame()
	if root == 0 {
		return nil, syscall.ENOMEM
	}
	src, dst := x86.TableAt(kernelRoot), x86.TableAt(root)
	copy(dst[256:], src[256:])
	x86.NewUserRoot(root)
	m := &MM{Root: root}
	m.users.Store(1)
	Stats.AddressSpaces.Add(1)
	return m, nil
}

// lock takes mu and marks the tables busy for the fault handler.
func (m *MM) lock() {
	m.mu.Lock()
	m.busy.Store(1)
}

func (m *MM) unlock() {
	m.busy.Store(0)
	m.mu.Unlock()
}

// Get adds a user of the address space (a CLONE_VM thread or vfork child;
// Linux: mmget).
func (m *MM) Get() *MM { m.users.Add(1); return m }

// Put drops a user; the last one frees every page and table (Linux:
// mmput → exit_mmap). The caller must have made sure no thread runs with
// this tree loaded (see the scheduler's DropRoot).
func (m *MM) Put(dropRoot func(root uintptr)) {
	if m.users.Add(-1) > 0 {
		return
	}
	dropRoot(m.Root)
	m.lock()
	for _, v := range m.vmas {
		m.zapLocked(v.Start, v.End)
	}
	freeTables(m.Root, 3)
	m.vmas = nil
	m.unlock()
	Stats.AddressSpaces.Add(-1)
}

// freeTables frees the page-table frame pa at level (3 = PML4, 0 = a
// page table) and every table below it in the lower half; the pages the
// leaves mapped are already freed.
func freeTables(pa uintptr, level int) {
	if level > 0 {
		t := x86.TableAt(pa)
		n := 512
		if level == 3 {
			n = 256 // the upper half is the kernel's, shared
		}
		for i := 0; i < n; i++ {
			if t[i].Present() {
				freeTables(t[i].Addr(), level-1)
			}
			t[i] = 0
		}
	}
	FreeFrame(pa)
}

// VMAs returns a copy of the mappings (for /proc/PID/maps).
func (m *MM) VMAs() []UVMA {
	m.lock()
	defer m.unlock()
	return append([]UVMA(nil), m.vmas...)
}

// Map creates a mapping (Linux: do_mmap). With fixed the range replaces
// whatever was there; otherwise addr is a hint, and the highest free gap
// below MmapTop is used when it does not fit. Returns the address.
func (m *MM) Map(addr, length uintptr, fixed bool, v UVMA) (uintptr, error) {
	m.lock()
	defer m.unlock()
	return m.mapLocked(addr, length, fixed, v)
}

func (m *MM) mapLocked(addr, length uintptr, fixed bool, v UVMA) (uintptr, error) {
	if length == 0 || length > x86.UserEnd {
		return 0, syscall.EINVAL
	}
	length = pageAlign(length)
	switch {
	case fixed:
		if addr&(pageSize-1) != 0 || addr < UserMin || addr+length > x86.UserEnd || addr+length < addr {
			return 0, syscall.EINVAL
		}
		m.unmapRangeLocked(addr, addr+length)
	case addr >= UserMin && addr&(pageSize-1) == 0 && addr+length <= x86.UserEnd && addr+length > addr &&
		!m.overlapsLocked(addr, addr+length):
	default:
		addr = m.findFreeLocked(length)
		if addr == 0 {
			return 0, syscall.ENOMEM
		}
	}
	if len(m.vmas) >= maxUserVMAs {
		return 0, syscall.ENOMEM
	}
	v.Start, v.End = addr, addr+length
	m.insertLocked(v)
	return addr, nil
}

// findFreeLocked returns the highest gap of length below MmapTop.
func (m *MM) findFreeLocked(length uintptr) uintptr {
	top := uintptr(MmapTop)
	for i := len(m.vmas) - 1; i >= 0; i-- {
		v := m.vmas[i]
		if v.Start >= top {
			continue
		}
		if v.End <= top-length {
			return top - length
		}
		top = v.Start
	}
	if top-length >= UserMin && top > length {
		return top - length
	}
	return 0
}

func (m *MM) overlapsLocked(start, end uintptr) bool {
	for _, v := range m.vmas {
		if v.Start < end && start < v.End {
			return true
		}
	}
	return false
}

func (m *MM) insertLocked(v UVMA) {
	i := len(m.vmas)
	m.vmas = append(m.vmas, UVMA{})
	for i > 0 && m.vmas[i-1].Start > v.Start {
		m.vmas[i] = m.vmas[i-1]
		i--
	}
	m.vmas[i] = v
}

// carveLocked removes [start, end) from the mapping list, splitting the
// mappings that straddle it (Linux: __split_vma).
func (m *MM) carveLocked(start, end uintptr) {
	out := m.vmas[:0:0]
	for _, v := range m.vmas {
		if v.End <= start || v.Start >= end {
			out = append(out, v)
			continue
		}
		if v.Start < start {
			lo := v
			lo.End = start
			out = append(out, lo)
		}
		if v.End > end {
			hi := v
			hi.FileOff += end - v.Start
			hi.Start = end
			out = append(out, hi)
		}
	}
	m.vmas = out
}

// Unmap removes [addr, addr+length) (Linux: do_munmap).
func (m *MM) Unmap(addr, length uintptr) error {
	if addr&(pageSize-1) != 0 || length == 0 || addr+pageAlign(length) > x86.UserEnd || addr+length < addr {
		return syscall.EINVAL
	}
	m.lock()
	defer m.unlock()
	m.unmapRangeLocked(addr, addr+pageAlign(length))
	return nil
}

func (m *MM) unmapRangeLocked(start, end uintptr) {
	// Pages exist only inside mappings: zap those parts of the range.
	n := 0
	for _, v := range m.vmas {
		if v.End > start && v.Start < end {
			n += m.zapLocked(max(v.Start, start), min(v.End, end))
		}
	}
	m.carveLocked(start, end)
	m.flushLocked(start, end, n)
}

// zapLocked frees the pages of [start, end) and clears their entries
// (Linux: zap_page_range), returning how many there were.
func (m *MM) zapLocked(start, end uintptr) int {
	n := 0
	walkPTEs(m.Root, 3, start, end, func(_ uintptr, pte *x86.PTE) bool {
		if pte.Present() {
			if *pte&PTENoRef == 0 {
				FreeFrame(pte.Addr())
			}
			*pte = 0
			n++
			m.RSS--
		}
		return true
	})
	return n
}

// walkPTEs calls fn with the last-level entry of every page of
// [start, end) whose page table exists, in address order, until fn
// returns false; it reports whether fn never did. It goes down the tree
// once per table, skipping whole ranges whose upper-level entry is empty
// (Linux: the pgd/p4d/pud/pmd loops of zap_page_range and
// copy_page_range), where a walk from the root for each page cost a
// quarter of fork's and exit's time for the 8 MiB stack mapping alone.
func walkPTEs(table uintptr, level int, start, end uintptr, fn func(va uintptr, pte *x86.PTE) bool) bool {
	t := x86.TableAt(table)
	size := uintptr(1) << (12 + 9*level)
	for va := start; va < end; {
		next := va&^(size-1) + size
		e := &t[x86.Index(va, level)]
		switch {
		case level == 0:
			if !fn(va, e) {
				return false
			}
		case e.Present() && !e.Huge():
			if !walkPTEs(e.Addr(), level-1, va, min(next, end), fn) {
				return false
			}
		}
		va = next
	}
	return true
}

// nextTable returns the last page before the next page-table boundary, so
// a walk skips a missing table at once.
func nextTable(va uintptr) uintptr {
	return (va+2<<20)&^(2<<20-1) - pageSize
}

// flushLocked drops stale translations of [start, end) if this tree is
// the one loaded (one CPU: another tree's translations were flushed when
// it was loaded).
func (m *MM) flushLocked(start, end uintptr, changed int) {
	if changed == 0 || x86.MirroredRoot() != m.Root {
		return
	}
	if changed > 64 {
		x86.WriteCR3(x86.ReadCR3())
		return
	}
	for va := start; va < end; va += pageSize {
		x86.Invlpg(va)
	}
}

func (m *MM) flushAllLocked() {
	if x86.MirroredRoot() == m.Root {
		x86.WriteCR3(x86.ReadCR3())
	}
}

// Protect changes the protection of whole pages (Linux: mprotect_fixup).
func (m *MM) Protect(addr, length uintptr, prot uint32) error {
	if addr&(pageSize-1) != 0 || addr+pageAlign(length) > x86.UserEnd || addr+length < addr {
		return syscall.EINVAL
	}
	end := addr + pageAlign(length)
	m.lock()
	defer m.unlock()
	if prot&(ProtRead|ProtWrite|ProtExec) == 0 {
		m.kernelOnly.Store(true)
	}
	for va := addr; va < end; {
		i := m.findVMA(va)
		if i < 0 {
			return syscall.ENOMEM // Linux: part of the range is not mapped
		}
		va = m.vmas[i].End
	}
	var changed []UVMA
	for _, v := range m.vmas {
		if v.End > addr && v.Start < end {
			changed = append(changed, v)
		}
	}
	m.carveLocked(addr, end)
	for _, v := range changed {
		s, e := max(v.Start, addr), min(v.End, end)
		v.FileOff += s - v.Start
		v.Start, v.End, v.Prot = s, e, prot
		m.insertLocked(v)
	}
	n := 0
	for va := addr; va < end; va += pageSize {
		pte := x86.Walk(m.Root, va, nil)
		if pte == nil {
			va = nextTable(va)
			continue
		}
		if pte.Present() {
			*pte = reprotect(*pte, prot)
			n++
		}
	}
	m.flushLocked(addr, end, n)
	return nil
}

// reprotect rewrites a present PTE's access bits; a copy-on-write page
// stays read-only until a write fault gives it its own frame, and a
// PROT_NONE page stays present for the kernel only.
func reprotect(e x86.PTE, prot uint32) x86.PTE {
	e &^= x86.PTEWrite | x86.PTENoExec | x86.PTEUser
	if prot&(ProtRead|ProtWrite|ProtExec) != 0 {
		e |= x86.PTEUser
	}
	if prot&ProtWrite != 0 && e&PTECOW == 0 {
		e |= x86.PTEWrite
	}
	if prot&ProtExec == 0 {
		e |= x86.PTENoExec
	}
	return e
}

// SetBrk moves the break (Linux: brk). The heap mapping grows or shrinks
// with it; a break that would run into another mapping stays put. Returns
// the break in effect.
func (m *MM) SetBrk(brk uintptr) uintptr {
	m.lock()
	defer m.unlock()
	if brk < m.BrkStart || brk > x86.UserEnd {
		return m.Brk
	}
	oldEnd, newEnd := pageAlign(m.Brk), pageAlign(brk)
	switch {
	case newEnd > oldEnd:
		if m.overlapsLocked(oldEnd, newEnd) {
			return m.Brk
		}
		if i := m.findVMA(oldEnd - 1); i >= 0 && m.vmas[i].Flags&VMHeap != 0 {
			m.vmas[i].End = newEnd
		} else {
			m.insertLocked(UVMA{Start: oldEnd, End: newEnd, Prot: ProtRead | ProtWrite, Flags: VMHeap, Name: "[heap]"})
		}
	case newEnd < oldEnd:
		m.unmapRangeLocked(newEnd, oldEnd)
	}
	m.Brk = brk
	return brk
}

// Fault handles a fault that trap context left to goroutine code.
func (m *MM) Fault(addr uintptr, errCode uint64) FaultResult {
	m.lock()
	defer m.unlock()
	return m.handleMMFault(addr, errCode)
}

// DupMM returns a copy-on-write copy of the address space (Linux:
// dup_mmap + copy_page_range): both trees map the same frames read-only
// and a write gives the writer its own copy; shared mappings stay shared.
func (m *MM) DupMM() (*MM, error) {
	child, err := NewMM()
	if err != nil {
		return nil, err
	}
	m.lock()
	defer m.unlock()
	child.vmas = append([]UVMA(nil), m.vmas...)
	child.BrkStart, child.Brk, child.RSS = m.BrkStart, m.Brk, m.RSS
	child.kernelOnly.Store(m.kernelOnly.Load())
	n := 0
	for _, v := range m.vmas {
		shared := v.Flags&VMShared != 0
		ok := walkPTEs(m.Root, 3, v.Start, v.End, func(va uintptr, pte *x86.PTE) bool {
			if !pte.Present() {
				return true
			}
			cpte := x86.Walk(child.Root, va, AllocFrame)
			if cpte == nil || !copyPTE(pte, cpte, shared) {
				return false
			}
			n++
			return true
		})
		if !ok {
			child.users.Store(1)
			m.unlock()
			child.Put(func(uintptr) {})
			m.lock()
			return nil, syscall.ENOMEM
		}
	}
	if n > 0 {
		m.flushAllLocked() // the parent's writable pages are read-only now
	}
	return child, nil
}

// copyPTE makes the child's entry for a present parent entry.
func copyPTE(pte, cpte *x86.PTE, shared bool) bool {
	e := *pte
	switch {
	case e&PTENoRef != 0:
	case shared:
		if !GetFrame(e.Addr()) {
			return copyPage(e, cpte)
		}
	default:
		if !GetFrame(e.Addr()) {
			return copyPage(e, cpte)
		}
		if e&x86.PTEWrite != 0 || e&PTECOW == 0 {
			e = e&^x86.PTEWrite | PTECOW
			*pte = e
		}
	}
	*cpte = e
	return true
}

// copyPage gives the child a copy of a frame shared too many times.
func copyPage(e x86.PTE, cpte *x86.PTE) bool {
	pa := AllocFrameDirty()
	if pa == 0 {
		return false
	}
	x86.CopyPage(x86.PhysToVirt(pa), x86.PhysToVirt(e.Addr()))
	*cpte = x86.PTE(pa) | e&^(x86.PTEAddrMask|PTECOW)
	return true
}

// DropPages frees the pages of [addr, addr+length) but keeps the mappings:
// the next touch faults in zeros, or the file's bytes (Linux:
// madvise(MADV_DONTNEED) → zap_page_range).
func (m *MM) DropPages(addr, length uintptr) error {
	if !userRange(addr, length) {
		return syscall.EINVAL
	}
	end := addr + pageAlign(length)
	m.lock()
	defer m.unlock()
	n := 0
	for _, v := range m.vmas {
		if v.End > addr && v.Start < end {
			n += m.zapLocked(max(v.Start, addr), min(v.End, end))
		}
	}
	m.flushLocked(addr, end, n)
	return nil
}

// Remap resizes the mapping at old (Linux: mremap): shrinking unmaps the
// tail, growing extends it in place when the pages after it are free, or
// with mayMove moves its pages (their frames, not copies) elsewhere.
func (m *MM) Remap(old, oldLen, newLen uintptr, mayMove bool) (uintptr, error) {
	if old&(pageSize-1) != 0 || newLen == 0 || !userRange(old, oldLen) || !userRange(old, newLen) {
		return 0, syscall.EINVAL
	}
	oldLen, newLen = pageAlign(oldLen), pageAlign(newLen)
	m.lock()
	defer m.unlock()
	i := m.findVMA(old)
	if i < 0 || m.vmas[i].End < old+oldLen {
		return 0, syscall.EFAULT
	}
	v := m.vmas[i]
	switch {
	case newLen <= oldLen:
		m.unmapRangeLocked(old+newLen, old+oldLen)
		return old, nil
	case old+oldLen == v.End && !m.overlapsLocked(v.End, old+newLen) && old+newLen <= MmapTop:
		m.vmas[i].End = old + newLen
		return old, nil
	case !mayMove:
		return 0, syscall.ENOMEM
	}
	to := m.findFreeLocked(newLen)
	if to == 0 {
		return 0, syscall.ENOMEM
	}
	for off := uintptr(0); off < oldLen; off += pageSize {
		pte := x86.Walk(m.Root, old+off, nil)
		if pte == nil || !pte.Present() {
			continue
		}
		npte := x86.Walk(m.Root, to+off, AllocFrame)
		if npte == nil {
			return 0, syscall.ENOMEM
		}
		*npte, *pte = *pte, 0
	}
	nv := v
	nv.FileOff += old - v.Start
	nv.Start, nv.End = to, to+newLen
	m.carveLocked(old, old+oldLen)
	m.insertLocked(nv)
	m.flushAllLocked()
	return to, nil
}
