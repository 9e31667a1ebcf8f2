package virtionet

import (
	"errors"
	"sync"
	"sync/atomic"

	"gomenuos/drivers/hw"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/virtio"
	"gomenuos/net/buf"
	"gomenuos/net/header"
	"gomenuos/net/link"
)

// Queue indexes (virtio 1.2 §5.1.2): receiveq1 and transmitq1.
const (
	rxQueue = 0
	txQueue = 1
)

// Device configuration layout (virtio 1.2 §5.1.4).
const (
	cfgMAC        = 0
	cfgStatus     = 6
	statusLinkUp  = 1
	defaultMTU    = 1500
	maxLinkHeader = ethHdrLen + 4 // Ethernet + one VLAN tag
	defaultQueue  = 256
)

// ErrNoIRQ reports a device without a usable interrupt.
var ErrNoIRQ = errors.New("virtionet: no interrupt line or vector")

// Options tune Probe; the zero value is the normal configuration.
type Options struct {
	Name        string // interface name; "eth0" when empty
	RxQueueSize uint16 // descriptors per queue; 256 when zero
	TxQueueSize uint16
	// NoChecksumOffload leaves CSUM, GUEST_CSUM and GUEST_TSO4 unnegotiated.
	NoChecksumOffload bool
	// NoTSO leaves GUEST_TSO4 and HOST_TSO4 unnegotiated: every frame
	// either way fits the MTU.
	NoTSO bool
}

// Device is one virtio-net NIC, a link.Device.
//
// Lock contract: txMu guards txq, txPool, gsoPool, txBig and unkicked. rxq and rxPool belong to the
// receive goroutine once Attach has started it (Probe fills them before).
// recv is written once by Attach (guarded by attached) before the goroutine
// starts. Stats are
// atomic. The remaining fields are immutable after Probe.
type Device struct {
	name     string
	v        *virtio.Device
	mac      header.MAC
	mtu      int
	features uint64
	irq      hw.IRQ
	msix     bool
	Stats    Stats

	rxq      *virtio.Queue
	rxPool   *rxPool
	rxParams rxParams
	lending  bool     // the receiver takes bursts: frames may go up in place (rxpool.go)
	rxBufs   []rxUsed // receiveOne's scratch
	rxLent   []int    // first buffers of the frames lent in this burst

	txMu    sync.Mutex
	txq     *virtio.Queue
	txPool  *dmaPool
	gsoPool *dmaPool      // 64 KiB slots for TransmitGSO (nil without HOST_TSO4)
	txBig   []bool        // per head: its slot is in gsoPool
	txSpace chan struct{} // poked by the receive goroutine on each interrupt
	// Deferred transmit notification (kickOrDeferLocked): unkicked (bytes
	// queued since the last kick) is guarded by txMu; kickCh wakes the
	// kicker goroutine; flushOwed says, without txMu, that a user task's
	// sending left FlushTx a notification to send.
	unkicked  int
	kickCh    chan struct{}
	flushOwed atomic.Bool
	napi      bool // a receive poll runs: it sends the notification when it ends (napiPoll)

	// rxMu makes one receive poll run at a time: the receive goroutine's,
	// or the bottom half run on a user task (softirq).
	rxMu      sync.Mutex
	txWaiting atomic.Int32 // transmitters waiting for ring space (pokeTx)

	recv     link.Receiver
	attached atomic.Bool
}

// Probe brings up the virtio-net function pd: feature negotiation, receive
// and transmit queues, interrupt, MAC address; the receive ring is filled
// and the device is live (DRIVER_OK) when it returns. Frames flow once the
// stack calls Attach.
//
// Linux: virtnet_probe
func Probe(pd *pci.Device, mem hw.Memory, irqs hw.IRQAllocator, opts Options) (*Device, error) {
	v, err := virtio.NewPCIDevice(pd, mem)
	if err != nil {
		return nil, err
	}
	f, err := v.Negotiate(wantedFeatures(v.DeviceFeatures(), opts))
	if err != nil {
		return nil, err
	}
	d := &Device{name: opts.Name, v: v, mtu: defaultMTU, features: f,
		txSpace: make(chan struct{}, 1), kickCh: make(chan struct{}, 1)}
	if d.name == "" {
		d.name = "eth0"
	}
	if err := d.setup(mem, irqs, opts); err != nil {
		v.Fail()
		return nil, err
	}
	d.mac = d.readMAC()
	d.fillRx()
	v.Ready()
	d.kick(d.rxq)
	return d, nil
}

func (d *Device) setup(mem hw.Memory, irqs hw.IRQAllocator, opts Options) error {
	vector, err := d.setupIRQ(mem, irqs)
	if err != nil {
		return err
	}
	if d.rxq, err = d.v.SetupQueue(rxQueue, orDefault(opts.RxQueueSize), vector); err != nil {
		return err
	}
	if d.txq, err = d.v.SetupQueue(txQueue, orDefault(opts.TxQueueSize), vector); err != nil {
		return err
	}
	// Transmit completions are reclaimed lazily by Transmit; it asks for an
	// interrupt only while it waits for a full ring to drain.
	d.txq.DisableInterrupts()
	d.rxParams = rxParams{
		mergeable: d.features&FeatureMrgRxbuf != 0,
		maxBufs:   d.rxq.Size(),
		tso4:      d.features&FeatureGuestTSO4 != 0,
	}
	if d.rxPool, err = newRxPool(mem, rxPoolFactor*d.rxq.Size(), d.rxq.Size()); err != nil {
		return err
	}
	if d.txPool, err = newPool(mem, d.txq.Size(), slotSize, d.txq.Size()); err != nil {
		return err
	}
	d.txBig = make([]bool, d.txq.Size())
	if d.features&FeatureHostTSO4 != 0 {
		d.gsoPool, err = newPool(mem, gsoSlots, gsoSlotSize, d.txq.Size())
	}
	return err
}

