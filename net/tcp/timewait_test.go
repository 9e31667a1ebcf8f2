package tcp

import (
	"bytes"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// closeToTimeWait opens a connection from A to B's listener and closes
// A's side first, so A's end goes to TIME_WAIT.
func closeToTimeWait(t testing.TB, l *testLink, a *Proto, ln *Sock) *Sock {
	c := a.NewSock()
	_ = c.Connect(netip.AddrPortFrom(addrB, 80))
	l.run(10 * time.Millisecond)
	s, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	c.Close()
	l.run(10 * time.Millisecond)
	s.Close()
	l.run(10 * time.Millisecond)
	return c
}

// A connection in TIME_WAIT no longer holds its socket: the orphaned Sock
// is gone, a timewait sock keeps the four-tuple, the port and a row of
// /proc/net/tcp (state 06), and answers the peer; when 2MSL is over
// nothing is left.
func TestTimeWaitFreesTheSocket(t *testing.T) {
	l, a, b := newPair(t, impair{delay: time.Millisecond})
	ln := listenAt(t, b, 80)
	c := closeToTimeWait(t, l, a, ln)
	if c.State() != StateTimeWait {
		t.Fatalf("state %v, want TIME_WAIT", c.State())
	}
	a.lock()
	nsocks, ntw, nports := len(a.socks), len(a.twhash), len(a.bhash)
	a.unlock()
	if nsocks != 0 || ntw != 1 || nports != 1 {
		t.Fatalf("A holds %d sockets, %d TIME_WAITs, %d ports; want 0, 1, 1", nsocks, ntw, nports)
	}
	var proc bytes.Buffer
	a.WriteProcNetTCP(&proc)
	if lines := strings.Split(strings.TrimSpace(proc.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], " 06 ") {
		t.Fatalf("/proc/net/tcp:\n%s", proc.String())
	}
	l.run(61 * time.Second)
	a.lock()
	nsocks, ntw, nports = len(a.socks), len(a.twhash), len(a.bhash)
	a.unlock()
	if c.State() != StateClose || nsocks != 0 || ntw != 0 || nports != 0 {
		t.Fatalf("after 2MSL: state %v, %d sockets, %d TIME_WAITs, %d ports", c.State(), nsocks, ntw, nports)
	}
}

// BenchmarkTimeWaitMemory reports the heap one connection in TIME_WAIT
// holds (issue 10: at most 256 bytes, for 16,384 of them): client ends
// that closed first, each on its own ephemeral port, so each also keeps
// its port's bind bucket. Connections run one after the other (30 ms of
// virtual time each; TIME_WAIT lasts an hour here), so the tables of live
// connections never grow.
func BenchmarkTimeWaitMemory(b *testing.B) {
	const n = 16384
	for b.Loop() {
		b.StopTimer()
		l, pa, pb := newPair(b, impair{}, func(c *Config) { c.MaxTimeWait, c.EphemeralLo, c.EphemeralHi, c.TimeWait = n, 32768, 60999, time.Hour })
		ln := listenAt(b, pb, 80)
		closeToTimeWait(b, l, pa, ln) // warm up every table once
		l.run(time.Hour + time.Second)
		before := heapInUse()
		b.StartTimer()
		for range n {
			closeToTimeWait(b, l, pa, ln)
		}
		b.StopTimer()
		after := heapInUse()
		pa.lock()
		tws := len(pa.twhash)
		pa.unlock()
		if tws != n {
			b.Fatalf("%d connections in TIME_WAIT, want %d", tws, n)
		}
		b.ReportMetric(float64(after-before)/n, "B/timewait")
		runtime.KeepAlive(pa)
		b.StartTimer()
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
