package stack

import (
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

const protoTest = 253 // RFC 3692 experimental protocol number

func TestARPResolutionQueuesThenFlushes(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	rx := &recvTransport{proto: protoTest}
	n.b.AddTransport(rx)
	for _, p := range []string{"one", "two", "three"} {
		if err := send(t, n.a, ipB, protoTest, p); err != nil {
			t.Fatal(err)
		}
	}
	n.vc.Advance(2 * time.Millisecond)
	n.expectWire(
		"pipeA 02:00:00:00:00:0a>ff:ff:ff:ff:ff:ff arp who-has 10.0.0.2 tell 10.0.0.1",
		"pipeB 02:00:00:00:00:0b>02:00:00:00:00:0a arp reply 10.0.0.2 is-at 02:00:00:00:00:0b",
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 101 len 23",
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 102 len 23",
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 103 len 25",
	)
	n.vc.Advance(time.Millisecond)
	got := rx.payloads()
	want := []string{`10.0.0.1>10.0.0.2 ttl 64 "one"`, `10.0.0.1>10.0.0.2 ttl 64 "two"`, `10.0.0.1>10.0.0.2 ttl 64 "three"`}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("B received %q", got)
	}
	// A learned B from the reply (REACHABLE); B learned A from the request (STALE).
	eq(t, "A's cache", n.a.ARPText(), "IP address       HW type     Flags       HW address            Mask     Device\n"+
		"10.0.0.2         0x1         0x2         02:00:00:00:00:0b     *        pipeA\n")
	eq(t, "B's state", n.b.ARPTable()[0].State, "STALE")
	eq(t, "A's state", n.a.ARPTable()[0].State, "REACHABLE")
	// Resolved: the next datagram goes straight out.
	send(t, n.a, ipB, protoTest, "four")
	n.expectWire("pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 104 len 24")
}

func TestARPFailureDropsQueueAndReportsHostUnreachable(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	tx := &recvTransport{proto: protoTest}
	n.a.AddTransport(tx)
	nobody := netip.MustParseAddr("10.0.0.9")
	for i := 0; i < arpQueueLen+4; i++ {
		if err := send(t, n.a, nobody, protoTest, "x"); err != nil {
			t.Fatal(err)
		}
	}
	eq(t, "queue overflow drops", n.a.Dropped(DropNeighQueueFull), 4)
	n.vc.Advance(2999 * time.Millisecond)
	who := "pipeA 02:00:00:00:00:0a>ff:ff:ff:ff:ff:ff arp who-has 10.0.0.9 tell 10.0.0.1"
	n.expectWire(who, who, who) // one per second: the request rate limit
	eq(t, "entry while resolving", n.a.ARPText()[79:], "10.0.0.9         0x1         0x0         00:00:00:00:00:00     *        pipeA\n")
	n.vc.Advance(time.Millisecond)
	eq(t, "failed drops", n.a.Dropped(DropNeighFailed), arpQueueLen)
	errs := tx.errs()
	eq(t, "errors reported", len(errs), arpQueueLen)
	eq(t, "error", errs[0], "icmp 3/1 from 10.0.0.1 about 10.0.0.1>10.0.0.9 proto 253 (21 quoted)")
	eq(t, "cache after failure", len(n.a.ARPTable()), 0)
	n.expectWire()
}

func TestARPReachableGoesStaleDelaysThenProbesUnicast(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	n.b.AddTransport(&recvTransport{proto: protoTest})
	send(t, n.a, ipB, protoTest, "x")
	n.vc.Advance(0)
	n.takeWire()
	n.vc.Advance(arpReachableTime)
	eq(t, "state", n.a.ARPTable()[0].State, "STALE")
	// The stale MAC is used at once; the probe waits for the delay.
	send(t, n.a, ipB, protoTest, "y")
	n.expectWire("pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b ip 10.0.0.1>10.0.0.2 proto 253 id 102 len 21")
	eq(t, "state", n.a.ARPTable()[0].State, "DELAY")
	n.vc.Advance(arpDelayTime)
	n.expectWire(
		"pipeA 02:00:00:00:00:0a>02:00:00:00:00:0b arp who-has 10.0.0.2 tell 10.0.0.1",
		"pipeB 02:00:00:00:00:0b>02:00:00:00:00:0a arp reply 10.0.0.2 is-at 02:00:00:00:00:0b",
	)
	eq(t, "state after probe reply", n.a.ARPTable()[0].State, "REACHABLE")
	// Unused stale entries are collected.
	n.vc.Advance(arpReachableTime + arpGCStaleTime)
	eq(t, "entries after gc", len(n.a.ARPTable()), 0)
}

