package tcp

import (
	"strings"
	"testing"

	"gomenuos/net/header"
)

// Within a receive burst the every-second-segment ACK waits for the end of
// the burst: six in-order segments cost one ACK, for all of them. An
// out-of-order segment is still acknowledged at once (its duplicate ACK
// drives the sender's loss recovery).
func TestBurstAcknowledgedOnce(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	s.proto.lock()
	s.quickAcks = 0 // past the start of the connection
	s.proto.unlock()
	port := s.LocalAddr().Port()
	text := strings.Repeat("d", 100)
	sc.p.BeginBatch()
	for i := range 6 {
		sc.inject(seg{dport: port, seq: peerISS + 1 + uint32(i*100), ack: iss + 1, flags: flagAck, data: text})
	}
	sc.expectNone()
	sc.p.EndBatch()
	sc.expect(flags(flagAck), ackIs(peerISS+1+600))
	sc.expectNone()

	sc.p.BeginBatch()
	sc.inject(seg{dport: port, seq: peerISS + 1 + 700, ack: iss + 1, flags: flagAck, data: text})
	sc.expect(flags(flagAck), ackIs(peerISS+1+600)) // the gap: a duplicate ACK now
	sc.p.EndBatch()
}

// ackWith injects a pure ACK of ack (no SACK blocks) with the window
// wnd and the extra flags fl.
func (p *sender) ackWith(ack uint32, wnd uint16, fl uint8) {
	p.tsval++
	o := &header.TCPOptions{HasTS: true, TSVal: p.tsval, TSEcr: p.echo()}
	p.sc.inject(seg{dport: p.port, seq: peerISS + 1, ack: ack, flags: flagAck | fl, wnd: wnd, opts: o})
}

// Within a burst the pure ACKs that advance SND.UNA are processed once, as
// the newest: five ACKs of one segment each send, at the end of the burst,
// the ten segments that five ACKs processed one by one send in slow start.
func TestBurstPureAcksCoalesced(t *testing.T) {
	p := newBulkSender(t)
	p.sc.p.BeginBatch()
	for k := 1; k <= 5; k++ {
		p.ackWith(p.seqOf(k), 0, 0)
	}
	if got := p.sent(); len(got) != 0 {
		t.Fatalf("sent %v before the end of the burst", got)
	}
	p.sc.p.EndBatch()
	if got := p.sent(); len(got) != 10 || got[0] != p.seqOf(10) {
		t.Fatalf("after the burst sent %v, want the 10 segments from %d", got, p.seqOf(10))
	}
	if n := p.sc.p.MIB.TCPAckCoalesced.Load(); n != 4 {
		t.Fatalf("TCPAckCoalesced %d, want 4", n)
	}
	p.s.proto.lock()
	una := p.s.sndUna
	p.s.proto.unlock()
	if una != seqnum(p.seqOf(5)) {
		t.Fatalf("SND.UNA %d, want %d", una, p.seqOf(5))
	}
}

// A duplicate ACK is never coalesced: the held ACK goes first, then every
// duplicate counts, and the third retransmits within the burst. ACKs with
// SACK blocks or ECE are not held either.
func TestBurstDupAcksNotCoalesced(t *testing.T) {
	p := newBulkSender(t)
	p.sc.p.BeginBatch()
	p.ackWith(p.seqOf(1), 0, 0) // held
	p.ackWith(p.seqOf(1), 0, 0) // a duplicate: flushes the held one, then counts
	for k := 2; k <= 4; k++ {
		p.ack(p.seqOf(1), [2]int{2, k + 1})
	}
	out := p.sent()
	p.sc.p.EndBatch()
	retransmitted := false
	for _, seq := range out {
		retransmitted = retransmitted || seq == p.seqOf(1)
	}
	if !retransmitted {
		t.Fatalf("duplicate ACKs in a burst sent %v, want the retransmission of %d", out, p.seqOf(1))
	}
	if n := p.sc.p.MIB.TCPAckCoalesced.Load(); n != 0 {
		t.Fatalf("TCPAckCoalesced %d, want 0", n)
	}
	if _, _, _, ca := p.state(); ca != caRecovery {
		t.Fatalf("state %d, want recovery", ca)
	}
}

// The newest window of the coalesced ACKs is the one the sender uses, and
// an ACK carrying ECE (or any other flag) is processed after the held one,
// not in its place.
func TestBurstCoalescedAckWindowAndFlags(t *testing.T) {
	p := newBulkSender(t)
	p.sc.p.BeginBatch()
	p.ackWith(p.seqOf(1), 60000, 0)
	p.ackWith(p.seqOf(2), 30000, 0)
	p.sc.p.EndBatch()
	p.s.proto.lock()
	wnd, ws, una := p.s.sndWnd, p.s.sndWS, p.s.sndUna
	p.s.proto.unlock()
	if wnd != 30000<<ws || una != seqnum(p.seqOf(2)) {
		t.Fatalf("window %d SND.UNA %d, want %d and %d", wnd, una, 30000<<ws, p.seqOf(2))
	}
	if n := p.sc.p.MIB.TCPAckCoalesced.Load(); n != 1 {
		t.Fatalf("TCPAckCoalesced %d, want 1", n)
	}
	p.sent()
	p.sc.p.BeginBatch()
	p.ackWith(p.seqOf(3), 30000, 0)
	p.ackWith(p.seqOf(4), 30000, header.TCPFlagEce)
	p.sc.p.EndBatch()
	p.s.proto.lock()
	una = p.s.sndUna
	p.s.proto.unlock()
	if una != seqnum(p.seqOf(4)) {
		t.Fatalf("SND.UNA %d, want %d", una, p.seqOf(4))
	}
	if n := p.sc.p.MIB.TCPAckCoalesced.Load(); n != 1 {
		t.Fatalf("TCPAckCoalesced %d, want still 1 (ECE is not coalesced)", n)
	}
}
