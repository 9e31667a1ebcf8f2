package linux

// A minimal vDSO: an ELF image in kernel memory, passed to the runtime as
// AT_SYSINFO_EHDR, whose one symbol __vdso_clock_gettime (version
// LINUX_2.6) is vdsoClockGettime. Without it every nanotime is a SYSCALL
// (about 1.3 µs under TCG, 100,000 a second under network load).
//
// The image holds only headers and tables; its PT_LOAD is placed (with a
// wrapping vaddr) so that the load address the runtime computes is the
// function's own address. That makes the runtime's inVDSOPage true for
// PCs inside the function, as on Linux.

import "unsafe"

func vdsoFuncPC() (start, end uintptr)

// Build-time layout of the image.
const (
	vdsoEhdr     = 0
	vdsoPhdr     = 64
	vdsoDyn      = vdsoPhdr + 2*56
	vdsoNDyn     = 9
	vdsoSym      = vdsoDyn + vdsoNDyn*16
	vdsoHash     = vdsoSym + 2*24
	vdsoVersym   = vdsoHash + 5*4
	vdsoVerdef   = vdsoVersym + 2*2
	vdsoStr      = vdsoVerdef + 2*28
	vdsoStrings  = "\x00__vdso_clock_gettime\x00LINUX_2.6\x00linux-vdso.so.1\x00"
	vdsoNameFunc = 1
	vdsoNameVer  = 22
	vdsoNameLib  = 32
	vdsoSize     = vdsoStr + len(vdsoStrings)
)

var vdsoImage [vdsoSize]byte

func put16(off int, v uint16) { *(*uint16)(unsafe.Pointer(&vdsoImage[off])) = v }
func put32(off int, v uint32) { *(*uint32)(unsafe.Pointer(&vdsoImage[off])) = v }
func put64(off int, v uint64) { *(*uint64)(unsafe.Pointer(&vdsoImage[off])) = v }

// elfHash is the SysV ELF hash (DT_HASH and vd_hash).
func elfHash(s string) uint32 {
	var h uint32
	for i := 0; i < len(s); i++ {
		h = h<<4 + uint32(s[i])
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
		}
		h &^= 0xf0000000
	}
	return h
}

// buildVDSO lays out the image and returns its address for AT_SYSINFO_EHDR.
func buildVDSO() uintptr {
	base := uintptr(unsafe.Pointer(&vdsoImage[0]))
	fn, end := vdsoFuncPC()
	// Addresses in the dynamic table and symbols are relative to the load
	// offset the runtime computes: hdr + p_offset - p_vaddr = fn.
	rel := func(off int) uint64 { return uint64(base + uintptr(off) - fn) }

	copy(vdsoImage[:], "\x7fELF\x02\x01\x01")
	put16(16, 3)  // ET_DYN
	put16(18, 62) // EM_X86_64
	put32(20, 1)
	put64(32, vdsoPhdr)
	put16(52, 64)
	put16(54, 56)
	put16(56, 2)
	put16(58, 64)

	put32(vdsoPhdr, 1)                  // PT_LOAD
	put32(vdsoPhdr+4, 5)                // R+X
	put64(vdsoPhdr+8, 0)                // p_offset
	put64(vdsoPhdr+16, uint64(base-fn)) // p_vaddr: makes the load offset fn
	put64(vdsoPhdr+32, uint64(end-fn))
	put64(vdsoPhdr+40, uint64(end-fn))
	put32(vdsoPhdr+56, 2) // PT_DYNAMIC
	put32(vdsoPhdr+56+4, 4)
	put64(vdsoPhdr+56+8, vdsoDyn)
	put64(vdsoPhdr+56+32, vdsoNDyn*16)

	dyn := [vdsoNDyn][2]uint64{
		{4, rel(vdsoHash)},             // DT_HASH
		{5, rel(vdsoStr)},              // DT_STRTAB
		{6, rel(vdsoSym)},              // DT_SYMTAB
		{10, uint64(len(vdsoStrings))}, // DT_STRSZ
		{11, 24},                       // DT_SYMENT
		{0x6ffffff0, rel(vdsoVersym)},  // DT_VERSYM
		{0x6ffffffc, rel(vdsoVerdef)},  // DT_VERDEF
		{0x6ffffffd, 2},                // DT_VERDEFNUM
		{0, 0},                         // DT_NULL
	}
	for i, d := range dyn {
		put64(vdsoDyn+16*i, d[0])
		put64(vdsoDyn+16*i+8, d[1])
	}

	sym := vdsoSym + 24 // symbol 1; symbol 0 stays null
	put32(sym, vdsoNameFunc)
	vdsoImage[sym+4] = 1<<4 | 2 // STB_GLOBAL, STT_FUNC
	put16(sym+6, 1)             // any defined section
	put64(sym+8, 0)             // at the load offset: fn itself
	put64(sym+16, uint64(end-fn))

	put32(vdsoHash, 1)   // nbucket
	put32(vdsoHash+4, 2) // nchain
	put32(vdsoHash+8, 1) // bucket[0] → symbol 1
	put16(vdsoVersym+2, 2)

	vd := vdsoVerdef // the base definition, then LINUX_2.6 as index 2
	for i, name := range [2]struct {
		off  int
		s    string
		flag uint16
	}{{vdsoNameLib, "linux-vdso.so.1", 1}, {vdsoNameVer, "LINUX_2.6", 0}} {
		put16(vd, 1)
		put16(vd+2, name.flag)
		put16(vd+4, uint16(i+1))
		put16(vd+6, 1)
		put32(vd+8, elfHash(name.s))
		put32(vd+12, 20)
		if i == 0 {
			put32(vd+16, 28)
		}
		put32(vd+20, uint32(name.off))
		vd += 28
	}
	copy(vdsoImage[vdsoStr:], vdsoStrings)
	return base
}
