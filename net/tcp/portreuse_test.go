package tcp

import (
	"net/netip"
	"testing"
	"time"
)

// onePort confines ephemeral ports to a single one.
func onePort(c *Config) { c.EphemeralLo, c.EphemeralHi = 40000, 40000 }

func listenAt(t testing.TB, p *Proto, port uint16) *Sock {
	t.Helper()
	l := p.NewSock()
	must(t, l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), port)))
	must(t, l.Listen(8))
	return l
}

// closeFirst connects a→dst, lets a close first and returns once a's
// socket sits in TIME_WAIT.
func closeFirst(t *testing.T, l *testLink, a *Proto, ln *Sock, dst netip.AddrPort) *Sock {
	t.Helper()
	c := a.NewSock()
	if err := c.Connect(dst); err != ErrInProgress {
		t.Fatalf("Connect = %v", err)
	}
	l.run(100 * time.Millisecond)
	s, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	c.Close()
	l.run(100 * time.Millisecond)
	s.Close()
	l.run(100 * time.Millisecond)
	if c.State() != StateTimeWait {
		t.Fatalf("closer in %v, want TIME_WAIT", c.State())
	}
	return c
}

func TestConnectSharesPortAcrossPeers(t *testing.T) {
	l, a, b := newPair(t, impair{delay: time.Millisecond}, onePort)
	l80, l81 := listenAt(t, b, 80), listenAt(t, b, 81)
	closeFirst(t, l, a, l80, netip.AddrPortFrom(addrB, 80))
	// Same four-tuple held by TIME_WAIT (not loopback): no port left.
	c := a.NewSock()
	if err := c.Connect(netip.AddrPortFrom(addrB, 80)); err != ErrAddrNotAvail {
		t.Fatalf("Connect over TIME_WAIT = %v, want EADDRNOTAVAIL", err)
	}
	// Another peer port: the connect-only bucket is shared.
	if err := c.Connect(netip.AddrPortFrom(addrB, 81)); err != ErrInProgress {
		t.Fatalf("Connect to :81 = %v", err)
	}
	l.run(100 * time.Millisecond)
	if _, err := l81.Accept(); err != nil || c.LocalAddr().Port() != 40000 {
		t.Fatalf("Accept %v, local %v", err, c.LocalAddr())
	}
}

func TestLoopbackTimeWaitReuse(t *testing.T) {
	lo1, lo2 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	l, a, b := newPairAt(t, impair{delay: time.Millisecond}, lo1, lo2, onePort)
	ln := listenAt(t, b, 80)
	dst := netip.AddrPortFrom(lo2, 80)
	tw := closeFirst(t, l, a, ln, dst)
	c := a.NewSock()
	if err := c.Connect(dst); err != ErrAddrNotAvail {
		t.Fatalf("Connect within a second of the last timestamp = %v, want EADDRNOTAVAIL", err)
	}
	l.run(time.Second)
	// tcp_tw_reuse = 2: on loopback with timestamps the TIME_WAIT is recycled.
	if err := c.Connect(dst); err != ErrInProgress {
		t.Fatalf("Connect after 1 s = %v, want EINPROGRESS", err)
	}
	l.run(100 * time.Millisecond)
	if _, err := ln.Accept(); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if tw.State() != StateClose || a.MIB.TWRecycled.Load() != 1 {
		t.Fatalf("old socket %v, TWRecycled %d", tw.State(), a.MIB.TWRecycled.Load())
	}
}

// TestNoSocketLeak runs many short connections, closed from either side,
// and checks that once TIME_WAIT is over only the listener is left.
func TestNoSocketLeak(t *testing.T) {
	l, a, b := newPair(t, impair{delay: time.Millisecond})
	ln := listenAt(t, b, 80)
	for i := range 200 {
		c := a.NewSock()
		_ = c.Connect(netip.AddrPortFrom(addrB, 80))
		l.run(10 * time.Millisecond)
		s, err := ln.Accept()
		if err != nil {
			t.Fatalf("round %d: Accept: %v", i, err)
		}
		_, _ = c.Send([]byte("x"))
		first, second := c, s
		if i%2 == 1 {
			first, second = s, c
		}
		first.Close()
		l.run(10 * time.Millisecond)
		second.Close()
		l.run(10 * time.Millisecond)
	}
	l.run(61 * time.Second)
	a.lock()
	na, nbind := len(a.socks), len(a.bhash)
	a.unlock()
	b.lock()
	nb, nreq := len(b.socks), len(ln.listen.synQueue)
	b.unlock()
	if na != 0 || nbind != 0 || nb != 1 || nreq != 0 {
		t.Fatalf("left: A %d sockets %d ports, B %d sockets %d requests; want 0 0 1 0", na, nbind, nb, nreq)
	}
}

// TestTimeWaitCap: past tcp_max_tw_buckets a closing socket skips
// TIME_WAIT, so a connect/close storm cannot exhaust memory.
func TestTimeWaitCap(t *testing.T) {
	l, a, b := newPair(t, impair{delay: time.Millisecond}, func(c *Config) { c.MaxTimeWait = 3 })
	ln := listenAt(t, b, 80)
	for range 5 {
		c := a.NewSock()
		_ = c.Connect(netip.AddrPortFrom(addrB, 80))
		l.run(10 * time.Millisecond)
		s, _ := ln.Accept()
		c.Close()
		l.run(10 * time.Millisecond)
		s.Close()
		l.run(10 * time.Millisecond)
	}
	a.lock()
	tw := a.twCount
	a.unlock()
	if tw != 3 || a.MIB.TCPTimeWaitOverflow.Load() != 2 {
		t.Fatalf("TIME_WAIT %d, overflows %d; want 3, 2", tw, a.MIB.TCPTimeWaitOverflow.Load())
	}
}
