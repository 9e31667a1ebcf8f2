package stack

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
	"gomenuos/net/link"
)

var (
	macA  = header.MAC{2, 0, 0, 0, 0, 0xa}
	macB  = header.MAC{2, 0, 0, 0, 0, 0xb}
	ipA   = netip.MustParseAddr("10.0.0.1")
	ipB   = netip.MustParseAddr("10.0.0.2")
	epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// testNet is two stacks, A (10.0.0.1) and B (10.0.0.2), on one pipe
// driven by a virtual clock, with every frame on the wire recorded.
type testNet struct {
	t        testing.TB
	vc       *clock.Virtual
	pipe     *link.Pipe
	a, b     *Stack
	ifa, ifb *Interface
	mu       sync.Mutex
	wire     []string
	frames   [][]byte // the same frames, raw
}

func newTestNet(t testing.TB, imp link.Impairment) *testNet {
	n := &testNet{t: t, vc: clock.NewVirtual(epoch)}
	n.pipe = link.NewPipe(link.PipeConfig{Clock: n.vc, Seed: 1, MACA: macA, MACB: macB, Impairment: imp,
		Capture: func(from *link.PipeEnd, f []byte) {
			n.mu.Lock()
			n.wire = append(n.wire, from.Name()+" "+describeFrame(f))
			n.frames = append(n.frames, append([]byte(nil), f...))
			n.mu.Unlock()
		}})
	n.a = New(Options{Clock: n.vc, IPIDSeed: 100})
	n.b = New(Options{Clock: n.vc, IPIDSeed: 200})
	var err error
	if n.ifa, err = n.a.AddInterface(n.pipe.A, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if n.ifb, err = n.b.AddInterface(n.pipe.B, netip.MustParsePrefix("10.0.0.2/24")); err != nil {
		t.Fatal(err)
	}
	return n
}

// takeWire returns and clears the frames recorded so far.
func (n *testNet) takeWire() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	w := n.wire
	n.wire, n.frames = nil, nil
	return w
}

// expectWire checks the recorded frames line by line.
func (n *testNet) expectWire(want ...string) {
	n.t.Helper()
	got := n.takeWire()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		n.t.Fatalf("wire:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// describeFrame prints a frame tcpdump-style, for packet-trace assertions.
func describeFrame(f []byte) string {
	eth, err := header.ParseEthernet(f)
	if err != nil {
		return "runt"
	}
	switch eth.Type() {
	case header.EtherTypeARP:
		a, err := header.ParseARP(eth.Payload())
		if err != nil {
			return "arp bad"
		}
		if a.Op() == header.ARPRequest {
			return fmt.Sprintf("%v>%v arp who-has %v tell %v", eth.Src(), eth.Dst(), a.TargetIP(), a.SenderIP())
		}
		return fmt.Sprintf("%v>%v arp reply %v is-at %v", eth.Src(), eth.Dst(), a.SenderIP(), a.SenderMAC())
	case header.EtherTypeIPv4:
		ip, err := header.ParseIPv4(eth.Payload())
		if err != nil {
			return "ip bad: " + err.Error()
		}
		s := fmt.Sprintf("%v>%v ip %v>%v proto %d id %d len %d", eth.Src(), eth.Dst(), ip.Src(), ip.Dst(), ip.Protocol(), ip.ID(), ip.TotalLength())
		if ip.IsFragment() {
			s += fmt.Sprintf(" frag %d", ip.FragmentOffset())
			if ip.MF() {
				s += "+"
			}
		}
		if ip.Protocol() == header.ProtocolICMP && ip.FragmentOffset() == 0 && len(ip.Payload()) >= 2 {
			s += fmt.Sprintf(" icmp %d/%d", ip.Payload()[0], ip.Payload()[1])
		}
		return s
	}
	return fmt.Sprintf("ethertype %#04x", eth.Type())
}

// recvTransport records what a stack delivers for one protocol number.
type recvTransport struct {
	proto  uint8
	mu     sync.Mutex
	pkts   []PacketInfo
	errors []string
}

func (r *recvTransport) Protocol() uint8 { return r.proto }

func (r *recvTransport) Receive(p *PacketInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *p
	c.Payload = append([]byte(nil), p.Payload...)
	r.pkts = append(r.pkts, c)
}

func (r *recvTransport) ReceiveICMPError(p *PacketInfo, typ, code uint8, quoted []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := header.IPv4(quoted)
	r.errors = append(r.errors, fmt.Sprintf("icmp %d/%d from %v about %v>%v proto %d (%d quoted)",
		typ, code, p.Src, q.Src(), q.Dst(), q.Protocol(), len(quoted)))
}

func (r *recvTransport) payloads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.pkts {
		out = append(out, fmt.Sprintf("%v>%v ttl %d %q", p.Src, p.Dst, p.TTL, p.Payload))
	}
	return out
}

func (r *recvTransport) errs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// send emits payload from s to dst with protocol proto, like a transport.
func send(t *testing.T, s *Stack, dst netip.Addr, proto uint8, payload string) error {
	t.Helper()
	src, _, err := s.Route(dst)
	if err != nil {
		return err
	}
	buf := make([]byte, MaxHeaderRoom+len(payload))
	copy(buf[MaxHeaderRoom:], payload)
	return s.OutputIPv4(src, dst, proto, 0, buf, MaxHeaderRoom)
}

// ping runs Ping on its own goroutine while advancing the virtual clock
// in 1 ms steps, as the stack's timers need.
func (n *testNet) ping(s *Stack, dst netip.Addr, id, seq uint16, payload []byte, timeout time.Duration) (EchoReply, error) {
	type result struct {
		r   EchoReply
		err error
	}
	done := make(chan result, 1)
	sent := n.pipe.A.Stats.Sent.Load() + n.pipe.B.Stats.Sent.Load()
	go func() {
		r, err := s.Ping(dst, id, seq, payload, timeout)
		done <- result{r, err}
	}()
	// Time stands still until the request is on the wire, so RTTs are exact.
	for i := 0; i < 100000 && n.pipe.A.Stats.Sent.Load()+n.pipe.B.Stats.Sent.Load() == sent; i++ {
		time.Sleep(10 * time.Microsecond)
	}
	for i := 0; i < 100000; i++ {
		select {
		case r := <-done:
			return r.r, r.err
		default:
		}
		n.vc.Advance(time.Millisecond)
		time.Sleep(time.Microsecond)
	}
	n.t.Fatal("ping never returned")
	return EchoReply{}, nil
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}
