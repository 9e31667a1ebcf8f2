package linux

// Goroutine-context API: what the rest of the kernel (drivers, /proc, the
// shell) may call once the runtime runs. Nothing here runs in trap context.

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"

	"gomenuos/arch/x86"
	"gomenuos/drivers/power"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// IRQ delivers one legacy interrupt line to a goroutine.
type IRQ struct {
	f   *os.File
	buf [8]byte
	msi int // the MSI vector slot; -1 for a legacy line
}

// OpenIRQ binds legacy IRQ line to a new IRQ. top, if not nil, runs in
// trap context on every interrupt before the waiter is woken: it must
// acknowledge the device and follow trap-context rules.
func OpenIRQ(line uint8, top func()) (*IRQ, error) {
	irqTop[line] = top
	fd, _, errno := syscall.Syscall(SysIRQFD, uintptr(line), 0, 0)
	if errno != 0 {
		return nil, errno
	}
	return &IRQ{f: os.NewFile(fd, "irq"), msi: -1}, nil
}

var nextMSI atomic.Int32

// OpenMSI allocates a message-signalled interrupt vector and returns its
// waiter with the address/data pair a device must write to raise it.
func OpenMSI() (q *IRQ, addr uint64, data uint32, err error) {
	idx := nextMSI.Add(1) - 1
	if idx >= x86.NumMSI {
		return nil, 0, 0, errors.New("msi: no vector left")
	}
	fd, _, errno := syscall.Syscall(SysMSIFD, uintptr(idx), 0, 0)
	if errno != 0 {
		return nil, 0, 0, errno
	}
	return &IRQ{f: os.NewFile(fd, "msi"), msi: int(idx)}, x86.MSIAddress, uint32(x86.VectorMSIBase + idx), nil
}

// SetSoftirq makes fn the bottom half of an MSI: the user task the
// interrupt finds runs it in place of waking Wait (sched.RegisterSoftirq).
// It reports false for a legacy line, whose mask Wait must lift.
func (q *IRQ) SetSoftirq(fn func() (wokeOthers bool)) bool {
	if q.msi < 0 {
		return false
	}
	sched.RegisterSoftirq(q.msi, fn)
	return true
}

// Wait blocks until the line has interrupted since the last Wait and
// returns how many interrupts there were.
func (q *IRQ) Wait() (uint64, error) {
	n, err := q.f.Read(q.buf[:])
	if err != nil {
		return 0, err
	}
	if n != 8 {
		return 0, errors.New("irq: short read")
	}
	v := uint64(0)
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(q.buf[i])
	}
	sched.NoteIRQsTaken(v)
	return v, nil
}

// PowerOff turns the machine off (QEMU exits 0).
func PowerOff() { power.Off() }

// Exit leaves QEMU with status 2·code+1 after the exit report.
func Exit(code uint8) { syscall.Syscall(231, uintptr(code), 0, 0) }

// AllocDMA returns physically contiguous memory outside the Go heap (seen
// through the direct map) and its physical address.
func AllocDMA(size, align int) ([]byte, uint64, error) {
	pa := mm.AllocContig(uintptr(size), uintptr(align))
	if pa == 0 {
		return nil, 0, errors.New("dma: out of memory")
	}
	return physSlice(pa, size), uint64(pa), nil
}

// MemInfo reports physical memory in bytes.
func MemInfo() (total, free, dma uint64) {
	f, t := mm.FreeFrames()
	return uint64(t) * 4096, uint64(f) * 4096, mm.DMAPoolSize
}

// ThreadInfo is one row of the thread table for ps and /proc.
type ThreadInfo struct {
	TID      int32
	State    string
	Wait     string
	Switches uint64
	CPUTime  int64
}

// Threads snapshots the thread table (racy but consistent enough for ps).
func Threads() []ThreadInfo {
	var out []ThreadInfo
	for i := 1; i < sched.MaxThreads; i++ {
		t := sched.Table[i]
		if t.State == sched.Free {
			continue
		}
		out = append(out, ThreadInfo{t.TID, t.State.String(), t.Wait.Kind.String(), t.Switches, t.CPUTime})
	}
	return out
}

// NumThreads counts live kernel threads (the idle thread excluded).
func NumThreads() int { return sched.NumThreads() }

// SyscallCounts returns the per-number syscall counters.
func SyscallCounts() map[int]uint64 {
	m := map[int]uint64{}
	for nr, c := range Counters.Syscalls {
		if c != 0 {
			m[nr] = c
		}
	}
	return m
}

// IRQCounts returns interrupts per legacy line.
func IRQCounts() [16]uint64 { return Counters.IRQs }

// MMSwitchStats returns the address-space switches and what they did
// (arch/x86/tlb.go): pages invalidated one by one, full flushes, groups of
// 32 page-table entries read.
func MMSwitchStats() (switches, invlpgs, flushes, groups uint64) {
	s := &x86.TLBStats
	return sched.Stats.MMSwitches, s.Invlpgs, s.FullFlushes, s.Groups
}

// SchedStats returns context switches, preemptions and signals delivered.
func SchedStats() (switches, preemptions, signals uint64) {
	return sched.Stats.Switches, sched.Stats.Preemptions, Counters.Signals
}

// PageFaults returns demand-zero faults served and pages unmapped.
func PageFaults() (faults, unmapped uint64) { return mm.Stats.PageFaults, mm.Stats.Unmapped }

// PeakMemory returns the most frames ever in use, in bytes.
func PeakMemory() uint64 { return uint64(mm.Stats.PeakUsed) * 4096 }

// TSCCalibration returns how early boot measured the TSC's rate.
func TSCCalibration() x86.TSCCalibration { return Boot.TSC }

// BootTimes returns TSC ticks per second and the TSC at runtime entry.
func BootTimes() (hz, runtime uint64) { return Boot.TSCHz, Boot.RuntimeTSC }

// Initrd returns the initramfs module's bytes (nil if none).
func Initrd() []byte {
	if Boot.InitrdEnd <= Boot.InitrdStart {
		return nil
	}
	return physSlice(uintptr(Boot.InitrdStart), int(Boot.InitrdEnd-Boot.InitrdStart))
}

// InvalidOpcode executes UD2 (for the crash command).
func InvalidOpcode()

// IdleNS is the time the CPU spent in the idle thread.
func IdleNS() int64 { return sched.Table[0].CPUTime }

// Touched estimates the RAM the kernel has actually used: the kernel's
// text and data, the pages handed out to the runtime and page tables, and
// the DMA memory drivers took. bss is reported apart: it is zero and mostly
// never touched (the boot stub only writes where it is not already zero).
func Touched() (image, bss, pages, dma uint64) {
	free, total := mm.FreeFrames()
	return Boot.KernelFile, Boot.KernelEnd - Boot.KernelStart - Boot.KernelFile,
		uint64(total-free) * 4096, uint64(mm.DMAUsed())
}

// BootNS converts a TSC reading to ns since kernel entry.
func BootNS(tsc uint64) int64 {
	if Boot.TSCHz == 0 {
		return 0
	}
	return int64((tsc - Boot.EntryTSC) * 1000 / (Boot.TSCHz / 1_000_000))
}

// MSICounts returns interrupts per MSI vector slot (vector VectorMSIBase+i).
func MSICounts() [x86.NumMSI]uint64 { return Counters.MSIs }
