package tcp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gomenuos/net/header"
)

var fullOpts = &header.TCPOptions{HasMSS: true, MSS: 1460, HasWS: true, WS: 7, SACKPermitted: true, HasTS: true, TSVal: 100}

// --- LISTEN / SYN-RECEIVED (passive open) ---

func TestPassiveOpenRequestSock(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(8)
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn, opts: fullOpts})
	synack := sc.expect(flags(flagSyn|flagAck), ackIs(peerISS+1),
		optsAre(header.TCPOptions{HasMSS: true, MSS: 1460, HasWS: true, WS: 7, SACKPermitted: true, HasTS: true, TSEcr: 100}))
	// Only a request sock exists until the final ACK: nothing to accept.
	if _, err := l.Accept(); err != ErrWouldBlock {
		t.Fatalf("Accept before final ACK = %v", err)
	}
	var proc strings.Builder
	sc.p.WriteProcNetTCP(&proc)
	if !strings.Contains(proc.String(), "0100000A:0050 0200000A:1388 03") {
		t.Fatalf("/proc/net/tcp lacks the SYN_RECV request row:\n%s", proc.String())
	}
	sc.inject(seg{dport: 80, seq: peerISS + 1, ack: synack.Seq() + 1, flags: flagAck, data: "GET",
		opts: &header.TCPOptions{HasTS: true, TSVal: 101, TSEcr: synack.Seq()}})
	c, err := l.Accept()
	if err != nil || c.State() != StateEstablished {
		t.Fatalf("Accept = %v, %v", c, err)
	}
	buf := make([]byte, 8)
	if n, _ := c.Recv(buf, false); string(buf[:n]) != "GET" {
		t.Fatalf("child got %q", buf[:n])
	}
	if got := sc.p.MIB.PassiveOpens.Load(); got != 1 {
		t.Fatalf("PassiveOpens = %d", got)
	}
}

func TestListenerAnswersAckWithRst(t *testing.T) {
	sc := newScript(t)
	sc.listener(8)
	sc.inject(seg{dport: 80, seq: 5, ack: 777, flags: flagAck})
	sc.expect(flags(flagRst), seqIs(777))
	sc.inject(seg{dport: 80, seq: 5, flags: flagRst})
	sc.expectNone()
}

func TestClosedPortAnswersRst(t *testing.T) {
	sc := newScript(t)
	sc.inject(seg{dport: 81, seq: 5, flags: flagSyn})
	sc.expect(flags(flagRst|flagAck), seqIs(0), ackIs(6))
}

func TestBacklogOverflowDropsFinalAck(t *testing.T) {
	sc := newScript(t, func(c *Config) { c.SynCookies = false })
	l := sc.listener(0) // Linux: backlog 0 still admits one connection
	handshake := func(port uint16) (header.TCP, bool) {
		sc.inject(seg{sport: port, dport: 80, seq: peerISS, flags: flagSyn})
		if len(sc.ip.sent) == 0 {
			return nil, false
		}
		sa := sc.expect(flags(flagSyn | flagAck))
		sc.inject(seg{sport: port, dport: 80, seq: peerISS + 1, ack: sa.Seq() + 1, flags: flagAck})
		return sa, true
	}
	if _, ok := handshake(6000); !ok {
		t.Fatal("first SYN not answered")
	}
	// The accept queue holds one (> backlog 0 is "full"): the next SYN is dropped.
	if _, ok := handshake(6001); ok {
		t.Fatal("SYN answered with a full accept queue")
	}
	if sc.p.MIB.ListenOverflows.Load() != 1 {
		t.Fatalf("ListenOverflows = %d", sc.p.MIB.ListenOverflows.Load())
	}
	if _, err := l.Accept(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); err != ErrWouldBlock {
		t.Fatalf("second Accept = %v", err)
	}
}

