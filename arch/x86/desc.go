package x86

import "unsafe"

// Segment selectors. The user pair follows the SYSRET layout (STAR[63:48]
// = UserDS-8: SYSRET loads SS = base+8 and CS = base+16).
const (
	KernelCS = 0x08
	KernelDS = 0x10
	UserDS   = 0x18 | 3
	UserCS   = 0x20 | 3
	TSSSel   = 0x28
)

// IST slots (1-based, as the IDT gate encodes them).
const (
	ISTIRQ       = 1 // device interrupts and the timer
	ISTPageFault = 2 // #PF: may nest inside trap-context code
	ISTDouble    = 3 // #DF gets a stack of its own
	ISTNMI       = 4 // NMI and #MC
	ISTFault     = 5 // all other exceptions
	numIST       = 5
)

const istStackSize = 32 << 10

// tss is the 64-bit task-state segment. Its 8-byte fields sit at 4-byte
// offsets, so it is kept as bytes.
type tss [104]byte

func (t *tss) set64(off int, v uint64) { *(*uint64)(unsafe.Pointer(&t[off])) = v }

// SetRSP0 sets the stack the CPU loads on a ring 3 → ring 0 transition.
func (t *tss) SetRSP0(v uint64)       { t.set64(4, v) }
func (t *tss) setIST(n int, v uint64) { t.set64(36+8*(n-1), v) }

// CPU is one processor's descriptor tables, stacks and GS block.
type CPU struct {
	gdt    [7]uint64
	tss    tss
	_      [8]byte
	PerCPU PerCPU
	ist    [numIST][istStackSize]byte
	// bootTrapStack takes traps until the scheduler gives the CPU a
	// thread's kernel stack.
	bootTrapStack [istStackSize]byte
}

// Two IDTs, shared by all CPUs: 256 16-byte gates each. The trap exit
// path loads the one that fits the ring it returns to (PerCPU.IDTMode).
//
//   - idtUser, while user code runs: like Linux's, IST stacks only for NMI,
//     #DF and #MC; every other interrupt or exception from ring 3 lands on
//     the stack in TSS.RSP0 — the running thread's kernel stack, which
//     switchTo keeps current.
//   - idtKernel, while kernel code runs: every gate has an IST stack. Go
//     code runs on goroutine stacks that the runtime carves out of
//     demand-paged memory; a fault on a stack page not yet touched could
//     not push its frame onto that page, and an interrupt pushing onto it
//     would fault the same way. Linux has no such case: its kernel stacks
//     are always mapped. The entry moves the frame from the IST stack to
//     the thread's kernel stack (trap_amd64.s), freeing the IST stack for
//     a nested fault.
var idtKernel, idtUser [256][2]uint64

// IDT descriptors for LIDT, read by the trap exit path.
var idtKernelDesc, idtUserDesc descPtr

// stubTable returns the entry address of every vector stub (vectors_amd64.s).
func stubTable() *[256]uintptr

// BootCPU is CPU 0.
var BootCPU CPU

type descPtr struct {
	_     [6]byte
	limit uint16
	base  uint64
}

