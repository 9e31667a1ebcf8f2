package tcp

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"gomenuos/net/header"
)

// BenchmarkHandshake measures connect + accept + close on the in-memory
// link (zero delay, virtual clock): handshakes per wall-clock second.
func BenchmarkHandshake(b *testing.B) {
	l, pa, pb := newPair(b, impair{}, func(c *Config) { c.TimeWait = time.Millisecond })
	ln := pb.NewSock()
	must(b, ln.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)))
	must(b, ln.Listen(128))
	dst := netip.AddrPortFrom(addrB, 80)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		c := pa.NewSock()
		_ = c.Connect(dst)
		l.run(0)
		s, err := ln.Accept()
		if err != nil {
			b.Fatalf("Accept: %v (client %v)", err, c.State())
		}
		c.Close()
		l.run(0)
		s.Close()
		l.run(2 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

// benchBulk moves size bytes per iteration over a link with the given
// loss and reports wall-clock and virtual-time throughput.
func benchBulk(b *testing.B, imp impair) {
	l, pa, pb := newPair(b, imp)
	c, s := connectPairRetry(b, l, pa, pb)
	chunk := make([]byte, 1<<20)
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	vstart := l.clock.Now()
	segs0 := pa.MIB.OutSegs.Load() + pb.MIB.OutSegs.Load()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for b.Loop() {
		sent, got := 0, 0
		for got < len(chunk) {
			if sent < len(chunk) {
				n, _ := c.Send(chunk[sent:])
				sent += n
			}
			l.run(time.Millisecond)
			for {
				n, err := s.Recv(buf, false)
				if err != nil || n == 0 {
					break
				}
				got += n
			}
		}
	}
	runtime.ReadMemStats(&m1)
	v := l.clock.Now().Sub(vstart).Seconds()
	segs := pa.MIB.OutSegs.Load() + pb.MIB.OutSegs.Load() - segs0
	b.ReportMetric(float64(b.N*len(chunk))/v/1e6, "virtual-MB/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(segs), "allocs/segment")
	if imp.loss > 0 {
		b.ReportMetric(float64(pa.MIB.TCPTimeouts.Load()), "RTOs")
		b.ReportMetric(float64(pa.MIB.RetransSegs.Load()), "retrans")
	}
}

func BenchmarkBulk(b *testing.B) { benchBulk(b, impair{delay: 100 * time.Microsecond}) }
func BenchmarkBulkLoss05(b *testing.B) {
	benchBulk(b, impair{delay: 5 * time.Millisecond, loss: 0.005})
}
func BenchmarkBulkLoss1(b *testing.B) { benchBulk(b, impair{delay: 5 * time.Millisecond, loss: 0.01}) }
func BenchmarkBulkLoss5(b *testing.B) { benchBulk(b, impair{delay: 5 * time.Millisecond, loss: 0.05}) }

// BenchmarkFastPathSegment measures one in-order data segment through
// tcpV4Rcv's fast path plus its delayed ACK bookkeeping: allocations per
// received segment.
func BenchmarkFastPathSegment(b *testing.B) {
	sc := newScript(&testing.T{})
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	data := make([]byte, 1000)
	seq := uint32(peerISS + 1)
	rbuf := make([]byte, 4096)
	raw := func(seq uint32) []byte {
		b := make([]byte, 20+len(data))
		n := encodeBench(b, port, seq, iss+1)
		copy(b[n:], data)
		header.SetTCPChecksum(b, addrB.As4(), addrA.As4())
		return b
	}
	segs := make([][]byte, 1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%len(segs) == 0 {
			b.StopTimer()
			for j := range segs {
				segs[j] = raw(seq + uint32(j*len(data)))
			}
			b.StartTimer()
		}
		sc.p.Rcv(addrB, addrA, segs[i%len(segs)])
		_, _ = s.Recv(rbuf, false)
		sc.ip.sent = sc.ip.sent[:0]
		if i%len(segs) == len(segs)-1 {
			seq += uint32(len(segs) * len(data))
		}
	}
}
