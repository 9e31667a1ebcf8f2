package qtest

import "gomenuos/drivers/pci"

// PIIX3 PCI-to-ISA bridge registers routing PIRQA..D to ISA IRQs.
const (
	piixAddr   = 0x60
	routedLine = 11
)

// AssignResources does what firmware does before a kernel starts (no
// firmware runs under qtest): it places every BAR (memory from 0xfe000000,
// I/O from 0xc000), routes all four PCI interrupt lines to IRQ 11 and
// writes that line into each function's interrupt line register.
func AssignResources(c *pci.Config) {
	for i := uint8(0); i < 4; i++ {
		c.Write8(pci.Addr{Dev: 1}, piixAddr+i, routedLine)
	}
	mem, io := uint64(0xfe000000), uint64(0xc000)
	for _, d := range pci.Scan(c) {
		for i, b := range d.BARs {
			if b.Size == 0 {
				continue
			}
			next := &mem
			if b.IO {
				next = &io
			}
			addr := (*next + b.Size - 1) &^ (b.Size - 1)
			*next = addr + b.Size
			d.Write32(uint8(0x10+4*i), uint32(addr))
			if b.Is64 {
				d.Write32(uint8(0x14+4*i), uint32(addr>>32))
			}
		}
		if d.IRQPin != 0 {
			d.Write8(0x3C, routedLine)
		}
	}
}
