package stack

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

func TestPingBetweenStacks(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: 5 * time.Millisecond})
	r, err := n.ping(n.a, ipB, 0x77, 1, []byte("hello"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// ARP exchange (10 ms) then echo and reply (10 ms).
	eq(t, "rtt", r.RTT, 20*time.Millisecond)
	eq(t, "from", r.From, ipB)
	eq(t, "payload", string(r.Payload), "hello")
	eq(t, "ttl", r.TTL, 64)
	n.expectWire(
		"pipeA 02:00:00:00:00:0a>ff:ff:ff:ff:ff:ff arp who-has 10.0.0.2 tell 10.0.0.1",
		"pipeB 02:00:00:00:00:0b>02:00:00:00:00:0a arp reply 10.0.0.2 is-at 02:00:00:00:00:0b",
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 1 id 101 len 33 icmp 8/0",
		"pipeB 02:00:00:00:00:0b>02:00:00:00:00:0a ip 10.0.0.2>10.0.0.1 proto 1 id 201 len 33 icmp 0/0",
	)
	r, err = n.ping(n.a, ipB, 0x77, 2, nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "second rtt", r.RTT, 10*time.Millisecond)
	snmp := n.b.SNMPText()
	if !strings.Contains(snmp, "IcmpMsg: InType8 OutType0\nIcmpMsg: 2 2\n") {
		t.Fatalf("B's snmp:\n%s", snmp)
	}
}

func TestPingTimesOut(t *testing.T) {
	n := newTestNet(t, link.Impairment{Loss: 1})
	n.a.neighUpdate(n.ifa, ipB, macB, true, true) // skip ARP: the echo itself is lost
	r, err := n.ping(n.a, ipB, 1, 1, nil, 500*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	eq(t, "rtt at timeout", r.RTT, 500*time.Millisecond)
}

func TestPingCancelled(t *testing.T) {
	n := newTestNet(t, link.Impairment{Loss: 1})
	cancel := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := n.a.PingCancel(ipB, 1, 1, nil, time.Hour, cancel)
		done <- err
	}()
	close(cancel)
	if err := <-done; !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	// The waiter is gone: the same id/seq can be used again.
	if !n.a.icmp.register(echoKey{1, 1}, &pingWaiter{}) {
		t.Fatal("waiter left behind")
	}
}

func TestPingLargePayloadIsFragmentedBothWays(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	payload := bytes.Repeat([]byte("0123456789abcdef"), 250) // 4000 bytes: 3 fragments at MTU 1500
	r, err := n.ping(n.a, ipB, 9, 9, payload, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Payload, payload) {
		t.Fatalf("reply payload differs (%d bytes)", len(r.Payload))
	}
	w := n.takeWire()
	eq(t, "frames", len(w), 8)
	eq(t, "first fragment", w[2], "pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 1 id 101 len 1500 frag 0+ icmp 8/0")
	eq(t, "last fragment", w[4], "pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 1 id 101 len 1068 frag 2960")
	for _, s := range []*Stack{n.a, n.b} {
		m := s.IPStats()
		eq(t, "ReasmReqds", m.ReasmReqds.Load(), 3)
		eq(t, "ReasmOKs", m.ReasmOKs.Load(), 1)
		eq(t, "FragOKs", m.FragOKs.Load(), 1)
		eq(t, "FragCreates", m.FragCreates.Load(), 3)
	}
}

func TestUnknownProtocolGetsProtocolUnreachable(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	tx := &recvTransport{proto: 200}
	n.a.AddTransport(tx)
	send(t, n.a, ipB, 200, "payload!")
	n.vc.Advance(0)
	eq(t, "B InUnknownProtos", n.b.IPStats().InUnknownProtos.Load(), 1)
	errs := tx.errs()
	if len(errs) != 1 || errs[0] != "icmp 3/2 from 10.0.0.2 about 10.0.0.1>10.0.0.2 proto 200 (28 quoted)" {
		t.Fatalf("A's transport got %q", errs)
	}
}

func TestPortUnreachableForTransportWithoutListener(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	tx := &recvTransport{proto: header.ProtocolUDP}
	n.a.AddTransport(tx)
	n.b.AddTransport(&closedPorts{n.b})
	send(t, n.a, ipB, header.ProtocolUDP, "12345678")
	n.vc.Advance(0)
	errs := tx.errs()
	if len(errs) != 1 || errs[0] != "icmp 3/3 from 10.0.0.2 about 10.0.0.1>10.0.0.2 proto 17 (28 quoted)" {
		t.Fatalf("A's transport got %q", errs)
	}
}

// closedPorts is a UDP with no sockets: every datagram earns port unreachable.
type closedPorts struct{ s *Stack }

func (c *closedPorts) Protocol() uint8 { return header.ProtocolUDP }
func (c *closedPorts) Receive(p *PacketInfo) {
	c.s.SendICMPUnreachable(p, header.ICMPv4PortUnreach)
}
func (c *closedPorts) ReceiveICMPError(*PacketInfo, uint8, uint8, []byte) {}

func TestICMPErrorsAreRateLimitedGlobally(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	from := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)}) }
	for i := 0; i < 100; i++ { // 100 hosts, one datagram each
		n.b.DeliverFrame(n.pipe.B, ipFrame(macB, from(i), ipB, 200, uint16(i), 0, false, []byte("x")))
	}
	eq(t, "OutDestUnreachs", n.b.ICMPStats().OutType[3].Load(), icmpMsgsBurst)
	eq(t, "OutRateLimitGlobal", n.b.ICMPStats().OutRateLimitGlobal.Load(), 100-icmpMsgsBurst)
	n.vc.Advance(10 * time.Millisecond) // refills 10 tokens
	for i := 100; i < 120; i++ {
		n.b.DeliverFrame(n.pipe.B, ipFrame(macB, from(i), ipB, 200, uint16(i), 0, false, []byte("x")))
	}
	eq(t, "OutDestUnreachs after refill", n.b.ICMPStats().OutType[3].Load(), icmpMsgsBurst+10)
}

