package pci

import (
	"fmt"
	"io"
	"strings"
)

// className names the common class/subclass pairs (PCI Code and ID
// Assignment spec §1).
var className = map[uint16]string{
	0x0100: "SCSI storage controller",
	0x0101: "IDE interface",
	0x0106: "SATA controller",
	0x0108: "Non-Volatile memory controller",
	0x0200: "Ethernet controller",
	0x0300: "VGA compatible controller",
	0x0600: "Host bridge",
	0x0601: "ISA bridge",
	0x0604: "PCI bridge",
	0x0680: "Bridge",
	0x0700: "Serial controller",
	0x0780: "Communication controller",
	0x0c03: "USB controller",
	0x0c05: "SMBus",
	0x00ff: "Unclassified device",
}

// ClassName returns the human name of the device's class.
func (d *Device) ClassName() string {
	if n, ok := className[uint16(d.Class)<<8|uint16(d.Subclass)]; ok {
		return n
	}
	return "Class"
}

// WriteListing writes one lspci -nn style line per device; verbose adds the
// interrupt, regions and capabilities as lspci -v does.
func WriteListing(w io.Writer, devs []*Device, verbose bool) {
	for _, d := range devs {
		fmt.Fprintf(w, "%s %s [%02x%02x]: %04x:%04x (rev %02x)\n",
			d.Addr, d.ClassName(), d.Class, d.Subclass, d.VendorID, d.DeviceID, d.Revision)
		if verbose {
			writeDetails(w, d)
		}
	}
}

func writeDetails(w io.Writer, d *Device) {
	if d.IRQPin != 0 {
		fmt.Fprintf(w, "\tInterrupt: pin %c routed to IRQ %d\n", 'A'+d.IRQPin-1, d.IRQLine)
	}
	for i, b := range d.BARs {
		switch {
		case b.Size == 0:
		case b.IO:
			fmt.Fprintf(w, "\tRegion %d: I/O ports at %x [size=%s]\n", i, b.Addr, sizeString(b.Size))
		default:
			fmt.Fprintf(w, "\tRegion %d: Memory at %x (%s) [size=%s]\n", i, b.Addr, memKind(b), sizeString(b.Size))
		}
	}
	if len(d.Caps) > 0 {
		parts := make([]string, len(d.Caps))
		for i, c := range d.Caps {
			parts[i] = fmt.Sprintf("[%02x] %s", c.Offset, capName(c.ID))
		}
		fmt.Fprintf(w, "\tCapabilities: %s\n", strings.Join(parts, ", "))
	}
}

func memKind(b BAR) string {
	k := "32-bit"
	if b.Is64 {
		k = "64-bit"
	}
	if b.Prefetchable {
		return k + ", prefetchable"
	}
	return k + ", non-prefetchable"
}

func sizeString(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

func capName(id uint8) string {
	switch id {
	case CapMSI:
		return "MSI"
	case CapVendor:
		return "Vendor Specific"
	case CapPCIe:
		return "Express"
	case CapMSIX:
		return "MSI-X"
	}
	return fmt.Sprintf("%#02x", id)
}
