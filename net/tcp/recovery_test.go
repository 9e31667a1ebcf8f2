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

// newSentSender is a CUBIC sender that has sent n segments (all in its
// initial window) and waited 50 ms with none of them acknowledged.
func newSentSender(t *testing.T, n int) *sender {
	t.Helper()
	p := newSender(t, "cubic")
	must(t, sendAll(p.s, n*p.mss))
	p.sent()
	p.sc.run(50 * time.Millisecond)
	return p
}

// newBulkSender is a Reno sender that has written 40 segments and sent
// its initial window of 10.
func newBulkSender(t *testing.T) *sender {
	t.Helper()
	p := newSender(t, "reno")
	p.sc.run(50 * time.Millisecond)
	if _, err := p.s.Send(make([]byte, 40*p.mss)); err != nil {
		t.Fatal(err)
	}
	if got := p.sent(); len(got) != 10 {
		t.Fatalf("initial window sent %d segments, want 10", len(got))
	}
	return p
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
	p := newBulkSender(t)
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

// TestDsackUndoesSpuriousRecovery: the "lost" segment was only delayed;
// the peer's D-SACK for our retransmission (RFC 2883 §5) proves every
// retransmission spurious, so cwnd and ssthresh return to their values
// before recovery (Linux: tcp_try_undo_recovery, TCPFullUndo).
func TestDsackUndoesSpuriousRecovery(t *testing.T) {
	p := newSender(t, "reno")
	must(t, sendAll(p.s, 10*p.mss))
	p.sent()
	p.sc.run(50 * time.Millisecond)
	for k := 1; k <= 3; k++ {
		p.ack(p.seqOf(0), [2]int{1, 1 + k})
	}
	if out := p.sent(); len(out) == 0 || out[0] != p.seqOf(0) {
		t.Fatalf("no fast retransmit: %v", out)
	}
	if _, cwnd, _, ca := p.state(); ca != caRecovery || cwnd >= 10 {
		t.Fatalf("state %d cwnd %d, want recovery with a reduced cwnd", ca, cwnd)
	}
	// The original arrives, then our retransmission: a D-SACK below the ACK.
	p.dsack(p.seqOf(10), p.seqOf(0), p.seqOf(1))
	_, cwnd, ssthresh, ca := p.state()
	if ca != caOpen || cwnd < 10 || ssthresh != infiniteSSThresh {
		t.Fatalf("after the D-SACK: state %d cwnd %d ssthresh %d; want Open, 10, undone", ca, cwnd, ssthresh)
	}
	m := &p.sc.p.MIB
	if m.TCPDSACKRecv.Load() != 1 || m.TCPFullUndo.Load() != 1 {
		t.Fatalf("TCPDSACKRecv %d TCPFullUndo %d, want 1 1", m.TCPDSACKRecv.Load(), m.TCPFullUndo.Load())
	}
}

// TestDsackSentForDuplicate: a segment we already have is answered at
// once with its range as the first SACK block (RFC 2883 §4).
func TestDsackSentForDuplicate(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(fullOpts)
	port := s.LocalAddr().Port()
	ts := &header.TCPOptions{HasTS: true, TSVal: 101}
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck, data: "hello", opts: ts})
	sc.ip.sent = nil
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck, data: "hello", opts: ts})
	h := sc.expect(flags(flagAck), ackIs(peerISS+6))
	var o header.TCPOptions
	must(t, header.ParseTCPOptions(h.Options(), &o))
	if o.NumSACK != 1 || o.SACK[0] != (header.SACKBlock{Start: peerISS + 1, End: peerISS + 6}) {
		t.Fatalf("SACK blocks %v, want the D-SACK [%d, %d)", o.SACK[:o.NumSACK], peerISS+1, peerISS+6)
	}
	if sc.p.MIB.TCPDSACKOldSent.Load() != 1 {
		t.Fatal("TCPDSACKOldSent not counted")
	}
	// Reported once: the next ACK carries no D-SACK.
	sc.inject(seg{dport: port, seq: peerISS + 6, ack: iss + 1, flags: flagAck, data: "x", opts: ts})
	sc.run(time.Second)
	h = sc.expect(flags(flagAck), ackIs(peerISS+7))
	must(t, header.ParseTCPOptions(h.Options(), &o))
	if o.NumSACK != 0 {
		t.Fatalf("second ACK still carries SACK blocks %v", o.SACK[:o.NumSACK])
	}
}

