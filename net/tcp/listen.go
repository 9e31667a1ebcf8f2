package tcp

import (
	"net/netip"

	"gomenuos/net/header"
	"gomenuos/sched/trace"
)

// listenQueue is a listener's two queues (Linux: struct
// request_sock_queue plus the accept list of icsk_accept_queue): half-open
// request socks keyed by four-tuple, and children that completed the
// handshake waiting for accept.
type listenQueue struct {
	backlog  int // Linux: sk_max_ack_backlog
	synQueue map[fourTuple]*requestSock
	acceptQ  []*Sock
}

// requestSock is the lightweight state of a half-open connection (Linux:
// struct tcp_request_sock): enough to resend the SYN-ACK and build the
// child socket when the final ACK arrives.
type requestSock struct {
	listener *Sock
	tuple    fourTuple
	iss, irs seqnum
	peerMSS  int
	sndWS    uint8
	rcvWS    uint8
	wsOK     bool
	sackOK   bool
	tsOK     bool
	tsRecent uint32
	tsOffset uint32
	rcvWnd   uint32
	peerWnd  uint16
	retrans  int
	timer    sockTimer
	cookie   bool // rebuilt from a SYN cookie, never queued
}

// inetCskListenStartLocked turns a bound socket into a listener (Linux:
// inet_csk_listen_start, called by inet_listen).
func (s *Sock) inetCskListenStartLocked(backlog int) error {
	p := s.proto
	backlog = min(max(backlog, 0), p.cfg.Somaxconn)
	if s.state == StateListen {
		s.listen.backlog = backlog // Linux: listen() again just resizes
		return nil
	}
	if s.state != StateClose || s.done {
		return ErrInvalid
	}
	if s.bound == nil {
		if err := s.inetCskGetPortLocked(netip.IPv4Unspecified(), 0); err != nil {
			return err
		}
	}
	for o := range s.bound.owners {
		if o != s && o.state == StateListen && s.conflictsWithLocked(o, s.laddr) {
			return ErrAddrInUse
		}
	}
	s.listen = &listenQueue{backlog: backlog, synQueue: map[fourTuple]*requestSock{}}
	s.setStateLocked(StateListen)
	p.lhash[s.lport] = append(p.lhash[s.lport], s)
	return nil
}

// synQueueFull: Linux inet_csk_reqsk_queue_is_full (qlen >= max backlog).
func (q *listenQueue) synQueueFull() bool { return len(q.synQueue) >= max(q.backlog, 1) }

// acceptQueueFull: Linux sk_acceptq_is_full (ack_backlog > max backlog).
func (q *listenQueue) acceptQueueFull() bool { return len(q.acceptQ) > q.backlog }

// tcpV4ConnRequestLocked answers a SYN on a listener with a SYN-ACK,
// keeping a request sock or, when the SYN queue overflows, a SYN cookie
// (Linux: tcp_v4_conn_request → tcp_conn_request).
func (s *Sock) tcpV4ConnRequestLocked(g *segment) {
	p := s.proto
	q := s.listen
	wantCookie := false
	if q.synQueueFull() {
		if !p.cfg.SynCookies {
			p.MIB.TCPReqQFullDrop.Add(1)
			p.MIB.ListenDrops.Add(1)
			return
		}
		wantCookie = true
	}
	if q.acceptQueueFull() {
		// Linux: a full accept queue drops the SYN; the peer retries.
		p.MIB.ListenOverflows.Add(1)
		p.MIB.ListenDrops.Add(1)
		return
	}
	req := s.newRequestSockLocked(g, wantCookie)
	if wantCookie {
		p.MIB.SyncookiesSent.Add(1)
	} else {
		s.reqskQueueAddLocked(req)
	}
	req.tcpV4SendSynackLocked()
}

// newRequestSockLocked builds the request sock for a SYN (Linux:
// inet_reqsk_alloc + tcp_openreq_init).
func (s *Sock) newRequestSockLocked(g *segment, cookie bool) *requestSock {
	p := s.proto
	t := g.tuple()
	r := &requestSock{listener: s, tuple: t, irs: g.seq, peerMSS: 536, peerWnd: g.wnd, cookie: cookie}
	if g.opts.HasMSS && g.opts.MSS > 0 {
		r.peerMSS = int(g.opts.MSS)
	}
	// A cookie can only carry WS and SACK back inside the timestamp, so
	// without timestamps a cookie SYN-ACK offers none of them.
	r.tsOK = g.opts.HasTS && p.cfg.Timestamps
	if !cookie || r.tsOK {
		r.wsOK = g.opts.HasWS && p.cfg.WindowScaling
		r.sackOK = g.opts.SACKPermitted && p.cfg.SACK
		r.tsRecent = g.opts.TSVal
	}
	if r.wsOK {
		r.sndWS = g.opts.WS
	}
	s.reqInitWindowLocked(r)
	r.tsOffset = p.tsOffset(t)
	if cookie {
		r.iss = p.cookieV4InitSequence(t, g.seq, r.peerMSS)
	} else {
		r.iss = p.secureSeq(t)
	}
	return r
}

