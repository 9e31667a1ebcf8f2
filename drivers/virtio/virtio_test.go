package virtio_test

import (
	"bytes"
	"errors"
	"testing"

	"gomenuos/drivers/pci"
	"gomenuos/drivers/pci/pcitest"
	"gomenuos/drivers/virtio"
	"gomenuos/drivers/virtio/virtiotest"
)

const featMAC = 1 << 5

func newDevice(t *testing.T, offered uint64) (*virtio.Device, *virtiotest.Device) {
	t.Helper()
	mem := virtiotest.NewMemory()
	fake := virtiotest.New(mem, offered, []uint16{256, 256}, make([]byte, 16))
	bus := pcitest.NewBus()
	fake.Install(bus, pci.Addr{Dev: 3}, 0x1041)
	d := pci.Find(pci.Scan(pci.NewConfig(bus)), virtio.PCIVendor, 0x1041)
	v, err := virtio.NewPCIDevice(d, mem)
	if err != nil {
		t.Fatalf("NewPCIDevice: %v", err)
	}
	return v, fake
}

func TestHandshakeNegotiatesOfferedSubset(t *testing.T) {
	v, fake := newDevice(t, virtio.FeatureVersion1|featMAC|1<<16)
	got, err := v.Negotiate(featMAC | 1<<0)
	if err != nil || got != virtio.FeatureVersion1|featMAC {
		t.Fatalf("Negotiate = %#x, %v", got, err)
	}
	if fake.Driver != got {
		t.Fatalf("driver features written %#x, want %#x", fake.Driver, got)
	}
	v.Ready()
	// virtio 1.2 §3.1.1: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK.
	if log := fake.StatusLog(); !bytes.Equal(log, []byte{0, 1, 3, 11, 15}) {
		t.Fatalf("status writes %v, want [0 1 3 11 15]", log)
	}
	if v.PCI.Command()&pci.CommandBusMaster == 0 {
		t.Fatal("bus mastering not enabled")
	}
}

func TestHandshakeFailures(t *testing.T) {
	v, fake := newDevice(t, featMAC)
	if _, err := v.Negotiate(featMAC); !errors.Is(err, virtio.ErrNoVersion1) {
		t.Fatalf("legacy-only device: err %v", err)
	}
	if fake.Status()&virtio.StatusFailed == 0 {
		t.Fatal("FAILED not set after missing VERSION_1")
	}
	v, fake = newDevice(t, virtio.FeatureVersion1)
	fake.RefuseFeatures = true
	if _, err := v.Negotiate(0); !errors.Is(err, virtio.ErrFeaturesRefused) {
		t.Fatalf("refused features: err %v", err)
	}
	if fake.Status() != virtio.StatusAcknowledge|virtio.StatusDriver|virtio.StatusFailed {
		t.Fatalf("status %#x", fake.Status())
	}
}

func TestMissingCapability(t *testing.T) {
	bus := pcitest.NewBus()
	bus.Add(pci.Addr{}, virtio.PCIVendor, 0x1041, 2, 0)
	d := pci.Scan(pci.NewConfig(bus))[0]
	if _, err := virtio.NewPCIDevice(d, virtiotest.NewMemory()); !errors.Is(err, virtio.ErrNoCapability) {
		t.Fatalf("err %v", err)
	}
}

func setupQueue(t *testing.T, max uint16) (*virtio.Queue, *virtiotest.Device) {
	t.Helper()
	v, fake := newDevice(t, virtio.FeatureVersion1)
	if _, err := v.Negotiate(0); err != nil {
		t.Fatal(err)
	}
	q, err := v.SetupQueue(1, max, virtio.NoVector)
	if err != nil {
		t.Fatal(err)
	}
	v.Ready()
	return q, fake
}

