package mm

// VMAs: the runtime's mappings, kept sorted by address in a fixed array
// (Linux: mm_struct's VMA tree, without the tree).

// Protection bits (as mmap's prot).
const (
	ProtRead  = 1
	ProtWrite = 2
	ProtExec  = 4
)

// VMA is one mapping [Start, End).
type VMA struct {
	Start, End uintptr
	Prot       uint32
}

// MaxVMAs bounds the table; the runtime creates a few dozen.
const MaxVMAs = 1024

var vmas struct {
	v [MaxVMAs]VMA
	n int
}

// find returns the index of the VMA containing addr, or -1.
func find(addr uintptr) int {
	lo, hi := 0, vmas.n
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case addr < vmas.v[m].Start:
			hi = m
		case addr >= vmas.v[m].End:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// Lookup returns the VMA containing addr.
func Lookup(addr uintptr) (VMA, bool) {
	if i := find(addr); i >= 0 {
		return vmas.v[i], true
	}
	return VMA{}, false
}

// overlaps reports whether any VMA intersects [start, end).
func overlaps(start, end uintptr) bool {
	for i := 0; i < vmas.n; i++ {
		if vmas.v[i].Start < end && start < vmas.v[i].End {
			return true
		}
	}
	return false
}

// insert adds a VMA that overlaps nothing. It returns false when full.
func insert(v VMA) bool {
	if vmas.n == MaxVMAs {
		return false
	}
	i := vmas.n
	for i > 0 && vmas.v[i-1].Start > v.Start {
		vmas.v[i] = vmas.v[i-1]
		i--
	}
	vmas.v[i] = v
	vmas.n++
	return true
}

func removeAt(i int) {
	copy(vmas.v[i:vmas.n-1], vmas.v[i+1:vmas.n])
	vmas.n--
}

// carve removes [start, end) from the VMA table, splitting VMAs that
// straddle it. It returns false if a split would overflow the table.
func carve(start, end uintptr) bool {
	for i := 0; i < vmas.n; {
		v := vmas.v[i]
		if v.End <= start || v.Start >= end {
			i++
			continue
		}
		switch {
		case v.Start < start && v.End > end: // split in two
			if vmas.n == MaxVMAs {
				return false
			}
			vmas.v[i].End = start
			insert(VMA{Start: end, End: v.End, Prot: v.Prot})
			return true
		case v.Start < start:
			vmas.v[i].End = start
			i++
		case v.End > end:
			vmas.v[i].Start = end
			i++
		default:
			removeAt(i)
		}
	}
	return true
}

// NumVMAs reports the number of mappings.
func NumVMAs() int { return vmas.n }