// InitCPU loads the GDT (with this CPU's TSS), the IDT, the GS block and
// the SYSCALL MSRs. kernelFS is the kernel TLS block for trap context.
func InitCPU(c *CPU, id int, kernelFS uintptr) {
	c.gdt[1] = 0x00AF9A000000FFFF // kernel code, 64-bit
	c.gdt[2] = 0x00CF92000000FFFF // kernel data
	c.gdt[3] = 0x00CFF2000000FFFF // user data (DPL 3)
	c.gdt[4] = 0x00AFFA000000FFFF // user code, 64-bit (DPL 3)
	base := uint64(uintptr(unsafe.Pointer(&c.tss)))
	limit := uint64(len(c.tss) - 1)
	c.gdt[5] = limit&0xFFFF | (base&0xFFFFFF)<<16 | 0x89<<40 | (base>>24&0xFF)<<56
	c.gdt[6] = base >> 32
	for n := 1; n <= numIST; n++ {
		c.tss.setIST(n, uint64(uintptr(unsafe.Pointer(&c.ist[n-1][istStackSize-16]))))
	}
	*(*uint16)(unsafe.Pointer(&c.tss[102])) = uint16(len(c.tss)) // no I/O bitmap
	loadTable(uintptr(unsafe.Pointer(&c.gdt)), len(c.gdt)*8, Lgdt)
	ReloadSegments()
	Ltr(TSSSel)
	initIDT()
	setDesc(&idtKernelDesc, uintptr(unsafe.Pointer(&idtKernel)), len(idtKernel)*16)
	setDesc(&idtUserDesc, uintptr(unsafe.Pointer(&idtUser)), len(idtUser)*16)
	Lidt(uintptr(unsafe.Pointer(&idtKernelDesc.limit)))

	c.PerCPU.Self = uint64(uintptr(unsafe.Pointer(&c.PerCPU)))
	c.PerCPU.CPUID = uint64(id)
	c.PerCPU.KernelFS = uint64(kernelFS)
	c.SetKernelStack(uint64(uintptr(unsafe.Pointer(&c.bootTrapStack[istStackSize-16]))))
	Wrmsr(MSRGSBase, c.PerCPU.Self)
	Wrmsr(MSRKernelGSBase, c.PerCPU.Self)

	Wrmsr(MSREFER, Rdmsr(MSREFER)|1|1<<11) // SCE, NXE
	Wrmsr(MSRSTAR, uint64(KernelCS)<<32|uint64(UserDS-8)<<48)
	Wrmsr(MSRLSTAR, uint64(syscallEntryPC()))
	Wrmsr(MSRFMASK, FlagIF|FlagDF|FlagTF|FlagAC)
}

// SetKernelStack records the running thread's kernel stack top: SYSCALL
// switches to it and the TSS hands it out on a ring change (Linux:
// __switch_to updating cpu_current_top_of_stack and tss.sp0).
func (c *CPU) SetKernelStack(top uint64) {
	top &^= 15 // trap frames need 16-byte alignment (FXSAVE)
	c.PerCPU.KStackTop = top
	c.tss.SetRSP0(top)
}

func loadTable(base uintptr, size int, load func(uintptr)) {
	var p descPtr
	setDesc(&p, base, size)
	load(uintptr(unsafe.Pointer(&p.limit)))
}

func setDesc(p *descPtr, base uintptr, size int) {
	p.limit = uint16(size - 1)
	p.base = uint64(base)
}

// initIDT fills every gate of both tables as an interrupt gate (IF
// cleared on entry). Only #BP and #OF may be raised from ring 3 by
// INT3/INTO (DPL 3, as in Linux); any other INT n from user code is a #GP.
func initIDT() {
	stubs := stubTable()
	for v := range idtKernel {
		ist := ISTIRQ
		switch v {
		case 2, 18:
			ist = ISTNMI
		case 8:
			ist = ISTDouble
		case 14:
			ist = ISTPageFault
		default:
			if v < 32 {
				ist = ISTFault
			}
		}
		userIST := 0
		if v == 2 || v == 8 || v == 18 {
			userIST = ist
		}
		dpl := uint64(0)
		if v == 3 || v == 4 {
			dpl = 3
		}
		idtKernel[v] = gate(stubs[v], ist, dpl)
		idtUser[v] = gate(stubs[v], userIST, dpl)
	}
}

// gate encodes a present 64-bit interrupt gate.
func gate(off uintptr, ist int, dpl uint64) [2]uint64 {
	o := uint64(off)
	return [2]uint64{o&0xFFFF | uint64(KernelCS)<<16 | uint64(ist)<<32 | (0x8E|dpl<<5)<<40 | (o>>16&0xFFFF)<<48, o >> 32}
}
