package tcp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"gomenuos/net/header"
)

// sender is a scripted receiver's view of our sending socket: it collects
// the data segments we send and answers with (S)ACKs.
type sender struct {
	sc    *script
	s     *Sock
	iss   uint32
	port  uint16
	mss   int
	tsval uint32 // the peer's
	ecr   uint32 // TSval of our latest data segment, echoed back
}

// newSender opens a connection with SACK and timestamps from us to the
// scripted peer, using congestion control cc, and lets 50 ms pass so the
// first data has a realistic RTT.
func newSender(t *testing.T, cc string, cfgs ...func(*Config)) *sender {
	t.Helper()
	sc := newScript(t, append([]func(*Config){func(c *Config) { c.Congestion = cc }}, cfgs...)...)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	syn := sc.expect(flags(flagSyn))
	sc.run(50 * time.Millisecond) // the handshake's RTT sample: 50 ms
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS, ack: syn.Seq() + 1, flags: flagSyn | flagAck,
		opts: &header.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTS: true, TSVal: 100, TSEcr: tsvalOf(t, syn)}})
	sc.expect(flags(flagAck))
	mss, _ := s.GetOption(OptMaxSeg)
	return &sender{sc: sc, s: s, iss: syn.Seq(), port: s.LocalAddr().Port(), mss: mss, tsval: 200}
}

func tsvalOf(t *testing.T, h header.TCP) uint32 {
	var o header.TCPOptions
	must(t, header.ParseTCPOptions(h.Options(), &o))
	return o.TSVal
}

// seqOf is the first sequence number of data segment i (0-based).
func (p *sender) seqOf(i int) uint32 { return p.iss + 1 + uint32(i*p.mss) }

// sent pops every segment we sent and returns the data segments' first
// sequence numbers.
func (p *sender) sent() []uint32 {
	var seqs []uint32
	for _, h := range p.sc.ip.sent {
		if len(h.Payload()) > 0 {
			seqs = append(seqs, h.Seq())
			p.ecr = tsvalOf(p.sc.t, h)
		}
	}
	p.sc.ip.sent = nil
	return seqs
}

// ack injects an ACK of ack with the SACK blocks given as segment ranges
// [from, to) of data segment indices.
func (p *sender) ack(ack uint32, sacks ...[2]int) {
	p.tsval++
	o := &header.TCPOptions{HasTS: true, TSVal: p.tsval, TSEcr: p.echo()}
	for _, r := range sacks {
		o.SACK[o.NumSACK] = header.SACKBlock{Start: p.seqOf(r[0]), End: p.seqOf(r[1])}
		o.NumSACK++
	}
	p.sc.inject(seg{dport: p.port, seq: peerISS + 1, ack: ack, flags: flagAck, opts: o})
}

// dsack injects an ACK whose first SACK block reports [start, end) as a
// duplicate (RFC 2883).
func (p *sender) dsack(ack, start, end uint32) {
	p.tsval++
	o := &header.TCPOptions{HasTS: true, TSVal: p.tsval, TSEcr: p.echo(), NumSACK: 1}
	o.SACK[0] = header.SACKBlock{Start: start, End: end}
	p.sc.inject(seg{dport: p.port, seq: peerISS + 1, ack: ack, flags: flagAck, opts: o})
}

// echo is what the peer echoes: the TSval of our latest data segment.
func (p *sender) echo() uint32 { return p.ecr }

func (p *sender) state() (pipe int, cwnd, ssthresh uint32, ca caState) {
	p.s.proto.lock()
	defer p.s.proto.unlock()
	return p.s.rtxq.pipe(), p.s.cwnd, p.s.ssthresh, p.s.caState
}

