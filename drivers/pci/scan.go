package pci

const vendorNone = 0xFFFF

// Scan enumerates every function reachable from bus 0, descending through
// PCI-to-PCI bridges depth first (a bridge's bus follows the bridge).
//
// Linux: pci_scan_child_bus
func Scan(c *Config) []*Device {
	s := scanner{cfg: c, seen: map[uint8]bool{}}
	s.scanBus(0)
	return s.devs
}

type scanner struct {
	cfg  *Config
	seen map[uint8]bool // buses already scanned: a misprogrammed bridge cannot loop us
	devs []*Device
}

func (s *scanner) scanBus(bus uint8) {
	if s.seen[bus] {
		return
	}
	s.seen[bus] = true
	for dev := uint8(0); dev < 32; dev++ {
		s.scanSlot(bus, dev)
	}
}

// scanSlot probes function 0 and, if it is multi-function, functions 1..7.
//
// Linux: pci_scan_slot
func (s *scanner) scanSlot(bus, dev uint8) {
	for fn := uint8(0); fn < 8; fn++ {
		a := Addr{Bus: bus, Dev: dev, Fn: fn}
		if s.cfg.Read16(a, offVendorID) == vendorNone {
			if fn == 0 {
				return
			}
			continue
		}
		d := readDevice(s.cfg, a)
		s.devs = append(s.devs, d)
		if d.HeaderType == HeaderBridge {
			s.scanBus(s.cfg.Read8(a, offSecondaryBus))
		}
		if fn == 0 && s.cfg.Read8(a, offHeaderType)&0x80 == 0 {
			return
		}
	}
}

// Find returns the first device with the given vendor and one of the device
// IDs.
func Find(devs []*Device, vendor uint16, ids ...uint16) *Device {
	for _, d := range devs {
		if d.VendorID != vendor {
			continue
		}
		for _, id := range ids {
			if d.DeviceID == id {
				return d
			}
		}
	}
	return nil
}
