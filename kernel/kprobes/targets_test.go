package kprobes_test

import (
	"strings"
	"testing"
)

// Probe targets for kprobes_test.go, outside package kprobes (whose own
// functions are refused).

//go:noinline
func framed(n int) string { return strings.Repeat("x", n) + "!" }

//go:noinline
func leaf(a, b int) int { return a*3 + b }

// bigFrame's frame is larger than the stack check's slack, so its
// prologue starts with LEA -N(SP), R12.
//
//go:noinline
func bigFrame(n int) byte {
	var buf [1024]byte
	for i := range buf {
		buf[i] = byte(i * n)
	}
	return buf[n%len(buf)] + framed(0)[0]
}

func TestTargets(t *testing.T) {
	if framed(2) != "xx!" || leaf(1, 2) != 5 || bigFrame(3) != 3*3+'!' {
		t.Fatal("the probe targets compute nonsense")
	}
}
