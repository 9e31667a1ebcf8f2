package stack

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/clock"
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
