package stack

import (
	"errors"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"

	"gomenuos/net/link"
)

// countTransport counts datagrams and nothing else.
type countTransport struct{ n atomic.Int64 }

func (c *countTransport) Protocol() uint8                                    { return protoTest }
func (c *countTransport) Receive(*PacketInfo)                                { c.n.Add(1) }
func (c *countTransport) ReceiveICMPError(*PacketInfo, uint8, uint8, []byte) {}

// BenchmarkLoopbackFrames measures the whole lower path for a 64-byte
// datagram: OutputIPv4 → lo transmit → backlog goroutine → netifReceiveSkb
// → ipRcv → ipLocalDeliver → transport.
func BenchmarkLoopbackFrames(b *testing.B) {
	s, _ := newLoopbackStack(b)
	rx := &countTransport{}
	s.AddTransport(rx)
	lo := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf := make([]byte, MaxHeaderRoom+64)
		for {
			err := s.OutputIPv4(lo, lo, protoTest, 0, buf, MaxHeaderRoom)
			if !errors.Is(err, ErrNoBufferSpace) {
				break
			}
			runtime.Gosched() // backlog full: let the receive goroutine drain
			buf = make([]byte, MaxHeaderRoom+64)
		}
	}
	for rx.n.Load() < int64(b.N) {
		runtime.Gosched()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkIPRcv measures receive processing alone: one valid frame
// through DeliverFrame to a transport, on the caller's goroutine.
func BenchmarkIPRcv(b *testing.B) {
	n := newTestNet(b, link.Impairment{})
	rx := &countTransport{}
	n.b.AddTransport(rx)
	f := ipFrame(macB, ipA, ipB, protoTest, 1, 0, false, make([]byte, 64))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.b.DeliverFrame(n.pipe.B, f)
	}
	if rx.n.Load() != int64(b.N) {
		b.Fatalf("delivered %d of %d", rx.n.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