// TestSackRecoveryOneLossOfTen is the scenario that found SACKed segments
// counted twice (cwnd inflated per duplicate ACK while pipe also dropped
// every SACKed segment): one of ten segments is lost and nine duplicate
// ACKs SACK the rest. RFC 6675 enters recovery at DupThresh = 3 SACKed
// segments and retransmits the loss first; RFC 6937 PRR then sends
// ceil(delivered · ssthresh / RecoverFS) segments, so what is in flight
// ends near ssthresh (5 for Reno from cwnd 10), not at 14.
func TestSackRecoveryOneLossOfTen(t *testing.T) {
	p := newSender(t, "reno")
	p.sc.run(50 * time.Millisecond)
	if _, err := p.s.Send(make([]byte, 40*p.mss)); err != nil {
		t.Fatal(err)
	}
	if got := p.sent(); len(got) != 10 {
		t.Fatalf("initial window sent %d segments, want 10", len(got))
	}
	p.sc.run(50 * time.Millisecond)
	sentAfter := map[uint32]bool{} // segments sent since the loss, not yet (S)ACKed
	for k := 1; k <= 9; k++ {
		p.ack(p.seqOf(0), [2]int{1, 1 + k})
		out := p.sent()
		for _, seq := range out {
			sentAfter[seq] = true
		}
		if k < 3 && sentAfter[p.seqOf(0)] {
			t.Fatalf("retransmitted after %d duplicate ACKs, before DupThresh", k)
		}
		if k == 3 && (len(out) == 0 || out[0] != p.seqOf(0)) {
			t.Fatalf("third duplicate ACK sent %v, want the lost segment %d first", out, p.seqOf(0))
		}
	}
	pipe, cwnd, ssthresh, ca := p.state()
	if ca != caRecovery || ssthresh != 5 {
		t.Fatalf("state %d ssthresh %d, want recovery with ssthresh 5", ca, ssthresh)
	}
	if pipe != len(sentAfter) {
		t.Fatalf("pipe %d, but %d segments are on the wire unacknowledged", pipe, len(sentAfter))
	}
	// Two new segments went out on the first two duplicate ACKs (the
	// SACKed segments left the pipe: RFC 3042's limited transmit); the rest
	// is PRR's share of what the seven ACKs in recovery delivered.
	if pipe < int(ssthresh) || pipe > int(ssthresh)+1 {
		t.Fatalf("%d segments in flight (cwnd %d) after 9 duplicate ACKs, want about ssthresh %d", pipe, cwnd, ssthresh)
	}
	if n := p.sc.p.MIB.TCPSACKRecovery.Load(); n != 1 {
		t.Fatalf("TCPSackRecovery %d, want 1", n)
	}
}

// TestPRRSlowStartReductionBound: when IsLost judges several segments
// lost at once, the pipe falls below ssthresh and RFC 6937's PRR-SSRB
// brings it back no faster than one segment more than each ACK delivers,
// and never above ssthresh.
func TestPRRSlowStartReductionBound(t *testing.T) {
	p := newSender(t, "reno")
	must(t, sendAll(p.s, 20*p.mss))
	p.sent()
	p.sc.run(50 * time.Millisecond)
	// Lose segments 0..3; SACKs of 4, 5, 6 start recovery, and RFC 6675
	// IsLost() marks all four lost (each has DupThresh SACKed above it).
	p.ack(p.seqOf(0), [2]int{4, 5})
	p.ack(p.seqOf(0), [2]int{4, 6})
	p.sent() // limited transmit: two new segments
	p.ack(p.seqOf(0), [2]int{4, 7})
	if out := p.sent(); len(out) != 1 || out[0] != p.seqOf(0) {
		t.Fatalf("entering recovery sent %v, want only the first lost segment %d", out, p.seqOf(0))
	}
	for k := 8; k <= 10; k++ {
		p.ack(p.seqOf(0), [2]int{4, k})
		out := p.sent()
		pipe, _, ssthresh, _ := p.state()
		if len(out) > 1 || pipe > int(ssthresh) {
			t.Fatalf("ACK SACKing up to segment %d: sent %d, pipe %d; want at most 1 and ssthresh %d", k, len(out), pipe, ssthresh)
		}
		if len(out) == 1 && out[0] != p.seqOf(k-8) {
			t.Fatalf("sent %d, want the next lost segment %d", out[0], p.seqOf(k-8))
		}
	}
	if pipe, _, ssthresh, _ := p.state(); pipe != int(ssthresh) {
		t.Fatalf("pipe %d after three more ACKs, want back at ssthresh %d", pipe, ssthresh)
	}
}

// sendAll queues n bytes.
func sendAll(s *Sock, n int) error {
	_, err := s.Send(make([]byte, n))
	return err
}

// TestNetstatHasRecoveryCounters: /proc/net/netstat lists the Linux
// names of the loss-recovery counters.
func TestNetstatHasRecoveryCounters(t *testing.T) {
	var m MIB
	var b strings.Builder
	m.WriteNetstat(&b)
	for _, n := range []string{"TCPLossProbes", "TCPLossProbeRecovery", "TCPSackRecovery", "TCPDSACKRecv",
		"TCPDSACKOfoRecv", "TCPDSACKOldSent", "TCPSpuriousRTOs", "TCPFullUndo", "TCPDSACKUndo",
		"TCPLossUndo", "TCPLostRetransmit", "TCPSACKReorder", "TCPHystartDelayDetect"} {
		if !strings.Contains(b.String(), " "+n+" ") && !strings.Contains(b.String(), " "+n+"\n") {
			t.Errorf("netstat lacks %s", n)
		}
	}
}