func TestSynCookiesWhenSynQueueOverflows(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(1)
	sc.inject(seg{sport: 6000, dport: 80, seq: peerISS, flags: flagSyn, opts: fullOpts})
	sc.expect(flags(flagSyn | flagAck))
	// The SYN queue (1) is full: the next SYN gets a cookie. Without
	// timestamps it can offer no options but MSS, since it cannot
	// remember them.
	sc.inject(seg{sport: 6001, dport: 80, seq: 7777, flags: flagSyn,
		opts: &header.TCPOptions{HasMSS: true, MSS: 1460, HasWS: true, WS: 7, SACKPermitted: true}})
	sa := sc.expect(flags(flagSyn|flagAck), ackIs(7778), optsAre(header.TCPOptions{HasMSS: true, MSS: 1460}))
	if sc.p.MIB.SyncookiesSent.Load() != 1 || len(l.listen.synQueue) != 1 {
		t.Fatalf("SyncookiesSent %d, SYN queue %d", sc.p.MIB.SyncookiesSent.Load(), len(l.listen.synQueue))
	}
	// A forged ACK fails the cookie check and is reset.
	sc.inject(seg{sport: 6001, dport: 80, seq: 7778, ack: sa.Seq() + 99, flags: flagAck})
	sc.expect(flags(flagRst))
	sc.inject(seg{sport: 6001, dport: 80, seq: 7778, ack: sa.Seq() + 1, flags: flagAck, data: "hi"})
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after cookie ACK: %v", err)
	}
	if c.State() != StateEstablished || sc.p.MIB.SyncookiesRecv.Load() != 1 {
		t.Fatalf("child %v, SyncookiesRecv %d", c.State(), sc.p.MIB.SyncookiesRecv.Load())
	}
	if mss, _ := c.GetOption(OptMaxSeg); mss != 1460 {
		t.Fatalf("cookie MSS = %d, want 1460", mss)
	}
}

func TestSynCookieKeepsOptionsInTimestamp(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(1)
	sc.inject(seg{sport: 6000, dport: 80, seq: peerISS, flags: flagSyn})
	sc.expect(flags(flagSyn | flagAck))
	sc.inject(seg{sport: 6001, dport: 80, seq: 7777, flags: flagSyn, opts: fullOpts})
	sa := sc.expect(flags(flagSyn|flagAck), optsAre(header.TCPOptions{HasMSS: true, MSS: 1460,
		HasWS: true, WS: 7, SACKPermitted: true, HasTS: true, TSEcr: 100}))
	var o header.TCPOptions
	must(t, header.ParseTCPOptions(sa.Options(), &o))
	if o.TSVal&0x3f != 7|0x10 {
		t.Fatalf("cookie TSval low bits %#x, want WS 7 | SACK", o.TSVal&0x3f)
	}
	sc.inject(seg{sport: 6001, dport: 80, seq: 7778, ack: sa.Seq() + 1, flags: flagAck,
		opts: &header.TCPOptions{HasTS: true, TSVal: 101, TSEcr: o.TSVal}})
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.proto.lock()
	ws, sack, ts := c.sndWS, c.sackOK, c.tsOK
	c.proto.unlock()
	if ws != 7 || !sack || !ts {
		t.Fatalf("child from cookie: sndWS %d sack %v ts %v; want 7 true true", ws, sack, ts)
	}
}

func TestSynAckRetransmitAndGiveUp(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(8)
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn})
	first := sc.expect(flags(flagSyn | flagAck))
	for i, d := range []time.Duration{1, 2, 4, 8, 16} {
		sc.run(d * time.Second)
		sc.expect(flags(flagSyn|flagAck), seqIs(first.Seq()))
		_ = i
	}
	sc.run(32 * time.Second)
	sc.expectNone()
	if len(l.listen.synQueue) != 0 {
		t.Fatal("request sock survived tcp_synack_retries")
	}
}

// --- SYN-SENT (active open) ---

func TestActiveOpenOptions(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	sc.expect(flags(flagSyn), optsAre(header.TCPOptions{HasMSS: true, MSS: 1460, HasWS: true, WS: 7, SACKPermitted: true, HasTS: true}))
	if sc.p.MIB.ActiveOpens.Load() != 1 {
		t.Fatal("ActiveOpens not counted")
	}
}

func TestOldDuplicateSynAck(t *testing.T) {
	// RFC 9293 §3.5 figure 9: a SYN-ACK for an old ISS draws a RST and the
	// connection goes on with the right one.
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	iss := sc.expect(flags(flagSyn)).Seq()
	port := s.LocalAddr().Port()
	sc.inject(seg{dport: port, seq: 90000, ack: iss - 500, flags: flagSyn | flagAck})
	sc.expect(flags(flagRst), seqIs(iss-500))
	if s.State() != StateSynSent {
		t.Fatalf("state %v", s.State())
	}
	sc.inject(seg{dport: port, seq: peerISS, ack: iss + 1, flags: flagSyn | flagAck})
	sc.expect(flags(flagAck), ackIs(peerISS+1))
	if s.State() != StateEstablished {
		t.Fatalf("state %v", s.State())
	}
}

