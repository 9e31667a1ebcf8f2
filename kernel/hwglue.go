package main

// The machine as drivers see it (drivers/hw): port I/O, MMIO and DMA
// memory, and legacy interrupt lines delivered to goroutines.

import (
	"errors"

	"gomenuos/arch/x86"
	"gomenuos/drivers/hw"
	"gomenuos/kernel/linux"
)

type portIO struct{}

func (portIO) Inb(p uint16) uint8      { return x86.Inb(p) }
func (portIO) Outb(p uint16, v uint8)  { x86.Outb(p, v) }
func (portIO) Inw(p uint16) uint16     { return x86.Inw(p) }
func (portIO) Outw(p uint16, v uint16) { x86.Outw(p, v) }
func (portIO) Inl(p uint16) uint32     { return x86.Inl(p) }
func (portIO) Outl(p uint16, v uint32) { x86.Outl(p, v) }

type kmem struct{}

// MapMMIO: everything below 4 GiB (RAM and the PCI hole) is in the
// kernel's direct map.
func (kmem) MapMMIO(phys, size uint64) (uintptr, error) {
	if phys+size > x86.DirectSize {
		return 0, errors.New("hw: MMIO above 4 GiB is not mapped")
	}
	return x86.PhysToVirt(uintptr(phys)), nil
}

func (kmem) AllocDMA(size, align int) ([]byte, uint64, error) { return linux.AllocDMA(size, align) }

// PCI INTx is level-triggered: the line stays asserted until the driver
// reads the device's ISR in goroutine context. So the top half only masks
// the line (Linux: a threaded IRQ with IRQF_ONESHOT) and Wait unmasks it
// before sleeping again. A plain function per line keeps the top half
// allocation-free.
var maskTop = [16]func(){
	3: func() { x86.MaskIRQ(3) }, 5: func() { x86.MaskIRQ(5) },
	9: func() { x86.MaskIRQ(9) }, 10: func() { x86.MaskIRQ(10) },
	11: func() { x86.MaskIRQ(11) },
}

type kirqs struct{}

type legacyIRQ struct {
	q    *linux.IRQ
	line uint8
}

func (kirqs) LegacyIRQ(line uint8) (hw.IRQ, error) {
	if int(line) >= len(maskTop) || maskTop[line] == nil {
		return nil, hw.ErrNoIRQ
	}
	q, err := linux.OpenIRQ(line, maskTop[line])
	if err != nil {
		return nil, err
	}
	return &legacyIRQ{q, line}, nil
}

func (l *legacyIRQ) Wait() error {
	x86.Cli() // the PIC mask is shared with trap context
	x86.UnmaskIRQ(l.line)
	x86.Sti()
	_, err := l.q.Wait()
	return err
}

// AllocMSI hands a driver a message-signalled interrupt (preferred over
// INTx: edge-triggered, one per device, nothing to mask). The device writes
// data (the vector) to addr (the boot CPU's local APIC).
func (kirqs) AllocMSI() (hw.IRQ, uint64, uint32, error) {
	q, addr, data, err := linux.OpenMSI()
	if err != nil {
		return nil, 0, 0, err
	}
	return msiIRQ{q}, addr, data, nil
}

type msiIRQ struct{ q *linux.IRQ }

func (m msiIRQ) Wait() error {
	_, err := m.q.Wait()
	return err
}

// SetSoftirq implements hw.SoftirqIRQ.
func (m msiIRQ) SetSoftirq(fn func() (wokeOthers bool)) { m.q.SetSoftirq(fn) }
