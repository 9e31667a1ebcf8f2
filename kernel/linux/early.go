// Package linux hosts the stock Go runtime: it boots the CPU, then plays
// the Linux kernel underneath the runtime — the syscalls it makes (memory,
// threads, futexes, signals, time, epoll/eventfd) and the faults it takes.
//
// Everything in this package except api.go runs in trap context: on a
// kernel or IST stack with a fake g, interrupts off. Rules: no allocation,
// no panics, no Go pointers stored into globals, no blocking, no locks a
// goroutine could hold.
package linux

import (
	"unsafe"

	"gomenuos/arch/x86"
	"gomenuos/drivers/uart"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

var (
	bootStack [32 << 10]byte  // early() runs here
	procStack [256 << 10]byte // the runtime's m0 stack (argc/argv/envp/auxv at its top)
	fakeG     [64]uint64      // g for trap context: stackguard0 = 0, so no morestack
	kernelTLS [4]uint64       // [0] = &fakeG, FS base = &kernelTLS[1]
	bootMagic uint64
	bootInfo  uint64
	// bootImagePhys is where the boot stub put the image (RDX at entry).
	bootImagePhys uint64
)

// Boot records what early() found, for /proc and the shell.
var Boot struct {
	RAMBytes    uint64
	KernelStart uint64 // physical extent of the image (text, data, bss)
	KernelEnd   uint64
	KernelFile  uint64 // bytes of text and data; the rest up to KernelEnd is bss
	InitrdStart uint64
	InitrdEnd   uint64
	Cmdline     [512]byte
	CmdlineLen  int
	TSCHz       uint64
	TSC         x86.TSCCalibration // how TSCHz was measured
	EntryTSC    uint64             // TSC at kernel entry
	RuntimeTSC  uint64             // TSC when the runtime was entered
}

type multibootInfo struct {
	flags, memLower, memUpper, bootDevice, cmdline, modsCount, modsAddr uint32
}

type multibootMod struct{ start, end, str, _ uint32 }

func kernelFSBase() uint64 { return uint64(uintptr(unsafe.Pointer(&kernelTLS[1]))) }

// early runs before the runtime: CPU tables, memory, timers, scheduler,
// then builds the process stack the runtime starts on.
func early() uintptr {
	Boot.EntryTSC = x86.Rdtsc()
	uart.Init()
	kputs("gomenuos: kernel entered\n")
	if bootMagic != 0x2BADB002 {
		kputs("gomenuos: not booted by multiboot\n")
		shutdown(3)
	}
	x86.InitCPU(&x86.BootCPU, 0, uintptr(kernelFSBase()))
	x86.SetTrapHandler(trap)
	x86.SetFastSyscallHandler(userFastSyscall, identityNRs[:]...)
	x86.SetRunUserHandler(SysRunUser, runUser)
	x86.SetUserSyscallHandler(userSyscall)
	mbi := (*multibootInfo)(physPtr(uintptr(bootInfo)))
	parseMultiboot(mbi)
	if !mm.InitKernelPageTables(kernelSegments[:nKernelSegments]) {
		kputs("gomenuos: no memory for the kernel page tables\n")
		shutdown(3)
	}
	if !mm.InitCPURoot() {
		kputs("gomenuos: no memory for the kernel page tables\n")
		shutdown(3)
	}
	x86.InitPIC()
	x86.InitVirtualWire()
	startConsoleInput()
	Boot.TSC = x86.CalibrateTSC()
	Boot.TSCHz = Boot.TSC.Hz
	logTSC(&Boot.TSC)
	initClock(Boot.TSCHz)
	x86.InitPIT(HZ)
	x86.UnmaskIRQ(0)
	sched.Init(kernelFSBase(), monotonicNS())
	sched.SoftirqFallback = msiWakeDriver
	initRandom()
	sp := buildProcessStack()
	Boot.RuntimeTSC = x86.Rdtsc()
	return sp
}

// startConsoleInput has COM1's receive interrupt fill the UART's ring from
// here on, while the runtime starts: bytes typed ahead wait there for the
// console goroutine. uart.TopHalf is a static function value (no
// allocation), and no write barrier exists before the runtime runs.
func startConsoleInput() {
	irqTop[uart.IRQ] = uart.TopHalf
	uart.EnableRxInterrupt()
	x86.UnmaskIRQ(uart.IRQ)
}

func parseMultiboot(mbi *multibootInfo) {
	Boot.RAMBytes = (1 << 20) + uint64(mbi.memUpper)<<10
	if mbi.flags&(1<<2) != 0 {
		n := 0
		for p := uintptr(mbi.cmdline); n < len(Boot.Cmdline)-1; n++ {
			c := *(*byte)(physPtr(p + uintptr(n)))
			if c == 0 {
				break
			}
			Boot.Cmdline[n] = c
		}
		Boot.CmdlineLen = n
	}
	freeStart := uintptr(0)
	if mbi.flags&(1<<3) != 0 && mbi.modsCount > 0 {
		mods := (*[8]multibootMod)(physPtr(uintptr(mbi.modsAddr)))
		for i := 0; i < int(mbi.modsCount) && i < 8; i++ {
			if e := uintptr(mods[i].end); e > freeStart {
				freeStart = e
			}
		}
		Boot.KernelStart, Boot.KernelEnd = elfExtent(uintptr(mods[0].start))
		if mbi.modsCount > 1 {
			Boot.InitrdStart, Boot.InitrdEnd = uint64(mods[1].start), uint64(mods[1].end)
		}
	}
	if uintptr(Boot.KernelEnd) > freeStart {
		freeStart = uintptr(Boot.KernelEnd)
	}
	top := uintptr(Boot.RAMBytes)
	if top > 3<<30 {
		top = 3 << 30 // stay below the PCI hole
	}
	mm.InitFrames(freeStart, top)
}

// kernelSegments are the image's PT_LOADs, for its page tables.
var (
	kernelSegments  [8]mm.Segment
	nKernelSegments int
)

// elfExtent records the kernel ELF's PT_LOADs (the module at physical
// address img) and returns the physical range they occupy: the boot stub
// put the first 2 MiB page of the image at bootImagePhys.
func elfExtent(img uintptr) (lo, hi uint64) {
	img = x86.PhysToVirt(img)
	phoff := load64(img + 32)
	phentsize := uintptr(*(*uint16)(ptr(img + 54)))
	phnum := int(*(*uint16)(ptr(img + 56)))
	lo = ^uint64(0)
	for i := 0; i < phnum; i++ {
		ph := img + uintptr(phoff) + uintptr(i)*phentsize
		if load32(ph) != 1 { // PT_LOAD
			continue
		}
		flags, vaddr, filesz, memsz := load32(ph+4), load64(ph+16), load64(ph+32), load64(ph+40)
		Boot.KernelFile += filesz
		if vaddr < lo {
			lo = vaddr
		}
		if vaddr+memsz > hi {
			hi = vaddr + memsz
		}
		if nKernelSegments < len(kernelSegments) {
			kernelSegments[nKernelSegments] = mm.Segment{Virt: uintptr(vaddr), Size: uintptr(memsz),
				Write: flags&2 != 0, Exec: flags&1 != 0}
			nKernelSegments++
		}
	}
	x86.ImageVirt = uintptr(lo) &^ (2<<20 - 1)
	x86.ImagePhys = uintptr(bootImagePhys)
	return uint64(x86.KernelVirtToPhys(uintptr(lo))), uint64(x86.KernelVirtToPhys(uintptr(hi)))
}

// Auxiliary vector tags.
const (
	atNull   = 0
	atPagesz = 6
	atRandom = 25
	atVDSO   = 33 // AT_SYSINFO_EHDR
)

// buildProcessStack lays out argc, argv, envp and auxv at the top of
// procStack the way Linux's execve does, and returns the stack pointer.
// argv[0] is "gomenuos"; the kernel command line's words follow.
func buildProcessStack() uintptr {
	top := uintptr(unsafe.Pointer(&procStack[len(procStack)-1])) + 1
	strs := top - 1024 // string area: argv words and the AT_RANDOM bytes
	p := strs
	var argv [32]uintptr
	argc := 0
	put := func(s []byte) {
		argv[argc] = p
		argc++
		for _, c := range s {
			*(*byte)(ptr(p)) = c
			p++
		}
		*(*byte)(ptr(p)) = 0
		p++
	}
	const name = "gomenuos"
	argv[argc] = p
	argc++
	for i := 0; i < len(name); i++ {
		*(*byte)(ptr(p)) = name[i]
		p++
	}
	*(*byte)(ptr(p)) = 0
	p++
	cmd := Boot.Cmdline[:Boot.CmdlineLen]
	first := true
	for i := 0; i < len(cmd) && argc < len(argv)-1; {
		for i < len(cmd) && cmd[i] == ' ' {
			i++
		}
		j := i
		for j < len(cmd) && cmd[j] != ' ' {
			j++
		}
		if j > i {
			if !first && p+uintptr(j-i)+1 < top-32 { // the first word is the boot stub's path
				put(cmd[i:j])
			}
			first = false
		}
		i = j
	}
	rnd := (p + 15) &^ 15
	fillRandom(rnd, 16)

	sp := (strs - uintptr(8*(1+argc+1+1+8))) &^ 15
	w := sp
	push := func(v uint64) { store64(w, v); w += 8 }
	push(uint64(argc))
	for i := 0; i < argc; i++ {
		push(uint64(argv[i]))
	}
	push(0) // argv end
	push(0) // envp end (empty environment)
	push(atPagesz)
	push(4096)
	push(atRandom)
	push(uint64(rnd))
	if !cmdlineHas("novdso") {
		push(atVDSO)
		push(uint64(buildVDSO()))
	}
	push(atNull)
	push(0)
	return sp
}

// cmdlineHas reports whether the kernel command line has the word w.
func cmdlineHas(w string) bool {
	cmd := Boot.Cmdline[:Boot.CmdlineLen]
	for i := 0; i+len(w) <= len(cmd); i++ {
		if (i == 0 || cmd[i-1] == ' ') && string(cmd[i:i+len(w)]) == w && (i+len(w) == len(cmd) || cmd[i+len(w)] == ' ') {
			return true
		}
	}
	return false
}
