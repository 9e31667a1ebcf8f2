package hw

import (
	"bytes"
	"testing"
	"unsafe"
)

func newTestMMIO() (*MMIO, *[16]byte) {
	var backing [2]uint64 // 8-aligned
	return NewMMIO(unsafe.Pointer(&backing), 16), (*[16]byte)(unsafe.Pointer(&backing))
}

func TestMMIOStoresHaveRegisterWidth(t *testing.T) {
	m, mem := newTestMMIO()
	m.Write8(1, 0xaa)
	m.Write16(2, 0xbbcc)
	m.Write32(4, 0x11223344)
	Write64(m, 8, 0x8877665544332211)
	want := []byte{0, 0xaa, 0xcc, 0xbb, 0x44, 0x33, 0x22, 0x11, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	if !bytes.Equal(mem[:], want) {
		t.Fatalf("memory = % x, want % x", mem[:], want)
	}
	if m.Read8(1) != 0xaa || m.Read16(2) != 0xbbcc || m.Read32(4) != 0x11223344 || Read64(m, 8) != 0x8877665544332211 {
		t.Fatalf("read back %#x %#x %#x %#x", m.Read8(1), m.Read16(2), m.Read32(4), Read64(m, 8))
	}
}

func TestMMIORejectsOutOfWindowAndMisaligned(t *testing.T) {
	m, _ := newTestMMIO()
	for _, access := range []func(){
		func() { m.Read32(14) },
		func() { m.Write16(3, 1) },
		func() { m.Read8(16) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("access did not panic")
				}
			}()
			access()
		}()
	}
}

type fakeMapper struct{ regs Regs }

func (f fakeMapper) MapMMIO(phys, size uint64) (uintptr, error) { panic("MapMMIO used") }
func (f fakeMapper) AllocDMA(size, align int) ([]byte, uint64, error) {
	panic("AllocDMA used")
}
func (f fakeMapper) MapRegs(phys, size uint64) (Regs, error) { return f.regs, nil }

func TestMapRegsPrefersRegsMapper(t *testing.T) {
	m, _ := newTestMMIO()
	got, err := MapRegs(fakeMapper{m}, 0xfe000000, 16)
	if err != nil || got != Regs(m) {
		t.Fatalf("MapRegs = %v, %v", got, err)
	}
}
