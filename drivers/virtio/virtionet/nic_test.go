package virtionet_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gomenuos/drivers/hw"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/pci/pcitest"
	"gomenuos/drivers/virtio"
	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/drivers/virtio/virtiotest"
	"gomenuos/net/checksum"
	"gomenuos/net/header"
	"gomenuos/net/link"
	"gomenuos/sched"
)

const allFeatures = virtio.FeatureVersion1 | virtionet.FeatureMAC | virtionet.FeatureStatus |
	virtionet.FeatureMrgRxbuf | virtionet.FeatureCsum | virtionet.FeatureGuestCsum

var (
	nicMAC  = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	peerMAC = header.MAC{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}
)

// nic is a driver bound to an emulated device, with the stack replaced by a
// channel of delivered frames.
type nic struct {
	t    *testing.T
	dev  *virtionet.Device
	fake *virtiotest.Device
	rx   chan []byte
}

type chanReceiver chan []byte

func (c chanReceiver) DeliverFrame(_ link.Device, f []byte) { c <- f }

func newNIC(t *testing.T, offered uint64, rxSize, txSize uint16) *nic {
	t.Helper()
	return newNICWith(t, offered, rxSize, txSize, false)
}

func newNICWith(t *testing.T, offered uint64, rxSize, txSize uint16, msi bool) *nic {
	t.Helper()
	return newNICOpts(t, offered, rxSize, txSize, msi, virtionet.Options{})
}

func newNICOpts(t *testing.T, offered uint64, rxSize, txSize uint16, msi bool, opts virtionet.Options) *nic {
	t.Helper()
	return newNICFull(t, offered, rxSize, txSize, msi, opts, nil)
}

// newNICRecv is newNIC with r as the stack.
func newNICRecv(t *testing.T, offered uint64, rxSize, txSize uint16, r link.Receiver) *nic {
	t.Helper()
	return newNICFull(t, offered, rxSize, txSize, false, virtionet.Options{}, r)
}

func newNICFull(t *testing.T, offered uint64, rxSize, txSize uint16, msi bool, opts virtionet.Options, r link.Receiver) *nic {
	t.Helper()
	mem := virtiotest.NewMemory()
	cfg := append(nicMAC[:], 1, 0) // mac, status = LINK_UP
	fake := virtiotest.New(mem, offered, []uint16{rxSize, txSize}, cfg)
	bus := pcitest.NewBus()
	fake.Install(bus, pci.Addr{Dev: 3}, virtio.PCIDeviceNetLegacy)
	pd := pci.Find(pci.Scan(pci.NewConfig(bus)), virtio.PCIVendor, virtio.PCIDeviceNetLegacy)
	var irqs hw.IRQAllocator = virtiotest.Allocator{Dev: fake}
	if msi {
		irqs = virtiotest.MSIAllocator{Allocator: virtiotest.Allocator{Dev: fake}}
	}
	dev, err := virtionet.Probe(pd, mem, irqs, opts)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	n := &nic{t: t, dev: dev, fake: fake, rx: make(chan []byte, 1024)}
	if r == nil {
		r = chanReceiver(n.rx)
	}
	dev.Attach(r)
	t.Cleanup(fake.IRQ.Close)
	t.Cleanup(fake.MSI.Close)
	return n
}

// hdr builds a virtio_net_hdr.
func hdr(flags uint8, gso uint8, csumStart, csumOff, numBufs uint16) []byte {
	h := make([]byte, 12)
	h[0], h[1] = flags, gso
	binary.LittleEndian.PutUint16(h[6:], csumStart)
	binary.LittleEndian.PutUint16(h[8:], csumOff)
	binary.LittleEndian.PutUint16(h[10:], numBufs)
	return h
}

// rxBufSize is the driver's receive buffer size (rxpool.go).
const rxBufSize = 4096

