package exec

import (
	"encoding/binary"
	"syscall"

	"gomenuos/kernel/mm"
)

// Auxiliary vector tags (Linux: include/uapi/linux/auxvec.h).
const (
	atNull          = 0
	atPhdr          = 3
	atPhent         = 4
	atPhnum         = 5
	atPagesz        = 6
	atBase          = 7
	atFlags         = 8
	atEntry         = 9
	atUID           = 11
	atEUID          = 12
	atGID           = 13
	atEGID          = 14
	atPlatform      = 15
	atHWCap         = 16
	atClkTck        = 17
	atSecure        = 23
	atRandom        = 25
	atHWCap2        = 26
	atExecFn        = 31
	atSysinfoEHdr   = 33
	atMinSigStkSz   = 51
	MinSigStackSize = 2048 // our signal frame: registers, siginfo and a 512-byte FXSAVE image
)

// MaxArgBytes bounds argv plus envp (Linux: MAX_ARG_STRLEN-ish limits;
// ARG_MAX is a quarter of the 8 MiB stack).
const MaxArgBytes = 2 << 20

// StackInfo is what the stack setup needs besides the image.
type StackInfo struct {
	Argv, Envp []string
	ExecFn     string   // the path given to execve (AT_EXECFN)
	Random     [16]byte // AT_RANDOM's bytes
	HWCap      uint64   // CPUID.1:EDX (AT_HWCAP)
	VDSO       uintptr  // AT_SYSINFO_EHDR, 0 for none
	Jitter     uintptr  // random bytes to leave free at the top (ASLR)
}

// CreateElfTables maps the stack and writes argc, argv, envp and the auxiliary
// vector the way Linux's create_elf_tables does, returning the initial
// stack pointer (pointing at argc).
func CreateElfTables(m *mm.MM, img *Image, si StackInfo) (uintptr, error) {
	size := len(si.ExecFn) + 1 + len("x86_64") + 1 + 16
	for _, s := range append(append([]string(nil), si.Argv...), si.Envp...) {
		size += len(s) + 1
	}
	if size > MaxArgBytes {
		return 0, syscall.E2BIG
	}
	if _, err := m.Map(mm.StackTop-mm.StackSize, mm.StackSize, true,
		mm.UVMA{Prot: mm.ProtRead | mm.ProtWrite, Flags: mm.VMStack, Name: "[stack]"}); err != nil {
		return 0, err
	}
	top := (mm.StackTop - 16 - si.Jitter) &^ 15
	strs := (top - uintptr(size)) &^ 15
	var sb []byte
	put := func(s string) uintptr {
		a := strs + uintptr(len(sb))
		sb = append(append(sb, s...), 0)
		return a
	}
	execfn := put(si.ExecFn)
	platform := put("x86_64")
	random := strs + uintptr(len(sb))
	sb = append(sb, si.Random[:]...)
	argv := make([]uintptr, len(si.Argv))
	for i, s := range si.Argv {
		argv[i] = put(s)
	}
	envp := make([]uintptr, len(si.Envp))
	for i, s := range si.Envp {
		envp[i] = put(s)
	}
	aux := [][2]uint64{
		{atPhdr, uint64(img.Phdr)}, {atPhent, 56}, {atPhnum, uint64(img.Phnum)},
		{atPagesz, mm.PageSize}, {atBase, 0}, {atFlags, 0}, {atEntry, uint64(img.Entry)},
		{atUID, 0}, {atEUID, 0}, {atGID, 0}, {atEGID, 0}, {atSecure, 0},
		{atHWCap, si.HWCap}, {atHWCap2, 0}, {atClkTck, 100}, {atPlatform, uint64(platform)},
		{atRandom, uint64(random)}, {atExecFn, uint64(execfn)}, {atMinSigStkSz, MinSigStackSize},
	}
	if si.VDSO != 0 {
		aux = append(aux, [2]uint64{atSysinfoEHdr, uint64(si.VDSO)})
	}
	aux = append(aux, [2]uint64{atNull, 0})
	words := 1 + len(argv) + 1 + len(envp) + 1 + 2*len(aux)
	sp := (strs - uintptr(words)*8) &^ 15
	vec := make([]byte, 0, words*8)
	w := func(v uint64) { vec = binary.LittleEndian.AppendUint64(vec, v) }
	w(uint64(len(argv)))
	for _, a := range argv {
		w(uint64(a))
	}
	w(0)
	for _, e := range envp {
		w(uint64(e))
	}
	w(0)
	for _, a := range aux {
		w(a[0])
		w(a[1])
	}
	if err := m.CopyToUser(strs, sb); err != nil {
		return 0, err
	}
	if err := m.CopyToUser(sp, vec); err != nil {
		return 0, err
	}
	return sp, nil
}
