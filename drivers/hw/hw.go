// Package hw holds the small interfaces through which drivers reach the
// machine: port I/O, device memory, DMA memory and interrupts. The kernel
// implements them on bare metal; host tests implement them with fakes, so the
// drivers in drivers/pci and drivers/virtio build and run with plain go test.
package hw

import "errors"

// PortIO is x86 port I/O (IN/OUT instructions).
type PortIO interface {
	Inb(port uint16) uint8
	Outb(port uint16, v uint8)
	Inw(port uint16) uint16
	Outw(port uint16, v uint16)
	Inl(port uint16) uint32
	Outl(port uint16, v uint32)
}

// Memory gives drivers device registers and DMA memory.
type Memory interface {
	// MapMMIO returns a virtual address for size bytes of device registers at
	// phys, mapped uncached.
	MapMMIO(phys uint64, size uint64) (uintptr, error)
	// AllocDMA returns size bytes of zeroed, physically contiguous memory
	// aligned to align, outside the Go heap: never moved, never freed.
	AllocDMA(size, align int) (virt []byte, phys uint64, err error)
}

// RegsMapper is an optional upgrade of Memory: a Memory that can hand out
// register windows directly (test fakes emulating a device do) implements it,
// and MapRegs prefers it over MapMMIO.
type RegsMapper interface {
	MapRegs(phys uint64, size uint64) (Regs, error)
}

// IRQ is one interrupt source delivered to a goroutine.
//
// Contract with the kernel's trap handler: when the interrupt fires, the
// handler masks the source (needed for level-triggered INTx, harmless for
// MSI-X), records it and wakes the waiter. Wait unmasks the source, then
// blocks until it fired since the previous Wait returned. A driver therefore
// acknowledges the device (e.g. reads the virtio ISR) before its next Wait.
type IRQ interface {
	Wait() error
}

// SoftirqIRQ is an optional upgrade of an IRQ (an MSI): the kernel may run
// the driver's bottom half fn on the user task the interrupt finds,
// instead of waking Wait's goroutine (Linux: the softirq irq_exit runs on
// the interrupted task; sched/softirq.go). fn must be safe to run on any
// goroutine, alongside the driver's own, and report whether it woke a
// goroutine (say, a transmitter waiting for ring space). Interrupts that
// find no user task still end a Wait.
type SoftirqIRQ interface {
	IRQ
	SetSoftirq(fn func() (wokeOthers bool))
}

// IRQAllocator hands out interrupt sources.
type IRQAllocator interface {
	// LegacyIRQ returns the INTx source routed to line (config space 0x3C).
	LegacyIRQ(line uint8) (IRQ, error)
}

// MSIAllocator is an optional upgrade of IRQAllocator: an allocator that can
// route message-signalled interrupts implements it, and drivers then program
// MSI-X table entries with the returned address/data pair.
type MSIAllocator interface {
	AllocMSI() (irq IRQ, addr uint64, data uint32, err error)
}

// ErrNoIRQ reports that no interrupt source could be obtained.
var ErrNoIRQ = errors.New("hw: no interrupt source")