// put has the device fill the next posted receive buffer with b.
func (n *nic) put(b []byte) {
	n.t.Helper()
	c, ok := n.fake.Pop(0)
	if !ok || len(c.Segs) != 1 || !c.Segs[0].Writable || len(c.Segs[0].Data) != rxBufSize {
		n.t.Fatalf("no %d-byte writable receive buffer posted: %+v", rxBufSize, c)
	}
	n.fake.Push(0, c.Head, uint32(copy(c.Segs[0].Data, b)))
}

func (n *nic) expectFrames(want ...[]byte) {
	n.t.Helper()
	for i, w := range want {
		select {
		case got := <-n.rx:
			if !bytes.Equal(got, w) {
				n.t.Fatalf("frame %d:\n got % x\nwant % x", i, got, w)
			}
		case <-time.After(2 * time.Second):
			n.t.Fatalf("frame %d not delivered", i)
		}
	}
	select {
	case extra := <-n.rx:
		n.t.Fatalf("unexpected frame % x", extra)
	case <-time.After(20 * time.Millisecond):
	}
}

func ethFrame(payload string) []byte {
	f := make([]byte, 14, 14+len(payload))
	header.PutEthernet(f, nicMAC, peerMAC, header.EtherTypeIPv4)
	return append(f, payload...)
}

func TestProbeNegotiatesAndFillsReceiveRing(t *testing.T) {
	n := newNIC(t, allFeatures|1<<22 /* MQ: not wanted */, 256, 256)
	if got := n.dev.NegotiatedFeatures(); got != allFeatures {
		t.Fatalf("features %#x, want %#x", got, uint64(allFeatures))
	}
	if n.dev.HardwareAddr() != nicMAC || n.dev.Name() != "eth0" || n.dev.MTU() != 1500 {
		t.Fatalf("mac %v name %q mtu %d", n.dev.HardwareAddr(), n.dev.Name(), n.dev.MTU())
	}
	if n.dev.Features() != link.FeatureRxChecksum|link.FeatureTxChecksum {
		t.Fatalf("link features %#x", n.dev.Features())
	}
	if log := n.fake.StatusLog(); !bytes.Equal(log, []byte{0, 1, 3, 11, 15}) {
		t.Fatalf("status writes %v", log)
	}
	if <-n.fake.Notified() != 0 {
		t.Fatal("receive queue not kicked after DRIVER_OK")
	}
	posted := 0
	for {
		if _, ok := n.fake.Pop(0); !ok {
			break
		}
		posted++
	}
	if posted != 256 {
		t.Fatalf("%d receive buffers posted, want 256", posted)
	}
	if !n.dev.LinkUp() {
		t.Fatal("link down")
	}
	n.fake.SetConfig(6, []byte{0, 0})
	if n.dev.LinkUp() {
		t.Fatal("link still up after the device cleared VIRTIO_NET_S_LINK_UP")
	}
}

func TestReceiveDeliversFramesInOrder(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 8)
	var want [][]byte
	for i := 0; i < 20; i++ { // more than the ring: refill must keep up
		f := ethFrame(string(rune('a' + i)))
		want = append(want, f)
		n.put(append(hdr(2, 0, 0, 0, 1), f...))
		n.fake.Interrupt(0)
		if i%4 == 3 {
			n.expectFrames(want...)
			want = nil
		}
	}
	if n.dev.Stats.RxPackets.Load() != 20 || n.dev.Stats.RxBytes.Load() != 20*15 || n.dev.Stats.RxErrors.Load() != 0 {
		t.Fatalf("rx packets %d bytes %d errors %d", n.dev.Stats.RxPackets.Load(), n.dev.Stats.RxBytes.Load(), n.dev.Stats.RxErrors.Load())
	}
}

func TestReceiveMergesBuffers(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 8)
	f := ethFrame(string(bytes.Repeat([]byte("x"), 1400)))
	n.put(append(hdr(2, 0, 0, 0, 2), f[:1000]...))
	n.put(f[1000:])
	n.fake.Interrupt(0)
	n.expectFrames(f)
}

