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

func TestTargets(t *testing.T) {
	if framed(2) != "xx!" || leaf(1, 2) != 5 {
		t.Fatal("the probe targets compute nonsense")
	}
}
