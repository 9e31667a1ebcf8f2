package virtionet_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"gomenuos/drivers/hw/qtest"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/virtio"
	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/net/checksum"
	"gomenuos/net/header"
)

// qemuNIC probes QEMU's own virtio-net model (transitional, user
// networking, host TCP port hostPort forwarded to the guest's 5001).
func qemuNIC(t *testing.T, hostPort int) *virtionet.Device {
	t.Helper()
	m, err := qtest.Start(qtest.Config{RAMBytes: 64 << 20, Args: []string{
		"-device", "virtio-net-pci,netdev=n0,addr=3,mac=52:54:00:12:34:56,romfile=",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-10.0.2.15:5001", hostPort),
	}})
	if err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	t.Cleanup(m.Close)
	cfg := pci.NewConfig(m)
	qtest.AssignResources(cfg)
	pd := pci.Find(pci.Scan(cfg), virtio.PCIVendor, virtio.PCIDeviceNetLegacy)
	if pd == nil {
		t.Fatal("no virtio-net function found")
	}
	dev, err := virtionet.Probe(pd, qtest.NewMemory(m), m, virtionet.Options{RxQueueSize: 64, TxQueueSize: 64})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return dev
}

// attachChan attaches a receiver that queues frames on a channel.
func attachChan(dev *virtionet.Device) chanReceiver {
	rx := make(chanReceiver, 4096)
	dev.Attach(rx)
	return rx
}

// verifyTCP checks the TCP checksum of an IPv4 frame with a 20-byte header.
func verifyTCP(f []byte) error {
	ip := f[14:]
	seg := ip[20:binary.BigEndian.Uint16(ip[2:])]
	ph := checksum.PseudoHeaderIPv4([4]byte(ip[12:16]), [4]byte(ip[16:20]), 6, uint16(len(seg)))
	if s := checksum.Fold(checksum.Sum(seg, ph)); s != 0xFFFF {
		return fmt.Errorf("TCP checksum sums to %#x", s)
	}
	return nil
}

var (
	guestIP   = [4]byte{10, 0, 2, 15}
	gatewayIP = [4]byte{10, 0, 2, 2}
)

func arpRequest(mac header.MAC) []byte {
	f := make([]byte, 42)
	header.PutEthernet(f, header.BroadcastMAC, mac, header.EtherTypeARP)
	a := f[14:]
	copy(a, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(a[8:], mac[:])
	copy(a[14:], guestIP[:])
	copy(a[24:], gatewayIP[:])
	return f
}

// waitFrame returns the first delivered frame that match accepts.
func waitFrame(t *testing.T, rx chanReceiver, what string, match func([]byte) bool) []byte {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f := <-rx:
			if match(f) {
				return f
			}
		case <-deadline:
			t.Fatalf("no %s received", what)
		}
	}
}

func TestQEMUVirtioNetARPAndForwardedSYN(t *testing.T) {
	dev := qemuNIC(t, 15001)
	rx := attachChan(dev)
	want := uint64(virtio.FeatureVersion1 | virtionet.FeatureMAC | virtionet.FeatureStatus | virtionet.FeatureMrgRxbuf)
	if got := dev.NegotiatedFeatures(); got != want { // user networking offers no checksum offload
		t.Fatalf("negotiated %#x, want %#x", got, want)
	}
	if dev.HardwareAddr() != nicMAC || !dev.LinkUp() {
		t.Fatalf("mac %v link %v", dev.HardwareAddr(), dev.LinkUp())
	}
	if err := dev.Transmit(arpRequest(nicMAC)); err != nil {
		t.Fatal(err)
	}
	reply := waitFrame(t, rx, "ARP reply from 10.0.2.2", func(f []byte) bool {
		return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 && binary.BigEndian.Uint16(f[20:]) == 2
	})
	if header.MAC(reply[0:6]) != nicMAC || header.MAC(reply[22:28]) != peerMAC || [4]byte(reply[28:32]) != gatewayIP {
		t.Fatalf("ARP reply % x", reply)
	}
	// A host connection to the forwarded port arrives as a SYN to 10.0.2.15:5001.
	go func() {
		c, err := net.DialTimeout("tcp", "127.0.0.1:15001", 5*time.Second)
		if err == nil {
			time.Sleep(3 * time.Second)
			c.Close()
		}
	}()
	syn := waitFrame(t, rx, "forwarded SYN", func(f []byte) bool {
		return len(f) >= 54 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 6 &&
			binary.BigEndian.Uint16(f[36:]) == 5001 && f[47]&0x02 != 0
	})
	if err := verifyTCP(syn); err != nil {
		t.Fatalf("SYN % x: %v", syn, err)
	}
	if dev.Stats.RxErrors.Load() != 0 || dev.Stats.Interrupts.Load() == 0 {
		t.Fatalf("rx errors %d interrupts %d", dev.Stats.RxErrors.Load(), dev.Stats.Interrupts.Load())
	}
}