// TestTailLossProbe: the last segment of a flight is lost and no
// duplicate ACK can come. RFC 8985 §7.2: with one segment out, PTO =
// 2·SRTT + WCDelAckT (Linux: TCP_RTO_MIN), capped by the RTO; the probe
// resends the last segment instead of an RTO collapsing cwnd, and its ACK
// proves a loss the probe repaired (§7.4).
func TestTailLossProbe(t *testing.T) {
	p := newSentSender(t, 3)
	p.ack(p.seqOf(2)) // segment 2 is lost
	p.sc.run(195 * time.Millisecond)
	if out := p.sent(); len(out) != 0 {
		t.Fatalf("sent %v before PTO", out)
	}
	p.sc.run(10 * time.Millisecond)
	if out := p.sent(); len(out) != 1 || out[0] != p.seqOf(2) {
		t.Fatalf("probe %v, want the last segment %d again", out, p.seqOf(2))
	}
	p.ack(p.seqOf(3))
	m := &p.sc.p.MIB
	if m.TCPLossProbes.Load() != 1 || m.TCPLossProbeRecovery.Load() != 1 || m.TCPTimeouts.Load() != 0 {
		t.Fatalf("TCPLossProbes %d TCPLossProbeRecovery %d TCPTimeouts %d; want 1 1 0",
			m.TCPLossProbes.Load(), m.TCPLossProbeRecovery.Load(), m.TCPTimeouts.Load())
	}
}

// TestFrtoDetectsSpuriousRTO: a delay spike fires the RTO though nothing
// was lost. F-RTO (RFC 5682 §3.1) retransmits the head, sends new data
// on the first ACK instead of more retransmissions, and the second ACK,
// covering a segment never retransmitted, proves the timeout spurious.
func TestFrtoDetectsSpuriousRTO(t *testing.T) {
	p := newSender(t, "reno", func(c *Config) { c.Timestamps = false })
	must(t, sendAll(p.s, 20*p.mss))
	p.sent()
	p.sc.run(50 * time.Millisecond)
	p.ack(p.seqOf(1)) // an RTT sample; nine segments stay out
	for i := 0; i < 40 && p.sc.p.MIB.TCPTimeouts.Load() == 0; i++ {
		p.sc.run(50 * time.Millisecond)
	}
	if p.sc.p.MIB.TCPTimeouts.Load() != 1 {
		t.Fatal("no RTO")
	}
	out := p.sent()
	if len(out) == 0 || out[len(out)-1] != p.seqOf(1) {
		t.Fatalf("RTO sent %v, want the head %d last", out, p.seqOf(1))
	}
	p.ack(p.seqOf(2)) // the original head arrives
	for _, seq := range p.sent() {
		if seq < p.seqOf(11) {
			t.Fatalf("first ACK after the RTO retransmitted %d; F-RTO sends new data", seq)
		}
	}
	p.ack(p.seqOf(3)) // segment 2 was never retransmitted
	m := &p.sc.p.MIB
	if m.TCPSpuriousRTOs.Load() != 1 || m.TCPLossUndo.Load() != 1 {
		t.Fatalf("TCPSpuriousRTOs %d TCPLossUndo %d, want 1 1", m.TCPSpuriousRTOs.Load(), m.TCPLossUndo.Load())
	}
	if _, cwnd, _, ca := p.state(); ca != caOpen || cwnd < 10 {
		t.Fatalf("after undo: state %d cwnd %d, want Open and cwnd restored", ca, cwnd)
	}
}

