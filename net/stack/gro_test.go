package stack

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// groSeg builds a TCP/IPv4 frame from B to A with text, as the wire
// would carry it (full checksums).
type groSeg struct {
	sport   uint16
	seq     uint32
	ack     uint32
	flags   uint8
	wnd     uint16
	tsval   uint32
	text    string
	badCsum bool
}

func (g groSeg) frame() []byte {
	if g.flags == 0 {
		g.flags = header.TCPFlagAck
	}
	if g.wnd == 0 {
		g.wnd = 1000
	}
	if g.sport == 0 {
		g.sport = 4000
	}
	opts := &header.TCPOptions{HasTS: true, TSVal: g.tsval, TSEcr: 7}
	seg := make([]byte, 60+len(g.text))
	n := header.EncodeTCP(seg, &header.TCPFields{SrcPort: g.sport, DstPort: 80, Seq: g.seq, Ack: g.ack,
		Flags: g.flags, Window: g.wnd, Options: opts})
	seg = append(seg[:n], g.text...)
	header.SetTCPChecksum(seg, ipB.As4(), ipA.As4())
	if g.badCsum {
		seg[16] ^= 0xff
	}
	f := make([]byte, 14+20+len(seg))
	header.PutEthernet(f, macA, macB, header.EtherTypeIPv4)
	header.PutIPv4(f[14:], header.IPv4Fields{TotalLength: uint16(20 + len(seg)), TTL: 64,
		Protocol: header.ProtocolTCP, Src: ipB, Dst: ipA, Flags: header.IPv4FlagDF})
	copy(f[34:], seg)
	return f
}

// groStack is stack A on a pipe end with a transport recording TCP.
func groStack(t *testing.T) (*Stack, link.Device, *recvTransport) {
	n := newTestNet(t, link.Impairment{})
	r := &recvTransport{proto: header.ProtocolTCP}
	n.a.AddTransport(r)
	return n.a, n.pipe.A, r
}

// delivered describes what the transport got: port, sequence number,
// text and whether the checksum came verified.
func delivered(r *recvTransport) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.pkts {
		h := header.TCP(p.Payload)
		out = append(out, fmt.Sprintf("%d:%d %q v=%v", h.SrcPort(), h.Seq(), h.Payload(), p.ChecksumVerified))
	}
	return strings.Join(out, " | ")
}

// In-order segments of one flow in a burst reach TCP as one, verified;
// a gap, a different ACK, another timestamp or PSH ends the merge, and
// every frame still arrives in order.
func TestGROMergesInOrderSegments(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []groSeg
		want string
	}{
		{"in order", []groSeg{{seq: 1, text: "aa"}, {seq: 3, text: "bb"}, {seq: 5, text: "cc"}},
			`4000:1 "aabbcc" v=true`},
		{"a gap", []groSeg{{seq: 1, text: "aa"}, {seq: 9, text: "bb"}},
			`4000:1 "aa" v=true | 4000:9 "bb" v=true`},
		{"another ACK", []groSeg{{seq: 1, text: "aa"}, {seq: 3, ack: 5, text: "bb"}},
			`4000:1 "aa" v=true | 4000:3 "bb" v=true`},
		{"another timestamp", []groSeg{{seq: 1, text: "aa"}, {seq: 3, tsval: 1, text: "bb"}},
			`4000:1 "aa" v=true | 4000:3 "bb" v=true`},
		{"PSH ends it", []groSeg{{seq: 1, text: "aa"}, {seq: 3, flags: header.TCPFlagAck | header.TCPFlagPsh, text: "bb"},
			{seq: 5, text: "cc"}}, `4000:1 "aabb" v=true | 4000:5 "cc" v=true`},
		{"two flows", []groSeg{{seq: 1, text: "aa"}, {sport: 4001, seq: 50, text: "xx"}, {seq: 3, text: "bb"},
			{sport: 4001, seq: 52, text: "yy"}}, `4000:1 "aabb" v=true | 4001:50 "xxyy" v=true`},
		{"a FIN flushes first", []groSeg{{seq: 1, text: "aa"}, {seq: 3, flags: header.TCPFlagAck | header.TCPFlagFin, text: "bb"}},
			`4000:1 "aa" v=true | 4000:3 "bb" v=false`},
		{"a bad checksum is not merged", []groSeg{{seq: 1, text: "aa"}, {seq: 3, text: "bb", badCsum: true}},
			`4000:1 "aa" v=true | 4000:3 "bb" v=false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dev, r := groStack(t)
			s.BeginBatch(dev)
			for _, g := range tc.segs {
				s.DeliverFrame(dev, g.frame())
			}
			s.EndBatch(dev)
			if got := delivered(r); got != tc.want {
				t.Fatalf("TCP got %s\nwant        %s", got, tc.want)
			}
		})
	}
}

// Outside a burst nothing is held or merged.
func TestGROOnlyWithinABurst(t *testing.T) {
	s, dev, r := groStack(t)
	s.DeliverFrame(dev, groSeg{seq: 1, text: "aa"}.frame())
	s.DeliverFrame(dev, groSeg{seq: 3, text: "bb"}.frame())
	if got, want := delivered(r), `4000:1 "aa" v=false | 4000:3 "bb" v=false`; got != want {
		t.Fatalf("TCP got %s, want %s", got, want)
	}
}

// A merged segment is a valid IPv4 datagram: the IP layer accepted it
// (its header checksum and length were rewritten), and merging stops
// short of 64 KiB.
func TestGROStaysAnIPv4Datagram(t *testing.T) {
	s, dev, r := groStack(t)
	text := strings.Repeat("z", 1400)
	s.BeginBatch(dev)
	for i := range 60 {
		s.DeliverFrame(dev, groSeg{seq: uint32(1 + i*1400), text: text}.frame())
	}
	s.EndBatch(dev)
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for _, p := range r.pkts {
		if n := len(header.TCP(p.Payload).Payload()); n+20+32 > header.IPv4MaxTotalLen {
			t.Fatalf("merged %d octets of text: not an IPv4 datagram", n)
		}
		total += len(header.TCP(p.Payload).Payload())
	}
	if len(r.pkts) != 2 || total != 60*1400 {
		t.Fatalf("%d segments carrying %d octets, want 2 carrying %d", len(r.pkts), total, 60*1400)
	}
	_ = netip.Addr{}
}
