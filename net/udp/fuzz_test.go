package udp

import (
	"net/netip"
	"testing"

	"gomenuos/net/link"
	"gomenuos/net/stack"
)

// FuzzUDPInput feeds arbitrary IPv4 payloads to UDP as datagrams (unicast
// or broadcast, checksum trusted or not) and as the quote of an ICMP
// error, with sockets bound, connected and full. It must never panic,
// and every socket's queue accounting must stay exact.
func FuzzUDPInput(f *testing.F) {
	f.Add(udpPacket(ipA, ipB, 1000, 53, []byte("query")).Payload, uint8(0))
	f.Add(udpPacket(ipA, ipB, 1000, 9, nil).Payload, uint8(3))
	f.Add(quotedDatagram(netip.MustParseAddrPort("10.0.0.2:60"), netip.MustParseAddrPort("10.0.0.1:9")), uint8(4))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		n := newTestNet(t, link.Impairment{})
		p := n.b.udp
		socks := []*Sock{n.b.bound(t, ":53"), n.b.bound(t, "10.0.0.2:9"), n.b.bound(t, ":60")}
		_ = socks[1].SetOption(OptRcvBuf, 0)
		_ = socks[2].Connect(netip.MustParseAddrPort("10.0.0.1:9"))
		pi := &stack.PacketInfo{Src: ipA, Dst: ipB, TTL: 64, Payload: b,
			ChecksumVerified: mode&1 != 0, Broadcast: mode&2 != 0}
		if mode&2 != 0 {
			pi.Dst = netip.MustParseAddr("10.0.0.255")
		}
		for range 3 {
			p.Receive(pi)
		}
		if mode&4 != 0 {
			p.ReceiveICMPError(pi, 3, mode>>3&15, b)
		}
		p.lock()
		defer p.unlock()
		for i, s := range socks {
			sum := 0
			for _, d := range s.rcvQ {
				sum += d.truesize
			}
			if sum != s.rmem {
				t.Fatalf("socket %d: rmem %d, queued truesize %d", i, s.rmem, sum)
			}
		}
	})
}