func TestSimultaneousOpen(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	iss := sc.expect(flags(flagSyn)).Seq()
	port := s.LocalAddr().Port()
	sc.inject(seg{dport: port, seq: peerISS, flags: flagSyn})
	sc.expect(flags(flagSyn|flagAck), seqIs(iss), ackIs(peerISS+1))
	if s.State() != StateSynRecv {
		t.Fatalf("state %v, want SYN_RECV", s.State())
	}
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck})
	if s.State() != StateEstablished {
		t.Fatalf("state %v, want ESTABLISHED", s.State())
	}
}

func TestSynSentRst(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	iss := sc.expect(flags(flagSyn)).Seq()
	port := s.LocalAddr().Port()
	// RFC 5961 §3.2 / RFC 9293: a RST without an acceptable ACK is ignored.
	sc.inject(seg{dport: port, seq: 0, flags: flagRst})
	if s.State() != StateSynSent {
		t.Fatalf("state %v after blind RST", s.State())
	}
	sc.inject(seg{dport: port, seq: 0, ack: iss + 1, flags: flagRst | flagAck})
	if done, err := s.ConnectResult(); !done || err != ErrConnRefused {
		t.Fatalf("ConnectResult = %v, %v", done, err)
	}
}

func TestSynRetriesTimeOut(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	sc.expect(flags(flagSyn))
	sc.run(200 * time.Second)
	if done, err := s.ConnectResult(); !done || err != ErrTimedOut {
		t.Fatalf("ConnectResult = %v, %v; want ETIMEDOUT", done, err)
	}
	if n := len(sc.ip.sent); n != 6 {
		t.Fatalf("%d SYN retransmissions, want tcp_syn_retries = 6", n)
	}
}

// --- ESTABLISHED ---

func TestRstInWindowDrawsChallengeAck(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	// RFC 5961 §3.2: in the window but not at RCV.NXT: challenge ACK.
	sc.inject(seg{dport: port, seq: peerISS + 100, flags: flagRst})
	sc.expect(flags(flagAck), seqIs(iss+1), ackIs(peerISS+1))
	if s.State() != StateEstablished {
		t.Fatalf("state %v", s.State())
	}
	// Out of the window: silently dropped.
	sc.inject(seg{dport: port, seq: peerISS + 10_000_000, flags: flagRst})
	sc.expectNone()
	// Exactly RCV.NXT: reset.
	sc.inject(seg{dport: port, seq: peerISS + 1, flags: flagRst})
	if s.State() != StateClose {
		t.Fatalf("state %v after exact RST", s.State())
	}
	if _, err := s.Recv(make([]byte, 1), false); err != ErrConnReset {
		t.Fatalf("Recv after RST = %v, want ECONNRESET", err)
	}
}

func TestSynInEstablishedDrawsChallengeAck(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, flags: flagSyn})
	sc.expect(flags(flagAck), seqIs(iss+1), ackIs(peerISS+1))
	if s.State() != StateEstablished || sc.p.MIB.TCPChallengeACK.Load() != 1 {
		t.Fatalf("state %v, challenge ACKs %d", s.State(), sc.p.MIB.TCPChallengeACK.Load())
	}
}

func TestAckOfUnsentDataIsAckedAndDropped(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 5000, flags: flagAck, data: "x"})
	sc.expect(flags(flagAck), ackIs(peerISS+1))
	if n, _ := s.Recv(make([]byte, 4), false); n != 0 {
		t.Fatal("data of a segment with a bad ACK was queued")
	}
}

func TestHalfOpenDetection(t *testing.T) {
	// The peer rebooted: our data draws a RST at SEQ = our ACK (RFC 9293
	// §3.5.1 figure 11), which resets us.
	sc := newScript(t)
	s, iss := sc.established(nil)
	_, _ = s.Send([]byte("anyone?"))
	d := sc.expect(payload("anyone?"))
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: d.Ack(), flags: flagRst})
	if s.State() != StateClose {
		t.Fatalf("state %v", s.State())
	}
	if _, err := s.Send([]byte("x")); err != ErrConnReset {
		t.Fatalf("Send = %v, want ECONNRESET", err)
	}
	_ = iss
}