// wantedFeatures picks what to ask for. Coalesced receive (GUEST_TSO4)
// needs GUEST_CSUM (virtio 1.2 §5.1.3.1) and, with our 4 KiB buffers,
// MRG_RXBUF to spread a 64 KiB segment over several of them; segmentation
// offload (HOST_TSO4) needs CSUM.
func wantedFeatures(offered uint64, opts Options) uint64 {
	want := uint64(FeatureMAC | FeatureStatus | FeatureMrgRxbuf)
	if opts.NoChecksumOffload {
		return want
	}
	want |= FeatureCsum | FeatureGuestCsum
	if opts.NoTSO {
		return want
	}
	if offered&(FeatureGuestCsum|FeatureMrgRxbuf) == FeatureGuestCsum|FeatureMrgRxbuf {
		want |= FeatureGuestTSO4
	}
	if offered&FeatureCsum != 0 { // virtio 1.2 §5.1.3.1: HOST_TSO4 requires CSUM
		want |= FeatureHostTSO4
	}
	return want
}

func orDefault(n uint16) uint16 {
	if n == 0 {
		return defaultQueue
	}
	return n
}

// setupIRQ routes the device's interrupts: one MSI-X vector (entry 0) for
// both queues when the allocator and the device support it, else the INTx
// line the firmware routed (config 0x3C). It returns the queue vector.
//
// Linux: vp_find_vqs (vp_find_vqs_msix, falling back to vp_find_vqs_intx)
func (d *Device) setupIRQ(mem hw.Memory, irqs hw.IRQAllocator) (uint16, error) {
	if ma, ok := irqs.(hw.MSIAllocator); ok {
		if m, err := d.v.PCI.MSIX(mem); err == nil {
			irq, addr, data, err := ma.AllocMSI()
			if err != nil {
				return 0, err
			}
			m.SetEntry(0, addr, data)
			m.Enable()
			d.irq, d.msix = irq, true
			// Link changes are read on demand (LinkUp), so no config vector.
			return 0, d.v.SetConfigVector(virtio.NoVector)
		}
	}
	pd := d.v.PCI
	if pd.IRQPin == 0 || pd.IRQLine == 0xFF {
		return 0, ErrNoIRQ
	}
	irq, err := irqs.LegacyIRQ(pd.IRQLine)
	if err != nil {
		return 0, err
	}
	d.irq = irq
	return virtio.NoVector, nil
}

// readMAC reads config.mac, retrying while config_generation changes
// (virtio 1.2 §4.1.4.3.1); without VIRTIO_NET_F_MAC it uses a fixed locally
// administered address.
func (d *Device) readMAC() header.MAC {
	if d.features&FeatureMAC == 0 {
		return header.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	}
	var mac header.MAC
	for try := 0; try < 16; try++ {
		gen := d.v.ConfigGeneration()
		for i := range mac {
			mac[i] = d.v.Config().Read8(uintptr(cfgMAC + i))
		}
		if d.v.ConfigGeneration() == gen {
			break
		}
	}
	return mac
}

func (d *Device) kick(q *virtio.Queue) {
	if q.Kick() {
		d.Stats.Kicks.Add(1)
		if q == d.rxq {
			d.Stats.RxKicks.Add(1)
		}
	}
}

// Name implements link.Device.
func (d *Device) Name() string { return d.name }

// MTU implements link.Device.
func (d *Device) MTU() int { return d.mtu }

// HardwareAddr implements link.Device.
func (d *Device) HardwareAddr() header.MAC { return d.mac }

// Features implements link.Device: checksum offloads as negotiated.
func (d *Device) Features() link.Features {
	var f link.Features
	if d.features&FeatureGuestCsum != 0 {
		f |= link.FeatureRxChecksum
	}
	if d.features&FeatureCsum != 0 {
		f |= link.FeatureTxChecksum
	}
	return f
}

// NegotiatedFeatures returns the virtio feature bits in use.
func (d *Device) NegotiatedFeatures() uint64 { return d.features }

// LinkUp reports the carrier from config.status (always up without
// VIRTIO_NET_F_STATUS).
func (d *Device) LinkUp() bool {
	if d.features&FeatureStatus == 0 {
		return true
	}
	return d.v.Config().Read16(cfgStatus)&statusLinkUp != 0
}

// Attach implements link.Device: it records the stack's receiver and starts
// the receive and kicker goroutines. A second Attach would start a second goroutine on
// the same ring, so it panics.
func (d *Device) Attach(r link.Receiver) {
	if d.attached.Swap(true) {
		panic("virtionet: Attach called twice on " + d.name)
	}
	d.recv = r
	if _, ok := r.(link.BatchReceiver); ok {
		d.lending = true
		buf.RegisterLender(d.rxPool.mem, d.rxPool)
	}
	go d.kicker()
	if si, ok := d.irq.(hw.SoftirqIRQ); ok && d.msix {
		si.SetSoftirq(d.softirq)
	}
	go d.receiveLoop()
}
