package pci

// BAR is one decoded base address register.
type BAR struct {
	Addr         uint64 // bus address (equal to the physical address on a PC)
	Size         uint64 // 0: not implemented
	IO           bool   // I/O space rather than memory space
	Is64         bool   // 64-bit memory BAR; the next BAR slot holds its high half
	Prefetchable bool
}

const (
	barIOSpace      = 1 << 0
	barMemTypeMask  = 3 << 1
	barMemType64    = 2 << 1
	barPrefetchable = 1 << 3
)

// readBases decodes the BARs of a normal header (bridges have two, which we
// read the same way). Decoding is switched off while the registers hold
// all-ones so the device cannot claim a bogus range.
//
// Linux: pci_read_bases
func (d *Device) readBases() {
	n := 6
	switch d.HeaderType {
	case HeaderNormal:
	case HeaderBridge:
		n = 2
	default:
		return
	}
	cmd := d.Read16(offCommand)
	d.Write16(offCommand, cmd&^(CommandIO|CommandMemory))
	defer d.Write16(offCommand, cmd)
	for i := 0; i < n; i++ {
		if d.readBase(i) {
			i++ // the high half of a 64-bit BAR is not a BAR of its own
		}
	}
}

// readBase sizes BAR i and reports whether it was 64 bits wide.
//
// Linux: __pci_read_base
func (d *Device) readBase(i int) bool {
	off := uint8(offBAR0 + 4*i)
	orig, mask := d.probe32(off)
	if orig&barIOSpace != 0 {
		d.BARs[i] = ioBAR(orig, mask)
		return false
	}
	b := BAR{Addr: uint64(orig &^ 0xF), Prefetchable: orig&barPrefetchable != 0}
	sizeMask := uint64(mask &^ 0xF)
	if orig&barMemTypeMask == barMemType64 && i < 5 {
		hiOrig, hiMask := d.probe32(off + 4)
		b.Is64 = true
		b.Addr |= uint64(hiOrig) << 32
		sizeMask |= uint64(hiMask) << 32
	} else if sizeMask != 0 {
		sizeMask |= 0xFFFFFFFF << 32
	}
	if sizeMask != 0 {
		b.Size = ^sizeMask + 1
	}
	d.BARs[i] = b
	return b.Is64
}

// probe32 returns a BAR's value and what it reads back after writing
// all-ones, then restores it.
func (d *Device) probe32(off uint8) (orig, mask uint32) {
	orig = d.Read32(off)
	d.Write32(off, 0xFFFFFFFF)
	mask = d.Read32(off)
	d.Write32(off, orig)
	return orig, mask
}

func ioBAR(orig, mask uint32) BAR {
	m := mask &^ 3
	if m == 0 {
		return BAR{}
	}
	if m&0xFFFF0000 == 0 { // 16-bit I/O decoders leave the top half zero
		m |= 0xFFFF0000
	}
	return BAR{Addr: uint64(orig &^ 3), Size: uint64(^m + 1), IO: true}
}
