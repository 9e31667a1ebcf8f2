package udp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
	"gomenuos/net/link"
	"gomenuos/net/stack"
)

var (
	epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ipA   = netip.MustParseAddr("10.0.0.1")
	ipB   = netip.MustParseAddr("10.0.0.2")
	macA  = header.MAC{2, 0, 0, 0, 0, 0xa}
	macB  = header.MAC{2, 0, 0, 0, 0, 0xb}
)

var _ IP = (*stack.Stack)(nil)

// host is one stack with UDP registered as protocol 17.
type host struct {
	ip  *stack.Stack
	udp *Proto
}

// testNet is two hosts, A (10.0.0.1) and B (10.0.0.2), on one pipe with a
// virtual clock; every IPv4 frame on the wire is recorded tcpdump-style.
type testNet struct {
	t    testing.TB
	vc   *clock.Virtual
	pipe *link.Pipe
	a, b host
	mu   sync.Mutex
	wire []string
}

func newTestNet(t testing.TB, imp link.Impairment) *testNet {
	n := &testNet{t: t, vc: clock.NewVirtual(epoch)}
	n.pipe = link.NewPipe(link.PipeConfig{Clock: n.vc, Seed: 1, MACA: macA, MACB: macB, Impairment: imp,
		Capture: func(from *link.PipeEnd, f []byte) {
			if d := describe(f); d != "" {
				n.mu.Lock()
				n.wire = append(n.wire, from.Name()+" "+d)
				n.mu.Unlock()
			}
		}})
	n.a = newHost(t, n.vc, n.pipe.A, "10.0.0.1/24", 1)
	n.b = newHost(t, n.vc, n.pipe.B, "10.0.0.2/24", 2)
	return n
}

func newHost(t testing.TB, vc *clock.Virtual, dev link.Device, addr string, seed byte) host {
	s := stack.New(stack.Options{Clock: vc, IPIDSeed: uint16(seed) * 100})
	if _, err := s.AddInterface(dev, netip.MustParsePrefix(addr)); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Seed = &[32]byte{seed}
	p := New(s, cfg)
	s.AddTransport(p)
	return host{s, p}
}

// run advances the virtual clock in 1 ms steps, delivering what is due.
func (n *testNet) run(d time.Duration) {
	for end := n.vc.Now().Add(d); n.vc.Now().Before(end); {
		n.vc.Advance(time.Millisecond)
	}
}

// expectWire checks the IPv4 frames sent since the last call.
func (n *testNet) expectWire(want ...string) {
	n.t.Helper()
	n.mu.Lock()
	got := n.wire
	n.wire = nil
	n.mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		n.t.Fatalf("wire:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// describe prints an IPv4 frame: UDP with ports and length, ICMP errors
// with the ports they quote; "" for ARP.
func describe(f []byte) string {
	eth, err := header.ParseEthernet(f)
	if err != nil || eth.Type() != header.EtherTypeIPv4 {
		return ""
	}
	ip, err := header.ParseIPv4(eth.Payload())
	if err != nil {
		return "ip bad"
	}
	if ip.IsFragment() {
		return fmt.Sprintf("%v>%v frag %d len %d", ip.Src(), ip.Dst(), ip.FragmentOffset(), len(ip.Payload()))
	}
	switch ip.Protocol() {
	case header.ProtocolUDP:
		u, err := header.ParseUDP(ip.Payload())
		if err != nil {
			return "udp bad"
		}
		return fmt.Sprintf("%v:%d>%v:%d udp %d", ip.Src(), u.SrcPort(), ip.Dst(), u.DstPort(), len(u.Payload()))
	case header.ProtocolICMP:
		m, err := header.ParseICMPv4(ip.Payload())
		if err != nil || len(m.Body()) < 28 {
			return "icmp bad"
		}
		q := header.IPv4(m.Body())
		ports := m.Body()[q.HeaderLen():]
		return fmt.Sprintf("%v>%v icmp %d/%d about %v:%d>%v:%d", ip.Src(), ip.Dst(), m.Type(), m.Code(),
			q.Src(), binary.BigEndian.Uint16(ports), q.Dst(), binary.BigEndian.Uint16(ports[2:]))
	}
	return fmt.Sprintf("%v>%v proto %d", ip.Src(), ip.Dst(), ip.Protocol())
}

// bound returns a socket of h bound to addr (":port" for the wildcard).
func (h host) bound(t testing.TB, addr string) *Sock {
	t.Helper()
	s := h.udp.NewSock()
	if err := s.Bind(parseAddrPort(addr)); err != nil {
		t.Fatalf("bind %s: %v", addr, err)
	}
	return s
}

func parseAddrPort(s string) netip.AddrPort {
	if strings.HasPrefix(s, ":") {
		s = "0.0.0.0" + s
	}
	return netip.MustParseAddrPort(s)
}

// recv reads one datagram with the given flags into a buffer of size n.
func recv(t testing.TB, s *Sock, n, flags int) (string, netip.AddrPort, int, error) {
	t.Helper()
	b := make([]byte, n)
	got, from, mf, err := s.Recvmsg(b, flags)
	return string(b[:min(got, n)]), from, got, errOr(err, mf)
}

// errOr folds msgFlags into the error slot for compact checks: a MsgTrunc
// report becomes errTrunc when there is no real error.
func errOr(err error, msgFlags int) error {
	if err == nil && msgFlags&MsgTrunc != 0 {
		return errTrunc
	}
	return err
}

var errTrunc = fmt.Errorf("MSG_TRUNC")

func procText(p *Proto) string {
	var b bytes.Buffer
	p.WriteProcNetUDP(&b)
	return b.String()
}

func eq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// warm resolves A's and B's MACs with one datagram A → B (counted in
// A's OutDatagrams) and clears the wire, so that a test's burst is not
// cut short by the ARP queue.
func (n *testNet) warm() {
	n.t.Helper()
	r, s := n.b.bound(n.t, ":7"), n.a.udp.NewSock()
	if _, err := s.Sendmsg([]byte("warm"), netip.MustParseAddrPort("10.0.0.2:7"), 0); err != nil {
		n.t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	r.Close()
	s.Close()
	n.mu.Lock()
	n.wire = nil
	n.mu.Unlock()
}