func TestOutOfOrderAndSackBlocks(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(&header.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true})
	port := s.LocalAddr().Port()
	sc.inject(seg{dport: port, seq: peerISS + 8, ack: iss + 1, flags: flagAck, data: "world"})
	sc.expect(flags(flagAck), ackIs(peerISS+1), optsAre(header.TCPOptions{NumSACK: 1,
		SACK: [4]header.SACKBlock{{Start: peerISS + 8, End: peerISS + 13}}}))
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck, data: "hello, wo"})
	sc.expect(flags(flagAck), ackIs(peerISS+13), optsAre(header.TCPOptions{}))
	buf := make([]byte, 32)
	if n, _ := s.Recv(buf, false); string(buf[:n]) != "hello, world" {
		t.Fatalf("got %q", buf[:n])
	}
}

func TestDelayedAck(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	// Quickack mode: a new connection's first 16 segments are ACKed at once.
	for i := range uint32(16) {
		sc.inject(seg{dport: port, seq: peerISS + 1 + i, ack: iss + 1, flags: flagAck, data: "q"})
		sc.expect(flags(flagAck), ackIs(peerISS+2+i))
	}
	if n, _ := s.Recv(make([]byte, 32), false); n != 16 {
		t.Fatalf("read %d", n)
	}
	sc.ip.sent = nil // window updates
	const base = peerISS + 16
	sc.inject(seg{dport: port, seq: base + 1, ack: iss + 1, flags: flagAck, data: "a"})
	sc.expectNone()
	sc.run(39 * time.Millisecond)
	sc.expectNone()
	sc.run(time.Millisecond)
	sc.expect(flags(flagAck), ackIs(base+2))
	// Two segments: ACK at once (RFC 5681 §4.2, every second segment).
	sc.inject(seg{dport: port, seq: base + 2, ack: iss + 1, flags: flagAck, data: "b"})
	sc.inject(seg{dport: port, seq: base + 3, ack: iss + 1, flags: flagAck, data: "c"})
	sc.expect(flags(flagAck), ackIs(base+4))
}

func TestNagle(t *testing.T) {
	for _, nodelay := range []bool{false, true} {
		sc := newScript(t)
		s, iss := sc.established(nil)
		if nodelay {
			must(t, s.SetOption(OptNoDelay, 1))
		}
		_, _ = s.Send([]byte("a"))
		sc.expect(payload("a"), seqIs(iss+1))
		_, _ = s.Send([]byte("b"))
		_, _ = s.Send([]byte("c"))
		if nodelay {
			sc.expect(payload("b"))
			sc.expect(payload("c"))
			continue
		}
		sc.expectNone() // RFC 896: small segments wait for the ACK
		sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 2, flags: flagAck})
		sc.expect(payload("bc"), seqIs(iss+2))
	}
}

// Minshall's refinement (Linux: tcp_minshall_check): only an outstanding
// small segment holds back the next; a write's small tail goes out behind
// full-sized segments still in flight.
func TestNagleMinshall(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(&header.TCPOptions{HasMSS: true, MSS: 100})
	_, _ = s.Send([]byte(strings.Repeat("f", 130)))
	sc.expect(seqIs(iss+1), func(h header.TCP) string { return lenIs(h, 100) })
	sc.expect(seqIs(iss+101), func(h header.TCP) string { return lenIs(h, 30) }) // the tail, behind an unacked full segment
	_, _ = s.Send([]byte("x"))
	sc.expectNone() // a small segment (the tail) is unacknowledged
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 131, flags: flagAck})
	sc.expect(payload("x"), seqIs(iss+131))
}

func lenIs(h header.TCP, n int) string {
	if len(h.Payload()) != n {
		return fmt.Sprintf("%d octets, want %d", len(h.Payload()), n)
	}
	return ""
}

