package pci

import (
	"errors"

	"gomenuos/drivers/hw"
)

// MSI-X capability layout (PCI Local Bus 3.0 §6.8.2).
const (
	msixControl      = 2
	msixTable        = 4
	msixCtlTableSize = 0x07FF
	msixCtlMask      = 1 << 14
	msixCtlEnable    = 1 << 15
	msixEntrySize    = 16
	msixEntryData    = 8
	msixEntryVecCtl  = 12
	msixVecCtlMasked = 1
)

// ErrNoMSIX reports a function without a usable MSI-X capability.
var ErrNoMSIX = errors.New("pci: no MSI-X capability")

// MSIX is a function's MSI-X capability with its vector table mapped.
type MSIX struct {
	dev   *Device
	cap   uint8
	table hw.Regs
	size  int
}

// MSIX locates the MSI-X capability and maps its table.
//
// Linux: msix_capability_init (the table mapping half, msix_map_region)
func (d *Device) MSIX(mem hw.Memory) (*MSIX, error) {
	offs := d.FindCapabilities(CapMSIX)
	if len(offs) == 0 {
		return nil, ErrNoMSIX
	}
	c := offs[0]
	size := int(d.Read16(c+msixControl)&msixCtlTableSize) + 1
	t := d.Read32(c + msixTable)
	bar, off := int(t&7), uint64(t&^7)
	if bar > 5 || d.BARs[bar].Size == 0 || d.BARs[bar].IO || off+uint64(size*msixEntrySize) > d.BARs[bar].Size {
		return nil, ErrNoMSIX
	}
	regs, err := hw.MapRegs(mem, d.BARs[bar].Addr+off, uint64(size*msixEntrySize))
	if err != nil {
		return nil, err
	}
	return &MSIX{dev: d, cap: c, table: regs, size: size}, nil
}

// Size returns the number of table entries.
func (m *MSIX) Size() int { return m.size }

// SetEntry programs entry i with a message address and data, unmasked.
//
// Linux: __pci_write_msi_msg
func (m *MSIX) SetEntry(i int, addr uint64, data uint32) {
	e := uintptr(i * msixEntrySize)
	m.table.Write32(e+msixEntryVecCtl, msixVecCtlMasked)
	hw.Write64(m.table, e, addr)
	m.table.Write32(e+msixEntryData, data)
	m.table.Write32(e+msixEntryVecCtl, 0)
}

// Enable turns MSI-X on (and with it INTx off).
//
// Linux: pci_msix_clear_and_set_ctrl + pci_intx(dev, 0)
func (m *MSIX) Enable() {
	d := m.dev
	d.Write16(offCommand, d.Read16(offCommand)|CommandINTxDisable)
	ctl := d.Read16(m.cap + msixControl)
	d.Write16(m.cap+msixControl, ctl&^msixCtlMask|msixCtlEnable)
}