func TestMalformedFramesAreCountedAndDropped(t *testing.T) {
	n := newNIC(t, allFeatures, 16, 8)
	big := bytes.Repeat([]byte{0xee}, 2000)
	n.put(append(hdr(2, 0, 0, 0, 1), 1, 2, 3))          // shorter than Ethernet
	n.put(append(hdr(2, 0, 0, 0, 2), big...))           // 2000 + ...
	n.put(big)                                          // ... 2000 bytes: oversize
	n.put(append(hdr(2, 1, 0, 0, 1), ethFrame("g")...)) // GSO not negotiated
	n.put(append(hdr(2, 0, 0, 0, 0), ethFrame("z")...)) // num_buffers 0
	n.put(hdr(2, 0, 0, 0, 1)[:5])                       // not even a header
	n.put(append(hdr(1, 0, 4, 6, 1), ethFrame("c")...)) // csum_start inside Ethernet
	good := ethFrame("ok")
	n.put(append(hdr(2, 0, 0, 0, 1), good...))
	n.fake.Interrupt(0)
	n.expectFrames(good)
	s := &n.dev.Stats
	if s.RxErrors.Load() != 6 || s.RxShort.Load() != 1 || s.RxOversize.Load() != 1 || s.RxBadHdr.Load() != 4 {
		var b bytes.Buffer
		s.WriteTo(&b)
		t.Fatalf("counters:\n%s", b.String())
	}
}

func TestBogusUsedEntryIsCounted(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 8)
	c, _ := n.fake.Pop(0)
	n.fake.Push(0, 100, 20) // no such descriptor
	n.fake.Push(0, c.Head, uint32(copy(c.Segs[0].Data, append(hdr(2, 0, 0, 0, 1), ethFrame("ok")...))))
	n.fake.Interrupt(0)
	n.expectFrames(ethFrame("ok"))
	if n.dev.Stats.RxBadUsed.Load() != 1 {
		t.Fatalf("bad used %d", n.dev.Stats.RxBadUsed.Load())
	}
}

// tcpFrame builds an IPv4/TCP frame with a correct checksum.
func tcpFrame(payload string) []byte {
	seg := make([]byte, 20+len(payload))
	binary.BigEndian.PutUint16(seg[0:], 5001)
	binary.BigEndian.PutUint16(seg[2:], 40000)
	seg[12] = 5 << 4
	copy(seg[20:], payload)
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 2, 10, 0, 2, 15}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(seg)))
	binary.BigEndian.PutUint16(ip[10:], checksum.Checksum(ip, 0))
	ph := checksum.PseudoHeaderIPv4([4]byte(ip[12:16]), [4]byte(ip[16:20]), 6, uint16(len(seg)))
	binary.BigEndian.PutUint16(seg[16:], checksum.Checksum(seg, ph))
	return append(append(ethFrame("")[:14], ip...), seg...)
}

// partial turns a frame's TCP checksum into the pseudo-header sum a host
// leaves with VIRTIO_NET_HDR_F_NEEDS_CSUM.
func partial(f []byte) []byte {
	p := append([]byte(nil), f...)
	ph := checksum.PseudoHeaderIPv4([4]byte(p[26:30]), [4]byte(p[30:34]), 6, uint16(len(p)-34))
	binary.BigEndian.PutUint16(p[50:], checksum.Fold(ph))
	return p
}

func TestReceiveChecksumContract(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 8)
	good := tcpFrame("hello")
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-1] ^= 0xff
	n.put(append(hdr(1, 0, 34, 16, 1), partial(good)...)) // NEEDS_CSUM: completed
	n.put(append(hdr(0, 0, 0, 0, 1), corrupt...))         // unflagged and bad: dropped
	n.put(append(hdr(0, 0, 0, 0, 1), good...))            // unflagged and good
	n.put(append(hdr(2, 0, 0, 0, 1), corrupt...))         // DATA_VALID: trusted
	n.fake.Interrupt(0)
	n.expectFrames(good, good, corrupt)
	if n.dev.Stats.RxBadCsum.Load() != 1 {
		t.Fatalf("csum errors %d", n.dev.Stats.RxBadCsum.Load())
	}
}

