package x86

// Four-level page tables (PML4 → PDPT → PD → PT), 4 KiB pages.

// Page-table entry bits.
const (
	PTEPresent  = 1 << 0
	PTEWrite    = 1 << 1
	PTEUser     = 1 << 2
	PTEPWT      = 1 << 3
	PTEPCD      = 1 << 4
	PTEAccessed = 1 << 5
	PTEDirty    = 1 << 6
	PTEHuge     = 1 << 7
	PTEGlobal   = 1 << 8
	PTENoExec   = 1 << 63
	PTEAddrMask = 0x000FFFFFFFFFF000
)

// PageSize is the base page size.
const PageSize = 4096

// PTE is one page-table entry.
type PTE uint64

// Addr returns the physical address the entry points at.
func (e PTE) Addr() uintptr { return uintptr(e & PTEAddrMask) }

// Present reports whether the entry maps something.
func (e PTE) Present() bool { return e&PTEPresent != 0 }

// Huge reports whether a directory entry maps a large page.
func (e PTE) Huge() bool { return e&PTEHuge != 0 }

// Table views physical page-table memory through the direct map.
type Table [512]PTE

// TableAt returns the table at physical address pa.
func TableAt(pa uintptr) *Table { return (*Table)(PhysPointer(pa)) }

// Index returns the table index of va at level (3 = PML4 ... 0 = PT).
func Index(va uintptr, level int) int { return int(va>>(12+9*uint(level))) & 511 }

// Walk returns the last-level PTE for va in the tables rooted at root. When
// alloc is non-nil, missing intermediate tables are created with frames it
// returns (zeroed, or 0 if out of memory); otherwise a missing table gives
// nil. A huge mapping on the way also gives nil. Intermediate entries of
// the user half are created user-accessible: the leaf decides.
func Walk(root uintptr, va uintptr, alloc func() uintptr) *PTE {
	return WalkLevel(root, va, 0, alloc)
}

// WalkLevel is Walk stopping at level (1: the page-directory entry that
// maps a 2 MiB page).
func WalkLevel(root uintptr, va uintptr, stop int, alloc func() uintptr) *PTE {
	t := TableAt(root)
	for level := 3; level > stop; level-- {
		e := &t[Index(va, level)]
		if !e.Present() {
			if alloc == nil {
				return nil
			}
			pa := alloc()
			if pa == 0 {
				return nil
			}
			*e = PTE(pa) | PTEPresent | PTEWrite
			if va < UserEnd {
				*e |= PTEUser // tables of the user half hold only user pages
			}
		} else if e.Huge() {
			return nil
		}
		if alloc != nil && va < UserEnd {
			markGroup(root, e, va, level)
		}
		t = TableAt(e.Addr())
	}
	return &t[Index(va, stop)]
}