// TestRackToleratesReordering: a segment SACKed above a gap is not
// enough to retransmit while the reordering window (RFC 8985 §6.2:
// min_RTT/4) lasts; the late original then counts as reordering. A gap
// that outlasts the window is lost: the RACK timer retransmits it.
func TestRackToleratesReordering(t *testing.T) {
	p := newSentSender(t, 10)
	p.ack(p.seqOf(0), [2]int{1, 2})
	p.sc.run(5 * time.Millisecond)
	for _, seq := range p.sent() {
		if seq == p.seqOf(0) {
			t.Fatal("retransmitted within the reordering window")
		}
	}
	p.ack(p.seqOf(2))
	m := &p.sc.p.MIB
	if m.TCPSACKReorder.Load() != 1 || m.RetransSegs.Load() != 0 {
		t.Fatalf("TCPSACKReorder %d RetransSegs %d, want 1 0", m.TCPSACKReorder.Load(), m.RetransSegs.Load())
	}
	// Now a real loss: segment 2 never arrives.
	p.ack(p.seqOf(2), [2]int{3, 4})
	p.sent()
	p.sc.run(30 * time.Millisecond)
	if out := p.sent(); len(out) == 0 || out[0] != p.seqOf(2) {
		t.Fatalf("after the reordering window: sent %v, want %d", out, p.seqOf(2))
	}
}

// TestLostRetransmissionDetected: a retransmission can be lost too. Once
// segments sent after it are SACKed an RTT later, RACK (RFC 8985 §6.2)
// judges it lost again and resends it, instead of waiting for the RTO.
func TestLostRetransmissionDetected(t *testing.T) {
	p := newSender(t, "reno")
	must(t, sendAll(p.s, 40*p.mss))
	p.sent()
	p.sc.run(50 * time.Millisecond)
	hi := 0
	for k := 1; k <= 9; k++ {
		p.ack(p.seqOf(0), [2]int{1, 1 + k})
		for _, seq := range p.sent() {
			hi = max(hi, int(seq-p.seqOf(0))/p.mss)
		}
	}
	p.sc.run(60 * time.Millisecond)
	p.ack(p.seqOf(0), [2]int{1, 10}, [2]int{10, hi + 1})
	if out := p.sent(); len(out) == 0 || out[0] != p.seqOf(0) {
		t.Fatalf("sent %v, want the lost retransmission %d again", out, p.seqOf(0))
	}
	m := &p.sc.p.MIB
	if m.TCPLostRetransmit.Load() != 1 || m.TCPTimeouts.Load() != 0 {
		t.Fatalf("TCPLostRetransmit %d TCPTimeouts %d, want 1 0", m.TCPLostRetransmit.Load(), m.TCPTimeouts.Load())
	}
}

// TestReorderedDupAckPassesPAWS: a duplicate ACK overtaken by a newer one
// carries an older TSval; it must still reach SACK processing (Linux:
// tcp_disordered_ack), not be rejected by PAWS and answered.
func TestReorderedDupAckPassesPAWS(t *testing.T) {
	p := newSender(t, "reno")
	must(t, sendAll(p.s, 10*p.mss))
	p.sent()
	p.sc.run(50 * time.Millisecond)
	p.ack(p.seqOf(0), [2]int{1, 3})
	p.tsval -= 5 // the earlier duplicate ACK arrives late
	p.ack(p.seqOf(0), [2]int{1, 2})
	if n := p.sc.p.MIB.PAWSEstabRejected.Load(); n != 0 {
		t.Fatalf("PAWSEstab %d for a reordered duplicate ACK, want 0", n)
	}
}

