package udp

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"gomenuos/net/link"
)

// TestUnconnectedExchange: B's server bound to the wildcard port 53 gets
// A's datagram with its source, and its reply to that source reaches A's
// unbound socket, which sending bound to an ephemeral port.
func TestUnconnectedExchange(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	srv := n.b.bound(t, ":53")
	c := n.a.udp.NewSock()
	eq(t, "getsockname before sending", c.LocalAddr().String(), "0.0.0.0:0")
	if k, err := c.Sendmsg([]byte("query"), netip.MustParseAddrPort("10.0.0.2:53"), 0); k != 5 || err != nil {
		t.Fatalf("Sendmsg = %d, %v", k, err)
	}
	port := c.LocalAddr().Port()
	if port < 32768 || port > 60999 || c.LocalAddr().Addr().String() != "0.0.0.0" {
		t.Fatalf("autobound to %v, want 0.0.0.0 and a port of ip_local_port_range", c.LocalAddr())
	}
	n.run(10 * time.Millisecond)
	got, from, k, err := recv(t, srv, 100, 0)
	if got != "query" || k != 5 || err != nil || from != netip.AddrPortFrom(ipA, port) {
		t.Fatalf("server got %q (%d) from %v, %v", got, k, from, err)
	}
	if _, err := srv.Sendmsg([]byte("answer!"), from, 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	got, from, _, err = recv(t, c, 100, 0)
	if got != "answer!" || from.String() != "10.0.0.2:53" || err != nil {
		t.Fatalf("client got %q from %v, %v", got, from, err)
	}
	n.expectWire(
		fmt.Sprintf("pipeA 10.0.0.1:%d>10.0.0.2:53 udp 5", port),
		fmt.Sprintf("pipeB 10.0.0.2:53>10.0.0.1:%d udp 7", port))
	if _, _, _, err := c.Recvmsg(make([]byte, 10), 0); err != ErrWouldBlock {
		t.Fatalf("empty queue: %v, want EAGAIN", err)
	}
	eq(t, "A OutDatagrams", n.a.udp.MIB.OutDatagrams.Load(), 1)
	eq(t, "A InDatagrams", n.a.udp.MIB.InDatagrams.Load(), 1)
	eq(t, "B InDatagrams", n.b.udp.MIB.InDatagrams.Load(), 1)
}

// TestConnectedSocket: connect fixes the peer and the local address;
// send needs no address; datagrams from anyone else are not the
// socket's (here nobody else has the port, so they are refused with ICMP).
func TestConnectedSocket(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	srv := n.b.bound(t, ":53")
	other := n.b.bound(t, ":54")
	c := n.a.udp.NewSock()
	if _, err := c.RemoteAddr(); err != ErrNotConnected {
		t.Fatalf("getpeername unconnected: %v", err)
	}
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:53")); err != nil {
		t.Fatal(err)
	}
	local := c.LocalAddr()
	if local.Addr() != ipA || local.Port() == 0 {
		t.Fatalf("getsockname after connect = %v, want 10.0.0.1:<ephemeral>", local)
	}
	if peer, err := c.RemoteAddr(); peer.String() != "10.0.0.2:53" || err != nil {
		t.Fatalf("getpeername = %v, %v", peer, err)
	}
	if _, err := c.Sendmsg([]byte("hi"), netip.AddrPort{}, 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	if got, _, _, _ := recv(t, srv, 10, 0); got != "hi" {
		t.Fatalf("server got %q", got)
	}
	if _, err := other.Sendmsg([]byte("stranger"), local, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Sendmsg([]byte("peer"), local, 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	got, from, _, err := recv(t, c, 100, 0)
	if got != "peer" || from.String() != "10.0.0.2:53" || err != nil {
		t.Fatalf("connected socket got %q from %v, %v", got, from, err)
	}
	if _, _, _, err := c.Recvmsg(make([]byte, 10), 0); err != ErrWouldBlock {
		t.Fatalf("the stranger's datagram was delivered: %v", err)
	}
	eq(t, "A NoPorts", n.a.udp.MIB.NoPorts.Load(), 1)
	n.expectWire(
		fmt.Sprintf("pipeA 10.0.0.1:%d>10.0.0.2:53 udp 2", local.Port()),
		fmt.Sprintf("pipeB 10.0.0.2:54>10.0.0.1:%d udp 8", local.Port()),
		fmt.Sprintf("pipeB 10.0.0.2:53>10.0.0.1:%d udp 4", local.Port()),
		fmt.Sprintf("pipeA 10.0.0.1>10.0.0.2 icmp 3/3 about 10.0.0.2:54>10.0.0.1:%d", local.Port()))
}

// TestPortUnreachableRefusesConnectedSocket: a datagram to a port nobody
// has draws ICMP port unreachable; the connected sender's next call fails
// with ECONNREFUSED once (send, then receive after a second refusal),
// poll shows POLLERR meanwhile, and SO_ERROR reads and clears it.
func TestPortUnreachableRefusesConnectedSocket(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	c := n.a.udp.NewSock()
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:9")); err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().Port()
	send := func() error { _, err := c.Sendmsg([]byte("x"), netip.AddrPort{}, 0); return err }
	if err := send(); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	n.expectWire(
		fmt.Sprintf("pipeA 10.0.0.1:%d>10.0.0.2:9 udp 1", port),
		fmt.Sprintf("pipeB 10.0.0.2>10.0.0.1 icmp 3/3 about 10.0.0.1:%d>10.0.0.2:9", port))
	eq(t, "B NoPorts", n.b.udp.MIB.NoPorts.Load(), 1)
	eq(t, "poll", c.Poll(), PollOut|PollErr)
	if err := send(); err != syscall.ECONNREFUSED {
		t.Fatalf("send after port unreachable: %v, want ECONNREFUSED", err)
	}
	if err := send(); err != nil {
		t.Fatalf("the error is reported once, then: %v", err)
	}
	n.run(10 * time.Millisecond)
	if _, _, _, err := c.Recvmsg(make([]byte, 8), 0); err != syscall.ECONNREFUSED {
		t.Fatalf("recv after the second refusal: %v, want ECONNREFUSED", err)
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	eq(t, "SO_ERROR", c.TakeError(), syscall.ECONNREFUSED)
	eq(t, "SO_ERROR again", c.TakeError(), syscall.Errno(0))
}

// TestPortUnreachableUnconnectedIgnored: an unconnected socket is not told
// (it cannot know which peer refused), as Linux without IP_RECVERR.
func TestPortUnreachableUnconnectedIgnored(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	c := n.a.bound(t, ":4000")
	to := netip.MustParseAddrPort("10.0.0.2:9")
	if _, err := c.Sendmsg([]byte("x"), to, 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	n.expectWire("pipeA 10.0.0.1:4000>10.0.0.2:9 udp 1",
		"pipeB 10.0.0.2>10.0.0.1 icmp 3/3 about 10.0.0.1:4000>10.0.0.2:9")
	eq(t, "poll", c.Poll(), PollOut)
	if _, err := c.Sendmsg([]byte("x"), to, 0); err != nil {
		t.Fatalf("second send: %v", err)
	}
}

// TestPortUnreachableRateLimited: a burst to a closed port draws only as
// many ICMP errors as the per-host limit allows (Linux: icmp_ratelimit,
// burst of 6), then one a second; NoPorts counts every datagram.
func TestPortUnreachableRateLimited(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	n.warm()
	c := n.a.bound(t, ":4000")
	to := netip.MustParseAddrPort("10.0.0.2:9")
	for range 20 {
		if _, err := c.Sendmsg([]byte("x"), to, 0); err != nil {
			t.Fatal(err)
		}
	}
	n.run(10 * time.Millisecond)
	eq(t, "NoPorts", n.b.udp.MIB.NoPorts.Load(), 20)
	eq(t, "port unreachables sent", n.b.ip.ICMPStats().OutType[3].Load(), 6)
	n.run(time.Second)
	if _, err := c.Sendmsg([]byte("x"), to, 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	eq(t, "port unreachables a second later", n.b.ip.ICMPStats().OutType[3].Load(), 7)
}

// TestSendErrors: the errnos udp_sendmsg gives before anything is sent.
func TestSendErrors(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	s := n.a.udp.NewSock()
	if _, err := s.Sendmsg([]byte("x"), netip.MustParseAddrPort("255.255.255.255:67"), 0); err != syscall.ENETUNREACH {
		t.Errorf("limited broadcast without a default route: %v, want ENETUNREACH", err)
	}
	if err := n.a.ip.SetDefaultGateway(netip.MustParseAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		to   string
		want error
	}{
		{"no destination, unconnected", []byte("x"), "", syscall.EDESTADDRREQ},
		{"65,508 bytes", make([]byte, 65508), "10.0.0.2:53", syscall.EMSGSIZE},
		{"port 0", []byte("x"), "10.0.0.2:0", syscall.EINVAL},
		{"broadcast without SO_BROADCAST", []byte("x"), "10.0.0.255:53", syscall.EACCES},
		{"limited broadcast without SO_BROADCAST", []byte("x"), "255.255.255.255:53", syscall.EACCES},
	} {
		var to netip.AddrPort
		if c.to != "" {
			to = netip.MustParseAddrPort(c.to)
		}
		if k, err := s.Sendmsg(c.b, to, 0); k != 0 || err != c.want {
			t.Errorf("%s: %d, %v, want %v", c.name, k, err, c.want)
		}
	}
	if _, err := s.Sendmsg([]byte("x"), netip.MustParseAddrPort("10.0.0.2:53"), msgOOB); err != syscall.EOPNOTSUPP {
		t.Errorf("MSG_OOB: %v", err)
	}
	eq(t, "OutDatagrams", n.a.udp.MIB.OutDatagrams.Load(), 0)
}

// TestLargestDatagram: 65,507 bytes is the most a datagram carries; it
// leaves in 45 fragments and arrives whole.
func TestLargestDatagram(t *testing.T) {
	n := newTestNet(t, link.Impairment{Delay: time.Millisecond})
	n.warm()
	srv := n.b.bound(t, ":7")
	c := n.a.bound(t, ":7000")
	b := make([]byte, 65507)
	for i := range b {
		b[i] = byte(i * 7)
	}
	if k, err := c.Sendmsg(b, netip.MustParseAddrPort("10.0.0.2:7"), 0); k != 65507 || err != nil {
		t.Fatalf("Sendmsg = %d, %v", k, err)
	}
	n.run(10 * time.Millisecond)
	got := make([]byte, 70000)
	k, _, mf, err := srv.Recvmsg(got, 0)
	if k != 65507 || mf != 0 || err != nil || string(got[:k]) != string(b) {
		t.Fatalf("received %d bytes (flags %#x), %v; equal %v", k, mf, err, string(got[:k]) == string(b))
	}
	n.mu.Lock()
	frags := len(n.wire)
	n.mu.Unlock()
	eq(t, "fragments on the wire", frags, 45)
}

// TestPeekAndTrunc: MSG_PEEK leaves a datagram queued; a short buffer gets
// its start and the MSG_TRUNC report, and the rest is gone; MSG_TRUNC in
// the flags returns the real length; an empty datagram is one too.
func TestPeekAndTrunc(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	srv := n.b.bound(t, ":9")
	c := n.a.bound(t, ":9000")
	for _, m := range []string{"hello world", ""} {
		if _, err := c.Sendmsg([]byte(m), netip.MustParseAddrPort("10.0.0.2:9"), 0); err != nil {
			t.Fatal(err)
		}
	}
	n.run(10 * time.Millisecond)
	eq(t, "poll", srv.Poll(), PollIn|PollOut)
	steps := []struct {
		size, flags int
		got         string
		n           int
		err         error
	}{
		{5, msgPeek, "hello", 5, errTrunc},
		{5, msgPeek | msgTrunc, "hello", 11, errTrunc},
		{64, msgPeek, "hello world", 11, nil},
		{5, 0, "hello", 5, errTrunc},
		{64, msgPeek, "", 0, nil}, // the empty datagram, still queued
		{64, msgTrunc, "", 0, nil},
		{64, 0, "", 0, ErrWouldBlock},
	}
	for i, s := range steps {
		got, from, k, err := recv(t, srv, s.size, s.flags)
		if got != s.got || k != s.n || err != s.err {
			t.Fatalf("step %d: %q n=%d %v, want %q n=%d %v", i, got, k, err, s.got, s.n, s.err)
		}
		if err == nil && from.String() != "10.0.0.1:9000" {
			t.Fatalf("step %d: from %v", i, from)
		}
	}
	eq(t, "InDatagrams (peeks not counted)", n.b.udp.MIB.InDatagrams.Load(), 2)
	eq(t, "poll when drained", srv.Poll(), PollOut)
}

// TestRcvbufDrops: with SO_RCVBUF 2048 (4096 after Linux's doubling) a
// burst of 1,000-byte datagrams fills the queue past 4096 bytes of
// truesize after three; the rest are dropped and counted on the socket,
// in RcvbufErrors and InErrors. Reading makes room again.
func TestRcvbufDrops(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	srv := n.b.bound(t, ":9")
	if err := srv.SetOption(OptRcvBuf, 2048); err != nil {
		t.Fatal(err)
	}
	if v, _ := srv.GetOption(OptRcvBuf); v != 4096 {
		t.Fatalf("SO_RCVBUF reads %d, want 4096", v)
	}
	c := n.a.bound(t, ":9000")
	for range 10 {
		if _, err := c.Sendmsg(make([]byte, 1000), netip.MustParseAddrPort("10.0.0.2:9"), 0); err != nil {
			t.Fatal(err)
		}
	}
	n.run(10 * time.Millisecond)
	m := &n.b.udp.MIB
	eq(t, "RcvbufErrors", m.RcvbufErrors.Load(), 7)
	eq(t, "InErrors", m.InErrors.Load(), 7)
	proc := procText(n.b.udp)
	// 3 × (1000 + 768) = 5304 = 0x14B8 bytes queued, 7 drops.
	want := "    9: 00000000:0009 00000000:0000 07 00000000:000014B8 00:00000000 00000000     0        0 0 2 0000000000000000 7"
	if !strings.Contains(proc, want) {
		t.Fatalf("/proc/net/udp:\n%s\nwant the line\n%s", proc, want)
	}
	for range 3 {
		if _, _, _, err := srv.Recvmsg(make([]byte, 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := srv.Recvmsg(make([]byte, 1000), 0); err != ErrWouldBlock {
		t.Fatalf("a fourth datagram: %v", err)
	}
	if _, err := c.Sendmsg([]byte("again"), netip.MustParseAddrPort("10.0.0.2:9"), 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	if got, _, _, _ := recv(t, srv, 10, 0); got != "again" {
		t.Fatalf("after draining got %q", got)
	}
}

// TestChecksumErrors: a corrupted datagram is dropped and counted, never
// delivered or answered.
func TestChecksumErrors(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	srv := n.b.bound(t, ":9")
	c := n.a.bound(t, ":9000")
	// Resolve B's MAC first, then corrupt every frame.
	if _, err := c.Sendmsg([]byte("ok"), netip.MustParseAddrPort("10.0.0.2:9"), 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	n.pipe.SetImpairment(link.Impairment{Corrupt: 1})
	for _, port := range []string{"9", "10"} {
		// A 1,400-byte payload makes a hit in the IPv4 header unlikely
		// (the fixed seed decides; the counters below pin it down).
		if _, err := c.Sendmsg(make([]byte, 1400), netip.MustParseAddrPort("10.0.0.2:"+port), 0); err != nil {
			t.Fatal(err)
		}
	}
	n.run(10 * time.Millisecond)
	m := &n.b.udp.MIB
	eq(t, "InCsumErrors", m.InCsumErrors.Load(), 2)
	eq(t, "InErrors", m.InErrors.Load(), 2)
	eq(t, "NoPorts", m.NoPorts.Load(), 0)
	if got, _, _, _ := recv(t, srv, 2000, 0); got != "ok" {
		t.Fatalf("first datagram %q", got)
	}
	if _, _, _, err := srv.Recvmsg(make([]byte, 2000), 0); err != ErrWouldBlock {
		t.Fatalf("a corrupted datagram was delivered: %v", err)
	}
}

// TestShortDatagram: a UDP length past the IP payload is an InError.
func TestShortDatagram(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	n.b.bound(t, ":9")
	pi := udpPacket(ipA, ipB, 1, 9, []byte("abc"))
	pi.Payload[5] = 20 // length 20 > 11 bytes
	n.b.udp.Receive(pi)
	eq(t, "InErrors", n.b.udp.MIB.InErrors.Load(), 1)
	eq(t, "NoPorts", n.b.udp.MIB.NoPorts.Load(), 0)
}

// TestBroadcast: sending to a broadcast address needs SO_BROADCAST;
// receiving does not. Every wildcard socket on the port gets a copy,
// sockets bound to a unicast address do not, and a broadcast nobody wants
// is IgnoredMulti, without ICMP.
func TestBroadcast(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	r1 := n.b.udp.NewSock()
	r2 := n.b.udp.NewSock()
	for _, r := range []*Sock{r1, r2} {
		_ = r.SetOption(OptReuseAddr, 1)
		if err := r.Bind(parseAddrPort(":67")); err != nil {
			t.Fatal(err)
		}
	}
	_ = n.b.udp.NewSock()
	uni := n.b.udp.NewSock()
	_ = uni.SetOption(OptReuseAddr, 1)
	if err := uni.Bind(netip.MustParseAddrPort("10.0.0.2:67")); err != nil {
		t.Fatal(err)
	}
	if err := n.a.ip.SetDefaultGateway(netip.MustParseAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	c := n.a.bound(t, ":68")
	if err := c.SetOption(OptBroadcast, 1); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{"255.255.255.255:67", "10.0.0.255:67", "10.0.0.255:99"} {
		if _, err := c.Sendmsg([]byte("discover"), netip.MustParseAddrPort(dst), 0); err != nil {
			t.Fatalf("%s: %v", dst, err)
		}
	}
	n.run(10 * time.Millisecond)
	n.expectWire("pipeA 10.0.0.1:68>255.255.255.255:67 udp 8",
		"pipeA 10.0.0.1:68>10.0.0.255:67 udp 8",
		"pipeA 10.0.0.1:68>10.0.0.255:99 udp 8")
	for i, r := range []*Sock{r1, r2} {
		for range 2 {
			if got, _, _, err := recv(t, r, 64, 0); got != "discover" || err != nil {
				t.Fatalf("wildcard socket %d: %q, %v", i, got, err)
			}
		}
	}
	if _, _, _, err := uni.Recvmsg(make([]byte, 64), 0); err != ErrWouldBlock {
		t.Fatalf("socket bound to 10.0.0.2 got a broadcast: %v", err)
	}
	eq(t, "IgnoredMulti", n.b.udp.MIB.IgnoredMulti.Load(), 1)
	eq(t, "NoPorts", n.b.udp.MIB.NoPorts.Load(), 0)
}

// TestShutdown: on an unconnected socket shutdown says ENOTCONN yet takes
// effect, as Linux's does; SHUT_WR makes sends fail with EPIPE; an
// invalid how is EINVAL.
func TestShutdown(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	s := n.a.bound(t, ":5000")
	if err := s.Shutdown(3); err != syscall.EINVAL {
		t.Fatalf("how 3: %v", err)
	}
	if err := s.Shutdown(0); err != syscall.ENOTCONN {
		t.Fatalf("SHUT_RD unconnected: %v, want ENOTCONN", err)
	}
	eq(t, "poll after SHUT_RD", s.Poll(), PollIn|PollOut|PollRdHup)
	eq(t, "RcvShutdown", s.RcvShutdown(), true)
	if err := s.Connect(netip.MustParseAddrPort("10.0.0.2:9")); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(1); err != nil {
		t.Fatalf("SHUT_WR connected: %v", err)
	}
	if _, err := s.Sendmsg([]byte("x"), netip.AddrPort{}, 0); err != syscall.EPIPE {
		t.Fatalf("send after SHUT_WR: %v, want EPIPE", err)
	}
	eq(t, "poll after both", s.Poll(), PollIn|PollOut|PollRdHup|PollHup)
}

// TestBindRules: EADDRINUSE between overlapping addresses unless both set
// SO_REUSEADDR; distinct specific addresses share a port; a foreign
// address is EADDRNOTAVAIL; a second bind is EINVAL.
func TestBindRules(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	lo := link.NewLoopback()
	t.Cleanup(lo.Close)
	if _, err := n.b.ip.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	p := n.b.udp
	bind := func(addr string, reuse bool) (*Sock, error) {
		s := p.NewSock()
		if reuse {
			_ = s.SetOption(OptReuseAddr, 1)
		}
		return s, s.Bind(parseAddrPort(addr))
	}
	w, err := bind(":53", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr  string
		reuse bool
		want  error
	}{
		{":53", false, syscall.EADDRINUSE},
		{"10.0.0.2:53", false, syscall.EADDRINUSE},
		{"10.0.0.2:53", true, syscall.EADDRINUSE}, // the wildcard holder did not set it
		{"10.0.0.9:53", false, syscall.EADDRNOTAVAIL},
		{"10.0.0.2:54", false, nil},
		{"127.0.0.1:54", false, nil},  // another address, same port
		{"10.0.0.255:54", false, nil}, // a broadcast address may be bound
	} {
		if _, err := bind(c.addr, c.reuse); err != c.want {
			t.Errorf("bind %s reuse=%v: %v, want %v", c.addr, c.reuse, err, c.want)
		}
	}
	if err := w.Bind(parseAddrPort(":99")); err != syscall.EINVAL {
		t.Errorf("second bind: %v, want EINVAL", err)
	}
	w.Close()
	if _, err := bind(":53", false); err != nil {
		t.Errorf("bind after close: %v", err)
	}
	r1, err1 := bind(":60", true)
	r2, err2 := bind(":60", true)
	if err1 != nil || err2 != nil {
		t.Fatalf("SO_REUSEADDR pair: %v, %v", err1, err2)
	}
	// Of two equal matches the last bound receives unicast, as on Linux.
	c := n.a.bound(t, ":6000")
	if _, err := c.Sendmsg([]byte("to 60"), netip.MustParseAddrPort("10.0.0.2:60"), 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	if got, _, _, _ := recv(t, r2, 64, 0); got != "to 60" {
		t.Fatalf("last bound got %q", got)
	}
	if _, _, _, err := r1.Recvmsg(make([]byte, 64), 0); err != ErrWouldBlock {
		t.Fatalf("first bound: %v", err)
	}
}

// TestExactAddressBeatsWildcard: a socket bound to the datagram's
// destination address wins over a wildcard one, even a connected one
// (Linux looks up the address's slot first).
func TestExactAddressBeatsWildcard(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	exact := n.b.udp.NewSock()
	wild := n.b.udp.NewSock()
	for s, a := range map[*Sock]string{exact: "10.0.0.2:70", wild: ":70"} {
		_ = s.SetOption(OptReuseAddr, 1)
		if err := s.Bind(parseAddrPort(a)); err != nil {
			t.Fatal(err)
		}
	}
	c := n.a.bound(t, ":7000")
	if _, err := c.Sendmsg([]byte("x"), netip.MustParseAddrPort("10.0.0.2:70"), 0); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Millisecond)
	if got, _, _, _ := recv(t, exact, 8, 0); got != "x" {
		t.Fatalf("exact-address socket got %q", got)
	}
}

// TestDisconnect: connect to AF_UNSPEC (the zero AddrPort) forgets the
// peer; an autobound port and the connect-chosen address go with it, a
// user-bound port stays.
func TestDisconnect(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	auto := n.a.udp.NewSock()
	bound := n.a.bound(t, ":5353")
	for _, s := range []*Sock{auto, bound} {
		if err := s.Connect(netip.MustParseAddrPort("10.0.0.2:53")); err != nil {
			t.Fatal(err)
		}
		if err := s.Connect(netip.AddrPort{}); err != nil {
			t.Fatalf("disconnect: %v", err)
		}
		if _, err := s.RemoteAddr(); err != ErrNotConnected {
			t.Fatalf("getpeername after disconnect: %v", err)
		}
		eq(t, "state", s.State(), StateClose)
	}
	eq(t, "autobound getsockname", auto.LocalAddr().String(), "0.0.0.0:0")
	eq(t, "bound getsockname", bound.LocalAddr().String(), "0.0.0.0:5353")
	if !strings.Contains(procText(n.a.udp), "00000000:14E9 00000000:0000 07") || strings.Count(procText(n.a.udp), "\n") != 2 {
		t.Fatalf("/proc/net/udp after disconnects:\n%s", procText(n.a.udp))
	}
	if _, err := bound.Sendmsg([]byte("x"), netip.AddrPort{}, 0); err != syscall.EDESTADDRREQ {
		t.Fatalf("send after disconnect: %v", err)
	}
}

// TestConnectErrors: no route is ENETUNREACH, a broadcast peer without
// SO_BROADCAST EACCES.
func TestConnectErrors(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	s := n.a.udp.NewSock()
	if err := s.Connect(netip.MustParseAddrPort("192.168.0.1:53")); err != syscall.ENETUNREACH {
		t.Fatalf("no route: %v", err)
	}
	if err := s.Connect(netip.MustParseAddrPort("10.0.0.255:53")); err != syscall.EACCES {
		t.Fatalf("broadcast: %v", err)
	}
	_ = s.SetOption(OptBroadcast, 1)
	if err := s.Connect(netip.MustParseAddrPort("10.0.0.255:53")); err != nil {
		t.Fatalf("broadcast with SO_BROADCAST: %v", err)
	}
}

// TestEphemeralPorts: autobound ports are distinct while held, stay in
// the range, and run out with EAGAIN (a send) or EADDRINUSE (bind to 0).
func TestEphemeralPorts(t *testing.T) {
	vc := newTestNet(t, link.Impairment{}).vc
	h := newHost(t, vc, link.NewPipe(link.PipeConfig{Clock: vc}).A, "10.0.0.1/24", 3)
	h.udp.cfg.EphemeralLo, h.udp.cfg.EphemeralHi = 40000, 40003
	seen := map[uint16]bool{}
	for range 4 {
		s := h.udp.NewSock()
		if err := s.Bind(netip.AddrPort{}); err != nil {
			t.Fatal(err)
		}
		port := s.LocalAddr().Port()
		if port < 40000 || port > 40003 || seen[port] {
			t.Fatalf("port %d (seen %v)", port, seen)
		}
		seen[port] = true
	}
	if err := h.udp.NewSock().Bind(netip.AddrPort{}); err != syscall.EADDRINUSE {
		t.Fatalf("bind to 0 with the range used up: %v", err)
	}
	if _, err := h.udp.NewSock().Sendmsg([]byte("x"), netip.MustParseAddrPort("10.0.0.2:53"), 0); err != syscall.EAGAIN {
		t.Fatalf("send with the range used up: %v", err)
	}
}

// TestEphemeralPortsUnpredictable: two instances with different keys
// start their walks at different ports; with the same key they replay.
func TestEphemeralPortsUnpredictable(t *testing.T) {
	first := func(seed byte) []uint16 {
		vc := newTestNet(t, link.Impairment{}).vc
		h := newHost(t, vc, link.NewPipe(link.PipeConfig{Clock: vc}).A, "10.0.0.1/24", seed)
		var out []uint16
		for range 4 {
			s := h.udp.NewSock()
			_ = s.Bind(netip.AddrPort{})
			out = append(out, s.LocalAddr().Port())
			s.Close()
		}
		return out
	}
	a, b, c := first(7), first(7), first(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, ports %v and %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("different seeds, same ports %v", a)
	}
	for i := 1; i < len(a); i++ {
		if a[i] == a[i-1]+1 {
			t.Fatalf("successive ports %v: sequential", a)
		}
	}
}

// TestSNMP: the Udp: lines of /proc/net/snmp, Linux's names in order.
func TestSNMP(t *testing.T) {
	var m MIB
	m.InDatagrams.Add(1)
	m.NoPorts.Add(2)
	m.InErrors.Add(3)
	m.OutDatagrams.Add(4)
	m.RcvbufErrors.Add(5)
	m.SndbufErrors.Add(6)
	m.InCsumErrors.Add(7)
	m.IgnoredMulti.Add(8)
	var b strings.Builder
	m.WriteSNMP(&b)
	want := "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
		"Udp: 1 2 3 4 5 6 7 8 0\n"
	eq(t, "snmp", b.String(), want)
}

// TestProcNetUDP: Linux's header and columns, padded to 127; slots in
// order; inode and state per socket.
func TestProcNetUDP(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	s1 := n.b.bound(t, ":53")
	s1.SetInode(1234, 0)
	s2 := n.b.bound(t, "10.0.0.2:300") // slot 300 & 255 = 44
	s2.SetInode(1235, 1000)
	if err := s2.Connect(netip.MustParseAddrPort("10.0.0.1:4660")); err != nil {
		t.Fatal(err)
	}
	got := procText(n.b.udp)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	want := []string{
		"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
		"   44: 0200000A:012C 0100000A:1234 01 00000000:00000000 00:00000000 00000000  1000        0 1235 2 0000000000000000 0",
		"   53: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 0000000000000000 0",
	}
	if len(lines) != len(want) {
		t.Fatalf("/proc/net/udp:\n%s", got)
	}
	for i := range want {
		eq(t, fmt.Sprintf("line %d", i), lines[i], fmt.Sprintf("%-127s", want[i]))
	}
	s1.Close()
	s2.Close()
	eq(t, "after close", strings.Count(procText(n.b.udp), "\n"), 1)
}

// TestErrorsFromOtherICMP: a hard error other than port unreachable
// (protocol unreachable → ENOPROTOOPT) is reported; a soft one (host
// unreachable) is not, as Linux's icmp_err_convert says.
func TestErrorsFromOtherICMP(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	c := n.a.udp.NewSock()
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:53")); err != nil {
		t.Fatal(err)
	}
	local := c.LocalAddr()
	quote := quotedDatagram(local, netip.MustParseAddrPort("10.0.0.2:53"))
	n.a.udp.ReceiveICMPError(nil, 3, 1, quote)
	eq(t, "after host unreachable", c.TakeError(), syscall.Errno(0))
	n.a.udp.ReceiveICMPError(nil, 3, 2, quote)
	eq(t, "after protocol unreachable", c.TakeError(), syscall.ENOPROTOOPT)
	n.a.udp.ReceiveICMPError(nil, 3, 4, quote)
	eq(t, "after fragmentation needed", c.TakeError(), syscall.EMSGSIZE)
	other := quotedDatagram(local, netip.MustParseAddrPort("10.0.0.2:54"))
	n.a.udp.ReceiveICMPError(nil, 3, 3, other)
	eq(t, "about another peer", c.TakeError(), syscall.Errno(0))
}
