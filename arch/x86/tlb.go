package x86

import (
	"math/bits"
	"unsafe"
)

// Address-space switches without a TLB flush (the user half of the CPU's
// own PML4, Linux's switch_mm_irqs_off in arch/x86/mm/tlb.c in purpose,
// not in mechanism). Trap context: no allocation, integers only.
//
// Under QEMU's TCG a MOV to CR3 flushes the whole software TLB, every MMU
// index, and the CPU's table of recent translated blocks: after each
// process switch every kernel page and every translated block the switch
// path touches is looked up again (qemu: cpu_x86_update_cr3 → tlb_flush →
// tcg_flush_jmp_cache). On a pipe ping-pong that refill cost about two
// thirds of the time per switch (docs/performance.md). So the CPU keeps one
// PML4 loaded for good, the CPU root: its upper half is the kernel's, and
// its lower half a copy of the PML4 entries of the process tree that runs
// (the mirrored tree). Switching trees rewrites those 256 entries and
// invalidates, with INVLPG, only the user pages the outgoing tree may have
// in the TLB: the ones whose accessed bit is set, found by following the
// accessed bits down from the CPU root (the CPU sets them on every walk
// that fills a TLB entry, so a page whose bit is clear has no entry). The
// bits are cleared as they are found, so the next switch sees only what
// ran since. The kernel's translations, and TCG's translated blocks, stay.
//
// The lower half of the tables below the PML4 are the process's own, so
// the mirror only has to follow the PML4 entries: WalkLevel copies a new
// user-half PML4 entry of the mirrored tree into the CPU root as it makes
// it. An INVLPG also drops every paging-structure-cache entry (Intel SDM
// 4.10.4.1), so the stale PML4 entries of the outgoing tree go with the
// first one; a switch that finds nothing accessed issues one anyway.

// cpuRoot is the physical address of the CPU root, loaded at boot before
// any process tree exists (SetCPURoot); mirrored is the process tree whose
// lower half it holds (0: none, the lower half is empty). A non-zero
// mirrored implies cpuRoot is set.
var cpuRoot, mirrored uintptr

// A user-half entry that points at a table also says which groups of 32
// entries of that table may hold present ones, a bit per group in the bits
// the CPU ignores in an entry that is not a leaf (SDM table 4-15 to 4-19;
// bit 7 is the large-page bit, bit 63 execute-disable), so flushUserTLB
// reads only those groups. WalkLevel sets them on its way down whenever it
// may create an entry (alloc non-nil): every present user entry is made
// through it, and entries are only removed with the whole tree.
var groupBits = [16]uint8{6, 8, 9, 10, 11, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62}

func groupBit(index int) PTE { return 1 << groupBits[index>>5] }

// groupMask gathers the group bits of a table entry: bit g set when group
// g of the table it points at was used.
func groupMask(e PTE) uint16 {
	return uint16(e>>6&1 | e>>7&0x1e | e>>47&0xffe0)
}

// The PML4 has no entry above it to mark, so the groups of 16 user-half
// PML4 slots a tree may use are kept here, for the last trees made that
// hash to each line: a superset (a tree not found reads as all 16 groups,
// so an evicted line costs time, never a stale translation). NewUserRoot
// starts a tree's line empty; markGroup adds to it.
var rootSlots [64]slotLine

type slotLine struct {
	root uintptr
	mask uint16
}

func lineOf(root uintptr) *slotLine { return &rootSlots[root>>12&63] }

// slotsOf returns the slot groups root may use.
func slotsOf(root uintptr) uint16 {
	if root == 0 {
		return 0 // nothing mirrored: the user half is empty
	}
	if l := lineOf(root); l.root == root {
		return l.mask
	}
	return 0xffff
}

// NewUserRoot registers a new process tree (empty user half) at root.
func NewUserRoot(root uintptr) {
	l := lineOf(root)
	l.root, l.mask = root, 0
}

// markGroup records in e, root's entry at level for va, the group of the
// entry below it that va uses, in the CPU root's copy too when it mirrors
// root (keeping the copy's accessed bit).
func markGroup(root uintptr, e *PTE, va uintptr, level int) {
	if level == 3 {
		if l := lineOf(root); l.root == root {
			l.mask |= 1 << (Index(va, 3) >> 4)
		}
	}
	g := groupBit(Index(va, level-1))
	copyPML4E := level == 3 && root == mirrored
	if *e&g != 0 && !copyPML4E {
		return
	}
	*e |= g
	if copyPML4E {
		c := &TableAt(cpuRoot)[Index(va, 3)]
		*c = *e | *c&PTEAccessed
	}
}

