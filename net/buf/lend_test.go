package buf

import "testing"

// TestPoolLendsUntilLastRelease: a pooled buffer comes back only when
// every reference is given back, whichever part of it each names.
func TestPoolLendsUntilLastRelease(t *testing.T) {
	p := NewPool(2, 64)
	defer UnregisterLender(p.mem)
	a, b := p.Get(), p.Get()
	if a == nil || b == nil || cap(a) != 64 || len(a) != 0 {
		t.Fatalf("Get: %d/%d, %v", len(a), cap(a), b == nil)
	}
	if p.Get() != nil {
		t.Fatal("a third buffer from a pool of two")
	}
	a = append(a, "some text"...)
	if !Hold(a[5:]) {
		t.Fatal("Hold does not know the pool's memory")
	}
	Release(a)
	if p.Get() != nil {
		t.Fatal("buffer back in the pool while a reference is held")
	}
	Release(a[7:])
	c := p.Get()
	if c == nil || &c[:1][0] != &a[0] {
		t.Fatal("the released buffer was not handed out again")
	}
	if Hold(make([]byte, 8)) {
		t.Fatal("Hold took a reference on memory no lender owns")
	}
	Release(b)
	Release(c[:1])
}
