package tcp

import "net/netip"

// tcpV4ConnectLocked starts an active open to dst (Linux: tcp_v4_connect):
// route, pick the source and an ephemeral port, hash, choose the ISN and
// send the SYN.
func (s *Sock) tcpV4ConnectLocked(dst netip.AddrPort) error {
	switch s.state {
	case StateSynSent, StateSynRecv:
		return ErrAlready
	case StateClose:
	case StateListen:
		return ErrInvalid
	default:
		return ErrIsConnected
	}
	if s.done {
		return ErrInvalid
	}
	if !dst.Addr().Is4() || dst.Port() == 0 {
		return ErrInvalid
	}
	p := s.proto
	src, mtu, err := p.ip.Route(dst.Addr())
	if err != nil {
		return ErrNetUnreachable
	}
	if s.laddr.IsValid() && !s.laddr.IsUnspecified() {
		src = s.laddr
	}
	twSndNxt, reused, err := s.inetHashConnectLocked(src, dst)
	if err != nil {
		return err
	}
	s.iss = p.secureSeq(s.tuple())
	if reused {
		s.iss = twSndNxt.add(65535 + 2) // Linux: tcp_twsk_unique's write_seq
	}
	s.tsOffset = p.tsOffset(s.tuple())
	s.tcpConnectInitLocked(mtu)
	s.setStateLocked(StateSynSent)
	p.MIB.ActiveOpens.Add(1)
	s.tcpConnectLocked()
	return ErrInProgress
}

// tcpConnectInitLocked sets up sequence space, MSS, window scale and
// congestion state before the SYN (Linux: tcp_connect_init).
func (s *Sock) tcpConnectInitLocked(mtu int) {
	s.advMSS = mssForMTU(mtu)
	if s.userMSS > 0 {
		s.advMSS = min(s.advMSS, s.userMSS)
	}
	s.sndMSS = min(s.advMSS, 536) // RFC 9293 §3.7.1 default until the peer says
	s.rcvWS = 0
	if s.proto.cfg.WindowScaling {
		s.rcvWS = s.rcvWScale()
	}
	s.sndUna, s.sndNxt, s.sndMax = s.iss, s.iss, s.iss
	s.sndBufSeq = s.iss.add(1)
	s.highSeq, s.fackEnd = s.iss, s.iss
	s.rcvWnd = uint32(min(s.rcvBufSize, 65535<<s.rcvWS))
	s.cwnd, s.ssthresh = initialCwnd, infiniteSSThresh
	s.cc = s.proto.newCongestionControl(s.ccName)
	s.lastRecvAt = s.proto.now()
}

// newCongestionControl returns the named algorithm, or the instance's
// default (tcp_congestion_control) for "".
func (p *Proto) newCongestionControl(name string) CongestionControl {
	if name == "" {
		name = p.cfg.Congestion
	}
	if f := p.ccs[name]; f != nil {
		return f()
	}
	return &reno{}
}

// tcpConnectLocked sends the SYN and arms its retransmission (Linux:
// tcp_connect).
func (s *Sock) tcpConnectLocked() {
	s.tcpTransmitSkbLocked(s.iss, flagSyn, 0)
	s.sndNxt, s.sndMax = s.iss.add(1), s.iss.add(1)
	s.resetRtoLocked()
}

// tcpRcvSynSentStateProcessLocked handles a segment in SYN-SENT (RFC 9293
// §3.10.7.3; Linux: tcp_rcv_synsent_state_process). It returns true
// when the caller must answer with a RST.
func (s *Sock) tcpRcvSynSentStateProcessLocked(g *segment) bool {
	// First: check the ACK bit.
	if g.has(flagAck) && (g.ack.leq(s.iss) || g.ack.gt(s.sndMax)) {
		return !g.has(flagRst)
	}
	// Second: a RST is only believed with an acceptable ACK (RFC 5961 §3.2).
	if g.has(flagRst) {
		if g.has(flagAck) {
			s.proto.MIB.AttemptFails.Add(1)
			s.resetLocked(ErrConnRefused)
		}
		return false
	}
	// Fourth: check the SYN bit.
	if !g.has(flagSyn) {
		return false
	}
	s.tcpSynOptionsLocked(g)
	s.irs, s.rcvNxt = g.seq, g.seq.add(1)
	s.rcvWup = s.rcvNxt
	s.tcpAckRttLocked(g)
	if !g.has(flagAck) {
		// Simultaneous open (RFC 9293 §3.5 figure 7): SYN-RECEIVED, SYN-ACK.
		s.setStateLocked(StateSynRecv)
		s.tcpTransmitSkbLocked(s.iss, flagSyn|flagAck, 0)
		return false
	}
	s.sndUna = g.ack
	s.sndWnd = uint32(g.wnd) // RFC 7323 §2.2: a SYN's window is unscaled
	s.maxSndWnd = s.sndWnd
	s.sndWl1, s.sndWl2 = g.seq, g.ack
	s.rtxT.stop()
	s.retrans, s.backoff = 0, 0
	s.setStateLocked(StateEstablished)
	if s.keepOpen {
		s.resetKeepaliveLocked(s.keepIdle)
	}
	s.tcpWriteXmitLocked()
	s.tcpSendAckLocked()
	return false
}

// tcpSynOptionsLocked adopts what the peer's SYN negotiated: MSS
// (clamped to ours), window scale, SACK and timestamps (Linux:
// tcp_parse_options + tcp_mss_clamp).
func (s *Sock) tcpSynOptionsLocked(g *segment) {
	o := &g.opts
	s.peerMSS = 536 // RFC 9293 §3.7.1: no option means 536
	if o.HasMSS && o.MSS > 0 {
		s.peerMSS = int(o.MSS)
	}
	if s.state == StateSynSent {
		s.wsOK = o.HasWS && s.proto.cfg.WindowScaling
		s.sackOK = o.SACKPermitted && s.proto.cfg.SACK
		s.tsOK = o.HasTS && s.proto.cfg.Timestamps
	}
	if s.wsOK {
		s.sndWS = o.WS
	} else {
		s.sndWS, s.rcvWS = 0, 0
		s.rcvWnd = min(s.rcvWnd, 65535)
	}
	if s.tsOK {
		s.tsRecent, s.tsRecentAt = o.TSVal, s.proto.now()
	}
	s.tcpSyncMSSLocked()
}

// tcpSyncMSSLocked sets the segment size we send: the peer's MSS clamped
// by our path, less the timestamp option (Linux: tcp_sync_mss).
func (s *Sock) tcpSyncMSSLocked() {
	mss := min(s.peerMSS, s.advMSS)
	if s.tsOK {
		mss -= 12
	}
	s.sndMSS = max(mss, 64)
	s.gsoMax = 0
	if g := s.proto.routeGSO(s.raddr); g >= 2*s.sndMSS {
		s.gsoMax = g / s.sndMSS * s.sndMSS
	}
}

// mssForMTU is the MSS for a path MTU: the MTU less the IPv4 and TCP
// headers, and never so large that a segment overflows the 16-bit IPv4
// total length (loopback's MTU is 65536; Linux: tcp_mtu_to_mss).
func mssForMTU(mtu int) int {
	return min(mtu, 65535) - 40
}
