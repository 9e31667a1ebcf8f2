package x86

import "testing"

// groupMask must read back exactly the bit groupBit sets for each group,
// or flushUserTLB would skip a group that holds accessed entries.
func TestGroupMask(t *testing.T) {
	for i := 0; i < 512; i++ {
		e := PTE(0x1234000) | PTEPresent | PTEWrite | PTEUser | PTEAccessed | groupBit(i)
		if got, want := groupMask(e), uint16(1)<<(i>>5); got != want {
			t.Fatalf("entry %d: groupMask = %#x, want %#x", i, got, want)
		}
	}
	if e := PTE(0x000ffffffffff000) | PTEPresent | PTEWrite | PTEUser | PTEAccessed | PTENoExec | PTEHuge; groupMask(e) != 0 {
		t.Fatalf("groupMask of an entry with no group bits = %#x", groupMask(e))
	}
}

// The slot-group registry is a superset: a tree it does not know reads
// as every group.
func TestSlotsOf(t *testing.T) {
	NewUserRoot(0x5000)
	if got := slotsOf(0x5000); got != 0 {
		t.Fatalf("new root: %#x", got)
	}
	NewUserRoot(0x5000 + 64<<12) // same line: evicts 0x5000
	if got := slotsOf(0x5000); got != 0xffff {
		t.Fatalf("evicted root: %#x, want all groups", got)
	}
	if slotsOf(0) != 0 {
		t.Fatal("no tree: want no groups")
	}
}
