package pci_test

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"gomenuos/drivers/hw"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/pci/pcitest"
)

// qemuLikeBus mirrors QEMU's default pc machine with a transitional
// virtio-net at 00:03.0 and a bridge leading to bus 1.
func qemuLikeBus() *pcitest.Bus {
	b := pcitest.NewBus()
	b.Add(pci.Addr{}, 0x8086, 0x1237, 0x06, 0x00)
	isa := b.Add(pci.Addr{Dev: 1}, 0x8086, 0x7000, 0x06, 0x01)
	isa.Config[0x0E] = 0x80 // multi-function
	b.Add(pci.Addr{Dev: 1, Fn: 1}, 0x8086, 0x7010, 0x01, 0x01)
	b.Add(pci.Addr{Dev: 1, Fn: 3}, 0x8086, 0x7113, 0x06, 0x80)
	nic := b.Add(pci.Addr{Dev: 3}, 0x1af4, 0x1000, 0x02, 0x00)
	nic.SetBAR(0, 0xc000, 32, true, false)
	nic.SetBAR(1, 0xfebd1000, 4096, false, false)
	nic.SetBAR(4, 0xfe000000, 16384, false, true)
	nic.Config[0x3C], nic.Config[0x3D] = 11, 1
	nic.AddCap(pci.CapMSIX, []byte{0x02, 0x00, 0x01, 0, 0, 0, 0x01, 0x08, 0, 0})
	nic.AddCap(pci.CapVendor, []byte{16, 1, 4, 0, 0, 0})
	br := b.Add(pci.Addr{Dev: 5}, 0x1b36, 0x0001, 0x06, 0x04)
	br.Config[0x0E] = pci.HeaderBridge
	br.Config[0x19] = 1
	b.Add(pci.Addr{Bus: 1, Dev: 2}, 0x1af4, 0x1041, 0x02, 0x00)
	return b
}

func TestScanFindsFunctionsBridgesAndMultifunction(t *testing.T) {
	devs := pci.Scan(pci.NewConfig(qemuLikeBus()))
	var got []string
	for _, d := range devs {
		got = append(got, d.Addr.String())
	}
	want := "[00:00.0 00:01.0 00:01.1 00:01.3 00:03.0 00:05.0 01:02.0]"
	if s := "[" + join(got) + "]"; s != want {
		t.Fatalf("scan = %s, want %s", s, want)
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func TestBARsAreSizedAndRestored(t *testing.T) {
	cfg := pci.NewConfig(qemuLikeBus())
	d := pci.Find(pci.Scan(cfg), 0x1af4, 0x1041, 0x1000)
	if d == nil || d.Addr != (pci.Addr{Dev: 3}) {
		t.Fatalf("Find = %+v", d)
	}
	want := [6]pci.BAR{
		{Addr: 0xc000, Size: 32, IO: true},
		{Addr: 0xfebd1000, Size: 4096},
		{},
		{},
		{Addr: 0xfe000000, Size: 16384, Is64: true},
		{},
	}
	if d.BARs != want {
		t.Fatalf("BARs = %+v\nwant   %+v", d.BARs, want)
	}
	if v := d.Read32(0x20); v != 0xfe000004 {
		t.Fatalf("BAR4 after probing = %#x, want restored 0xfe000004", v)
	}
	if d.Read32(0x24) != 0 {
		t.Fatalf("BAR5 (high half) after probing = %#x", d.Read32(0x24))
	}
}

func TestCapabilitiesAndEnable(t *testing.T) {
	d := pci.Find(pci.Scan(pci.NewConfig(qemuLikeBus())), 0x1af4, 0x1000)
	if len(d.Caps) != 2 || d.Caps[0] != (pci.Capability{ID: pci.CapMSIX, Offset: 0x40}) ||
		d.Caps[1] != (pci.Capability{ID: pci.CapVendor, Offset: 0x4C}) {
		t.Fatalf("caps = %+v", d.Caps)
	}
	if offs := d.FindCapabilities(pci.CapVendor); len(offs) != 1 || offs[0] != 0x4C {
		t.Fatalf("vendor caps at %v", offs)
	}
	d.Enable()
	d.SetMaster()
	if cmd := d.Command(); cmd != pci.CommandIO|pci.CommandMemory|pci.CommandBusMaster {
		t.Fatalf("command = %#x", cmd)
	}
}

func TestCapabilityLoopIsBounded(t *testing.T) {
	b := pcitest.NewBus()
	f := b.Add(pci.Addr{}, 0x1234, 0x5678, 0x02, 0x00)
	off := f.AddCap(pci.CapVendor, []byte{0, 0})
	f.Config[off+1] = off // points at itself
	d := pci.Scan(pci.NewConfig(b))[0]
	if len(d.Caps) != 48 {
		t.Fatalf("walked %d caps of a looping list, want the 48-entry bound", len(d.Caps))
	}
}

func TestListing(t *testing.T) {
	devs := pci.Scan(pci.NewConfig(qemuLikeBus()))
	var buf bytes.Buffer
	pci.WriteListing(&buf, devs[4:5], true)
	want := "00:03.0 Ethernet controller [0200]: 1af4:1000 (rev 00)\n" +
		"\tInterrupt: pin A routed to IRQ 11\n" +
		"\tRegion 0: I/O ports at c000 [size=32]\n" +
		"\tRegion 1: Memory at febd1000 (32-bit, non-prefetchable) [size=4K]\n" +
		"\tRegion 4: Memory at fe000000 (64-bit, non-prefetchable) [size=16K]\n" +
		"\tCapabilities: [40] MSI-X, [4c] Vendor Specific\n"
	if buf.String() != want {
		t.Fatalf("listing:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// tableMemory serves one register window (an MSI-X table) from plain memory.
type tableMemory struct {
	phys uint64
	buf  *[64]byte
}

func (m tableMemory) MapMMIO(phys, size uint64) (uintptr, error) { panic("MapMMIO used") }
func (m tableMemory) AllocDMA(size, align int) ([]byte, uint64, error) {
	panic("AllocDMA used")
}
func (m tableMemory) MapRegs(phys, size uint64) (hw.Regs, error) {
	if phys != m.phys || size > 64 {
		return nil, fmt.Errorf("no registers at %#x+%d", phys, size)
	}
	return hw.NewMMIO(unsafe.Pointer(m.buf), 64), nil
}

func TestMSIXProgramsTableAndEnables(t *testing.T) {
	d := pci.Find(pci.Scan(pci.NewConfig(qemuLikeBus())), 0x1af4, 0x1000)
	mem := tableMemory{phys: 0xfebd1000, buf: new([64]byte)}
	m, err := d.MSIX(mem)
	if err != nil || m.Size() != 3 {
		t.Fatalf("MSIX: %v, size %d", err, m.Size())
	}
	m.SetEntry(1, 0xfee00000, 0x41)
	m.Enable()
	want := []byte{0x00, 0x00, 0xe0, 0xfe, 0, 0, 0, 0, 0x41, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(mem.buf[16:32], want) {
		t.Fatalf("entry 1 = % x, want % x", mem.buf[16:32], want)
	}
	if ctl := d.Read16(0x42); ctl != 0x8002 {
		t.Fatalf("message control %#x, want enable bit and table size 3", ctl)
	}
	if d.Command()&pci.CommandINTxDisable == 0 {
		t.Fatal("INTx still enabled")
	}
}
