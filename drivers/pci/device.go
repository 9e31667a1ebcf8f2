package pci

// Device is one PCI function found by Scan.
type Device struct {
	Addr       Addr
	VendorID   uint16
	DeviceID   uint16
	Class      uint8
	Subclass   uint8
	ProgIF     uint8
	Revision   uint8
	HeaderType uint8 // without the multi-function bit
	IRQLine    uint8 // routed line written by firmware (0xFF: none)
	IRQPin     uint8 // 0: none, 1..4: INTA#..INTD#
	BARs       [6]BAR
	Caps       []Capability

	cfg *Config
}

// Header types (bits 0..6 of the header type register).
const (
	HeaderNormal = 0x00
	HeaderBridge = 0x01
)

// Read8 reads the device's configuration space.
func (d *Device) Read8(off uint8) uint8 { return d.cfg.Read8(d.Addr, off) }

// Read16 reads the device's configuration space.
func (d *Device) Read16(off uint8) uint16 { return d.cfg.Read16(d.Addr, off) }

// Read32 reads the device's configuration space.
func (d *Device) Read32(off uint8) uint32 { return d.cfg.Read32(d.Addr, off) }

// Write8 writes the device's configuration space.
func (d *Device) Write8(off uint8, v uint8) { d.cfg.Write8(d.Addr, off, v) }

// Write16 writes the device's configuration space.
func (d *Device) Write16(off uint8, v uint16) { d.cfg.Write16(d.Addr, off, v) }

// Write32 writes the device's configuration space.
func (d *Device) Write32(off uint8, v uint32) { d.cfg.Write32(d.Addr, off, v) }

// Enable turns on the decoders for the BAR kinds the device has, and clears
// INTx disable.
//
// Linux: pci_enable_device
func (d *Device) Enable() {
	cmd := d.Read16(offCommand) &^ CommandINTxDisable
	for _, b := range d.BARs {
		switch {
		case b.Size == 0:
		case b.IO:
			cmd |= CommandIO
		default:
			cmd |= CommandMemory
		}
	}
	d.Write16(offCommand, cmd)
}

// SetMaster lets the device initiate DMA.
//
// Linux: pci_set_master
func (d *Device) SetMaster() {
	d.Write16(offCommand, d.Read16(offCommand)|CommandBusMaster)
}

// Command returns the command register.
func (d *Device) Command() uint16 { return d.Read16(offCommand) }

func readDevice(c *Config, a Addr) *Device {
	d := &Device{Addr: a, cfg: c}
	d.VendorID = c.Read16(a, offVendorID)
	d.DeviceID = c.Read16(a, offDeviceID)
	d.Revision = c.Read8(a, offRevision)
	d.ProgIF = c.Read8(a, offProgIF)
	d.Subclass = c.Read8(a, offSubclass)
	d.Class = c.Read8(a, offClass)
	d.HeaderType = c.Read8(a, offHeaderType) & 0x7F
	d.IRQLine = c.Read8(a, offIRQLine)
	d.IRQPin = c.Read8(a, offIRQPin)
	d.readBases()
	d.Caps = d.readCapabilities()
	return d
}
