package linux

import (
	"testing"
	"unsafe"
)

// vdso_amd64.s reads the clock struct by fixed offsets.
func TestClockLayout(t *testing.T) {
	if unsafe.Offsetof(clock.tscBoot) != 0 || unsafe.Offsetof(clock.mult) != 8 || unsafe.Offsetof(clock.realBase) != 16 {
		t.Fatalf("clock layout changed: update CLOCK_* in vdso_amd64.s")
	}
}

func TestElfHash(t *testing.T) {
	// The runtime's precomputed hash of its vDSO version (vdso_linux_amd64.go).
	if got := elfHash("LINUX_2.6"); got != 0x3ae75f6 {
		t.Fatalf("elfHash(LINUX_2.6) = %#x", got)
	}
	if got := elfHash("__vdso_clock_gettime"); got != 0xd35ec75 {
		t.Fatalf("elfHash(__vdso_clock_gettime) = %#x", got)
	}
}