func TestARPProbeWithoutAnswerFails(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	n.a.neighUpdate(n.ifa, netip.MustParseAddr("10.0.0.9"), header.MAC{2, 0, 0, 0, 0, 9}, false, true)
	send(t, n.a, netip.MustParseAddr("10.0.0.9"), protoTest, "x")
	n.vc.Advance(arpDelayTime + 2*arpRetransTime)
	probe := "pipeA 02:00:00:00:00:0a>02:00:00:00:00:09 arp who-has 10.0.0.9 tell 10.0.0.1"
	n.expectWire("pipeA 02:00:00:00:00:0a>02:00:00:00:00:09 ip 10.0.0.1>10.0.0.9 proto 253 id 101 len 21", probe, probe, probe)
	eq(t, "state", n.a.ARPTable()[0].State, "PROBE")
	n.vc.Advance(arpRetransTime)
	eq(t, "entries after failed probes", len(n.a.ARPTable()), 0)
}

// arpFrame builds an ARP frame as if sent by sha.
func arpFrame(op header.ARPOp, ethDst, sha header.MAC, sip netip.Addr, tha header.MAC, tip netip.Addr) []byte {
	f := make([]byte, 60)
	header.PutEthernet(f, ethDst, sha, header.EtherTypeARP)
	header.PutARP(f[14:], op, sha, sip, tha, tip)
	return f
}

func TestARPInputSafety(t *testing.T) {
	evil := header.MAC{2, 0, 0, 0, 0, 0xee}
	other := netip.MustParseAddr("10.0.0.7")
	tests := []struct {
		name      string
		frame     []byte
		wantCache string
		wantDrop  DropReason
	}{
		{"gratuitous ARP from a stranger does not create an entry",
			arpFrame(header.ARPRequest, header.BroadcastMAC, evil, other, header.MAC{}, other), "", -1},
		{"unsolicited reply does not create an entry",
			arpFrame(header.ARPReply, macB, evil, other, macB, ipB), "", -1},
		{"claim of our own address is refused",
			arpFrame(header.ARPReply, header.BroadcastMAC, evil, ipB, header.MAC{}, ipB), "", DropARPConflict},
		{"broadcast sender MAC is refused",
			arpFrame(header.ARPRequest, header.BroadcastMAC, header.BroadcastMAC, other, header.MAC{}, ipB), "", DropARPInvalid},
		{"request for someone else teaches nothing",
			arpFrame(header.ARPRequest, header.BroadcastMAC, evil, other, header.MAC{}, netip.MustParseAddr("10.0.0.8")), "", -1},
		{"request for us creates a STALE entry",
			arpFrame(header.ARPRequest, header.BroadcastMAC, evil, other, header.MAC{}, ipB), "10.0.0.7 02:00:00:00:00:ee STALE", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t, link.Impairment{})
			n.b.DeliverFrame(n.pipe.B, tc.frame)
			got := ""
			for _, e := range n.b.ARPTable() {
				got = e.IP.String() + " " + e.MAC.String() + " " + e.State
			}
			eq(t, "cache", got, tc.wantCache)
			if tc.wantDrop >= 0 {
				eq(t, "drops "+tc.wantDrop.String(), n.b.Dropped(tc.wantDrop), 1)
			}
		})
	}
}

func TestARPGratuitousUpdatesKnownEntryAfterLockTime(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	moved := header.MAC{2, 0, 0, 0, 0, 0xc}
	send(t, n.a, ipB, protoTest, "x")
	n.vc.Advance(0) // A now has 10.0.0.2 at macB
	garp := arpFrame(header.ARPRequest, header.BroadcastMAC, moved, ipB, header.MAC{}, ipB)
	n.a.DeliverFrame(n.pipe.A, garp)
	eq(t, "MAC within locktime", n.a.ARPTable()[0].MAC, macB)
	n.vc.Advance(arpLockTime)
	n.a.DeliverFrame(n.pipe.A, garp)
	eq(t, "MAC after locktime", n.a.ARPTable()[0].MAC, moved)
	eq(t, "state", n.a.ARPTable()[0].State, "STALE")
}

func TestARPProbeFromUnspecifiedIsAnsweredNotLearned(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	probe := arpFrame(header.ARPRequest, header.BroadcastMAC, macA, netip.IPv4Unspecified(), header.MAC{}, ipB)
	n.b.DeliverFrame(n.pipe.B, probe)
	n.expectWire("pipeB 02:00:00:00:00:0b>02:00:00:00:00:0a arp reply 10.0.0.2 is-at 02:00:00:00:00:0b")
	eq(t, "B's cache", len(n.b.ARPTable()), 0)
}
