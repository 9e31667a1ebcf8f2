package tcp

import (
	"time"

	"gomenuos/net/clock"
)

// sockTimer is one per-socket timer, re-armed lazily. TCP moves its
// timers on nearly every segment (the RTO on each ACK and send, the
// delayed ACK, keepalive), almost always to a later time; Linux's timer
// wheel makes that cheap, but each Reset or Stop of a Go timer takes the
// runtime's timer lock and re-sorts its heap. So a move to a later time,
// and a stop, only change deadline and armed here; the Go timer stays
// pending, and when it fires, due re-arms it for what is left (the lazy
// timers of gVisor's TCP do the same). Only a move to an earlier time
// resets it, and kill stops it for good when the socket goes.
// Guarded by proto.mu.
type sockTimer struct {
	t        clock.Timer
	deadline time.Time // when the handler is due (meaningful while armed)
	expires  time.Time // when the Go timer fires (meaningful while pending)
	armed    bool      // the handler is due at deadline
	pending  bool      // the Go timer will fire (at or before expires)
}

// arm (re)starts the timer after d. mk builds the callback; it is only
// called the first time, so re-arming a timer allocates nothing.
func (st *sockTimer) arm(p *Proto, d time.Duration, mk func() func()) {
	st.deadline = p.now().Add(d)
	st.armed = true
	switch {
	case st.t == nil:
		st.t = p.clock.AfterFunc(d, mk())
	case st.pending && !st.deadline.Before(st.expires):
		return // it fires first; due moves it on
	default:
		st.t.Reset(d)
	}
	st.expires, st.pending = st.deadline, true
}

// stop disarms the timer; a pending firing finds it disarmed.
func (st *sockTimer) stop() { st.armed = false }

// kill disarms the timer and stops the Go timer, so that it no longer
// holds the socket (tcp_done, a request sock leaving the SYN queue).
func (st *sockTimer) kill() {
	st.armed = false
	if st.pending {
		st.pending = false
		st.t.Stop()
	}
}

// due is a firing's check, under proto.mu: whether the handler runs now.
// A firing for a deadline that has since moved later re-arms the Go timer
// for the rest; a firing of a disarmed (or stale) timer does nothing.
func (st *sockTimer) due(p *Proto) bool {
	st.pending = false
	if !st.armed {
		return false
	}
	if now := p.now(); now.Before(st.deadline) {
		st.t.Reset(st.deadline.Sub(now))
		st.expires, st.pending = st.deadline, true
		return false
	}
	st.armed = false
	return true
}

// fire wraps a handler: take the lock, act only if the timer is due, run
// handler, release (and flush).
func (s *Sock) fire(st *sockTimer, handler func()) func() {
	return func() {
		p := s.proto
		p.lock()
		s.tcpFlushHeldAckLocked() // a held ACK may disarm or move the timer
		if st.due(p) && !s.done {
			handler()
		}
		p.unlock()
	}
}

const (
	tcpRtoMin      = 200 * time.Millisecond // Linux TCP_RTO_MIN
	tcpRtoMax      = 120 * time.Second      // Linux TCP_RTO_MAX
	tcpTimeoutInit = time.Second            // RFC 6298 §2.1
	tcpDelackMin   = 40 * time.Millisecond  // Linux TCP_DELACK_MIN
	tcpFinTimeout  = 60 * time.Second       // Linux tcp_fin_timeout
)

// currentRtoLocked is the RTO with exponential backoff applied (RFC 6298 §5.5).
func (s *Sock) currentRtoLocked() time.Duration {
	rto := s.rtt.rto
	for i := 0; i < s.backoff && rto < tcpRtoMax; i++ {
		rto *= 2
	}
	return min(rto, tcpRtoMax)
}

// timerKind is what the retransmission timer is armed for (Linux:
// icsk_pending: ICSK_TIME_RETRANS, ICSK_TIME_REO_TIMEOUT,
// ICSK_TIME_LOSS_PROBE share one timer).
type timerKind uint8

const (
	timerRetrans timerKind = iota
	timerReo
	timerLossProbe
)

// armXmitTimerLocked arms the retransmission timer for kind after d
// (Linux: inet_csk_reset_xmit_timer).
func (s *Sock) armXmitTimerLocked(kind timerKind, d time.Duration) {
	s.xmitTimer = kind
	s.rtxT.arm(s.proto, d, func() func() { return s.fire(&s.rtxT, s.tcpWriteTimerLocked) })
}

// tcpWriteTimerLocked dispatches the retransmission timer (Linux:
// tcp_write_timer_handler).
func (s *Sock) tcpWriteTimerLocked() {
	switch s.xmitTimer {
	case timerReo:
		s.tcpRackReoTimeoutLocked()
	case timerLossProbe:
		s.tcpSendLossProbeLocked()
	default:
		s.tcpRetransmitTimerLocked()
	}
}

// armRtoLocked starts the retransmission timer if it is not running
// (RFC 6298 §5.1).
func (s *Sock) armRtoLocked() {
	if !s.rtxT.armed {
		s.resetRtoLocked()
	}
}

// resetRtoLocked restarts the retransmission timer (RFC 6298 §5.3).
func (s *Sock) resetRtoLocked() {
	s.armXmitTimerLocked(timerRetrans, s.currentRtoLocked())
}

// tcpRearmRtoLocked restarts the RTO, or stops it with nothing
// outstanding (RFC 6298 §5.2-5.3; Linux: tcp_rearm_rto).
func (s *Sock) tcpRearmRtoLocked() {
	if s.sndUna == s.sndMax {
		s.rtxT.stop()
		return
	}
	s.resetRtoLocked()
}

