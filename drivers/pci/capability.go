package pci

// Capability is one entry of the standard capability list.
type Capability struct {
	ID     uint8
	Offset uint8 // position in configuration space
}

// Capability IDs (PCI Code and ID Assignment spec).
const (
	CapMSI    = 0x05
	CapVendor = 0x09
	CapPCIe   = 0x10
	CapMSIX   = 0x11
)

// maxCaps bounds the walk: 48 four-byte-aligned entries fit in the 192 bytes
// after the header, so a longer chain is a loop.
const maxCaps = 48

// readCapabilities walks the capability list.
//
// Linux: pci_find_capability (__pci_find_next_cap_ttl)
func (d *Device) readCapabilities() []Capability {
	if d.Read16(offStatus)&statusCapList == 0 {
		return nil
	}
	var caps []Capability
	ptr := d.Read8(offCapPtr) &^ 3
	for ttl := maxCaps; ptr >= 0x40 && ttl > 0; ttl-- {
		id := d.Read8(ptr)
		if id == 0xFF {
			break
		}
		caps = append(caps, Capability{ID: id, Offset: ptr})
		ptr = d.Read8(ptr+1) &^ 3
	}
	return caps
}

// FindCapabilities returns the offsets of every capability with the given ID
// (virtio devices carry several vendor-specific ones).
func (d *Device) FindCapabilities(id uint8) []uint8 {
	var offs []uint8
	for _, c := range d.Caps {
		if c.ID == id {
			offs = append(offs, c.Offset)
		}
	}
	return offs
}
