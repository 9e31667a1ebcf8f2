package stack

import (
	"net/netip"
	"strings"
	"testing"
	"time"

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

// FuzzNeighbourEvents drives A's ARP cache with a byte-coded sequence of
// events — send a datagram to one of four neighbours, receive a request
// or reply from one (possibly with a new MAC), let time pass — and checks
// that every datagram sent is accounted for: on the wire, dropped with a
// reason, or still waiting in a queue no longer than arpQueueLen.
func FuzzNeighbourEvents(f *testing.F) {
	f.Add([]byte{0x00, 0x10, 0x20, 0x31, 0x42, 0x05, 0x53, 0x66, 0x37})
	f.Add([]byte{0x01, 0x01, 0x01, 0x31, 0x31, 0x31, 0x31, 0x11, 0x21})
	f.Fuzz(func(t *testing.T, events []byte) {
		n := newTestNet(t, link.Impairment{})
		sent := 0
		for _, ev := range events {
			ip := netip.AddrFrom4([4]byte{10, 0, 0, 10 + ev&3})
			mac := header.MAC{2, 0, 0, 0, ev >> 6, 10 + ev&3}
			switch ev >> 4 & 3 {
			case 0:
				send(t, n.a, ip, protoTest, "x")
				sent++
			case 1:
				n.a.DeliverFrame(n.pipe.A, arpFrame(header.ARPReply, macA, mac, ip, macA, ipA))
			case 2:
				n.a.DeliverFrame(n.pipe.A, arpFrame(header.ARPRequest, header.BroadcastMAC, mac, ip, header.MAC{}, ipA))
			case 3:
				n.vc.Advance(time.Duration(ev>>6+1) * 700 * time.Millisecond)
			}
		}
		onWire := 0
		for _, w := range n.takeWire() {
			if strings.Contains(w, " ip ") {
				onWire++
			}
		}
		queued := 0
		n.a.neigh.mu.Lock()
		for _, e := range n.a.neigh.entries {
			if len(e.queue) > arpQueueLen {
				t.Errorf("queue of %v holds %d", e.ip, len(e.queue))
			}
			queued += len(e.queue)
		}
		n.a.neigh.mu.Unlock()
		dropped := int(n.a.Dropped(DropNeighQueueFull) + n.a.Dropped(DropNeighFailed))
		if onWire+dropped+queued != sent {
			t.Fatalf("sent %d: on wire %d + dropped %d + queued %d", sent, onWire, dropped, queued)
		}
	})
}
