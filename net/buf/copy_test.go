package buf

import (
	"bytes"
	"testing"
)

// Copy and Append give the same bytes as copy and append for every length
// and every alignment of either end, overlapping nothing.
func TestCopyMatchesCopy(t *testing.T) {
	src := make([]byte, 3*chunk+100)
	for i := range src {
		src[i] = byte(i*31 + i>>8)
	}
	for _, n := range []int{0, 1, 7, chunk, chunk + 1, 2*chunk + 13, 3 * chunk} {
		for so := 0; so < 9; so++ {
			for do := 0; do < 9; do++ {
				want := make([]byte, n+do+8)
				got := make([]byte, n+do+8)
				copy(want[do:], src[so:so+n])
				if k := Copy(got[do:do+n], src[so:so+n]); k != n || !bytes.Equal(got, want) {
					t.Fatalf("n=%d src+%d dst+%d: Copy = %d and differs", n, so, do, k)
				}
			}
		}
	}
	var a []byte
	var want []byte
	for i := 0; i < 20; i++ {
		piece := src[i : i+chunk/8*i]
		a = Append(a, piece)
		want = append(want, piece...)
	}
	if !bytes.Equal(a, want) {
		t.Fatal("Append differs from append")
	}
}

// Copy returns the shorter length, as copy does.
func TestCopyShortDst(t *testing.T) {
	src := make([]byte, 5000)
	dst := make([]byte, 3000)
	if n := Copy(dst, src); n != 3000 {
		t.Fatalf("Copy = %d, want 3000", n)
	}
}