// TestCwndGrowsAfterClose: an application that writes everything and
// closes leaves the data in the send buffer and the socket in FIN-WAIT-1.
// ACKs must still grow cwnd there (Linux's tcp_cong_control looks at no
// state): after an RTO cwnd restarts at one segment, and a window frozen
// there sends the rest of the buffer one segment per round trip, with an
// RTO for every segment lost on the way.
func TestCwndGrowsAfterClose(t *testing.T) {
	p := newSender(t, "reno")
	must(t, sendAll(p.s, 40*p.mss))
	if got := p.sent(); len(got) != 10 {
		t.Fatalf("initial window sent %d segments, want 10", len(got))
	}
	p.s.Close()
	if st := p.s.State(); st != StateFinWait1 {
		t.Fatalf("state %v after Close with data queued, want FIN-WAIT-1", st)
	}
	p.sc.run(50 * time.Millisecond)
	_, before, _, _ := p.state()
	for k := 1; k <= 4; k++ {
		p.ack(p.seqOf(k))
	}
	if _, cwnd, _, _ := p.state(); cwnd != before+4 {
		t.Fatalf("cwnd %d after four ACKs in slow start in FIN-WAIT-1, want %d", cwnd, before+4)
	}
}

// TestPRRCountsSackedSegmentOnce: a cumulative ACK that covers segments
// SACKed earlier delivers only the segments it acknowledges for the first
// time. RFC 6937's DeliveredData is the change in SND.UNA plus the change
// in SACKed data, so a SACKed segment counts once, when its SACK arrives
// (Linux: tp->delivered, counted in tcp_sacktag_one or else in
// tcp_clean_rtx_queue). Counting it again at the cumulative ACK let PRR
// send more than its share during recovery.
func TestPRRCountsSackedSegmentOnce(t *testing.T) {
	p := newBulkSender(t)
	p.sc.run(50 * time.Millisecond)
	// Segment 0 is lost; SACKs of 1, 1-2 send two new segments (limited
	// transmit), the SACK of 1-3 starts recovery (ssthresh 5 from cwnd 10)
	// and retransmits 0.
	p.ack(p.seqOf(0), [2]int{1, 2})
	p.ack(p.seqOf(0), [2]int{1, 3})
	p.ack(p.seqOf(0), [2]int{1, 4})
	if out := p.sent(); len(out) != 3 || out[2] != p.seqOf(0) {
		t.Fatalf("sent %v, want two new segments and the retransmission of %d", out, p.seqOf(0))
	}
	// The retransmission arrives: the ACK covers 0-3 but delivers only
	// segment 0. Two segments delivered in recovery at ssthresh/RecoverFS
	// = 5/10 allow ceil(2 · 5/10) = 1 transmission, already spent on the
	// retransmission; counting 1-3 again would allow 3 and send 2 more.
	p.ack(p.seqOf(4))
	if out := p.sent(); len(out) != 0 {
		t.Fatalf("the ACK of the retransmission sent %d segments, want none (pipe is above ssthresh)", len(out))
	}
	if _, _, _, ca := p.state(); ca != caRecovery {
		t.Fatalf("state %d, want still in recovery (the two limited-transmit segments are outstanding)", ca)
	}
}

// TestSlowStartCountsSackedSegmentOnce: in slow start cwnd grows by the
// segments delivered, and a segment SACKed before the cumulative ACK that
// covers it is delivered once (Linux: acked_sacked in tcp_cong_control;
// with tp->reordering at its default, the SACK-only ACKs themselves raise
// nothing, tcp_may_raise_cwnd). Ten segments with two of them SACKed
// first grow cwnd from 10 to 18, not 20.
func TestSlowStartCountsSackedSegmentOnce(t *testing.T) {
	p := newBulkSender(t)
	p.sc.run(10 * time.Millisecond)
	p.ack(p.seqOf(0), [2]int{1, 2}) // segment 0 reordered, not lost
	p.ack(p.seqOf(0), [2]int{1, 3})
	p.ack(p.seqOf(10))
	if _, cwnd, _, ca := p.state(); cwnd != 18 || ca > caDisorder {
		t.Fatalf("cwnd %d (state %d) after 10 segments delivered, 2 of them SACKed first; want 18", cwnd, ca)
	}
}

