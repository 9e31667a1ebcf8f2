package stack

import (
	"testing"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// FuzzDeliverFrame feeds arbitrary frames into a configured stack with a
// transport registered: nothing may panic, and every frame must be either
// delivered, answered or counted as a drop somewhere.
func FuzzDeliverFrame(f *testing.F) {
	echo := make([]byte, 12)
	header.PutICMPv4(echo, header.ICMPv4Echo, 0, 1)
	unreach := make([]byte, 8+28)
	header.PutIPv4(unreach[8:], header.IPv4Fields{TotalLength: 28, TTL: 64, Protocol: protoTest, Src: ipB, Dst: ipA})
	header.PutICMPv4(unreach, header.ICMPv4DestUnreach, header.ICMPv4PortUnreach, 0)
	f.Add(ipFrame(macB, ipA, ipB, protoTest, 1, 0, false, []byte("data")))
	f.Add(ipFrame(macB, ipA, ipB, header.ProtocolICMP, 2, 0, false, echo))
	f.Add(ipFrame(macB, ipA, ipB, header.ProtocolICMP, 3, 0, false, unreach))
	f.Add(ipFrame(macB, ipA, ipB, protoTest, 4, 8, true, []byte("fragment")))
	f.Add(ipFrame(macB, ipA, ipB, 99, 5, 0, false, nil))
	f.Add(arpFrame(header.ARPRequest, header.BroadcastMAC, macA, ipA, header.MAC{}, ipB))
	f.Add(arpFrame(header.ARPReply, macB, macA, ipA, macB, ipB))
	f.Fuzz(func(t *testing.T, frame []byte) {
		n := newTestNet(t, link.Impairment{})
		n.b.AddTransport(&recvTransport{proto: protoTest})
		n.b.AddTransport(&recvTransport{proto: header.ProtocolTCP})
		n.b.DeliverFrame(n.pipe.B, frame)
		n.b.DeliverFrame(n.pipe.B, append([]byte(nil), frame...)) // twice: duplicates reach queues and caches
		n.vc.Advance(ipfragTime + arpReachableTime)
		_ = n.b.SNMPText() + n.b.DevText() + n.b.ARPText() + n.b.DropsText()
	})
}
