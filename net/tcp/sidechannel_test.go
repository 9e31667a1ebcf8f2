package tcp

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// TestChallengeAckPerSocketLimit: a burst of in-window RSTs draws one
// challenge ACK per tcp_invalid_ratelimit (500 ms) from a socket, not one
// each (Linux: tcp_send_challenge_ack → __tcp_oow_rate_limited).
func TestChallengeAckPerSocketLimit(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	for i := range 10 {
		sc.inject(seg{dport: port, seq: peerISS + 100 + uint32(i), flags: flagRst})
	}
	sc.expect(flags(flagAck), seqIs(iss+1), ackIs(peerISS+1))
	sc.expectNone()
	sc.run(tcpInvalidRatelimit)
	sc.inject(seg{dport: port, seq: peerISS + 100, flags: flagRst})
	sc.expect(flags(flagAck), seqIs(iss+1))
	m := &sc.p.MIB
	if m.TCPChallengeACK.Load() != 2 || m.TCPACKSkippedChallenge.Load() != 9 {
		t.Fatalf("TCPChallengeACK %d TCPACKSkippedChallenge %d, want 2 9", m.TCPChallengeACK.Load(), m.TCPACKSkippedChallenge.Load())
	}
}

// TestChallengeAckGlobalBudgetRandom: many connections challenged in one
// second share a budget whose size is drawn at random in [500, 1500) each
// second, so an off-path attacker cannot exhaust a known count and watch
// whether a guessed connection used one (CVE-2016-5696).
func TestChallengeAckGlobalBudgetRandom(t *testing.T) {
	sc := newScript(t)
	const conns = 1600
	var socks []*Sock
	for i := range conns {
		s := sc.p.NewSock()
		_ = s.Connect(netip.AddrPortFrom(addrB, uint16(6000+i)))
		syn := sc.expect(flags(flagSyn))
		sc.inject(seg{sport: uint16(6000 + i), dport: s.LocalAddr().Port(), seq: peerISS, ack: syn.Seq() + 1, flags: flagSyn | flagAck})
		sc.expect(flags(flagAck))
		socks = append(socks, s)
	}
	sc.run(time.Second - time.Duration(sc.clock.Now().Nanosecond()))
	for i, s := range socks {
		sc.inject(seg{sport: uint16(6000 + i), dport: s.LocalAddr().Port(), seq: peerISS + 100, flags: flagRst})
	}
	n := len(sc.ip.sent)
	if n < challengeAckLimit/2 || n >= challengeAckLimit*3/2 {
		t.Fatalf("%d challenge ACKs in one second from %d connections, want within [%d, %d)",
			n, conns, challengeAckLimit/2, challengeAckLimit*3/2)
	}
}

// TestOutOfWindowAckRateLimited: out-of-window pure ACKs are answered at
// most once per 500 ms (Linux: tcp_oow_rate_limited, TCPACKSkippedSeq),
// out-of-window data always (it may be a retransmission we must re-ACK).
func TestOutOfWindowAckRateLimited(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	port := s.LocalAddr().Port()
	for range 5 {
		sc.inject(seg{dport: port, seq: peerISS + 1_000_000, ack: iss + 1, flags: flagAck})
	}
	sc.expect(flags(flagAck), ackIs(peerISS+1))
	sc.expectNone()
	if sc.p.MIB.TCPACKSkippedSeq.Load() != 4 {
		t.Fatalf("TCPACKSkippedSeq %d, want 4", sc.p.MIB.TCPACKSkippedSeq.Load())
	}
	sc.inject(seg{dport: port, seq: peerISS + 1_000_000, ack: iss + 1, flags: flagAck, data: "x"})
	sc.expect(flags(flagAck), ackIs(peerISS+1))
}

// TestListenDropsInvalidFlags: a listener answers a SYN+FIN, a SYN+RST
// and a segment without SYN, ACK or RST with nothing (Linux:
// tcp_rcv_state_process, SKB_DROP_REASON_TCP_FLAGS), so a scanner learns
// nothing from them; a plain SYN still gets its SYN-ACK.
func TestListenDropsInvalidFlags(t *testing.T) {
	sc := newScript(t)
	sc.listener(8)
	for _, f := range []uint8{flagSyn | flagFin, flagSyn | flagRst, flagFin, flagPsh, 0} {
		sc.inject(seg{dport: 80, seq: peerISS, flags: f})
		sc.expectNone()
	}
	if sc.p.MIB.DropBadFlags.Load() != 4 {
		t.Fatalf("TCPDropBadFlags %d, want 4 (the RST is ignored as RFC 9293 says)", sc.p.MIB.DropBadFlags.Load())
	}
	sc.inject(seg{dport: 80, seq: peerISS, flags: flagSyn})
	sc.expect(flags(flagSyn | flagAck))
}

// TestSynSentDropsRstWithoutAck: in SYN-SENT a RST without an ACK, and a
// RST+SYN without one, are dropped (RFC 9293 §3.10.7.3; RFC 5961 §3.2).
func TestSynSentDropsRstWithoutAck(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	sc.expect(flags(flagSyn))
	for _, f := range []uint8{flagRst, flagRst | flagSyn, flagRst | flagFin} {
		sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS, flags: f})
		sc.expectNone()
		if s.State() != StateSynSent {
			t.Fatalf("flags %s moved SYN-SENT to %v", flagString(f), s.State())
		}
	}
}

// TestEphemeralPortsRFC6056Alg4: successive connections to one peer walk
// the range from a keyed offset (RFC 6056 §3.3.4: the table slot advances
// by the ports tried plus 2, as Linux's table_perturb), so ports are
// predictable to no one without the key but do not collide.
func TestEphemeralPortsRFC6056Alg4(t *testing.T) {
	sc := newScript(t)
	var ports []uint16
	for range 3 {
		s := sc.p.NewSock()
		_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
		sc.expect(flags(flagSyn))
		ports = append(ports, s.LocalAddr().Port())
		s.Abort()
		sc.ip.sent = nil
	}
	if ports[1] != ports[0]+2 || ports[2] != ports[1]+2 {
		t.Fatalf("ports %v, want steps of 2 from the keyed offset", ports)
	}
	// Another key: another start.
	other := newScript(t, func(c *Config) { c.Seed = &[32]byte{9} })
	s := other.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	if s.LocalAddr().Port() == ports[0] {
		t.Fatalf("two keys chose the same port %d", ports[0])
	}
}

// TestSecretsSeparate: the ISN, timestamp, cookie and port keys are four
// independent keys, and no generator in the package is seeded from them:
// nothing outside the tests imports math/rand.
func TestSecretsSeparate(t *testing.T) {
	for _, seed := range []*[32]byte{nil, {1, 2, 3}} {
		k := newSecrets(seed)
		all := []secretKey{k.isn, k.ts, k.cookie, k.port}
		for i := range all {
			for j := range i {
				if all[i] == all[j] {
					t.Fatalf("keys %d and %d equal", i, j)
				}
			}
		}
	}
	files, _ := os.ReadDir(".")
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(f.Name())
		must(t, err)
		if strings.Contains(string(b), `"math/rand`) {
			t.Errorf("%s imports math/rand", f.Name())
		}
	}
}