// take has the device consume one transmitted chain and returns its bytes.
func (n *nic) take() []byte {
	n.t.Helper()
	c, ok := n.fake.Pop(1)
	if !ok || len(c.Segs) != 1 || c.Segs[0].Writable {
		n.t.Fatalf("transmit chain %+v", c)
	}
	data := append([]byte(nil), c.Segs[0].Data...) // before Push: then the driver may reuse the buffer
	n.fake.Push(1, c.Head, 0)
	return data
}

func TestTransmitCopiesOnceBehindHeader(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 8)
	<-n.fake.Notified() // the receive kick from Probe
	f := tcpFrame("hi")
	if err := n.dev.Transmit(f); err != nil {
		t.Fatal(err)
	}
	if q := <-n.fake.Notified(); q != 1 {
		t.Fatalf("notified queue %d", q)
	}
	if got := n.take(); !bytes.Equal(got, append(hdr(0, 0, 0, 0, 0), f...)) {
		t.Fatalf("device got % x", got)
	}
	if err := n.dev.TransmitPartial(partial(f), 34, 16); err != nil {
		t.Fatal(err)
	}
	if got := n.take(); !bytes.Equal(got, append(hdr(1, 0, 34, 16, 0), partial(f)...)) {
		t.Fatalf("partial: device got % x", got)
	}
	if err := n.dev.Transmit(make([]byte, 1519)); !errors.Is(err, link.ErrTooBig) {
		t.Fatalf("oversized: %v", err)
	}
	s := &n.dev.Stats
	if s.TxPackets.Load() != 2 || s.TxBytes.Load() != 2*uint64(len(f)) || s.TxDropped.Load() != 1 {
		t.Fatalf("tx packets %d bytes %d dropped %d", s.TxPackets.Load(), s.TxBytes.Load(), s.TxDropped.Load())
	}
}

func TestTransmitPartialWithoutOffloadCompletesInSoftware(t *testing.T) {
	n := newNIC(t, allFeatures&^virtionet.FeatureCsum, 8, 8)
	if n.dev.Features().Has(link.FeatureTxChecksum) {
		t.Fatal("tx checksum offload advertised without VIRTIO_NET_F_CSUM")
	}
	f := tcpFrame("hi")
	if err := n.dev.TransmitPartial(partial(f), 34, 16); err != nil {
		t.Fatal(err)
	}
	if got := n.take(); !bytes.Equal(got, append(hdr(0, 0, 0, 0, 0), f...)) {
		t.Fatalf("device got % x", got)
	}
}

