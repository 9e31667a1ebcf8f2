package tcp

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// tcpInvalidRatelimit is Linux's tcp_invalid_ratelimit: a socket answers
// at most one out-of-window segment per 500 ms.
const tcpInvalidRatelimit = 500 * time.Millisecond

// challengeAckLimit is Linux's tcp_challenge_ack_limit: about this many
// challenge ACKs per second for the whole instance.
const challengeAckLimit = 1000

// tcpOowRateLimitedLocked reports whether an ACK answering g must be
// skipped: an out-of-window pure ACK or SYN is answered at most once per
// tcpInvalidRatelimit per socket, so two stacks that disagree about the
// window cannot ping-pong ACKs, and an attacker cannot make us send them
// at his rate (RFC 5961 §7's concern, per connection; Linux:
// tcp_oow_rate_limited). Data segments are never limited.
func (s *Sock) tcpOowRateLimitedLocked(g *segment, skipped *atomicCounter) bool {
	if len(g.data) > 0 && !g.has(flagSyn) {
		return false
	}
	return s.oowRateLimitedLocked(skipped)
}

// oowRateLimitedLocked is the per-socket clock of tcpOowRateLimitedLocked
// (Linux: __tcp_oow_rate_limited, last_oow_ack_time).
func (s *Sock) oowRateLimitedLocked(skipped *atomicCounter) bool {
	now := s.proto.now()
	if !s.lastOowAck.IsZero() {
		if d := now.Sub(s.lastOowAck); d >= 0 && d < tcpInvalidRatelimit {
			skipped.Add(1)
			return true
		}
	}
	s.lastOowAck = now
	return false
}

// tcpSendChallengeAckLocked answers a suspicious RST, SYN or old ACK with
// an ACK (RFC 5961 §3.2, §4.2, §5.2; Linux: tcp_send_challenge_ack).
// First the socket's own limit; then the instance's budget, refilled each
// second with a random count in [limit/2, 3·limit/2) so an off-path
// observer cannot count the budget down to learn that a connection
// exists (the side channel of CVE-2016-5696).
func (s *Sock) tcpSendChallengeAckLocked() {
	p := s.proto
	if s.oowRateLimitedLocked(&p.MIB.TCPACKSkippedChallenge) {
		return
	}
	sec := p.now().Unix()
	if sec != p.challengeSecond {
		half := uint32(challengeAckLimit+1) / 2
		p.challengeSecond = sec
		p.challengeCount = half + randUint32()%challengeAckLimit
	}
	if p.challengeCount == 0 {
		return
	}
	p.challengeCount--
	p.MIB.TCPChallengeACK.Add(1)
	s.tcpSendAckLocked()
}

// randUint32 draws from the system's cryptographic generator (Linux:
// get_random_u32).
func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint32(b[:])
}
