package virtiotest

import (
	"errors"
	"sync"

	"gomenuos/drivers/hw"
)

// ErrIRQClosed ends a Wait after Close.
var ErrIRQClosed = errors.New("virtiotest: interrupt source closed")

// IRQ is a fake hw.IRQ: Fire latches, Wait consumes the latch. It is a
// hw.SoftirqIRQ too: Softirq is the bottom half the driver registered,
// for a test to run as a user task would.
type IRQ struct {
	fired   chan struct{}
	once    sync.Once
	done    chan struct{}
	Softirq func() (wokeOthers bool)
}

// SetSoftirq implements hw.SoftirqIRQ.
func (i *IRQ) SetSoftirq(fn func() (wokeOthers bool)) { i.Softirq = fn }

// NewIRQ returns an idle interrupt source.
func NewIRQ() *IRQ { return &IRQ{fired: make(chan struct{}, 1), done: make(chan struct{})} }

// Fire raises the interrupt.
func (i *IRQ) Fire() {
	select {
	case i.fired <- struct{}{}:
	default:
	}
}

// Wait implements hw.IRQ.
func (i *IRQ) Wait() error {
	select {
	case <-i.fired:
		return nil
	case <-i.done:
		return ErrIRQClosed
	}
}

// Close makes every Wait return ErrIRQClosed.
func (i *IRQ) Close() { i.once.Do(func() { close(i.done) }) }

// Allocator hands out the device's IRQ for its legacy line.
type Allocator struct{ Dev *Device }

// LegacyIRQ implements hw.IRQAllocator.
func (a Allocator) LegacyIRQ(line uint8) (hw.IRQ, error) {
	if line != 11 {
		return nil, hw.ErrNoIRQ
	}
	return a.Dev.IRQ, nil
}

// MSIAllocator also offers MSI: the device's MSI IRQ with a fixed message.
type MSIAllocator struct{ Allocator }

// MSI message the fake allocator hands out (LAPIC 0, vector 0x41).
const (
	MSIAddr = 0xfee00000
	MSIData = 0x41
)

// AllocMSI implements hw.MSIAllocator.
func (a MSIAllocator) AllocMSI() (hw.IRQ, uint64, uint32, error) {
	return a.Dev.MSI, MSIAddr, MSIData, nil
}