func TestZeroWindowProbe(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck, zeroWnd: true})
	_, _ = s.Send([]byte("data"))
	sc.expectNone()
	sc.run(time.Second)
	// Linux's probe: SND.UNA-1 with no data, so the peer must answer.
	sc.expect(flags(flagAck), seqIs(iss), payload(""))
	sc.run(2 * time.Second)
	sc.expect(flags(flagAck), seqIs(iss)) // backed off: 2 s
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck, wnd: 100})
	sc.expect(payload("data"), seqIs(iss+1))
}

func TestKeepalive(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	must(t, s.SetOption(OptKeepIdle, 10))
	must(t, s.SetOption(OptKeepIntvl, 1))
	must(t, s.SetOption(OptKeepCnt, 3))
	must(t, s.SetOption(OptKeepAlive, 1))
	sc.run(10 * time.Second)
	sc.expect(flags(flagAck), seqIs(iss), payload(""))
	// An answer resets the count.
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 1, flags: flagAck})
	sc.run(10 * time.Second)
	sc.expect(seqIs(iss))
	sc.run(time.Second)
	sc.expect(seqIs(iss))
	sc.run(time.Second)
	sc.expect(seqIs(iss))
	sc.run(time.Second)
	sc.expect(flags(flagRst | flagAck))
	if _, err := s.Recv(make([]byte, 1), false); err != ErrTimedOut {
		t.Fatalf("Recv = %v, want ETIMEDOUT", err)
	}
}

func TestPAWSDropsOldTimestamp(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(fullOpts)
	port := s.LocalAddr().Port()
	ts := func(v uint32) *header.TCPOptions { return &header.TCPOptions{HasTS: true, TSVal: v} }
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck | flagPsh, data: "new", opts: ts(200), wnd: 512})
	sc.run(time.Second)
	sc.expect(ackIs(peerISS + 4))
	sc.inject(seg{dport: port, seq: peerISS + 4, ack: iss + 1, flags: flagAck, data: "old", opts: ts(150), wnd: 512})
	sc.expect(flags(flagAck), ackIs(peerISS+4))
	if sc.p.MIB.PAWSEstabRejected.Load() != 1 {
		t.Fatal("PAWS rejection not counted")
	}
}

// --- closing states ---

func TestSimultaneousClose(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	must(t, s.Shutdown(ShutWr))
	sc.expect(flags(flagFin|flagAck), seqIs(iss+1))
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagFin | flagAck})
	sc.expect(flags(flagAck), ackIs(peerISS+2))
	if s.State() != StateClosing {
		t.Fatalf("state %v, want CLOSING", s.State())
	}
	sc.inject(seg{dport: port, seq: peerISS + 2, ack: iss + 2, flags: flagAck})
	if s.State() != StateTimeWait {
		t.Fatalf("state %v, want TIME_WAIT", s.State())
	}
}

func TestPassiveCloseAndLastAck(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagFin | flagAck})
	sc.expect(flags(flagAck), ackIs(peerISS+2))
	if s.State() != StateCloseWait {
		t.Fatalf("state %v", s.State())
	}
	s.Close()
	sc.expect(flags(flagFin|flagAck), seqIs(iss+1))
	sc.inject(seg{dport: port, seq: peerISS + 2, ack: iss + 2, flags: flagAck})
	if s.State() != StateClose {
		t.Fatalf("state %v after LAST_ACK", s.State())
	}
}

func TestTimeWaitRules(t *testing.T) {
	sc := newScript(t, func(c *Config) { c.TimeWait = 30 * time.Second })
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	s.Close()
	sc.expect(flags(flagFin | flagAck))
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 2, flags: flagFin | flagAck})
	sc.expect(flags(flagAck), ackIs(peerISS+2))
	if s.State() != StateTimeWait {
		t.Fatalf("state %v", s.State())
	}
	// The port is held: EADDRINUSE without SO_REUSEADDR, fine with it.
	b := sc.p.NewSock()
	if err := b.Bind(netip.AddrPortFrom(addrA, port)); err != ErrAddrInUse {
		t.Fatalf("Bind over TIME_WAIT = %v, want EADDRINUSE", err)
	}
	must(t, b.SetOption(OptReuseAddr, 1))
	must(t, b.Bind(netip.AddrPortFrom(addrA, port)))
	// A retransmitted FIN is re-ACKed and restarts the timer.
	sc.run(20 * time.Second)
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 2, flags: flagFin | flagAck})
	sc.expect(flags(flagAck), ackIs(peerISS+2))
	sc.run(20 * time.Second)
	if s.State() != StateTimeWait {
		t.Fatal("TIME_WAIT not restarted by the FIN")
	}
	sc.run(10 * time.Second)
	if s.State() != StateClose {
		t.Fatalf("state %v after 2MSL", s.State())
	}
}

