package tcp

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

// impair describes what the test link does to segments.
type impair struct {
	delay   time.Duration
	jitter  time.Duration // uniform extra delay: reorders segments
	loss    float64
	dup     float64
	corrupt float64
}

// testLink joins two fake IP layers; segments cross after delay on the
// virtual clock. tap, when set, sees (and may drop) every segment.
type testLink struct {
	t     testing.TB
	clock *clock.Virtual
	ends  [2]*fakeIP
	imp   impair
	rng   *rand.Rand
	tap   func(from int, seg header.TCP) bool
}

// fakeIP is one side's IPv4 layer: it satisfies IP.
type fakeIP struct {
	link  *testLink
	side  int
	addr  netip.Addr
	mtu   int
	proto *Proto
	sent  []header.TCP // captured when link is nil (scripted-peer tests)
}

func (f *fakeIP) OutputIPv4(src, dst netip.Addr, proto, tos uint8, buf []byte, off int) error {
	seg := header.TCP(buf[off:])
	if len(seg)+20 > min(f.mtu, 65535) {
		panic("segment larger than the path MTU or an IPv4 datagram")
	}
	if f.link == nil {
		f.sent = append(f.sent, seg)
		return nil
	}
	f.link.carry(f.side, src, dst, seg)
	return nil
}

func (f *fakeIP) Route(dst netip.Addr) (netip.Addr, int, error) { return f.addr, f.mtu, nil }
func (f *fakeIP) IsLocal(a netip.Addr) bool                     { return a == f.addr }

func (l *testLink) carry(from int, src, dst netip.Addr, seg header.TCP) {
	if l.tap != nil && !l.tap(from, seg) {
		return
	}
	if l.rng.Float64() < l.imp.loss {
		return
	}
	copies := 1
	if l.rng.Float64() < l.imp.dup {
		copies = 2
	}
	to := l.ends[1-from]
	for range copies {
		b := append([]byte(nil), seg...)
		if l.rng.Float64() < l.imp.corrupt {
			b[l.rng.IntN(len(b))] ^= 1 << l.rng.IntN(8)
		}
		d := l.imp.delay
		if l.imp.jitter > 0 {
			d += time.Duration(l.rng.Int64N(int64(l.imp.jitter)))
		}
		l.clock.AfterFunc(d, func() { to.proto.Rcv(src, dst, b) })
	}
}

func testConfig() Config {
	cfg := DefaultConfig()
	seed := [32]byte{1, 2, 3}
	cfg.Seed = &seed
	return cfg
}

// newPair returns two TCP instances A (10.0.0.1) and B (10.0.0.2) joined
// by a link with the given impairment.
func newPair(t testing.TB, imp impair, cfgs ...func(*Config)) (*testLink, *Proto, *Proto) {
	return newPairAt(t, imp, addrA, addrB, cfgs...)
}

// newPairAt is newPair with the two addresses given.
func newPairAt(t testing.TB, imp impair, a, b netip.Addr, cfgs ...func(*Config)) (*testLink, *Proto, *Proto) {
	v := clock.NewVirtual(epoch)
	l := &testLink{t: t, clock: v, imp: imp, rng: rand.New(rand.NewPCG(7, 9))}
	for i, a := range []netip.Addr{a, b} {
		cfg := testConfig()
		cfg.Seed[0] = byte(i)
		for _, f := range cfgs {
			f(&cfg)
		}
		ip := &fakeIP{link: l, side: i, addr: a, mtu: 1500}
		ip.proto = New(ip, v, cfg)
		l.ends[i] = ip
	}
	return l, l.ends[0].proto, l.ends[1].proto
}

func (l *testLink) run(d time.Duration) { l.clock.Advance(d) }

// connectPair opens a connection from A to B:80 and returns (client, server).
func connectPair(t testing.TB, l *testLink, a, b *Proto) (*Sock, *Sock) {
	t.Helper()
	ln := b.NewSock()
	must(t, ln.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)))
	must(t, ln.Listen(16))
	c := a.NewSock()
	if err := c.Connect(netip.AddrPortFrom(addrB, 80)); err != ErrInProgress {
		t.Fatalf("Connect = %v, want ErrInProgress", err)
	}
	l.run(time.Second)
	done, err := c.ConnectResult()
	if !done || err != nil {
		t.Fatalf("ConnectResult = %v, %v; client state %v", done, err, c.State())
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return c, s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
