package tcp

import (
	"fmt"
	"net/netip"
	"time"

	"gomenuos/net/header"
)

// A connection in TIME_WAIT keeps only what it needs to answer segments
// and to expire (Linux: struct inet_timewait_sock + tcp_timewait_sock):
// the four-tuple, RCV.NXT and SND.NXT, the window it announced, the
// timestamp state for PAWS, and its place in the port's bind bucket. The
// full Sock (about 2.2 KiB with its buffers and timers) is released when
// the connection enters TIME_WAIT (Linux: tcp_time_wait → tcp_done); a
// user who still holds it sees the connection as TIME_WAIT through State.
// One clock timer per instance expires them in order (twQueue).

// twKey is a TIME_WAIT connection's four-tuple, packed (IPv4 only).
type twKey struct {
	laddr, raddr [4]byte
	lport, rport uint16
}

func twKeyOf(t fourTuple) twKey {
	return twKey{t.laddr.As4(), t.raddr.As4(), t.lport, t.rport}
}

// timewaitSock is one connection in TIME_WAIT: 64 bytes. Its times are
// milliseconds of the instance's clock (msClock), compared with
// wraparound like sequence numbers: TIME_WAIT lasts minutes, not weeks.
// Guarded by Proto.mu.
type timewaitSock struct {
	key        twKey
	rcvNxt     seqnum
	sndNxt     seqnum
	rcvWnd     uint32 // the window field of our ACKs (already scaled down)
	tsRecent   uint32
	tsOffset   uint32
	tsRecentAt uint32 // when tsRecent was taken
	deadline   uint32 // when it expires
	queued     uint32 // the deadline it has in twQueue's order
	bindIdx    int32  // index in bound.tws
	bound      *bindBucket
	tsOK       bool
	reuseAddr  bool
	connect    bool // its port came from connect (bindBucket.connectOnly)
	live       bool
}

// msClock is the instance's clock in milliseconds since it started.
func (p *Proto) msClock() uint32 { return uint32(p.now().Sub(p.start) / time.Millisecond) }

// msAfter reports whether a is later than b on msClock.
func msAfter(a, b uint32) bool { return int32(a-b) > 0 }

func (tw *timewaitSock) laddr() netip.Addr { return netip.AddrFrom4(tw.key.laddr) }
func (tw *timewaitSock) raddr() netip.Addr { return netip.AddrFrom4(tw.key.raddr) }

// tcpTimeWaitLocked moves the connection into a timewait sock for the
// configured time (Linux: tcp_time_wait; RFC 9293 §3.6 2*MSL).
func (s *Sock) tcpTimeWaitLocked() {
	p := s.proto
	if p.twCount >= p.cfg.MaxTimeWait {
		// Linux: "TCP: time wait bucket table overflow" — close at once.
		p.MIB.TCPTimeWaitOverflow.Add(1)
		s.tcpDoneLocked()
		return
	}
	tw := &timewaitSock{key: twKeyOf(s.tuple()), rcvNxt: s.rcvNxt, sndNxt: s.sndMax,
		rcvWnd: s.rcvWindowLocked() >> s.rcvWS, tsRecent: s.tsRecent, tsOffset: s.tsOffset,
		tsRecentAt: uint32(s.tsRecentAt.Sub(p.start) / time.Millisecond), tsOK: s.tsOK, reuseAddr: s.reuseAddr,
		connect: s.connectBound, live: true}
	if s.bound != nil {
		tw.bound = s.bound
		tw.bindIdx = int32(len(s.bound.tws))
		s.bound.tws = append(s.bound.tws, tw)
	}
	s.unhashLocked()
	p.inetTwskHashdanceLocked(tw)
	// The connection goes on in TIME_WAIT as the timewait sock: that is the
	// change the state tracepoint reports, and the full sock then closes
	// without one (Linux's tracepoint shows the sock's own FIN_WAIT2 →
	// CLOSE; our diagrams draw the connection).
	s.traceSetState(s.state, StateTimeWait)
	s.tw = tw
	s.tcpDoneLocked()
}

// inetTwskHashdanceLocked puts tw where the socket was in the lookup
// tables and schedules its end (Linux: inet_twsk_hashdance +
// inet_twsk_schedule).
func (p *Proto) inetTwskHashdanceLocked(tw *timewaitSock) {
	p.twhash[tw.key] = tw
	p.twCount++
	tw.deadline = p.msClock() + uint32(p.cfg.TimeWait/time.Millisecond)
	tw.queued = tw.deadline
	p.twQueue = append(p.twQueue, tw)
	if !p.twTimer.armed {
		p.armTwTimerLocked()
	}
}

// armTwTimerLocked sets the instance's TIME_WAIT timer for the oldest
// entry of twQueue.
func (p *Proto) armTwTimerLocked() {
	if len(p.twQueue) == 0 {
		p.twTimer.stop()
		return
	}
	d := time.Duration(int32(p.twQueue[0].queued-p.msClock())) * time.Millisecond
	p.twTimer.arm(p, max(d, 0), func() func() { return p.twTimerFire })
}