func TestTimeWaitNewSynReopens(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(8)
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn})
	sa := sc.expect(flags(flagSyn | flagAck))
	sc.inject(seg{dport: 80, seq: peerISS + 1, ack: sa.Seq() + 1, flags: flagAck})
	c, _ := l.Accept()
	c.Close()
	sc.expect(flags(flagFin | flagAck))
	sc.inject(seg{dport: 80, seq: peerISS + 1, ack: sa.Seq() + 2, flags: flagFin | flagAck})
	sc.expect(flags(flagAck))
	if c.State() != StateTimeWait {
		t.Fatalf("state %v", c.State())
	}
	// An old SYN (below RCV.NXT) is just re-ACKed; a new one reopens.
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn})
	sc.expect(flags(flagAck), ackIs(peerISS+2))
	sc.inject(seg{dport: 80, seq: peerISS + 100000, flags: flagSyn})
	sc.expect(flags(flagSyn|flagAck), ackIs(peerISS+100001))
	if sc.p.MIB.TWRecycled.Load() != 1 {
		t.Fatal("TIME_WAIT not recycled by the new SYN")
	}
}

func TestCloseWithUnreadDataResets(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 1, flags: flagAck, data: "unread"})
	s.Close()
	// RFC 2525 §2.17: unread data means a RST, not a FIN.
	for len(sc.ip.sent) > 0 && sc.ip.sent[0].Flags()&flagRst == 0 {
		sc.ip.sent = sc.ip.sent[1:]
	}
	sc.expect(flags(flagRst | flagAck))
	if sc.p.MIB.TCPAbortOnClose.Load() != 1 {
		t.Fatal("TCPAbortOnClose not counted")
	}
}

func TestProcNetTCPFormat(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(8)
	l.SetInode(4242, 0)
	var b bytes.Buffer
	sc.p.WriteProcNetTCP(&b)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if len(l) != 149 {
			t.Fatalf("line length %d, want 149: %q", len(l), l)
		}
	}
	want := "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 4 0 10 -1"
	if got := strings.TrimRight(lines[1], " "); got != want {
		t.Fatalf("listener row\n got %q\nwant %q", got, want)
	}
}

