package tcp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"gomenuos/net/header"
)

// fuzzStates are the states FuzzTCPInput drives a socket into before
// feeding it random segments.
var fuzzStates = []State{StateListen, StateSynSent, StateSynRecv, StateEstablished, StateFinWait1,
	StateFinWait2, StateCloseWait, StateClosing, StateLastAck, StateTimeWait}

// intoState builds a socket in st using the scripted peer, and returns it
// with our ISS (for listeners, the port is 80).
func (sc *script) intoState(st State) (*Sock, uint32) {
	if st == StateListen {
		return sc.listener(4), 0
	}
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	iss := sc.ip.sent[0].Seq()
	port := s.LocalAddr().Port()
	in := func(g seg) { g.dport = port; sc.inject(g) }
	switch st {
	case StateSynSent:
		return s, iss
	case StateSynRecv:
		in(seg{seq: peerISS, flags: flagSyn})
		return s, iss
	}
	in(seg{seq: peerISS, ack: iss + 1, flags: flagSyn | flagAck, opts: fullOpts})
	_, _ = s.Send([]byte("pending data"))
	switch st {
	case StateFinWait1, StateFinWait2, StateClosing, StateTimeWait:
		_ = s.Shutdown(ShutWr)
		if st == StateFinWait2 || st == StateTimeWait {
			in(seg{seq: peerISS + 1, ack: iss + 14, flags: flagAck})
		}
		if st == StateClosing {
			in(seg{seq: peerISS + 1, ack: iss + 13, flags: flagFin | flagAck}) // data ACKed, FIN not
		}
		if st == StateTimeWait {
			in(seg{seq: peerISS + 1, ack: iss + 14, flags: flagFin | flagAck})
		}
	case StateCloseWait, StateLastAck:
		in(seg{seq: peerISS + 1, ack: iss + 1, flags: flagFin | flagAck})
		if st == StateLastAck {
			s.Close()
		}
	}
	return s, iss
}

// FuzzTCPInput feeds random segments (relative to the connection's
// sequence numbers, so many are in-window) to a socket in every state and
// checks the sequence-space invariants after each.
func FuzzTCPInput(f *testing.F) {
	f.Add(uint8(3), []byte{flagAck, 0, 0, 0, 1, 0, 0, 0, 13, 0xff, 0xff, 'h', 'i'})
	f.Add(uint8(0), []byte{flagSyn, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 2, 4, 5, 0xb4})
	f.Add(uint8(4), []byte{flagRst, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(9), []byte{flagSyn, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, which uint8, in []byte) {
		sc := newScript(&testing.T{})
		st := fuzzStates[int(which)%len(fuzzStates)]
		s, iss := sc.intoState(st)
		port := s.LocalAddr().Port()
		for len(in) >= 11 {
			n := min(int(in[10])%64, len(in)-11)
			g := seg{dport: port, flags: in[0],
				seq:     peerISS + binary.BigEndian.Uint32(in[1:5]),
				ack:     iss + binary.BigEndian.Uint32(in[5:9]),
				wnd:     uint16(in[9]) << 8,
				data:    string(in[11 : 11+n]),
				zeroWnd: in[9] == 0}
			var o header.TCPOptions
			if header.ParseTCPOptions(in[11:11+n], &o) == nil && in[0]&flagSyn != 0 {
				g.opts = &o
			}
			sc.inject(g)
			sc.run(50e6)
			checkInvariants(t, s)
			in = in[11+n:]
		}
	})
}

func checkInvariants(t *testing.T, s *Sock) {
	p := s.proto
	p.lock()
	defer p.unlock()
	if s.state == StateListen || s.done {
		return
	}
	if s.sndUna.gt(s.sndNxt) || s.sndNxt.gt(s.sndMax) {
		t.Fatalf("%v: snd.una %d snd.nxt %d snd.max %d", s.state, s.sndUna, s.sndNxt, s.sndMax)
	}
	if s.rcvq.len() > s.rcvBufSize+65535 {
		t.Fatalf("%v: receive buffer %d over its size", s.state, s.rcvq.len())
	}
	for i := 1; i < len(s.ooo); i++ {
		if s.ooo[i].seq.lt(s.ooo[i-1].seq) {
			t.Fatalf("out-of-order queue unsorted")
		}
	}
}

// TestIntoStateReachesEveryState guards the fuzz setup itself.
func TestIntoStateReachesEveryState(t *testing.T) {
	for _, st := range fuzzStates {
		sc := newScript(t)
		if s, _ := sc.intoState(st); s.State() != st {
			t.Errorf("intoState(%v) reached %v", st, s.State())
		}
	}
}
