package stack

import (
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// dfOf returns the DF bit of each IPv4 frame captured since the last takeWire.
func (n *testNet) dfOf() []bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []bool
	for _, f := range n.frames {
		if ip, err := header.ParseIPv4(f[header.EthernetHeaderLen:]); err == nil {
			out = append(out, ip.DF())
		}
	}
	return out
}

// TestOutputIPv4DatagramPMTUWant: a datagram that fits the MTU leaves with
// DF; a larger one is fragmented here without DF instead of failing with
// EMSGSIZE (Linux's IP_PMTUDISC_WANT, UDP's default), and B reassembles it.
func TestOutputIPv4DatagramPMTUWant(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	rx := &recvTransport{proto: protoTest}
	n.b.AddTransport(rx)
	n.a.neighUpdate(n.ifa, ipB, macB, true, true)
	small := make([]byte, MaxHeaderRoom+1480)
	if err := n.a.OutputIPv4Datagram(ipA, ipB, protoTest, 0, small, MaxHeaderRoom); err != nil {
		t.Fatal(err)
	}
	eq(t, "DF of a datagram that fits", len(n.dfOf()) == 1 && n.dfOf()[0], true)
	n.takeWire()
	big := make([]byte, MaxHeaderRoom+2000)
	copy(big[MaxHeaderRoom:], "start")
	if err := n.a.OutputIPv4Datagram(ipA, ipB, protoTest, 0, big, MaxHeaderRoom); err != nil {
		t.Fatalf("2,000 bytes over a 1,500-byte MTU: %v", err)
	}
	eq(t, "DF of the fragments", len(n.dfOf()) == 2 && !n.dfOf()[0] && !n.dfOf()[1], true)
	n.expectWire(
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 102 len 1500 frag 0+",
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 102 len 540 frag 1480")
	n.vc.Advance(time.Millisecond)
	got := rx.payloads()
	eq(t, "datagrams delivered", len(got), 2)
	eq(t, "reassembled length", len(rx.pkts[1].Payload), 2000)
}

// TestLimitedBroadcastLeavesAsBroadcast: 255.255.255.255 goes out on the
// default route's device to the broadcast MAC, not to the gateway, and a
// directed broadcast of the subnet too; both are IsBroadcast, a host
// address is not.
func TestLimitedBroadcastLeavesAsBroadcast(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	if err := n.a.SetDefaultGateway(netip.MustParseAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	rx := &recvTransport{proto: protoTest}
	n.b.AddTransport(rx)
	for _, dst := range []string{"255.255.255.255", "10.0.0.255"} {
		if err := send(t, n.a, netip.MustParseAddr(dst), protoTest, "all"); err != nil {
			t.Fatal(err)
		}
		eq(t, dst+" IsBroadcast", n.a.IsBroadcast(netip.MustParseAddr(dst)), true)
	}
	eq(t, "IsBroadcast(10.0.0.2)", n.a.IsBroadcast(ipB), false)
	n.expectWire(
		"pipeA 02:00:00:00:00:0a>ff:ff:ff:ff:ff:ff ip 10.0.0.1>255.255.255.255 proto 253 id 101 len 23",
		"pipeA 02:00:00:00:00:0a>ff:ff:ff:ff:ff:ff ip 10.0.0.1>10.0.0.255 proto 253 id 102 len 23")
	n.vc.Advance(time.Millisecond)
	rx.mu.Lock()
	defer rx.mu.Unlock()
	eq(t, "delivered", len(rx.pkts), 2)
	eq(t, "Broadcast flag", rx.pkts[0].Broadcast && rx.pkts[1].Broadcast, true)
}