// TestRstInEachState sends a RST at exactly RCV.NXT to a socket in each
// synchronized state (and SYN-SENT, with an acceptable ACK) and checks the
// socket is gone with the error Linux's tcp_reset reports.
func TestRstInEachState(t *testing.T) {
	cases := []struct {
		st   State
		want error // what the next Recv reports; nil = EOF
	}{
		{StateSynSent, nil},
		{StateSynRecv, ErrConnRefused},
		{StateEstablished, ErrConnReset},
		{StateFinWait1, ErrConnReset},
		{StateFinWait2, ErrConnReset},
		{StateCloseWait, ErrPipe},
		{StateClosing, nil},
		{StateLastAck, nil},
		{StateTimeWait, nil},
	}
	for _, tc := range cases {
		t.Run(tc.st.String(), func(t *testing.T) {
			sc := newScript(t)
			s, iss := sc.intoState(tc.st)
			s.proto.lock()
			rcvNxt := uint32(s.rcvNxt)
			s.proto.unlock()
			g := seg{dport: s.LocalAddr().Port(), seq: rcvNxt, flags: flagRst}
			if tc.st == StateSynSent {
				g = seg{dport: s.LocalAddr().Port(), ack: iss + 1, flags: flagRst | flagAck}
			}
			sc.inject(g)
			if got := s.State(); got != StateClose {
				t.Fatalf("state %v after RST, want CLOSE", got)
			}
			if tc.st == StateSynSent {
				if _, err := s.ConnectResult(); err != ErrConnRefused {
					t.Fatalf("ConnectResult err %v, want ECONNREFUSED", err)
				}
				return
			}
			if _, err := s.Recv(make([]byte, 1), false); err != tc.want {
				t.Fatalf("Recv err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestShrunkWindowProbedNotTimedOut: the peer takes back its window while
// our data is in flight. The RTO resends the head as a probe and, as long
// as the peer answers, the connection outlives tcp_retries2 expiries.
func TestShrunkWindowProbedNotTimedOut(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	must(t, s.SetOption(OptNoDelay, 1))
	_, _ = s.Send([]byte("head"))
	sc.expect(payload("head"))
	for i := range 20 {
		sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 1, flags: flagAck, zeroWnd: true})
		s.proto.lock()
		rto := s.currentRtoLocked()
		s.proto.unlock()
		sc.run(rto)
		sc.expect(seqIs(iss+1), payload("head"))
		if s.State() != StateEstablished {
			t.Fatalf("expiry %d: state %v", i, s.State())
		}
	}
	sc.inject(seg{dport: port, seq: peerISS + 1, ack: iss + 5, flags: flagAck})
	if n := s.SendQueued(); n != 0 {
		t.Fatalf("%d bytes still queued after the window reopened", n)
	}
}

// TestTimeWaitSynWithTimestamps: in TIME_WAIT with timestamps, a SYN
// reopens if its sequence is beyond the old one even with an equal TSval
// (a quick reconnect within the same millisecond), and fails PAWS if its
// TSval is older.
func TestTimeWaitSynWithTimestamps(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(8)
	ts := func(v uint32) *header.TCPOptions { return &header.TCPOptions{HasTS: true, TSVal: v} }
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn, opts: fullOpts})
	sa := sc.expect(flags(flagSyn | flagAck))
	sc.inject(seg{dport: 80, seq: peerISS + 1, ack: sa.Seq() + 1, flags: flagAck, opts: ts(100)})
	c, _ := l.Accept()
	c.Close()
	sc.expect(flags(flagFin | flagAck))
	sc.inject(seg{dport: 80, seq: peerISS + 1, ack: sa.Seq() + 2, flags: flagFin | flagAck, opts: ts(100)})
	sc.expect(flags(flagAck))
	sc.inject(seg{dport: 80, seq: peerISS + 5000, flags: flagSyn, opts: ts(99)})
	sc.expect(flags(flagAck), ackIs(peerISS+2)) // PAWS: older TSval
	sc.inject(seg{dport: 80, seq: peerISS + 5000, flags: flagSyn, opts: ts(100)})
	sc.expect(flags(flagSyn|flagAck), ackIs(peerISS+5001))
}

func TestOrphanFinWait2TimesOut(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	s.Close()
	sc.expect(flags(flagFin|flagAck), seqIs(iss+1))
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 2, flags: flagAck})
	if s.State() != StateFinWait2 {
		t.Fatalf("state %v", s.State())
	}
	sc.run(59 * time.Second)
	if s.State() != StateFinWait2 {
		t.Fatal("FIN_WAIT2 ended before tcp_fin_timeout")
	}
	sc.run(time.Second)
	sc.p.lock()
	left := len(sc.p.socks)
	sc.p.unlock()
	if s.State() != StateClose || left != 0 {
		t.Fatalf("state %v, %d sockets left after tcp_fin_timeout", s.State(), left)
	}
}

func TestRstDropsRequestSock(t *testing.T) {
	sc := newScript(t)
	l := sc.listener(8)
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn})
	sc.expect(flags(flagSyn | flagAck))
	sc.inject(seg{dport: 80, seq: peerISS + 1, flags: flagRst})
	if n := len(l.listen.synQueue); n != 0 {
		t.Fatalf("%d request socks after RST", n)
	}
	sc.run(10 * time.Second)
	sc.expectNone() // no SYN-ACK retransmissions for the dropped request
}

// Every retransmission timeout is counted (Linux: TCPTimeouts in
// tcp_retransmit_timer), not only the one that gives up.
func TestSynRetransmitCountsTimeouts(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	iss := sc.expect(flags(flagSyn)).Seq()
	for i := 1; i <= 2; i++ {
		sc.run(time.Duration(1<<(i-1)) * time.Second)
		sc.expect(flags(flagSyn), seqIs(iss))
		if got := sc.p.MIB.TCPTimeouts.Load(); got != uint64(i) {
			t.Fatalf("after %d timeouts TCPTimeouts = %d", i, got)
		}
	}
}