// maxInvlpg is how many pages a switch invalidates one by one; past it a
// CR3 reload (a full flush) is cheaper.
const maxInvlpg = 64

// TLBStats counts what the switches did.
var TLBStats struct {
	Invlpgs     uint64 // pages invalidated one by one
	FullFlushes uint64 // switches that reloaded CR3 instead (maxInvlpg exceeded)
	Groups      uint64 // groups of 32 table entries read
}

// SetCPURoot makes the page at pa, a PML4 whose upper half is the
// kernel's and whose lower half is empty, the CPU root, and loads it.
func SetCPURoot(pa uintptr) {
	cpuRoot = pa
	mirrored = 0
	WriteCR3(uint64(pa))
}

// MirroredRoot returns the process tree whose user half the CPU runs
// with (0: none): the tree to invalidate pages of when changing its
// mappings.
func MirroredRoot() uintptr { return mirrored }

// SwitchUserRoot makes the user half of the CPU's address space that of
// the process tree root (Linux: switch_mm_irqs_off).
func SwitchUserRoot(root uintptr) {
	if root == mirrored {
		return
	}
	flushUserTLB()
	dst, src := TableAt(cpuRoot), TableAt(root)
	for m := slotsOf(mirrored); m != 0; m &= m - 1 {
		g := bits.TrailingZeros16(m) * 16
		clear(dst[g : g+16])
	}
	for m := slotsOf(root); m != 0; m &= m - 1 {
		g := bits.TrailingZeros16(m) * 16
		copy(dst[g:g+16], src[g:g+16])
	}
	mirrored = root
}

// DropUserRoot empties the CPU root's user half if it mirrors root, which
// is about to be freed: no translation of it may survive.
func DropUserRoot(root uintptr) {
	if root != mirrored {
		return
	}
	clear(TableAt(cpuRoot)[:256])
	mirrored = 0
	WriteCR3(uint64(cpuRoot))
}

// flushUserTLB invalidates every TLB entry of the mirrored tree's user
// half: each page whose accessed bit is set, clearing the bit, or the
// whole TLB when there are more than maxInvlpg of them.
func flushUserTLB() {
	pml4 := TableAt(cpuRoot)
	n := 0
	for m := slotsOf(mirrored); m != 0; m &= m - 1 {
		g := bits.TrailingZeros16(m) * 16
		for i, e := range pml4[g : g+16] {
			if e&(PTEPresent|PTEAccessed) == PTEPresent|PTEAccessed {
				n = flushAccessed(e, 2, uintptr(g+i)<<39, n)
			}
		}
	}
	switch {
	case n > maxInvlpg:
		WriteCR3(uint64(cpuRoot))
		TLBStats.FullFlushes++
	case n == 0:
		Invlpg(0) // the paging-structure caches still hold the old PML4 entries
	}
}

// flushAccessed clears the accessed bits in the table that parent points
// at (level 2 = PDPT ... 0 = PT, mapping from va) and below, in the groups
// of entries parent marks, invalidating each accessed page while n, the
// count so far, is at most maxInvlpg; it returns the new count.
func flushAccessed(parent PTE, level int, va uintptr, n int) int {
	t := (*[16][8][4]PTE)(unsafe.Pointer(TableAt(parent.Addr()))) // groups of 32, four at a time
	shift := 12 + 9*uint(level)
	for m := groupMask(parent); m != 0; m &= m - 1 { // the groups ever used
		g := bits.TrailingZeros16(m)
		TLBStats.Groups++
		for k := range t[g] {
			if q := &t[g][k]; (q[0]|q[1]|q[2]|q[3])&PTEAccessed != 0 { // most: one test for four
				n = flushQuad(q, level, va|uintptr(g*32+k*4)<<shift, n)
			}
		}
	}
	return n
}

// flushQuad is flushAccessed for four entries q of a table at level, the
// first mapping from va.
func flushQuad(q *[4]PTE, level int, va uintptr, n int) int {
	shift := 12 + 9*uint(level)
	for j, e := range q {
		if e&(PTEPresent|PTEAccessed) != PTEPresent|PTEAccessed {
			continue
		}
		q[j] = e &^ PTEAccessed
		a := va + uintptr(j)<<shift
		if level > 0 && !e.Huge() {
			n = flushAccessed(e, level-1, a, n)
			continue
		}
		n++
		if n <= maxInvlpg {
			Invlpg(a)
			TLBStats.Invlpgs++
		}
	}
	return n
}
