// Package x86 holds the CPU mechanics of the kernel: descriptor tables, the
// trap entry, SYSCALL, port I/O, MSRs, control registers, paging formats
// and the legacy PIC/PIT. It imports nothing of ours.
//
// Rules for this package: most of it runs in trap context (on IST or
// kernel stacks, with a fake g). No allocation, no panics, no Go pointers
// stored into globals, no locks.
package x86

// Port I/O.
func Inb(port uint16) uint8
func Outb(port uint16, v uint8)
func Inw(port uint16) uint16
func Outw(port uint16, v uint16)
func Inl(port uint16) uint32
func Outl(port uint16, v uint32)

// Model-specific registers.
func Rdmsr(msr uint32) uint64
func Wrmsr(msr uint32, v uint64)

// MSR numbers.
const (
	MSREFER         = 0xC0000080
	MSRSTAR         = 0xC0000081
	MSRLSTAR        = 0xC0000082
	MSRFMASK        = 0xC0000084
	MSRFSBase       = 0xC0000100
	MSRGSBase       = 0xC0000101
	MSRKernelGSBase = 0xC0000102
)

// Control registers.
func ReadCR0() uint64
func WriteCR0(v uint64)
func ReadCR2() uint64
func ReadCR3() uint64
func WriteCR3(v uint64)
func ReadCR4() uint64
func WriteCR4(v uint64)
func Invlpg(addr uintptr)

// Cpuid executes CPUID for leaf and subleaf.
func Cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// Rdtsc reads the time-stamp counter.
func Rdtsc() uint64

// Rdrand returns a hardware random value when the CPU has one ready.
func Rdrand() (v uint64, ok bool)

// HasRDRAND reports whether CPUID advertises RDRAND.
func HasRDRAND() bool {
	_, _, ecx, _ := Cpuid(1, 0)
	return ecx&(1<<30) != 0
}

func Lgdt(ptr uintptr)
func Lidt(ptr uintptr)
func Ltr(sel uint16)
func ReloadSegments()

func Hlt()
func Sti()
func Cli()
func StiHlt()
func Pause()
func ReadRFLAGS() uint64

// ZeroPage clears the 4 KiB page at virtual address addr; CopyPage copies
// one (physical memory: pass PhysToVirt addresses).
func ZeroPage(addr uintptr)
func CopyPage(dst, src uintptr)

// RFLAGS bits.
const (
	FlagIF = 1 << 9
	FlagDF = 1 << 10
	FlagTF = 1 << 8
	FlagAC = 1 << 18
)
