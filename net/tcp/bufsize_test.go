package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"gomenuos/net/header"
)

// bufSizes reads a socket's buffer sizes under the lock.
func bufSizes(s *Sock) (rcv, snd int) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.rcvBufSize, s.sndBufSize
}

// A reader that keeps up with a fast sender gets a bigger receive buffer
// (and window) than it started with, and the sender a send buffer for
// its grown congestion window; both stay within the sysctl limits.
func TestBuffersGrowWithTheTransfer(t *testing.T) {
	l, a, b := newPair(t, impair{delay: 5 * time.Millisecond})
	c, s := connectPair(t, l, a, b)
	rcv0, _ := bufSizes(s)
	_, snd0 := bufSizes(c)
	data := bytes.Repeat([]byte("autotune"), 1<<20)
	if got := transfer(t, l, c, s, data, 10*time.Minute); !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	rcv, _ := bufSizes(s)
	_, snd := bufSizes(c)
	cfg := DefaultConfig()
	if rcv <= rcv0 || rcv > cfg.RcvBufMax {
		t.Errorf("receive buffer %d after 8 MB, started at %d; want more, at most %d", rcv, rcv0, cfg.RcvBufMax)
	}
	if snd <= snd0 || snd > cfg.SndBufMax {
		t.Errorf("send buffer %d after 8 MB, started at %d; want more, at most %d", snd, snd0, cfg.SndBufMax)
	}
}

// SO_RCVBUF and SO_SNDBUF fix the sizes (Linux: SOCK_RCVBUF_LOCK), and the
// window scale then covers the fixed receive buffer only.
func TestSetBufferSizesStopAutotuning(t *testing.T) {
	l, a, b := newPair(t, impair{delay: 5 * time.Millisecond})
	ln := b.NewSock()
	must(t, ln.SetOption(OptRcvBuf, 100000))
	must(t, ln.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)))
	must(t, ln.Listen(16))
	c := a.NewSock()
	must(t, c.SetOption(OptSndBuf, 50000))
	var synack header.TCPOptions
	l.tap = func(from int, h header.TCP) bool {
		if from == 1 && h.Flags()&flagSyn != 0 {
			must(t, header.ParseTCPOptions(h.Options(), &synack))
		}
		return true
	}
	if err := c.Connect(netip.AddrPortFrom(addrB, 80)); err != ErrInProgress {
		t.Fatal(err)
	}
	l.run(time.Second)
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if !synack.HasWS || synack.WS != 2 { // 65535<<2 covers 200000, <<1 does not
		t.Errorf("SYN-ACK window scale %v %d, want 2 for a 200000-octet buffer", synack.HasWS, synack.WS)
	}
	data := bytes.Repeat([]byte("fixed"), 1<<20)
	if got := transfer(t, l, c, s, data, 10*time.Minute); !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	if rcv, _ := bufSizes(s); rcv != 200000 {
		t.Errorf("receive buffer %d, want SO_RCVBUF's 2×100000", rcv)
	}
	if _, snd := bufSizes(c); snd != 100000 {
		t.Errorf("send buffer %d, want SO_SNDBUF's 2×50000", snd)
	}
}

// Linux's per-segment send-buffer charge for a 1448-octet MSS.
func TestPerSegmentMemory(t *testing.T) {
	if got := perSegmentMemory(1448); got != 4096+256 {
		t.Fatalf("perSegmentMemory(1448) = %d, want 4352", got)
	}
}