func TestICMPErrorsAreRateLimitedPerHost(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	for i := 0; i < 10; i++ {
		n.b.DeliverFrame(n.pipe.B, ipFrame(macB, ipA, ipB, 200, uint16(i), 0, false, []byte("x")))
	}
	eq(t, "OutDestUnreachs", n.b.ICMPStats().OutType[3].Load(), icmpHostBurst)
	eq(t, "OutRateLimitHost", n.b.ICMPStats().OutRateLimitHost.Load(), 10-icmpHostBurst)
	eq(t, "global bucket spent only on sent errors", n.b.icmp.tokens, float64(icmpMsgsBurst-icmpHostBurst))
	n.vc.Advance(icmpRateLimit) // one more error's worth of credit
	for i := 0; i < 3; i++ {
		n.b.DeliverFrame(n.pipe.B, ipFrame(macB, ipA, ipB, 200, uint16(i), 0, false, []byte("x")))
	}
	eq(t, "OutDestUnreachs a second later", n.b.ICMPStats().OutType[3].Load(), icmpHostBurst+1)
}

func TestNoICMPErrorAboutICMPErrorOrBroadcast(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	n.b.neighUpdate(n.ifb, ipA, macA, true, true)
	// An ICMP error quoting a datagram B never sent is dropped, not answered.
	body := make([]byte, 8+28)
	header.PutIPv4(body[8:], header.IPv4Fields{TotalLength: 28, TTL: 64, Protocol: 200, Src: ipA, Dst: ipB})
	header.PutICMPv4(body, header.ICMPv4DestUnreach, header.ICMPv4PortUnreach, 0)
	n.b.DeliverFrame(n.pipe.B, ipFrame(macB, ipA, ipB, header.ProtocolICMP, 1, 0, false, body))
	// Unknown protocol sent to the subnet broadcast: no error back.
	n.b.DeliverFrame(n.pipe.B, ipFrame(header.BroadcastMAC, ipA, netip.MustParseAddr("10.0.0.255"), 200, 2, 0, false, []byte("x")))
	// Echo to broadcast is ignored (smurf defence).
	echo := make([]byte, 8)
	header.PutICMPv4(echo, header.ICMPv4Echo, 0, 1)
	n.b.DeliverFrame(n.pipe.B, ipFrame(header.BroadcastMAC, ipA, netip.MustParseAddr("10.0.0.255"), header.ProtocolICMP, 3, 0, false, echo))
	n.expectWire()
	eq(t, "ICMP_INVALID drops", n.b.Dropped(DropICMPInvalid), 1)
	eq(t, "InUnknownProtos", n.b.IPStats().InUnknownProtos.Load(), 1)
}

func TestFragNeededLowersRouteMTU(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	sent := make([]byte, 28)
	header.PutIPv4(sent, header.IPv4Fields{TotalLength: 1400, Flags: header.IPv4FlagDF, TTL: 64, Protocol: 200, Src: ipA, Dst: netip.MustParseAddr("10.0.0.50")})
	body := make([]byte, 8+28)
	copy(body[8:], sent)
	header.PutICMPv4(body, header.ICMPv4DestUnreach, header.ICMPv4FragNeeded, 1280)
	n.a.DeliverFrame(n.pipe.A, ipFrame(macA, ipB, ipA, header.ProtocolICMP, 1, 0, false, body))
	_, mtu, _ := n.a.Route(netip.MustParseAddr("10.0.0.50"))
	eq(t, "pmtu", mtu, 1280)
	n.vc.Advance(pmtuExpires)
	_, mtu, _ = n.a.Route(netip.MustParseAddr("10.0.0.50"))
	eq(t, "pmtu after expiry", mtu, 1500)
}
