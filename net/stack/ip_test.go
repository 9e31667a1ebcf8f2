package stack

import (
	"errors"
	"net/netip"
	"testing"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// ipFrame builds an Ethernet frame carrying one IPv4 datagram or fragment.
func ipFrame(ethDst header.MAC, src, dst netip.Addr, proto uint8, id uint16, fragOff int, mf bool, payload []byte) []byte {
	f := make([]byte, 14+20+len(payload))
	header.PutEthernet(f, ethDst, macA, header.EtherTypeIPv4)
	flds := header.IPv4Fields{TotalLength: uint16(20 + len(payload)), ID: id, FragOffset: fragOff, TTL: 64, Protocol: proto, Src: src, Dst: dst}
	if mf {
		flds.Flags = header.IPv4FlagMF
	}
	header.PutIPv4(f[14:], flds)
	copy(f[34:], payload)
	return f
}

func TestIPInputDropsWithReasons(t *testing.T) {
	good := func() []byte { return ipFrame(macB, ipA, ipB, protoTest, 1, 0, false, []byte("data")) }
	tests := []struct {
		name   string
		frame  func() []byte
		reason DropReason
		mib    func(m *IPMIB) uint64
	}{
		{"bad header checksum", func() []byte { f := good(); f[14+8]--; return f }, DropIPCsum,
			func(m *IPMIB) uint64 { return m.InCsumErrors.Load() }},
		{"version 6", func() []byte { f := good(); f[14] = 0x65; return f }, DropIPInHdr,
			func(m *IPMIB) uint64 { return m.InHdrErrors.Load() }},
		{"truncated", func() []byte { return good()[:14+22] }, DropPktTooSmall,
			func(m *IPMIB) uint64 { return m.InTruncatedPkts.Load() }},
		{"not our address, no forwarding", func() []byte { return ipFrame(macB, ipA, netip.MustParseAddr("10.0.0.3"), protoTest, 1, 0, false, nil) },
			DropIPInAddrErrors, func(m *IPMIB) uint64 { return m.InAddrErrors.Load() }},
		{"multicast source", func() []byte {
			return ipFrame(macB, netip.MustParseAddr("224.0.0.1"), ipB, protoTest, 1, 0, false, nil)
		},
			DropIPInvalidSource, func(m *IPMIB) uint64 { return m.InAddrErrors.Load() }},
		{"loopback source on a wire", func() []byte {
			return ipFrame(macB, netip.MustParseAddr("127.0.0.1"), ipB, protoTest, 1, 0, false, nil)
		},
			DropIPInvalidSource, func(m *IPMIB) uint64 { return m.InAddrErrors.Load() }},
		{"our own address as source", func() []byte { return ipFrame(macB, ipB, ipB, protoTest, 1, 0, false, nil) },
			DropIPInvalidSource, func(m *IPMIB) uint64 { return m.InAddrErrors.Load() }},
		{"loopback destination on a wire", func() []byte {
			return ipFrame(macB, ipA, netip.MustParseAddr("127.0.0.1"), protoTest, 1, 0, false, nil)
		},
			DropIPInAddrErrors, func(m *IPMIB) uint64 { return m.InAddrErrors.Load() }},
		{"other host's MAC", func() []byte { return ipFrame(header.MAC{2, 9, 9, 9, 9, 9}, ipA, ipB, protoTest, 1, 0, false, nil) },
			DropOtherHost, func(m *IPMIB) uint64 { return 0 }},
		{"runt frame", func() []byte { return good()[:10] }, DropPktTooSmall, func(m *IPMIB) uint64 { return 0 }},
		{"IPv6 ethertype", func() []byte { f := good(); f[12], f[13] = 0x86, 0xdd; return f }, DropUnhandledProto,
			func(m *IPMIB) uint64 { return 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t, link.Impairment{})
			lo := link.NewLoopback() // so 127.0.0.1 is local to B
			t.Cleanup(lo.Close)
			if _, err := n.b.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
				t.Fatal(err)
			}
			rx := &recvTransport{proto: protoTest}
			n.b.AddTransport(rx)
			n.b.DeliverFrame(n.pipe.B, tc.frame())
			eq(t, "drops of "+tc.reason.String(), n.b.Dropped(tc.reason), 1)
			eq(t, "delivered", len(rx.payloads()), 0)
			eq(t, "rx_dropped", n.ifb.Stats.RxDropped.Load(), 1)
			if want := tc.mib(n.b.IPStats()); tc.reason != DropOtherHost && tc.reason != DropUnhandledProto && tc.name != "runt frame" {
				eq(t, "MIB counter", want, 1)
			}
		})
	}
}

func TestIPInputSkipsOptionsAndKeepsTTL1(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	rx := &recvTransport{proto: protoTest}
	n.b.AddTransport(rx)
	f := make([]byte, 14+24+4)
	header.PutEthernet(f, macB, macA, header.EtherTypeIPv4)
	header.PutIPv4(f[14:], header.IPv4Fields{TotalLength: 28, TTL: 1, Protocol: protoTest, Src: ipA, Dst: ipB})
	f[14] = 0x46
	copy(f[34:38], []byte{0x94, 0x04, 0, 0}) // router alert option
	copy(f[38:], "data")
	fixIPv4Checksum(f[14:38])
	f = append(f, make([]byte, 18)...) // Ethernet padding beyond the total length
	n.b.DeliverFrame(n.pipe.B, f)
	got := rx.payloads()
	if len(got) != 1 || got[0] != `10.0.0.1>10.0.0.2 ttl 1 "data"` {
		t.Fatalf("delivered %q", got)
	}
}

func TestOutputIPv4Errors(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	buf := func(n int) []byte { return make([]byte, MaxHeaderRoom+n) }
	for _, tc := range []struct {
		name     string
		src, dst netip.Addr
		b        []byte
		off      int
		want     error
	}{
		{"no route", ipA, netip.MustParseAddr("192.168.1.1"), buf(10), MaxHeaderRoom, ErrNoRoute},
		{"foreign source", netip.MustParseAddr("10.0.0.5"), ipB, buf(10), MaxHeaderRoom, ErrInvalidSource},
		{"too little headroom", ipA, ipB, buf(10), MaxHeaderRoom - 1, ErrInvalid},
		{"DF and larger than MTU", ipA, ipB, buf(1481), MaxHeaderRoom, ErrMessageTooLong},
	} {
		if err := n.a.OutputIPv4(tc.src, tc.dst, protoTest, 0, tc.b, tc.off); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	eq(t, "OutNoRoutes", n.a.IPStats().OutNoRoutes.Load(), 1)
	if err := n.a.OutputIPv4(ipA, ipB, protoTest, 0, buf(1480), MaxHeaderRoom); err != nil {
		t.Fatalf("exactly MTU: %v", err)
	}
}
