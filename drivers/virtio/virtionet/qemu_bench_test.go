package virtionet_test

import (
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"gomenuos/drivers/hw/qtest"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/virtio"
	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/net/checksum"
)

const udpPayload = 1472 // a full 1500-byte IP packet

// tapNIC probes QEMU's virtio-net on tap0 inside a fresh namespace.
func tapNIC(tb testing.TB, ns string) *virtionet.Device {
	m, err := qtest.Start(qtest.Config{RAMBytes: 64 << 20, Wrapper: []string{"ip", "netns", "exec", ns}, Args: []string{
		"-device", "virtio-net-pci,netdev=n0,addr=3,mac=" + nicMAC.String() + ",romfile=",
		"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vnet_hdr=on",
	}})
	if err != nil {
		tb.Fatalf("starting QEMU: %v", err)
	}
	tb.Cleanup(m.Close)
	cfg := pci.NewConfig(m)
	qtest.AssignResources(cfg)
	dev, err := virtionet.Probe(pci.Find(pci.Scan(cfg), virtio.PCIVendor, virtio.PCIDeviceNetLegacy),
		qtest.NewMemory(m), m, virtionet.Options{})
	if err != nil {
		tb.Fatalf("Probe: %v", err)
	}
	return dev
}

// udpFrame builds a guest → host UDP datagram (UDP checksum 0: none).
func udpFrame(dstMAC [6]byte, n int) []byte {
	f := make([]byte, 14+20+8+n)
	copy(f[0:], dstMAC[:])
	copy(f[6:], nicMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	copy(ip, []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17})
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+n))
	copy(ip[12:], tapGuestIP[:])
	copy(ip[16:], tapHostIP[:])
	binary.BigEndian.PutUint16(ip[10:], checksum.Checksum(ip, 0))
	udp := f[34:]
	binary.BigEndian.PutUint16(udp[0:], 7000)
	binary.BigEndian.PutUint16(udp[2:], 7001)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+n))
	return f
}

// BenchmarkQEMUTapTransmit: guest → host UDP through QEMU's virtio-net and a
// tap; counts what the host socket received.
func BenchmarkQEMUTapTransmit(b *testing.B) {
	ns := tapNamespace(b)
	dev := tapNIC(b, ns)
	attachChan(dev)
	var conn *net.UDPConn
	var err error
	if e := <-inNamespace(ns, func() { conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(10, 0, 3, 1), Port: 7001}) }); e != nil || err != nil {
		b.Fatal(e, err)
	}
	defer conn.Close()
	conn.SetReadBuffer(8 << 20)
	var got atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	frame := udpFrame(tapMAC(b, ns), udpPayload)
	b.SetBytes(udpPayload)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := dev.Transmit(append([]byte(nil), frame...)); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); got.Load() < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/float64(b.N)*100, "%delivered")
	b.ReportMetric(float64(dev.Stats.Kicks.Load())/float64(b.N), "kicks/frame")
}

// BenchmarkQEMUTapReceive: host → guest UDP, at most 256 datagrams in flight.
func BenchmarkQEMUTapReceive(b *testing.B) {
	ns := tapNamespace(b)
	dev := tapNIC(b, ns)
	rx := attachChan(dev)
	var conn *net.UDPConn
	var err error
	if e := <-inNamespace(ns, func() { conn, err = net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(10, 0, 3, 2), Port: 7000}) }); e != nil || err != nil {
		b.Fatal(e, err)
	}
	defer conn.Close()
	var got atomic.Int64
	go func() {
		for range rx {
			got.Add(1)
		}
	}()
	payload := make([]byte, udpPayload)
	b.SetBytes(udpPayload)
	b.ResetTimer()
	sent := 0
	for deadline := time.Now().Add(30 * time.Second); got.Load() < int64(b.N) && time.Now().Before(deadline); {
		if sent < b.N+256 && int64(sent)-got.Load() < 256 {
			conn.Write(payload)
			sent++
			continue
		}
		time.Sleep(50 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(dev.Stats.Interrupts.Load())/float64(got.Load()+1), "irqs/frame")
	if got.Load() < int64(b.N) {
		b.Fatalf("received %d of %d", got.Load(), b.N)
	}
}
