package mm

import "testing"

func resetVMAs() { vmas.n = 0 }

func layout() []VMA { return append([]VMA(nil), vmas.v[:vmas.n]...) }

func TestInsertKeepsOrderAndFind(t *testing.T) {
	resetVMAs()
	insert(VMA{Start: 0x30000, End: 0x40000, Prot: ProtRead})
	insert(VMA{Start: 0x10000, End: 0x20000, Prot: ProtRead | ProtWrite})
	insert(VMA{Start: 0x50000, End: 0x60000})
	want := []uintptr{0x10000, 0x30000, 0x50000}
	for i, v := range layout() {
		if v.Start != want[i] {
			t.Fatalf("vma %d starts at %#x, want %#x", i, v.Start, want[i])
		}
	}
	for _, c := range []struct {
		addr uintptr
		idx  int
	}{{0x10000, 0}, {0x1ffff, 0}, {0x20000, -1}, {0x35000, 1}, {0x5ffff, 2}, {0x60000, -1}, {0x0, -1}} {
		if got := find(c.addr); got != c.idx {
			t.Errorf("find(%#x) = %d, want %d", c.addr, got, c.idx)
		}
	}
}

// munmap of a sub-range splits a mapping in two (Linux: __split_vma).
func TestCarveSplitsAndTrims(t *testing.T) {
	resetVMAs()
	insert(VMA{Start: 0x10000, End: 0x50000, Prot: ProtRead})
	insert(VMA{Start: 0x60000, End: 0x70000, Prot: ProtRead})
	if !carve(0x20000, 0x30000) {
		t.Fatal("carve failed")
	}
	got := layout()
	want := []VMA{{0x10000, 0x20000, ProtRead}, {0x30000, 0x50000, ProtRead}, {0x60000, 0x70000, ProtRead}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("vma %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A range covering the tail of one and the head of the next trims both.
	carve(0x40000, 0x68000)
	if got := layout(); len(got) != 3 || got[1].End != 0x40000 || got[2].Start != 0x68000 {
		t.Fatalf("after trim: %+v", got)
	}
	// Covering whole mappings removes them.
	carve(0, 1<<40)
	if vmas.n != 0 {
		t.Fatalf("left %+v", layout())
	}
}

// Without a usable hint, mappings go top-down below mmapBase into the
// highest gap that fits, like Linux's top-down allocator.
func TestFindFreeTopDown(t *testing.T) {
	resetVMAs()
	if got := findFree(0x1000); got != mmapBase-0x1000 {
		t.Fatalf("empty space: %#x", got)
	}
	insert(VMA{Start: mmapBase - 0x10000, End: mmapBase})
	insert(VMA{Start: mmapBase - 0x30000, End: mmapBase - 0x18000})
	// The 0x8000 gap between them fits 0x8000 but not 0x9000.
	if got := findFree(0x8000); got != mmapBase-0x18000 {
		t.Fatalf("gap fit: %#x", got)
	}
	if got := findFree(0x9000); got != mmapBase-0x39000 {
		t.Fatalf("below both: %#x", got)
	}
	if overlaps(mmapBase-0x18000, mmapBase-0x10000) {
		t.Fatal("gap reported as overlapping")
	}
	if !overlaps(mmapBase-0x11000, mmapBase-0x0f000) {
		t.Fatal("overlap not seen")
	}
}