func TestTransmitWaitsForFullRingToDrain(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 4)
	for i := 0; i < 4; i++ {
		if err := n.dev.Transmit(ethFrame("fill")); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() { done <- n.dev.Transmit(ethFrame("fifth")) }()
	select {
	case err := <-done:
		t.Fatalf("fifth frame into a full 4-entry ring returned %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	n.take()
	// The waiting transmitter asked for a completion interrupt.
	if !n.fake.Interrupt(1) {
		t.Fatal("transmit queue interrupts still suppressed while waiting")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		n.take()
	}
	if got := n.take(); !bytes.Equal(got[12:], ethFrame("fifth")) {
		t.Fatalf("fifth frame % x", got)
	}
}

func TestConcurrentTransmitAndReceive(t *testing.T) {
	n := newNIC(t, allFeatures, 64, 16)
	const frames = 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // the device: completes transmissions, loops them back as receives
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, ok := n.fake.Pop(1)
			if !ok {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			out := append([]byte(nil), c.Segs[0].Data[12:]...)
			n.fake.Push(1, c.Head, 0)
			n.fake.Interrupt(1)
			for {
				if rc, ok := n.fake.Pop(0); ok {
					n.fake.Push(0, rc.Head, uint32(copy(rc.Segs[0].Data, append(hdr(2, 0, 0, 0, 1), out...))))
					n.fake.Interrupt(0)
					break
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < frames/4; i++ {
				if err := n.dev.Transmit(ethFrame("payload")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < frames; i++ {
		select {
		case f := <-n.rx:
			if !bytes.Equal(f, ethFrame("payload")) {
				t.Fatalf("frame %d: % x", i, f)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d frames came back", i, frames)
		}
	}
	wg.Wait()
	close(stop)
	if n.dev.Stats.TxPackets.Load() != frames || n.dev.Stats.RxPackets.Load() != frames || n.dev.Stats.TxDropped.Load() != 0 {
		t.Fatalf("tx %d rx %d dropped %d", n.dev.Stats.TxPackets.Load(), n.dev.Stats.RxPackets.Load(), n.dev.Stats.TxDropped.Load())
	}
}

func TestProbeFailsWithoutInterrupt(t *testing.T) {
	mem := virtiotest.NewMemory()
	fake := virtiotest.New(mem, allFeatures, []uint16{8, 8}, make([]byte, 8))
	bus := pcitest.NewBus()
	f := fake.Install(bus, pci.Addr{Dev: 3}, virtio.PCIDeviceNetLegacy)
	f.Config[0x3D] = 0 // no interrupt pin
	pd := pci.Scan(pci.NewConfig(bus))[0]
	if _, err := virtionet.Probe(pd, mem, virtiotest.Allocator{Dev: fake}, virtionet.Options{}); !errors.Is(err, virtionet.ErrNoIRQ) {
		t.Fatalf("err %v", err)
	}
	if fake.Status()&virtio.StatusFailed == 0 {
		t.Fatal("FAILED not set")
	}
}

func TestMSIXDeliversWithoutISRRead(t *testing.T) {
	n := newNICWith(t, allFeatures, 8, 8, true)
	addr, data, masked := n.fake.MSIXEntry(0)
	if addr != virtiotest.MSIAddr || data != virtiotest.MSIData || masked {
		t.Fatalf("MSI-X entry 0: addr %#x data %#x masked %v", addr, data, masked)
	}
	if n.fake.QueueVector(0) != 0 || n.fake.QueueVector(1) != 0 {
		t.Fatalf("queue vectors %d %d, want 0", n.fake.QueueVector(0), n.fake.QueueVector(1))
	}
	f := ethFrame("msi")
	n.put(append(hdr(2, 0, 0, 0, 1), f...))
	if !n.fake.Interrupt(0) {
		t.Fatal("no MSI-X message for queue 0")
	}
	n.expectFrames(f)
}

// echoReceiver answers every frame with one of its own, as TCP answers a
// segment with an ACK from inside the receive path.
type echoReceiver struct {
	dev *virtionet.Device
	rx  chan []byte
}

func (e *echoReceiver) DeliverFrame(_ link.Device, f []byte) {
	e.rx <- append([]byte(nil), f...)
	e.dev.Transmit(ethFrame("ack"))
}

// With MSI the driver hands the kernel its bottom half, which a task that
// sleeps in the kernel runs on its own goroutine when the interrupt comes
// (sched/softirq.go): the frames reach the stack during the call, without
// the receive goroutine, and what the stack sent meanwhile is notified
// once, when the poll ends, without the kicker.
func TestSoftirqRunsTheBottomHalfOnTheCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	e := &echoReceiver{rx: make(chan []byte, 8)}
	n := newNICFull(t, allFeatures, 8, 8, true, virtionet.Options{}, e)
	e.dev = n.dev
	<-n.fake.Notified() // the receive kick from Probe
	if n.fake.MSI.Softirq == nil {
		t.Fatal("the driver registered no bottom half on its MSI")
	}
	if n.fake.IRQ.Softirq != nil {
		t.Fatal("a bottom half on the legacy line, whose Wait must unmask it")
	}
	f1, f2 := ethFrame("one"), ethFrame("two")
	n.put(append(hdr(0, 0, 0, 0, 1), f1...))
	n.put(append(hdr(0, 0, 0, 0, 1), f2...))
	if woke := n.fake.MSI.Softirq(); woke {
		t.Fatal("bottom half reports a woken transmitter; none waits")
	}
	for i, want := range [][]byte{f1, f2} {
		select {
		case got := <-e.rx:
			if !bytes.Equal(got, want) {
				t.Fatalf("frame %d: got % x", i, got)
			}
		default:
			t.Fatalf("frame %d not delivered during the call", i)
		}
	}
	if tx := n.txKicksNow(); tx != 1 {
		t.Fatalf("%d notifications of the transmit queue after the poll; want 1 for both answers", tx)
	}
	if got := n.dev.Stats.Softirqs.Load(); got != 1 {
		t.Fatalf("Stats.Softirqs %d, want 1", got)
	}
}

func TestCoalescedSegmentsNeedTSO4AndNeedsCsum(t *testing.T) {
	n := newNIC(t, allFeatures|virtionet.FeatureGuestTSO4, 16, 8)
	if n.dev.NegotiatedFeatures()&virtionet.FeatureGuestTSO4 == 0 {
		t.Fatal("GUEST_TSO4 not negotiated")
	}
	big := tcpFrame(string(bytes.Repeat([]byte("g"), 10000)))
	h := hdr(1, 1, 34, 16, 3) // NEEDS_CSUM, GSO_TCPV4, 3 buffers
	whole := append(h, partial(big)...)
	n.put(whole[:rxBufSize])
	n.put(whole[rxBufSize : 2*rxBufSize])
	n.put(whole[2*rxBufSize:])
	n.put(append(hdr(0, 1, 0, 0, 1), ethFrame("no-csum")...)) // GSO without NEEDS_CSUM
	n.fake.Interrupt(0)
	// Its text comes from the host's memory: it keeps its partial
	// checksum (CHECKSUM_PARTIAL), which FeatureRxChecksum covers.
	n.expectFrames(partial(big))
	if n.dev.Stats.RxGSO.Load() != 1 || n.dev.Stats.RxBadHdr.Load() != 1 {
		t.Fatalf("coalesced %d, bad headers %d", n.dev.Stats.RxGSO.Load(), n.dev.Stats.RxBadHdr.Load())
	}
}

func TestNoTSOWithoutMergeableBuffers(t *testing.T) {
	n := newNIC(t, allFeatures&^virtionet.FeatureMrgRxbuf|virtionet.FeatureGuestTSO4, 8, 8)
	if n.dev.NegotiatedFeatures()&virtionet.FeatureGuestTSO4 != 0 {
		t.Fatal("GUEST_TSO4 negotiated although 2 KiB buffers cannot hold a 64 KiB segment")
	}
}

func TestSecondAttachPanics(t *testing.T) {
	n := newNIC(t, allFeatures, 8, 8)
	defer func() {
		if recover() == nil {
			t.Fatal("second Attach started a second receive goroutine on the same ring")
		}
	}()
	n.dev.Attach(chanReceiver(n.rx))
}

// txKicksNow counts the transmit queue's notifications sent so far,
// leaving out the receive queue's.
func (n *nic) txKicksNow() int {
	tx := 0
	for {
		select {
		case q := <-n.fake.Notified():
			if q == 1 {
				tx++
			}
		default:
			return tx
		}
	}
}

// kickedNow reports whether the transmit queue was notified already.
func (n *nic) kickedNow() bool {
	select {
	case q := <-n.fake.Notified():
		return q == 1
	default:
		return false
	}
}

// Frames queued back to back share one notification, sent by the kicker
// once the sender lets it run; a burst past the budget notifies at once.
func TestBurstLeavesKickToKicker(t *testing.T) {
	n := newNIC(t, allFeatures|virtionet.FeatureHostTSO4, 64, 64)
	<-n.fake.Notified() // the receive kick from Probe
	// One P, as in the kernel: the kicker runs only when the sender
	// yields, never in parallel with it (a locked thread did not stop
	// that on a multi-core host).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, f := range []string{"1", "2", "3"} {
		if err := n.dev.Transmit(ethFrame(f)); err != nil || n.kickedNow() {
			t.Fatalf("frame %s: err %v, or kicked before its sender yielded", f, err)
		}
	}
	select {
	case q := <-n.fake.Notified():
		if q != 1 {
			t.Fatalf("kicker notified queue %d", q)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("deferred kick never sent: the device would never see the frames")
	}
	if n.kickedNow() {
		t.Fatal("three frames, more than one notification")
	}
	for _, want := range []string{"1", "2", "3"} {
		if got := n.take(); string(got[12+14:]) != want {
			t.Fatalf("device got % x, want frame %s", got, want)
		}
	}
	// Offloaded frames of 60 KB: the ninth reaches the 512 KiB budget.
	big := partial(tcpFrame(string(bytes.Repeat([]byte("s"), 60000))))
	kicks := 0
	for range 9 {
		if err := n.dev.TransmitGSO(big, 34, 1448); err != nil {
			t.Fatal(err)
		}
		if n.kickedNow() {
			kicks++
		}
	}
	if kicks != 1 {
		t.Fatalf("%d immediate notifications for 540 KB queued; want 1, at the budget", kicks)
	}
}

// A user task's frames are not left to the kicker, which would wait for
// the task to hand its P over: they are notified when the task leaves the
// network code (FlushTx, from the stack's DoSoftirq), all at once.
func TestUserTaskFramesWaitForFlushTx(t *testing.T) {
	n := newNIC(t, allFeatures|virtionet.FeatureHostTSO4, 64, 64)
	<-n.fake.Notified() // the receive kick from Probe
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	n.dev.FlushTx()
	if n.kickedNow() {
		t.Fatal("FlushTx notified with nothing queued")
	}
	sched.SetUserTask(true) // this goroutine's thread (slot 0 here) serves a user task
	defer sched.SetUserTask(false)
	for _, f := range []string{"hi", "fin"} {
		if err := n.dev.Transmit(ethFrame(f)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // the kicker would have run by now
	if n.kickedNow() {
		t.Fatal("a user task's frames notified before it left the network code")
	}
	n.dev.FlushTx()
	if tx := n.txKicksNow(); tx != 1 {
		t.Fatalf("%d notifications for the two frames after FlushTx, want 1", tx)
	}
	for _, want := range []string{"hi", "fin"} {
		if got := n.take(); string(got[12+14:]) != want {
			t.Fatalf("device got % x, want frame %s", got, want)
		}
	}
	n.dev.FlushTx()
	if n.kickedNow() {
		t.Fatal("a second FlushTx notified again")
	}
}

// Without segmentation offload a burst is MSS frames, and the sender
// kicks at once after 8 KiB of them (so the device starts while the rest
// are built), not after 512 KiB.
func TestBurstOfMSSFramesKicksEarly(t *testing.T) {
	n := newNIC(t, allFeatures, 64, 64)
	<-n.fake.Notified() // the receive kick from Probe
	// One P, as in the kernel: the kicker runs only when the sender
	// yields, never in parallel with it (a locked thread did not stop
	// that on a multi-core host).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	frame := ethFrame(strings.Repeat("m", 1500)) // 1,514 bytes and a 12-byte header
	for i := 1; i <= 12; i++ {
		if err := n.dev.Transmit(frame); err != nil {
			t.Fatal(err)
		}
		if k := n.kickedNow(); k != (i == 6 || i == 12) {
			t.Fatalf("frame %d (%d bytes queued): kicked at once %v", i, i*1526, k)
		}
	}
	for i := range 12 {
		if got := n.take(); len(got) != 12+len(frame) {
			t.Fatalf("frame %d: device got %d bytes", i, len(got))
		}
	}
}

func TestTransmitGSOHeaderAndLimits(t *testing.T) {
	n := newNIC(t, allFeatures|virtionet.FeatureHostTSO4, 8, 8)
	if n.dev.GSOMaxSize() != 14+65535 {
		t.Fatalf("GSOMaxSize %d", n.dev.GSOMaxSize())
	}
	big := partial(tcpFrame(string(bytes.Repeat([]byte("s"), 10000))))
	if err := n.dev.TransmitGSO(big, 34, 1448); err != nil {
		t.Fatal(err)
	}
	want := append(hdr(1, 1, 34, 16, 0), big...)
	binary.LittleEndian.PutUint16(want[2:], 54)   // hdr_len: Ethernet + IPv4 + TCP
	binary.LittleEndian.PutUint16(want[4:], 1448) // gso_size
	if got := n.take(); !bytes.Equal(got, want) {
		t.Fatalf("device got header % x, want % x", got[:12], want[:12])
	}
	for _, tc := range []struct {
		frame []byte
		start int
		want  error
	}{
		{ethFrame("not ip at all, just bytes......................................."), 34, virtionet.ErrNotTCPv4},
		{big, 20, virtionet.ErrNotTCPv4},
		{make([]byte, 14+65536), 34, link.ErrTooBig},
	} {
		if err := n.dev.TransmitGSO(tc.frame, tc.start, 1448); !errors.Is(err, tc.want) {
			t.Errorf("TransmitGSO(%d bytes, start %d) = %v, want %v", len(tc.frame), tc.start, err, tc.want)
		}
	}
	plain := newNIC(t, allFeatures, 8, 8)
	if err := plain.dev.TransmitGSO(big, 34, 1448); !errors.Is(err, virtionet.ErrNoTSO) || plain.dev.GSOMaxSize() != 0 {
		t.Fatalf("without HOST_TSO4: %v, max %d", err, plain.dev.GSOMaxSize())
	}
}

// A frame built in a slot AllocFrame lent reaches the device from where it
// lies, behind its header, uncopied; the slot is lent again once the device
// used it, or once ReleaseFrame gives it back unsent. The pool runs dry
// instead of growing: the stack then allocates and Transmit copies.
func TestAllocFrameSendsInPlace(t *testing.T) {
	n := newNIC(t, allFeatures|virtionet.FeatureHostTSO4, 8, 8)
	big := partial(tcpFrame(string(bytes.Repeat([]byte("p"), 10000))))
	b := n.dev.AllocFrame(40 + len(big))
	if b == nil {
		t.Fatal("no frame lent")
	}
	frame := b[40:]
	copy(frame, big)
	if err := n.dev.TransmitGSO(frame, 34, 1448); err != nil {
		t.Fatal(err)
	}
	want := append(hdr(1, 1, 34, 16, 0), big...)
	binary.LittleEndian.PutUint16(want[2:], 54)
	binary.LittleEndian.PutUint16(want[4:], 1448)
	if got := n.take(); !bytes.Equal(got, want) {
		t.Fatalf("device got header % x, want % x", got[:12], want[:12])
	}
	if n.dev.Stats.TxInPlace.Load() != 1 {
		t.Fatalf("%d frames sent in place, want 1", n.dev.Stats.TxInPlace.Load())
	}
	var lent [][]byte
	for {
		b := n.dev.AllocFrame(60000)
		if b == nil {
			break
		}
		lent = append(lent, b)
	}
	if len(lent) < 2 {
		t.Fatalf("%d slots lent after the first came back, want them all", len(lent))
	}
	n.dev.ReleaseFrame(lent[0][100:])
	n.dev.ReleaseFrame(make([]byte, 100)) // not lent: ignored
	if n.dev.AllocFrame(60000) == nil {
		t.Fatal("a released slot is not lent again")
	}
	if n.dev.AllocFrame(60000) != nil {
		t.Fatal("ReleaseFrame of a buffer the device never lent freed a slot")
	}
}
