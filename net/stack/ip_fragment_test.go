package stack

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// fragNet is B with a test transport, fed fragments from A by hand.
func fragNet(t *testing.T) (*testNet, *recvTransport) {
	n := newTestNet(t, link.Impairment{})
	rx := &recvTransport{proto: protoTest}
	n.b.AddTransport(rx)
	n.b.neighUpdate(n.ifb, ipA, macA, true, true)
	return n, rx
}

func frag(id uint16, off int, mf bool, data string) []byte {
	return ipFrame(macB, ipA, ipB, protoTest, id, off, mf, []byte(data))
}

func TestReassemblyOutOfOrderWithDuplicate(t *testing.T) {
	n, rx := fragNet(t)
	a, b, c := strings.Repeat("a", 16), strings.Repeat("b", 8), "tail"
	for _, f := range [][]byte{frag(5, 24, false, c), frag(5, 16, true, b), frag(5, 16, true, b), frag(5, 0, true, a)} {
		n.b.DeliverFrame(n.pipe.B, f)
	}
	got := rx.payloads()
	if len(got) != 1 || got[0] != `10.0.0.1>10.0.0.2 ttl 64 "`+a+b+c+`"` {
		t.Fatalf("delivered %q", got)
	}
	m := n.b.IPStats()
	eq(t, "ReasmReqds", m.ReasmReqds.Load(), 4)
	eq(t, "ReasmOKs", m.ReasmOKs.Load(), 1)
	eq(t, "memory released", n.b.frags.mem, 0)
}

func TestReassemblyOverlapDiscardsDatagram(t *testing.T) {
	n, rx := fragNet(t)
	n.b.DeliverFrame(n.pipe.B, frag(6, 0, true, strings.Repeat("a", 16)))
	n.b.DeliverFrame(n.pipe.B, frag(6, 8, true, strings.Repeat("X", 16))) // overlaps 8..16
	n.b.DeliverFrame(n.pipe.B, frag(6, 24, false, "end"))
	eq(t, "delivered", len(rx.payloads()), 0)
	eq(t, "FRAG_TOO_FAR drops", n.b.Dropped(DropFragTooFar), 1)
	eq(t, "queues", len(n.b.frags.queues), 1) // only the new one holding "end"
}

func TestReassemblyRejectsBadFragments(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    []byte
	}{
		{"middle fragment not a multiple of 8", frag(7, 0, true, "odd")},
		{"beyond 65535 bytes", frag(7, 65528, false, "0123456789")},
	} {
		n, _ := fragNet(t)
		n.b.DeliverFrame(n.pipe.B, tc.f)
		eq(t, tc.name+": ReasmFails", n.b.IPStats().ReasmFails.Load(), 1)
		eq(t, tc.name+": queues", len(n.b.frags.queues), 0)
	}
}

func TestReassemblyTimeoutSendsTimeExceeded(t *testing.T) {
	n, rx := fragNet(t)
	n.b.DeliverFrame(n.pipe.B, frag(8, 0, true, strings.Repeat("a", 8)))
	n.vc.Advance(ipfragTime - time.Millisecond)
	n.expectWire()
	n.vc.Advance(time.Millisecond)
	// RFC 792: time exceeded, code 1 (fragment reassembly time exceeded).
	n.expectWire("pipeB 02:00:00:00:00:0b>02:00:00:00:00:0a ip 10.0.0.2>10.0.0.1 proto 1 id 201 len 56 icmp 11/1")
	m := n.b.IPStats()
	eq(t, "ReasmTimeout", m.ReasmTimeout.Load(), 1)
	eq(t, "ReasmFails", m.ReasmFails.Load(), 1)
	eq(t, "delivered", len(rx.payloads()), 0)
	eq(t, "memory released", n.b.frags.mem, 0)
	// Without the first fragment the timeout is silent.
	n.b.DeliverFrame(n.pipe.B, frag(9, 8, false, "x"))
	n.vc.Advance(ipfragTime)
	for _, w := range n.takeWire() {
		if strings.Contains(w, "icmp") {
			t.Fatalf("sent %s", w)
		}
	}
	eq(t, "ReasmTimeout", m.ReasmTimeout.Load(), 2)
}

func TestReassemblyMemoryLimit(t *testing.T) {
	n, _ := fragNet(t)
	chunk := strings.Repeat("z", 1480)
	per := 1480 + fragOverhead
	fits := ipfragHighThresh / per
	for i := 0; i < fits+10; i++ {
		n.b.DeliverFrame(n.pipe.B, frag(uint16(i), 0, true, chunk))
	}
	eq(t, "queues held", len(n.b.frags.queues), fits)
	eq(t, "FRAG_MEM drops", n.b.Dropped(DropFragMem), 10)
	n.vc.Advance(ipfragTime)
	eq(t, "queues after timeout", len(n.b.frags.queues), 0)
	eq(t, "memory after timeout", n.b.frags.mem, 0)
}

func TestReassemblyKeepsFirstHeaderOptions(t *testing.T) {
	n, rx := fragNet(t)
	first := make([]byte, 14+24+8)
	header.PutEthernet(first, macB, macA, header.EtherTypeIPv4)
	header.PutIPv4(first[14:], header.IPv4Fields{TotalLength: 32, ID: 3, Flags: header.IPv4FlagMF, TTL: 9, Protocol: protoTest, Src: ipA, Dst: ipB})
	first[14] = 0x46
	copy(first[34:38], []byte{1, 1, 1, 0})
	copy(first[38:], "12345678")
	fixIPv4Checksum(first[14:38])
	n.b.DeliverFrame(n.pipe.B, frag(3, 8, false, "9"))
	n.b.DeliverFrame(n.pipe.B, first)
	got := rx.payloads()
	if len(got) != 1 || got[0] != `10.0.0.1>10.0.0.2 ttl 9 "123456789"` {
		t.Fatalf("delivered %q", got)
	}
	if !bytes.Equal(rx.pkts[0].Payload, []byte("123456789")) {
		t.Fatal("payload")
	}
}
