package inet

import (
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

// BenchmarkLoopbackRoundTrip is the figure the issue compares with Linux
// (about 590/s in a TCG guest): connect, send, receive the echo, close,
// through the real stack's loopback device and the blocking socket API.
func BenchmarkLoopbackRoundTrip(b *testing.B) {
	addr := netip.MustParseAddrPort("127.0.0.1:7")
	n, l := loopbackListener(b, addr, 128)
	srv := sched.NewTask("echo")
	go func() {
		buf := make([]byte, 64)
		for {
			c, err := l.Accept(srv)
			if err != nil {
				return
			}
			k, _ := c.Recv(srv, buf)
			_, _ = c.Send(srv, buf[:k])
			_ = c.Close(srv)
		}
	}()
	task := sched.NewTask("client")
	buf := make([]byte, 64)
	start := time.Now()
	for b.Loop() {
		c, _ := n.Socket(AFInet, SockStream, 0)
		if err := c.Connect(task, addr); err != nil {
			b.Fatalf("Connect: %v", err)
		}
		if _, err := c.Send(task, []byte("ping")); err != nil {
			b.Fatal(err)
		}
		if k, err := c.Recv(task, buf); k != 4 || err != nil {
			b.Fatalf("Recv = %d, %v", k, err)
		}
		_ = c.Close(task)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
	srv.Interrupt()
}

// BenchmarkLoopbackBulk streams through the real stack's loopback device
// and the blocking socket API: MB/s per wall-clock second.
func BenchmarkLoopbackBulk(b *testing.B) {
	addr := netip.MustParseAddrPort("127.0.0.1:9")
	n, l := loopbackListener(b, addr, 1)
	go func() {
		t := sched.NewTask("sink")
		c, err := l.Accept(t)
		if err != nil {
			return
		}
		buf := make([]byte, 256<<10)
		for {
			if k, err := c.Recv(t, buf); err != nil || k == 0 {
				return
			}
		}
	}()
	task := sched.NewTask("source")
	c, _ := n.Socket(AFInet, SockStream, 0)
	if err := c.Connect(task, addr); err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := c.Send(task, chunk); err != nil {
			b.Fatal(err)
		}
	}
	_ = c.Close(task)
}

// loopbackListener is a socket layer on a real stack with lo, and a
// socket listening on addr.
func loopbackListener(b *testing.B, addr netip.AddrPort, backlog int) (*Net, *Socket) {
	st := stack.New(stack.Options{})
	lo := link.NewLoopback()
	b.Cleanup(lo.Close)
	if _, err := st.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		b.Fatal(err)
	}
	n := NewNet(st, clock.Real(), tcp.DefaultConfig())
	l, _ := n.Socket(AFInet, SockStream, 0)
	if err := l.Bind(addr); err != nil {
		b.Fatal(err)
	}
	if err := l.Listen(backlog); err != nil {
		b.Fatal(err)
	}
	return n, l
}
