package tcp

// Shutdown directions (Linux: SHUT_RD, SHUT_WR, SHUT_RDWR).
const (
	ShutRd   = 0
	ShutWr   = 1
	ShutRdWr = 2
)

// tcpCloseStateLocked moves to the state that follows sending our FIN
// and reports whether a FIN must be sent (Linux: tcp_close_state).
func (s *Sock) tcpCloseStateLocked() bool {
	switch s.state {
	case StateEstablished, StateSynRecv:
		s.setStateLocked(StateFinWait1)
	case StateCloseWait:
		s.setStateLocked(StateLastAck)
	default:
		return false
	}
	return true
}

// tcpSendFinLocked queues our FIN after any queued data and pushes it
// (Linux: tcp_send_fin).
func (s *Sock) tcpSendFinLocked() {
	s.finQueued = true
	s.tcpWriteXmitLocked()
}

// tcpShutdownLocked half-closes the connection (Linux: tcp_shutdown and
// inet_shutdown).
func (s *Sock) tcpShutdownLocked(how int) error {
	if how < ShutRd || how > ShutRdWr {
		return ErrInvalid
	}
	switch s.state {
	case StateClose, StateListen:
		if s.state == StateListen && how != ShutWr {
			s.tcpCloseLocked()
			return nil
		}
		return ErrNotConnected
	case StateSynSent:
		s.tcpDoneLocked()
		return nil
	}
	if how != ShutWr {
		s.rcvShut = true
		s.wakeLocked()
	}
	if how != ShutRd && !s.finQueued && s.tcpCloseStateLocked() {
		s.tcpSendFinLocked()
	}
	return nil
}

// tcpCloseLocked is the user's close (Linux: tcp_close): a listener stops,
// unread data or SO_LINGER 0 aborts with a RST, anything else sends FIN
// and the socket lives on as an orphan until the close handshake ends.
func (s *Sock) tcpCloseLocked() {
	s.orphan = true
	s.rcvShut = true
	// Nobody reads what is queued any more (Linux: tcp_close purges
	// sk_receive_queue first, noting whether it held data).
	unread := s.rcvq.len() > 0
	s.rcvq.purge()
	switch s.state {
	case StateListen:
		s.unhashLocked()
		s.inetCskListenStopLocked()
		s.tcpDoneLocked()
		return
	case StateClose:
		s.done = true
		s.destroyLocked()
		return
	case StateSynSent:
		s.tcpDoneLocked()
		return
	case StateTimeWait:
		return // the TIME_WAIT timer destroys it
	}
	if unread || (s.lingerOn && s.linger == 0) {
		// RFC 9293 §3.10.4 / RFC 2525 §2.17: unread data is lost, say so.
		if unread {
			s.proto.MIB.TCPAbortOnClose.Add(1)
		}
		s.sendResetLocked()
		s.resetLocked(ErrConnReset)
		return
	}
	if !s.finQueued && s.tcpCloseStateLocked() {
		s.tcpSendFinLocked()
	}
	if s.state == StateFinWait2 {
		s.resetKeepaliveLocked(tcpFinTimeout)
	}
}

// tcpAbortLocked sends a RST and drops the connection (Linux: tcp_abort).
func (s *Sock) tcpAbortLocked(err error) {
	if s.state.synchronized() && s.state != StateTimeWait {
		s.sendResetLocked()
	}
	s.resetLocked(err)
}
