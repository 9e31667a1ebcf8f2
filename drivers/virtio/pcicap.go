package virtio

import (
	"gomenuos/drivers/hw"
	"gomenuos/drivers/pci"
)

// virtio_pci_cap cfg_type values (virtio 1.2 §4.1.4).
const (
	capCommon = 1
	capNotify = 2
	capISR    = 3
	capDevice = 4
)

// Offsets inside struct virtio_pci_cap (virtio 1.2 §4.1.4).
const (
	capOffType    = 3
	capOffBAR     = 4
	capOffOffset  = 8
	capOffLength  = 12
	capOffNotifyM = 16 // virtio_pci_notify_cap.notify_off_multiplier
)

// pciCap is one decoded virtio vendor capability.
type pciCap struct {
	typ       uint8
	bar       uint8
	offset    uint32
	length    uint32
	notifyMul uint32
}

// readCaps returns the first capability of each virtio structure type.
// virtio 1.2 §4.1.4: "The driver SHOULD use the first instance of each
// virtio structure type they can support."
func readCaps(d *pci.Device) map[uint8]pciCap {
	caps := map[uint8]pciCap{}
	for _, off := range d.FindCapabilities(pci.CapVendor) {
		c := pciCap{
			typ:    d.Read8(off + capOffType),
			bar:    d.Read8(off + capOffBAR),
			offset: d.Read32(off + capOffOffset),
			length: d.Read32(off + capOffLength),
		}
		if c.typ == capNotify {
			c.notifyMul = d.Read32(off + capOffNotifyM)
		}
		if _, dup := caps[c.typ]; !dup && c.bar < 6 {
			caps[c.typ] = c
		}
	}
	return caps
}

// mapCap maps the register window a capability describes.
func mapCap(d *pci.Device, mem hw.Memory, c pciCap) (hw.Regs, error) {
	b := d.BARs[c.bar]
	if b.IO || b.Size == 0 || uint64(c.offset)+uint64(c.length) > b.Size || c.length == 0 {
		return nil, ErrBadCapability
	}
	return hw.MapRegs(mem, b.Addr+uint64(c.offset), uint64(c.length))
}
