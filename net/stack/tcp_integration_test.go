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
// clock, single-threaded: 1 MB each way at once must arrive byte-exact.
// Data segments then carry SACK blocks, which must still fit the MTU (the
// stack refuses anything larger with EMSGSIZE: FragFails stays 0).
func TestTCPOverImpairedPipe(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vc := clock.NewVirtual(start)
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
	rng := rand.New(rand.NewSource(9))
	toB, toA := &stream{data: make([]byte, 1<<20)}, &stream{data: make([]byte, 1<<20)}
	rng.Read(toB.data)
	rng.Read(toA.data)
	var srv *tcp.Sock
	for step := 0; step < 1_000_000 && !(toB.eof && toA.eof); step++ {
		if srv == nil {
			srv, _ = l.Accept()
		}
		if done, err := c.ConnectResult(); done && err != nil {
			t.Fatalf("connect failed: %v", err)
		} else if done {
			toB.pump(c, srv)
		}
		if srv != nil {
			toA.pump(srv, c)
		}
		vc.Advance(time.Millisecond)
	}
	for _, st := range []*stream{toB, toA} {
		if sha256.Sum256(st.got.Bytes()) != sha256.Sum256(st.data) {
			t.Fatalf("received %d of %d bytes, hash differs", st.got.Len(), len(st.data))
		}
	}
	lost := pipe.A.Stats.Lost.Load() + pipe.B.Stats.Lost.Load()
	bad := pipe.A.Stats.Corrupted.Load() + pipe.B.Stats.Corrupted.Load()
	if lost == 0 || bad == 0 {
		t.Fatalf("impairment did not happen: lost %d corrupted %d", lost, bad)
	}
	for _, h := range []tcpHost{a, b} {
		if f := h.ip.IPStats().FragFails.Load(); f != 0 {
			t.Fatalf("%d segments refused as larger than the MTU", f)
		}
	}
	t.Logf("1 MB each way in %v virtual; lost %d, corrupted %d frames", vc.Now().Sub(start), lost, bad)
}

// stream is one direction of the transfer: what to send, how much went,
// what arrived, and whether the FIN did.
type stream struct {
	data   []byte
	sent   int
	closed bool
	got    bytes.Buffer
	eof    bool
}

// pump moves what it can from the sender's buffer into TCP, closes after
// the last byte, and drains the receiver.
func (st *stream) pump(from, to *tcp.Sock) {
	if st.sent < len(st.data) {
		n, _ := from.Send(st.data[st.sent:])
		st.sent += n
	} else if !st.closed {
		from.Shutdown(tcp.ShutWr)
		st.closed = true
	}
	if to == nil || st.eof {
		return
	}
	buf := make([]byte, 64<<10)
	n, err := to.Recv(buf, false)
	st.got.Write(buf[:n])
	st.eof = err == nil && n == 0
}
