package virtiotest

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"gomenuos/drivers/hw"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/pci/pcitest"
)

// BAR4 layout, as QEMU's virtio-pci lays out its modern registers.
const (
	BAR1Addr     = 0xfebd1000
	BAR4Addr     = 0xfe000000
	bar4Size     = 0x4000
	commonOff    = 0x0000
	isrOff       = 0x1000
	configOff    = 0x2000
	notifyOff    = 0x3000
	windowSize   = 0x1000
	NotifyMul    = 4
	statusFeatOK = 8
)

// Device is the device side of a modern virtio PCI function.
//
// mu guards every field below it; ring memory is shared with the driver
// through atomics on the ring index words, like real hardware.
type Device struct {
	Mem *Memory
	IRQ *IRQ // INTx
	MSI *IRQ // the MSI-X message, when the driver enabled MSI-X

	bus     *pcitest.Bus
	addr    pci.Addr
	msixCap uint8
	table   *[windowSize]byte

	mu             sync.Mutex
	Offered        uint64 // device features
	Driver         uint64 // features the driver wrote
	status         uint8
	statusLog      []uint8
	devFeatSel     uint32
	drvFeatSel     uint32
	queueSel       uint16
	queues         []*vq
	isr            uint8
	config         []byte
	configGen      uint8
	configMSIX     uint16
	RefuseFeatures bool // clear FEATURES_OK whatever the driver wrote
	notified       chan uint16
}

// New returns a device with the given features, queue sizes and device
// configuration bytes.
func New(mem *Memory, offered uint64, queueSizes []uint16, config []byte) *Device {
	d := &Device{Mem: mem, IRQ: NewIRQ(), MSI: NewIRQ(), table: new([windowSize]byte), configMSIX: 0xFFFF, Offered: offered, config: config, notified: make(chan uint16, 1024)}
	for i, n := range queueSizes {
		d.queues = append(d.queues, &vq{maxSize: n, notifyOff: uint16(i), msix: 0xFFFF})
	}
	return d
}

// Install puts the device on bus at a as a PCI function with device ID id,
// with the virtio capabilities pointing into BAR4.
func (d *Device) Install(bus *pcitest.Bus, a pci.Addr, id uint16) *pcitest.Function {
	f := bus.Add(a, 0x1af4, id, 0x02, 0x00)
	f.SetBAR(4, BAR4Addr, bar4Size, false, true)
	f.Config[0x3C], f.Config[0x3D] = 11, 1
	d.bus, d.addr = bus, a
	// MSI-X: 3 vectors, table at BAR1+0, PBA at BAR1+0x800 (QEMU's layout).
	f.SetBAR(1, BAR1Addr, windowSize, false, false)
	d.msixCap = f.AddCap(pci.CapMSIX, []byte{0x02, 0x00, 0x01, 0, 0, 0, 0x01, 0x08, 0, 0})
	d.Mem.addRegs(BAR1Addr, hw.NewMMIO(unsafe.Pointer(d.table), windowSize))
	addVirtioCap(f, 1, commonOff, 0x38, nil)
	addVirtioCap(f, 3, isrOff, 4, nil)
	addVirtioCap(f, 4, configOff, windowSize, nil)
	addVirtioCap(f, 2, notifyOff, windowSize, binary.LittleEndian.AppendUint32(nil, NotifyMul))
	for _, w := range []struct {
		off  uint64
		kind int
	}{{commonOff, kindCommon}, {isrOff, kindISR}, {configOff, kindConfig}, {notifyOff, kindNotify}} {
		d.Mem.addRegs(BAR4Addr+w.off, &window{d: d, kind: w.kind})
	}
	return f
}

func addVirtioCap(f *pcitest.Function, typ uint8, off, length uint32, extra []byte) {
	body := []byte{byte(16 + len(extra)), typ, 4, 0, 0, 0}
	body = binary.LittleEndian.AppendUint32(body, off)
	body = binary.LittleEndian.AppendUint32(body, length)
	f.AddCap(pci.CapVendor, append(body, extra...))
}

// Status returns device_status.
func (d *Device) Status() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// StatusLog returns every value the driver wrote to device_status.
func (d *Device) StatusLog() []uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]uint8(nil), d.statusLog...)
}

// Notified delivers the index of each queue the driver notified.
func (d *Device) Notified() <-chan uint16 { return d.notified }

// SetConfig replaces device configuration bytes at off and bumps the
// generation, as a device does on a configuration change.
func (d *Device) SetConfig(off int, b []byte) {
	d.mu.Lock()
	copy(d.config[off:], b)
	d.configGen++
	d.isr |= 2
	d.mu.Unlock()
	d.IRQ.Fire()
}

// Interrupt raises a used-buffer interrupt for queue q unless the driver
// suppressed them (VIRTQ_AVAIL_F_NO_INTERRUPT): the MSI-X message if MSI-X
// is enabled and the queue has a vector, else INTx with the ISR bit.
func (d *Device) Interrupt(q int) bool {
	r := d.ring(q)
	if r == nil || r.availWord()&1 != 0 {
		return false
	}
	if d.bus.ConfigByte(d.addr, d.msixCap+3)&0x80 != 0 {
		if d.QueueVector(q) == 0xFFFF {
			return false
		}
		d.MSI.Fire()
		return true
	}
	d.mu.Lock()
	d.isr |= 1
	d.mu.Unlock()
	d.IRQ.Fire()
	return true
}

// MSIXEntry returns table entry i as the driver programmed it.
func (d *Device) MSIXEntry(i int) (addr uint64, data uint32, masked bool) {
	regs := hw.NewMMIO(unsafe.Pointer(d.table), windowSize)
	e := uintptr(16 * i)
	return hw.Read64(regs, e), regs.Read32(e + 8), regs.Read32(e+12)&1 != 0
}