// TestOpenAfterRecoveryProbesTail: once a recovery episode is over and
// nothing SACKed, lost or retransmitted is outstanding, the sender is back
// in Open (Linux: tcp_try_keep_open with tcp_left_out and
// tcp_any_retrans_done), where a tail loss gets a loss probe (RFC 8985
// §7) rather than waiting for the RTO. It used to stay in Disorder while
// the episode's reduction could still be undone — for good, unless a
// D-SACK undid it — so no probe was ever scheduled after the first
// recovery.
func TestOpenAfterRecoveryProbesTail(t *testing.T) {
	p := newSentSender(t, 10)
	for k := 2; k <= 10; k++ { // segment 0 lost, 1-9 SACKed
		p.ack(p.seqOf(0), [2]int{1, k})
	}
	if out := p.sent(); len(out) != 1 || out[0] != p.seqOf(0) {
		t.Fatalf("recovery sent %v, want the retransmission of %d", out, p.seqOf(0))
	}
	p.sc.run(50 * time.Millisecond)
	p.ack(p.seqOf(10))
	if _, _, _, ca := p.state(); ca != caOpen {
		t.Fatalf("state %d once everything is acknowledged, want Open", ca)
	}
	// Three more segments; the last is lost.
	must(t, sendAll(p.s, 3*p.mss))
	if out := p.sent(); len(out) != 3 {
		t.Fatalf("sent %d segments, want 3", len(out))
	}
	p.sc.run(50 * time.Millisecond)
	p.ack(p.seqOf(12))
	for i := 0; i < 100 && len(p.sc.ip.sent) == 0; i++ {
		p.sc.run(10 * time.Millisecond)
	}
	if out := p.sent(); len(out) != 1 || out[0] != p.seqOf(12) {
		t.Fatalf("sent %v, want segment %d again", out, p.seqOf(12))
	}
	p.ack(p.seqOf(13))
	m := &p.sc.p.MIB
	if m.TCPLossProbes.Load() != 1 || m.TCPTimeouts.Load() != 0 {
		t.Fatalf("TCPLossProbes %d TCPTimeouts %d; want the tail repaired by a probe, not the RTO",
			m.TCPLossProbes.Load(), m.TCPTimeouts.Load())
	}
}

// TestRecoveryExitSetsCwndToSsthresh: when recovery ends (SND.UNA reaches
// the recovery point) and the reduction was not undone, cwnd becomes
// ssthresh (RFC 6937 §3.1 "on exiting recovery"; Linux:
// tcp_end_cwnd_reduction, which tests undo_marker because
// tcp_try_undo_recovery has already set Open). After an episode that lost
// several segments PRR-SSRB leaves cwnd below ssthresh; it used to stay
// there (or above it after other episodes), because the exit tested for
// the Recovery state that had just been left.
func TestRecoveryExitSetsCwndToSsthresh(t *testing.T) {
	p := newSentSender(t, 10)
	// Segments 0-3 lost; SACKs of 4-9 start recovery (ssthresh 7 from
	// cwnd 10), judge all four lost and retransmit them.
	for k := 5; k <= 10; k++ {
		p.ack(p.seqOf(0), [2]int{4, k})
	}
	_, _, ssthresh, ca := p.state()
	if ca != caRecovery || ssthresh != 7 {
		t.Fatalf("state %d ssthresh %d, want recovery with ssthresh 7", ca, ssthresh)
	}
	if out := p.sent(); len(out) != 4 {
		t.Fatalf("retransmitted %d segments, want the 4 lost", len(out))
	}
	// The retransmissions arrive one by one; the last ACK ends recovery.
	p.sc.run(50 * time.Millisecond)
	for k := 1; k <= 3; k++ {
		p.ack(p.seqOf(k), [2]int{4, 10})
	}
	_, cwnd, _, _ := p.state()
	p.ack(p.seqOf(10))
	if _, after, ssthresh, ca := p.state(); ca != caOpen || after < ssthresh {
		t.Fatalf("after recovery: state %d cwnd %d (was %d in recovery), want Open with cwnd from ssthresh %d", ca, after, cwnd, ssthresh)
	}
}