// reqInitWindowLocked picks our window scale and initial window from the
// buffer size alone, so a cookie can recompute them (Linux:
// tcp_select_initial_window).
func (s *Sock) reqInitWindowLocked(r *requestSock) {
	r.rcvWS = 0
	if r.wsOK {
		r.rcvWS = s.rcvWScale()
	}
	r.rcvWnd = uint32(min(s.rcvBufSize, 65535<<r.rcvWS))
}

// synackTSValLocked is our SYN-ACK's TSval; a cookie SYN-ACK hides the peer's
// WS and SACK-permitted in its low 6 bits (Linux: cookie_init_timestamp).
func (r *requestSock) synackTSValLocked() uint32 {
	ts := r.listener.proto.tcpTimeStamp() + r.tsOffset
	if !r.cookie {
		return ts
	}
	opts := uint32(cookieNoWS)
	if r.wsOK {
		opts = uint32(r.sndWS)
	}
	if r.sackOK {
		opts |= cookieSACK
	}
	return ts&^0x3f | opts
}

// reqskQueueAddLocked puts a request sock on the SYN queue and arms its
// SYN-ACK retransmission (Linux: reqsk_queue_hash_req / inet_csk_reqsk_queue_hash_add).
func (s *Sock) reqskQueueAddLocked(r *requestSock) {
	s.listen.synQueue[r.tuple] = r
	r.armTimerLocked()
}

func (r *requestSock) armTimerLocked() {
	p := r.listener.proto
	d := tcpTimeoutInit << r.retrans
	r.timer.arm(p, d, func() func() {
		return func() {
			p.lock()
			if r.timer.due(p) {
				r.reqskTimerHandlerLocked()
			}
			p.unlock()
		}
	})
}

// reqskTimerHandlerLocked resends the SYN-ACK with backoff, dropping the
// request after tcp_synack_retries (Linux: reqsk_timer_handler).
func (r *requestSock) reqskTimerHandlerLocked() {
	l := r.listener
	if l.listen == nil || l.listen.synQueue[r.tuple] != r {
		return
	}
	if r.retrans >= l.proto.cfg.SynackRetries {
		delete(l.listen.synQueue, r.tuple)
		return
	}
	r.retrans++
	l.proto.MIB.RetransSegs.Add(1)
	r.tcpV4SendSynackLocked()
	r.armTimerLocked()
}

// advMSSLocked is the MSS we announce towards the peer.
func (r *requestSock) advMSSLocked() int {
	l := r.listener
	_, mtu, err := l.proto.ip.Route(r.tuple.raddr)
	if err != nil {
		mtu = 1500
	}
	mss := mssForMTU(mtu)
	if l.userMSS > 0 {
		mss = min(mss, l.userMSS)
	}
	return mss
}

// tcpV4SendSynackLocked sends the SYN-ACK for a request sock (Linux:
// tcp_v4_send_synack).
func (r *requestSock) tcpV4SendSynackLocked() {
	p := r.listener.proto
	o := header.TCPOptions{HasMSS: true, MSS: uint16(r.advMSSLocked()),
		HasWS: r.wsOK, WS: r.rcvWS, SACKPermitted: r.sackOK, HasTS: r.tsOK}
	if r.tsOK {
		o.TSVal, o.TSEcr = r.synackTSValLocked(), r.tsRecent
	}
	f := header.TCPFields{SrcPort: r.tuple.lport, DstPort: r.tuple.rport, Seq: uint32(r.iss),
		Ack: uint32(r.irs.add(1)), Flags: flagSyn | flagAck, Window: uint16(min(r.rcvWnd, 65535)), Options: &o}
	p.traceSend(r.listener, r.tuple.laddr, r.tuple.raddr, &f, 0, trace.SiteSendSynack)
	p.emitLocked(r.tuple.laddr, r.tuple.raddr, &f)
}

// tcpCheckReqLocked processes a segment that matches a request sock: it
// returns the new child when the final ACK of the handshake arrived
// (Linux: tcp_check_req).
func (l *Sock) tcpCheckReqLocked(r *requestSock, g *segment) *Sock {
	p := l.proto
	if g.has(flagSyn) && !g.has(flagRst|flagAck) && g.seq == r.irs {
		r.tcpV4SendSynackLocked() // a retransmitted SYN: our SYN-ACK was lost
		return nil
	}
	if g.has(flagAck) && g.ack != r.iss.add(1) {
		p.tcpV4SendResetLocked(g) // RFC 9293 §3.10.7.4: bad ACK in SYN-RECEIVED
		return nil
	}
	rcvNxt := r.irs.add(1)
	if !(g.seq == rcvNxt || g.seq.inRange(rcvNxt, rcvNxt.add(int(r.rcvWnd)))) {
		if !g.has(flagRst) {
			r.tcpV4SendSynackLocked() // Linux: tcp_check_req re-ACKs out-of-window segments
		}
		return nil
	}
	if g.has(flagRst | flagSyn) {
		// RFC 9293 §3.10.7.4: a RST (or in-window SYN) in SYN-RECEIVED
		// from a passive open just drops the half-open connection.
		l.inetCskReqskQueueDropLocked(r)
		if g.has(flagSyn) {
			p.tcpV4SendResetLocked(g)
		}
		return nil
	}
	if !g.has(flagAck) {
		return nil
	}
	child := l.tcpV4SynRecvSockLocked(r, g)
	if child == nil {
		return nil // accept queue full: keep the request, drop the ACK
	}
	l.inetCskReqskQueueDropLocked(r)
	return child
}

