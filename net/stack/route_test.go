package stack

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
	"gomenuos/net/link"
)

func TestRouteSelection(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	if err := n.a.SetDefaultGateway(netip.MustParseAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	if err := n.a.AddRoute(netip.MustParsePrefix("192.168.0.0/16"), netip.MustParseAddr("172.16.0.1")); !errors.Is(err, ErrNoRoute) {
		t.Fatalf("gateway outside connected subnets: %v", err)
	}
	for _, tc := range []struct{ dst, neighbor, src string }{
		{"10.0.0.2", "10.0.0.2", "10.0.0.1"},
		{"8.8.8.8", "10.0.0.254", "10.0.0.1"},
	} {
		nh, err := n.a.routeOutput(netip.MustParseAddr(tc.dst))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, tc.dst+" neighbour", nh.neighbor.String(), tc.neighbor)
		eq(t, tc.dst+" src", nh.src.String(), tc.src)
		eq(t, tc.dst+" mtu", nh.mtu, 1500)
	}
	if _, _, err := n.b.Route(netip.MustParseAddr("8.8.8.8")); !errors.Is(err, ErrNoRoute) {
		t.Fatalf("B without gateway: %v", err)
	}
	// A datagram to the Internet resolves the gateway's MAC.
	send(t, n.a, netip.MustParseAddr("8.8.8.8"), protoTest, "x")
	n.expectWire("pipeA 02:00:00:00:00:0a>ff:ff:ff:ff:ff:ff arp who-has 10.0.0.254 tell 10.0.0.1")
}

// newLoopbackStack is a stack with lo 127.0.0.1/8 and a real clock.
func newLoopbackStack(t testing.TB) (*Stack, *link.Loopback) {
	s := New(Options{Clock: clock.Real()})
	lo := link.NewLoopback()
	t.Cleanup(lo.Close)
	if _, err := s.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	return s, lo
}

func TestLoopbackPingAndLocalDelivery(t *testing.T) {
	s, _ := newLoopbackStack(t)
	pipe := link.NewPipe(link.PipeConfig{Clock: clock.Real(), MACA: macA})
	if _, err := s.AddInterface(pipe.A, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{"127.0.0.1", "127.1.2.3", "10.0.0.1"} {
		r, err := s.Ping(netip.MustParseAddr(dst), 1, 1, []byte("lo"), 2*time.Second)
		if err != nil {
			t.Fatalf("ping %s: %v", dst, err)
		}
		eq(t, "reply from", r.From.String(), dst)
		eq(t, "payload", string(r.Payload), "lo")
	}
	src, mtu, err := s.Route(netip.MustParseAddr("10.0.0.1"))
	if err != nil || src.String() != "10.0.0.1" || mtu != link.LoopbackMTU {
		t.Fatalf("route to own address: %v %d %v", src, mtu, err)
	}
	src, _, _ = s.Route(netip.MustParseAddr("127.9.9.9"))
	eq(t, "src for 127.9.9.9", src.String(), "127.0.0.1")
	eq(t, "frames on the wire", pipe.A.Stats.Sent.Load(), 0)
	eq(t, "lo rx", s.Interfaces()[0].Stats.RxPackets, 6)
	eq(t, "lo tx", s.Interfaces()[0].Stats.TxPackets, 6)
}

func TestAddInterfaceErrors(t *testing.T) {
	s, lo := newLoopbackStack(t)
	if _, err := s.AddInterface(lo); !errors.Is(err, ErrExists) {
		t.Fatalf("adding lo twice: %v", err)
	}
	if _, err := s.AddInterface(link.NewLoopback(), netip.MustParsePrefix("::1/128")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("IPv6 address: %v", err)
	}
	if !s.IsLocal(netip.MustParseAddr("127.0.0.53")) || s.IsLocal(netip.MustParseAddr("128.0.0.1")) {
		t.Fatal("IsLocal of the loopback subnet")
	}
}

// The last route resolved is cached; every change to routes, addresses
// and path MTUs, and a path MTU's expiry, must show in the next lookup.
func TestRouteCacheFollowsChanges(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	far := netip.MustParseAddr("192.168.1.1")
	if _, err := n.a.routeOutput(far); !errors.Is(err, ErrNoRoute) {
		t.Fatalf("no route yet: %v", err)
	}
	if err := n.a.SetDefaultGateway(netip.MustParseAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	nh, err := n.a.routeOutput(far) // a failed lookup was not cached
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "via the default gateway", nh.neighbor.String(), "10.0.0.254")
	if err := n.a.AddRoute(netip.MustParsePrefix("192.168.0.0/16"), netip.MustParseAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	nh, _ = n.a.routeOutput(far)
	eq(t, "via the new, more specific route", nh.neighbor.String(), "10.0.0.2")

	sent := make([]byte, 28)
	header.PutIPv4(sent, header.IPv4Fields{TotalLength: 1400, Flags: header.IPv4FlagDF, TTL: 64, Protocol: 200, Src: ipA, Dst: far})
	body := make([]byte, 8+28)
	copy(body[8:], sent)
	header.PutICMPv4(body, header.ICMPv4DestUnreach, header.ICMPv4FragNeeded, 1280)
	n.a.DeliverFrame(n.pipe.A, ipFrame(macA, ipB, ipA, header.ProtocolICMP, 1, 0, false, body))
	nh, _ = n.a.routeOutput(far)
	eq(t, "mtu after fragmentation needed", nh.mtu, 1280)
	n.vc.Advance(pmtuExpires)
	nh, _ = n.a.routeOutput(far)
	eq(t, "mtu once the path MTU expired", nh.mtu, 1500)

	if err := n.a.AddAddress(n.ifa, netip.MustParsePrefix("192.168.1.0/24")); err != nil {
		t.Fatal(err)
	}
	nh, _ = n.a.routeOutput(far)
	eq(t, "on a connected subnet now", nh.neighbor.String(), far.String())
}
