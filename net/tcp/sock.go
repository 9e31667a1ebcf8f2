package tcp

import (
	"net/netip"
	"time"
)

// fourTuple keys the established hash (Linux: INET_MATCH on the ports pair
// and addresses).
type fourTuple struct {
	laddr, raddr netip.Addr
	lport, rport uint16
}

// Sock is a TCP socket (Linux: struct tcp_sock with its inet_connection_sock
// and sock parts). All fields are guarded by proto.mu.
type Sock struct {
	proto *Proto
	state State

	// Addressing (Linux: inet_sock). bound is the bind bucket we own a
	// port in; hashed is true while we are in ehash.
	laddr, raddr netip.Addr
	lport, rport uint16
	bound        *bindBucket
	connectBound bool // the port came from connect, not bind (Linux: fastreuse -1)
	hashed       bool

	// User-settable options.
	reuseAddr  bool
	noDelay    bool
	keepOpen   bool // SO_KEEPALIVE
	keepIdle   time.Duration
	keepIntvl  time.Duration
	keepCnt    int
	lingerOn   bool
	linger     time.Duration
	rcvBufSize int
	sndBufSize int
	// Set by SO_RCVBUF / SO_SNDBUF: the size no longer autotunes (Linux:
	// SOCK_RCVBUF_LOCK, SOCK_SNDBUF_LOCK).
	rcvBufLocked, sndBufLocked bool
	userMSS                    int // TCP_MAXSEG; 0 = from route

	// Send sequence space (RFC 9293 §3.3.1). sndq holds the octets from
	// sndBufSeq on: unacknowledged ones first, then unsent ones.
	iss       seqnum
	sndUna    seqnum
	sndNxt    seqnum
	sndMax    seqnum // highest sequence ever sent; sndNxt rewinds on RTO
	sndWnd    uint32 // peer's window, scaled
	maxSndWnd uint32
	sndWl1    seqnum
	sndWl2    seqnum
	sndq      sndQueue
	sndBufSeq seqnum
	sndSml    seqnum // end of the last small segment sent (Linux: snd_sml, Minshall's Nagle)
	finQueued bool   // shutdown(SHUT_WR) or close: FIN follows the data
	sndMSS    int    // effective MSS for our segments (Linux: mss_cache)
	gsoMax    int    // payload of one offloaded segment, a multiple of sndMSS; 0 = no GSO
	advMSS    int    // MSS we announce
	peerMSS   int    // MSS the peer announced

	// Receive sequence space. rcvWup + rcvWnd is the right edge we last
	// announced (Linux: rcv_wup, rcv_wnd).
	irs        seqnum
	rcvNxt     seqnum
	rcvWup     seqnum
	rcvWnd     uint32
	rcvq       rcvQueue // in-order octets not yet read
	rcvSpace   rcvSpace // receive buffer autotuning
	ooo        []oooSeg
	lastOOO    seqnum // start of the latest out-of-order arrival (first SACK block)
	finRcvd    bool   // peer's FIN consumed: reads return EOF after rcvq
	rcvShut    bool   // SHUT_RD
	sndWS      uint8
	rcvWS      uint8
	wsOK       bool
	sackOK     bool
	tsOK       bool
	tsRecent   uint32
	tsRecentAt time.Time
	tsOffset   uint32

	// Loss recovery and congestion (RFC 6298, 5681, 6675, 6937, 8985;
	// Linux: the recovery fields of tcp_sock).
	rtt       rttEstimator
	rttSeq    seqnum // segment being timed when timestamps are off
	rttStart  time.Time
	rttTiming bool
	backoff   int
	retrans   int // consecutive RTO expiries
	ccState
	cc            CongestionControl
	ccName        string // TCP_CONGESTION; "" = the instance default
	rtxq          rtxQueue
	caState       caState
	highSeq       seqnum // RFC 6582 "recover" (Linux: high_seq)
	fackEnd       seqnum // highest SACKed sequence
	reordering    int    // DupThresh in segments (Linux: tp->reordering)
	priorCwnd     uint32 // cwnd when the reduction began (RFC 6937 RecoverFS)
	priorSSThresh uint32 // for undo; 0 = nothing to undo to
	prrDelivered  uint32
	prrOut        uint32
	undoMarker    seqnum // SND.UNA when the reduction began (Linux: undo_marker)
	undoActive    bool
	undoRetrans   int    // retransmissions not yet D-SACKed; -1 = none sent
	retransStamp  uint32 // TSval of the episode's first retransmission
	ackTSEcr      uint32 // TSecr of the ACK being processed
	frto          bool   // F-RTO armed after an RTO (RFC 5682)
	rack          rackState
	tlpHighSeq    seqnum // SND.NXT when the loss probe went; 0 = none out
	tlpRetrans    bool   // the probe was a retransmission
	xmitTimer     timerKind
	dsack         sackRange // D-SACK block for the next ACK (RFC 2883)
	dsackOn       bool
	lastOowAck    time.Time // last ACK to an out-of-window segment (Linux: last_oow_ack_time)

	// Timers (Linux: icsk_retransmit_timer, icsk_delack_timer, the probe
	// timer, sk_timer for keepalive and FIN_WAIT2, the TIME_WAIT timer).
	rtxT         sockTimer
	delackT      sockTimer
	persistT     sockTimer
	keepT        sockTimer
	segsSinceAck int
	quickAcks    int // immediate ACKs left (Linux: icsk_ack.quick)
	ackNow       bool
	ackDeferred  bool    // queued for the end of the receive burst (batch.go)
	ackHeld      bool    // heldAck waits for the end of the receive burst (batch.go)
	heldAck      segment // the newest pure ACK of the burst, not yet processed
	probesOut    int
	lastRecvAt   time.Time
	finAcked     bool

	// Listener (Linux: inet_connection_sock.icsk_accept_queue).
	listen *listenQueue
	parent *Sock // listener a child came from, until accepted

	err     error         // pending hard error (Linux: sk_err)
	softErr error         // last ICMP error (Linux: sk_err_soft)
	done    bool          // tcpDone ran: no more TCP state
	orphan  bool          // closed by the user
	tw      *timewaitSock // the connection's TIME_WAIT, once it entered it (timewait.go)
	wake    func()
	inode   uint64
	uid     uint32
}

