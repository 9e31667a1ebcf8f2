package tcp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
)

// peerPort is the scripted peer's port; it lives at addrB, we at addrA.
const peerPort = 5000

// script drives one TCP instance from a scripted peer: inject segments,
// then check what the instance sent with checkers.
type script struct {
	t     *testing.T
	clock *clock.Virtual
	ip    *fakeIP
	p     *Proto
}

func newScript(t *testing.T, cfgs ...func(*Config)) *script {
	v := clock.NewVirtual(epoch)
	cfg := testConfig()
	for _, f := range cfgs {
		f(&cfg)
	}
	ip := &fakeIP{addr: addrA, mtu: 1500}
	ip.proto = New(ip, v, cfg)
	return &script{t: t, clock: v, ip: ip, p: ip.proto}
}

// seg describes a segment the peer injects.
type seg struct {
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	wnd          uint16
	opts         *header.TCPOptions
	data         string
	zeroWnd      bool // announce a zero window (wnd 0 means 65535 otherwise)
}

func (sc *script) inject(g seg) {
	if g.sport == 0 {
		g.sport = peerPort
	}
	if g.wnd == 0 && g.flags&flagRst == 0 && !g.zeroWnd {
		g.wnd = 65535
	}
	b := make([]byte, 60+len(g.data))
	n := header.EncodeTCP(b, &header.TCPFields{SrcPort: g.sport, DstPort: g.dport, Seq: g.seq, Ack: g.ack,
		Flags: g.flags, Window: g.wnd, Options: g.opts})
	b = append(b[:n], g.data...)
	header.SetTCPChecksum(b, addrB.As4(), addrA.As4())
	sc.p.Rcv(addrB, addrA, b)
}

func (sc *script) run(d time.Duration) { sc.clock.Advance(d) }

type checker func(h header.TCP) string

func flags(f uint8) checker {
	return func(h header.TCP) string {
		if h.Flags() != f {
			return fmt.Sprintf("flags %s, want %s", flagString(h.Flags()), flagString(f))
		}
		return ""
	}
}

func seqIs(v uint32) checker {
	return func(h header.TCP) string {
		if h.Seq() != v {
			return fmt.Sprintf("seq %d, want %d", h.Seq(), v)
		}
		return ""
	}
}

func ackIs(v uint32) checker {
	return func(h header.TCP) string {
		if h.Ack() != v {
			return fmt.Sprintf("ack %d, want %d", h.Ack(), v)
		}
		return ""
	}
}

func payload(s string) checker {
	return func(h header.TCP) string {
		if string(h.Payload()) != s {
			if len(s) > 40 || len(h.Payload()) > 40 {
				return fmt.Sprintf("payload of %d bytes, want %d", len(h.Payload()), len(s))
			}
			return fmt.Sprintf("payload %q, want %q", h.Payload(), s)
		}
		return ""
	}
}

func optsAre(want header.TCPOptions) checker {
	return func(h header.TCP) string {
		var o header.TCPOptions
		if err := header.ParseTCPOptions(h.Options(), &o); err != nil {
			return err.Error()
		}
		o.TSVal, want.TSVal = 0, 0
		if o != want {
			return fmt.Sprintf("options %+v, want %+v", o, want)
		}
		return ""
	}
}

func flagString(f uint8) string {
	s := ""
	for i, n := range []string{"FIN", "SYN", "RST", "PSH", "ACK"} {
		if f&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	return s
}

// expect pops the next segment we sent and checks it.
func (sc *script) expect(cs ...checker) header.TCP {
	sc.t.Helper()
	if len(sc.ip.sent) == 0 {
		sc.t.Fatal("expected a segment, none sent")
	}
	h := sc.ip.sent[0]
	sc.ip.sent = sc.ip.sent[1:]
	for _, c := range cs {
		if msg := c(h); msg != "" {
			sc.t.Fatalf("segment %s seq=%d ack=%d len=%d: %s", flagString(h.Flags()), h.Seq(), h.Ack(), len(h.Payload()), msg)
		}
	}
	return h
}

func (sc *script) expectNone() {
	sc.t.Helper()
	if len(sc.ip.sent) != 0 {
		h := sc.ip.sent[0]
		sc.t.Fatalf("unexpected segment %s seq=%d ack=%d len=%d", flagString(h.Flags()), h.Seq(), h.Ack(), len(h.Payload()))
	}
}

const peerISS = 1000

// established opens a connection from us to the peer with the given
// options on the peer's SYN-ACK; it returns the socket and our ISS.
func (sc *script) established(peerOpts *header.TCPOptions) (*Sock, uint32) {
	sc.t.Helper()
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	syn := sc.expect(flags(flagSyn))
	iss := syn.Seq()
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS, ack: iss + 1, flags: flagSyn | flagAck, opts: peerOpts})
	sc.expect(flags(flagAck), seqIs(iss+1), ackIs(peerISS+1))
	if s.State() != StateEstablished {
		sc.t.Fatalf("state %v, want ESTABLISHED", s.State())
	}
	return s, iss
}

// listener returns a socket listening on port 80 with the given backlog.
func (sc *script) listener(backlog int) *Sock {
	sc.t.Helper()
	l := sc.p.NewSock()
	must(sc.t, l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)))
	must(sc.t, l.Listen(backlog))
	return l
}