// twTimerFire ends every TIME_WAIT whose time has come (Linux:
// tw_timer_handler). An entry restarted by a retransmitted FIN goes to
// the back of the queue; it may then end up to its original deadline's
// distance late, never early.
func (p *Proto) twTimerFire() {
	p.lock()
	defer p.unlock()
	if !p.twTimer.due(p) {
		return
	}
	now := p.msClock()
	for len(p.twQueue) > 0 && !msAfter(p.twQueue[0].queued, now) {
		tw := p.twQueue[0]
		p.twQueue[0] = nil
		p.twQueue = p.twQueue[1:]
		if !tw.live {
			continue
		}
		if msAfter(tw.deadline, now) {
			tw.queued = tw.deadline
			p.twQueue = append(p.twQueue, tw)
			continue
		}
		p.inetTwskKillLocked(tw)
	}
	if len(p.twQueue) == 0 {
		p.twQueue = nil
	}
	p.armTwTimerLocked()
}

// inetTwskKillLocked ends a TIME_WAIT: out of the lookup table and the
// port's bucket (Linux: inet_twsk_kill). Its queue entry is skipped when
// the timer reaches it.
func (p *Proto) inetTwskKillLocked(tw *timewaitSock) {
	if !tw.live {
		return
	}
	tw.live = false
	delete(p.twhash, tw.key)
	p.twCount--
	if b := tw.bound; b != nil {
		last := b.tws[len(b.tws)-1]
		b.tws[tw.bindIdx], last.bindIdx = last, tw.bindIdx
		b.tws[len(b.tws)-1] = nil
		b.tws = b.tws[:len(b.tws)-1]
		p.dropEmptyBucketLocked(b)
		tw.bound = nil
	}
}

// tcpTimewaitStateProcessLocked handles a segment for a connection in
// TIME_WAIT (RFC 9293 §3.10.7.4 for TIME-WAIT; Linux:
// tcp_timewait_state_process). It returns true when a new SYN ended
// TIME_WAIT and should go to the listener.
func (p *Proto) tcpTimewaitStateProcessLocked(tw *timewaitSock, g *segment) bool {
	if g.has(flagRst) {
		// Linux with tcp_rfc1337 = 0: a RST ends TIME_WAIT early.
		if g.seq == tw.rcvNxt {
			p.inetTwskKillLocked(tw)
		}
		return false
	}
	if g.has(flagSyn) && !g.has(flagAck) {
		// RFC 9293 §3.10.7.4 / RFC 6191: a SYN beyond the old sequence
		// space, or with a newer timestamp, may reopen the connection;
		// one whose timestamp is older fails PAWS (Linux:
		// tcp_timewait_state_process accepts seq-after OR ts-newer).
		ts := tw.tsOK && g.opts.HasTS
		pawsReject := ts && int32(g.opts.TSVal-tw.tsRecent) < 0
		newer := g.seq.gt(tw.rcvNxt) || (ts && int32(g.opts.TSVal-tw.tsRecent) > 0)
		if newer && !pawsReject {
			p.MIB.TWRecycled.Add(1)
			p.inetTwskKillLocked(tw)
			return true
		}
	}
	if g.has(flagFin) && g.seq.add(len(g.data)) == tw.rcvNxt.add(-1) {
		// A retransmitted FIN: our last ACK was lost. Restart 2MSL.
		tw.deadline = p.msClock() + uint32(p.cfg.TimeWait/time.Millisecond)
	}
	p.tcpV4TimewaitAckLocked(tw)
	return false
}

// tcpV4TimewaitAckLocked answers a segment in TIME_WAIT with our last
// ACK (Linux: tcp_v4_timewait_ack).
func (p *Proto) tcpV4TimewaitAckLocked(tw *timewaitSock) {
	f := header.TCPFields{SrcPort: tw.key.lport, DstPort: tw.key.rport, Seq: uint32(tw.sndNxt),
		Ack: uint32(tw.rcvNxt), Flags: flagAck, Window: uint16(min(tw.rcvWnd, 65535))}
	var opts header.TCPOptions
	if tw.tsOK {
		opts.HasTS, opts.TSVal, opts.TSEcr = true, p.tcpTimeStamp()+tw.tsOffset, tw.tsRecent
		f.Options = &opts
	}
	p.emitLocked(tw.laddr(), tw.raddr(), &f)
}

// twReusableLocked: Linux tcp_twsk_unique with the default tcp_tw_reuse = 2:
// loopback, timestamps on, the last one over a second old.
func (p *Proto) twReusableLocked(tw *timewaitSock) bool {
	return tw.tsOK && tw.raddr().IsLoopback() && int32(p.msClock()-tw.tsRecentAt) >= 1000
}

// procLineLocked is a TIME_WAIT row of /proc/net/tcp (Linux:
// get_timewait4_sock).
func (tw *timewaitSock) procLineLocked(p *Proto) string {
	left := time.Duration(int32(tw.deadline-p.msClock())) * time.Millisecond
	return fmt.Sprintf("%s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x",
		procAddr(tw.laddr(), tw.key.lport), procAddr(tw.raddr(), tw.key.rport), uint8(StateTimeWait),
		0, 0, 3, clockT(left), 0, 0, 0, 0, 3, 0)
}