// NewSock returns a closed socket with the instance's defaults (Linux:
// tcp_v4_init_sock via inet_create).
func (p *Proto) NewSock() *Sock {
	p.lock()
	defer p.unlock()
	return p.newSockLocked()
}

func (p *Proto) newSockLocked() *Sock {
	s := &Sock{proto: p, state: StateClose,
		keepIdle: p.cfg.KeepIdle, keepIntvl: p.cfg.KeepIntvl, keepCnt: p.cfg.KeepCnt,
		rcvBufSize: p.cfg.RcvBuf, sndBufSize: p.cfg.SndBuf}
	s.rtt.init()
	s.cwnd, s.ssthresh = initialCwnd, infiniteSSThresh // Linux: tcp_init_sock
	s.reordering = tcpDupThresh
	p.socks[s] = struct{}{}
	return s
}

func (s *Sock) tuple() fourTuple {
	return fourTuple{laddr: s.laddr, raddr: s.raddr, lport: s.lport, rport: s.rport}
}

// setStateLocked moves the socket to st, keeping CurrEstab true (Linux:
// tcp_set_state).
func (s *Sock) setStateLocked(st State) {
	old := s.state
	if old == st {
		return
	}
	if s.tw == nil { // else the move into the timewait sock was reported
		s.traceSetState(old, st)
	}
	m := &s.proto.MIB
	if st == StateEstablished {
		m.CurrEstab.Add(1)
		// Linux: tcp_init_transfer enters quickack mode, so a new
		// connection's first segments are not held back by delayed ACKs.
		s.quickAcks = tcpMaxQuickAcks
		s.tcpInitBufferSpaceLocked()
	}
	if old == StateEstablished || old == StateCloseWait {
		if st != StateCloseWait {
			m.CurrEstab.Add(^uint64(0))
		}
	}
	s.state = st
	s.wakeLocked()
}

// wakeLocked queues a wake-up of whoever waits on this socket (Linux:
// sk->sk_state_change / sk_data_ready / sk_write_space).
func (s *Sock) wakeLocked() {
	if s.wake != nil {
		s.proto.wakes = append(s.proto.wakes, s.wake)
	}
	if s.parent != nil && s.parent.wake != nil {
		s.proto.wakes = append(s.proto.wakes, s.parent.wake)
	}
}

// SetWake installs the function called (without locks held) whenever the
// socket's readiness may have changed; the socket layer wakes its wait
// queue there.
func (s *Sock) SetWake(f func()) {
	s.proto.lock()
	s.wake = f
	s.proto.unlock()
}

// SetInode records the sockfs inode shown in /proc/net/tcp.
func (s *Sock) SetInode(ino uint64, uid uint32) {
	s.proto.lock()
	s.inode, s.uid = ino, uid
	s.proto.unlock()
}

// State returns the connection state.
func (s *Sock) State() State {
	s.proto.lock()
	defer s.proto.unlock()
	if s.tw != nil && s.tw.live {
		return StateTimeWait // the connection lives on as a timewait sock
	}
	return s.state
}

// tcpDone moves the socket to CLOSE, stops its timers and unhashes it
// (Linux: tcp_done).
func (s *Sock) tcpDoneLocked() {
	s.setStateLocked(StateClose)
	s.clearTimersLocked()
	s.unhashLocked()
	s.done = true
	if s.orphan {
		s.destroyLocked()
	}
}

func (s *Sock) clearTimersLocked() {
	s.rtxT.kill()
	s.delackT.kill()
	s.persistT.kill()
	s.keepT.kill()
}

// destroyLocked forgets a closed, orphaned socket (Linux: inet_csk_destroy_sock).
func (s *Sock) destroyLocked() {
	s.rcvq.purge() // lent receive buffers go back to their driver
	s.unhashLocked()
	s.releasePortLocked()
	delete(s.proto.socks, s)
}

// resetLocked handles an incoming RST or a fatal error: report err and
// close (Linux: tcp_reset).
func (s *Sock) resetLocked(err error) {
	s.err = err
	if s.state == StateEstablished || s.state == StateCloseWait {
		s.proto.MIB.EstabResets.Add(1)
	}
	s.sndq.reset()
	s.tcpDoneLocked()
}
