package stack_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
)

// tcpHost is one stack with TCP wired in through TransportFuncs.
type tcpHost struct {
	ip  *stack.Stack
	tcp *tcp.Proto
}

func newTCPHost(t *testing.T, vc *clock.Virtual, dev link.Device, addr string, seed byte) tcpHost {
	s := stack.New(stack.Options{Clock: vc})
	if _, err := s.AddInterface(dev, netip.MustParsePrefix(addr)); err != nil {
		t.Fatal(err)
	}
	cfg := tcp.DefaultConfig()
	cfg.Seed = &[32]byte{seed}
	p := tcp.New(s, vc, cfg)
	s.AddTransport(stack.TransportFuncs{Proto: p.Protocol(), Rcv: p.Rcv, Err: p.Err})
	return tcpHost{s, p}
}

// TestTCPOverImpairedPipe runs the real TCP over two real stacks (ARP,
// IPv4, a lossy, reordering, duplicating, corrupting pipe) on the virtual
// clock, single-threaded: 1 MB one way must arrive byte-exact.
func TestTCPOverImpairedPipe(t *testing.T) {
	vc := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	pipe := link.NewPipe(link.PipeConfig{Clock: vc, Seed: 3,
		MACA: header.MAC{2, 0, 0, 0, 0, 1}, MACB: header.MAC{2, 0, 0, 0, 0, 2},
		Impairment: link.Impairment{Delay: 2 * time.Millisecond, Loss: 0.03, Reorder: 0.02, Duplicate: 0.01, Corrupt: 0.01}})
	a := newTCPHost(t, vc, pipe.A, "10.0.0.1/24", 1)
	b := newTCPHost(t, vc, pipe.B, "10.0.0.2/24", 2)
	l := b.tcp.NewSock()
	if err := l.Bind(netip.MustParseAddrPort("10.0.0.2:80")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	c := a.tcp.NewSock()
	if err := c.Connect(netip.MustParseAddrPort("10.0.0.2:80")); !errors.Is(err, tcp.ErrInProgress) {
		t.Fatalf("connect: %v", err)
	}
	data := make([]byte, 1<<20)
	rand.New(rand.NewSource(9)).Read(data)
	var got bytes.Buffer
	var srv *tcp.Sock
	sent, closed := 0, false
	buf := make([]byte, 64<<10)
	for step := 0; step < 2_000_000; step++ {
		if srv == nil {
			srv, _ = l.Accept()
		}
		if done, err := c.ConnectResult(); done && err != nil {
			t.Fatalf("connect failed: %v", err)
		} else if done && sent < len(data) {
			n, _ := c.Send(data[sent:])
			sent += n
		} else if done && !closed {
			c.Close()
			closed = true
		}
		if srv != nil {
			n, err := srv.Recv(buf, false)
			got.Write(buf[:n])
			if err == nil && n == 0 {
				break // FIN: the whole stream is in
			}
		}
		vc.Advance(time.Millisecond)
	}
	if sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
		t.Fatalf("received %d of %d bytes, hash differs", got.Len(), len(data))
	}
	lost := pipe.A.Stats.Lost.Load() + pipe.B.Stats.Lost.Load()
	bad := pipe.A.Stats.Corrupted.Load() + pipe.B.Stats.Corrupted.Load()
	if lost == 0 || bad == 0 {
		t.Fatalf("impairment did not happen: lost %d corrupted %d", lost, bad)
	}
	t.Logf("1 MB in %v virtual; lost %d, corrupted %d frames; B drops:\n%s", vc.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), lost, bad, b.ip.DropsText())
}