func TestQueueRoundTripThroughDevice(t *testing.T) {
	q, fake := setupQueue(t, 12)
	if q.Size() != 8 || fake.QueueSize(1) != 8 {
		t.Fatalf("size %d (device %d), want 12 rounded down to 8", q.Size(), fake.QueueSize(1))
	}
	out, outPhys, _ := fake.Mem.AllocDMA(5, 16)
	in, inPhys, _ := fake.Mem.AllocDMA(8, 16)
	copy(out, "hello")
	head, err := q.Add([]virtio.Buf{{Phys: outPhys, Len: 5}, {Phys: inPhys, Len: 8, Writable: true}})
	if err != nil || q.NumFree() != 6 {
		t.Fatalf("Add = %d, %v; free %d", head, err, q.NumFree())
	}
	if !q.Kick() || <-fake.Notified() != 1 {
		t.Fatal("queue 1 not notified")
	}
	c, ok := fake.Pop(1)
	if !ok || c.Head != head || len(c.Segs) != 2 || string(c.Segs[0].Data) != "hello" ||
		c.Segs[0].Writable || !c.Segs[1].Writable {
		t.Fatalf("device saw %+v", c)
	}
	copy(c.Segs[1].Data, "hi")
	fake.Push(1, c.Head, 2)
	if !fake.Interrupt(1) || fake.IRQ.Wait() != nil {
		t.Fatal("no interrupt")
	}
	got, n, ok, err := q.Used()
	if !ok || err != nil || got != head || n != 2 || string(in[:n]) != "hi" {
		t.Fatalf("Used = %d %d %v %v, in %q", got, n, ok, err, in[:n])
	}
	if _, _, ok, _ := q.Used(); ok || q.NumFree() != 8 {
		t.Fatalf("second Used ok=%v, free %d", ok, q.NumFree())
	}
}

func TestQueueFreeListSurvivesIndexWrap(t *testing.T) {
	q, fake := setupQueue(t, 4)
	_, phys, _ := fake.Mem.AllocDMA(64, 16)
	for i := 0; i < 70000; i++ { // past the 16-bit ring index wrap
		n := 1 + i%3
		bufs := make([]virtio.Buf, n)
		for j := range bufs {
			bufs[j] = virtio.Buf{Phys: phys + uint64(16*j), Len: 16}
		}
		head, err := q.Add(bufs)
		if err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		c, ok := fake.Pop(1)
		if !ok || c.Head != head || len(c.Segs) != n {
			t.Fatalf("iteration %d: device saw %+v, want head %d with %d segs", i, c, head, n)
		}
		fake.Push(1, head, 0)
		if got, _, _, err := q.Used(); got != head || err != nil {
			t.Fatalf("iteration %d: used %d, %v", i, got, err)
		}
	}
	if q.NumFree() != 4 {
		t.Fatalf("free %d after wrap", q.NumFree())
	}
}

func TestQueueFullAndBogusUsed(t *testing.T) {
	q, fake := setupQueue(t, 4)
	_, phys, _ := fake.Mem.AllocDMA(16, 16)
	if _, err := q.Add(make([]virtio.Buf, 5)); !errors.Is(err, virtio.ErrQueueFull) {
		t.Fatalf("5 descriptors into 4: %v", err)
	}
	head, _ := q.Add([]virtio.Buf{{Phys: phys, Len: 1}})
	fake.Pop(1)
	fake.Push(1, head+1, 0) // not in flight
	fake.Push(1, 9, 0)      // out of range
	fake.Push(1, head, 1)
	for _, want := range []error{virtio.ErrBadUsed, virtio.ErrBadUsed, nil} {
		if _, _, ok, err := q.Used(); !ok || !errors.Is(err, want) {
			t.Fatalf("Used: ok %v err %v, want %v", ok, err, want)
		}
	}
	if q.NumFree() != 4 {
		t.Fatalf("free %d", q.NumFree())
	}
}

func TestNotificationAndInterruptSuppression(t *testing.T) {
	q, fake := setupQueue(t, 4)
	_, phys, _ := fake.Mem.AllocDMA(16, 16)
	head, _ := q.Add([]virtio.Buf{{Phys: phys, Len: 1}})
	fake.SetNoNotify(1, true)
	if q.Kick() {
		t.Fatal("kicked although the device set VIRTQ_USED_F_NO_NOTIFY")
	}
	q.DisableInterrupts()
	fake.Pop(1)
	fake.Push(1, head, 0)
	if fake.Interrupt(1) {
		t.Fatal("device interrupted although VIRTQ_AVAIL_F_NO_INTERRUPT is set")
	}
	if !q.EnableInterrupts() {
		t.Fatal("EnableInterrupts missed the buffer used while disabled")
	}
	if !fake.Interrupt(1) {
		t.Fatal("interrupts still suppressed")
	}
}