func (l *Sock) inetCskReqskQueueDropLocked(r *requestSock) {
	r.timer.kill()
	if l.listen.synQueue[r.tuple] == r {
		delete(l.listen.synQueue, r.tuple)
	}
}

// tcpV4SynRecvSockLocked creates the full child socket for a completed
// handshake and puts it on the accept queue, or returns nil when that
// queue is full (Linux: tcp_v4_syn_recv_sock + tcp_create_openreq_child,
// then inet_csk_complete_hashdance).
func (l *Sock) tcpV4SynRecvSockLocked(r *requestSock, g *segment) *Sock {
	p := l.proto
	if l.listen.acceptQueueFull() {
		// Linux (tcp_abort_on_overflow = 0): drop the ACK, keep the request.
		p.MIB.ListenOverflows.Add(1)
		p.MIB.ListenDrops.Add(1)
		return nil
	}
	c := p.newSockLocked()
	c.inheritOptionsLocked(l)
	c.laddr, c.raddr, c.lport, c.rport = r.tuple.laddr, r.tuple.raddr, r.tuple.lport, r.tuple.rport
	c.bound = l.bound
	l.bound.owners[c] = struct{}{}
	if !c.inetEhashInsertLocked() {
		c.destroyLocked()
		return nil
	}
	c.iss, c.tsOffset = r.iss, r.tsOffset
	c.tcpConnectInitLocked(r.advMSSLocked() + 40)
	c.sndNxt, c.sndMax = c.iss.add(1), c.iss.add(1)
	c.irs, c.rcvNxt = r.irs, r.irs.add(1)
	c.rcvWS, c.rcvWnd, c.rcvWup = r.rcvWS, r.rcvWnd, c.rcvNxt
	c.wsOK, c.sndWS, c.sackOK, c.tsOK = r.wsOK, r.sndWS, r.sackOK, r.tsOK
	if !c.wsOK {
		c.rcvWS = 0
	}
	c.tsRecent, c.tsRecentAt = r.tsRecent, p.now()
	c.peerMSS = r.peerMSS
	c.tcpSyncMSSLocked()
	c.state = StateSynRecv
	c.traceSetState(StateClose, StateSynRecv) // Linux: inet_csk_clone_lock's inet_sk_set_state
	c.parent = l
	p.MIB.PassiveOpens.Add(1)
	l.inetCskReqskQueueAddLocked(c)
	return c
}

// inheritOptionsLocked copies socket options from the listener (Linux:
// sk_clone_lock copies the sock).
func (c *Sock) inheritOptionsLocked(l *Sock) {
	c.reuseAddr, c.noDelay, c.keepOpen = l.reuseAddr, l.noDelay, l.keepOpen
	c.keepIdle, c.keepIntvl, c.keepCnt = l.keepIdle, l.keepIntvl, l.keepCnt
	c.lingerOn, c.linger = l.lingerOn, l.linger
	c.rcvBufSize, c.sndBufSize, c.userMSS = l.rcvBufSize, l.sndBufSize, l.userMSS
	c.rcvBufLocked, c.sndBufLocked = l.rcvBufLocked, l.sndBufLocked
	c.ccName = l.ccName
}

// inetCskReqskQueueAddLocked queues a child for accept (Linux:
// inet_csk_reqsk_queue_add).
func (l *Sock) inetCskReqskQueueAddLocked(c *Sock) {
	l.listen.acceptQ = append(l.listen.acceptQ, c)
	l.wakeLocked()
}

// tcpChildProcessLocked lets the new child process the segment that
// completed its handshake (Linux: tcp_child_process).
func (l *Sock) tcpChildProcessLocked(c *Sock, g *segment) {
	if c.tcpRcvStateProcessLocked(g) {
		l.proto.tcpV4SendResetLocked(g)
	}
	l.wakeLocked()
}

// inetCskAcceptLocked takes the first child off the accept queue without
// blocking (Linux: the dequeue half of inet_csk_accept).
func (l *Sock) inetCskAcceptLocked() (*Sock, error) {
	if l.state != StateListen {
		return nil, ErrInvalid
	}
	if len(l.listen.acceptQ) == 0 {
		return nil, ErrWouldBlock
	}
	c := l.listen.acceptQ[0]
	l.listen.acceptQ = l.listen.acceptQ[1:]
	c.parent = nil
	return c, nil
}

// inetCskListenStopLocked closes a listener: children never accepted are
// reset and request socks dropped (Linux: inet_csk_listen_stop).
func (l *Sock) inetCskListenStopLocked() {
	for _, r := range l.listen.synQueue {
		r.timer.kill()
	}
	for _, c := range l.listen.acceptQ {
		c.parent = nil
		c.orphan = true
		c.sendResetLocked()
		c.tcpDoneLocked()
	}
	l.listen = nil
}