// tcpRetransmitTimerLocked handles an RTO expiry (Linux:
// tcp_retransmit_timer).
func (s *Sock) tcpRetransmitTimerLocked() {
	if s.sndUna == s.sndMax {
		return
	}
	limit := s.proto.cfg.Retries2
	if s.state == StateSynSent || s.state == StateSynRecv {
		limit = s.proto.cfg.SynRetries
	}
	// Linux: a peer that shrank its window to zero while answering us is
	// probed, not timed out, until it has been silent for TCP_RTO_MAX.
	zeroWnd := s.state.canXmit() && s.sndWnd == 0 && s.proto.now().Sub(s.lastRecvAt) < tcpRtoMax
	if s.retrans >= limit && !zeroWnd {
		s.tcpWriteErrLocked()
		return
	}
	if !zeroWnd {
		s.retrans++
	}
	s.proto.MIB.TCPTimeouts.Add(1) // Linux: LINUX_MIB_TCPTIMEOUTS, per RTO that fires
	s.rttTiming = false            // RFC 6298 §3 (Karn): never time a retransmission
	switch s.state {
	case StateSynSent:
		s.tcpEnterLossLocked()
		s.tcpTransmitSkbLocked(s.iss, flagSyn, 0)
		s.proto.MIB.RetransSegs.Add(1)
	case StateSynRecv:
		s.tcpEnterLossLocked()
		s.tcpTransmitSkbLocked(s.iss, flagSyn|flagAck, 0)
		s.proto.MIB.RetransSegs.Add(1)
	default:
		// Everything not SACKed is lost; the head goes now, the rest as
		// cwnd reopens (RFC 5681 §3.1, RFC 6675 §5.1). The head goes even
		// into a closed window, as a probe (Linux: tcp_retransmit_timer).
		s.tcpEnterLossLocked()
		if s.rtxq.packetsOut() > 0 {
			s.tcpRetransmitSkbLocked(0)
		}
	}
	s.backoff++
	s.resetRtoLocked()
}

// tcpWriteErrLocked gives up on an unresponsive peer (Linux: tcp_write_err).
func (s *Sock) tcpWriteErrLocked() {
	err := s.softErr
	if err == nil {
		err = ErrTimedOut
	}
	if s.state == StateSynSent {
		s.proto.MIB.AttemptFails.Add(1)
	}
	s.err = err
	s.tcpDoneLocked()
}

// tcpDelackTimerLocked sends the ACK we held back (Linux: tcp_delack_timer).
func (s *Sock) tcpDelackTimerLocked() {
	if s.state.synchronized() && s.state != StateTimeWait {
		s.proto.MIB.DelayedACKs.Add(1)
		s.tcpSendAckLocked()
	}
}

// scheduleAckLocked arms the delayed-ACK timer (RFC 9293 §3.8.6.3: ACK
// within 500 ms; Linux: inet_csk_reset_xmit_timer(ICSK_TIME_DACK)).
func (s *Sock) scheduleAckLocked() {
	if !s.delackT.armed {
		s.delackT.arm(s.proto, tcpDelackMin, func() func() { return s.fire(&s.delackT, s.tcpDelackTimerLocked) })
	}
}

// armPersistLocked starts zero-window probing when data waits on a closed
// window and nothing is in flight to elicit an update (RFC 9293 §3.8.6.1).
func (s *Sock) armPersistLocked() {
	if !s.persistT.armed && s.sndUna == s.sndMax {
		s.persistT.arm(s.proto, s.currentRtoLocked(), func() func() { return s.fire(&s.persistT, s.tcpProbeTimerLocked) })
	}
}

// tcpProbeTimerLocked sends a zero-window probe (Linux: tcp_probe_timer /
// tcp_send_probe0).
func (s *Sock) tcpProbeTimerLocked() {
	if s.sndUna != s.sndMax || s.unsentLocked() == 0 {
		s.probesOut, s.backoff = 0, 0
		return
	}
	if s.probesOut >= s.proto.cfg.Retries2 {
		s.tcpWriteErrLocked()
		return
	}
	// Linux: tcp_xmit_probe_skb sends SND.UNA-1 so the peer must answer.
	s.tcpTransmitSkbLocked(s.sndUna-1, flagAck, 0)
	s.probesOut++
	s.backoff++
	s.proto.MIB.TCPWinProbe.Add(1)
	s.persistT.arm(s.proto, s.currentRtoLocked(), func() func() { return s.fire(&s.persistT, s.tcpProbeTimerLocked) })
}

// resetKeepaliveLocked (re)starts the keepalive timer (Linux:
// inet_csk_reset_keepalive_timer).
func (s *Sock) resetKeepaliveLocked(d time.Duration) {
	s.keepT.arm(s.proto, d, func() func() { return s.fire(&s.keepT, s.tcpKeepaliveTimerLocked) })
}

// tcpKeepaliveTimerLocked probes an idle connection and also expires
// orphaned FIN_WAIT2 sockets (Linux: tcp_keepalive_timer).
func (s *Sock) tcpKeepaliveTimerLocked() {
	if s.state == StateFinWait2 && s.orphan {
		s.tcpDoneLocked()
		return
	}
	if !s.keepOpen || !s.state.synchronized() || s.state == StateTimeWait {
		return
	}
	idle := s.proto.now().Sub(s.lastRecvAt)
	if idle < s.keepIdle && s.probesOut == 0 {
		s.resetKeepaliveLocked(s.keepIdle - idle)
		return
	}
	if s.probesOut >= s.keepCnt {
		s.sendResetLocked()
		s.err = ErrTimedOut
		s.proto.MIB.TCPKeepAliveDrops.Add(1)
		s.tcpDoneLocked()
		return
	}
	s.tcpTransmitSkbLocked(s.sndUna-1, flagAck, 0)
	s.probesOut++
	s.resetKeepaliveLocked(s.keepIntvl)
}
