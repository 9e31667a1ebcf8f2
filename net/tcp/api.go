package tcp

import (
	"net/netip"
	"time"
)

// The exported methods below are what the socket layer (net/inet) calls.
// Each takes the protocol lock and runs the Linux-named function; none
// blocks: they return ErrWouldBlock / ErrInProgress and the caller waits
// on its wait queue for the wake function set with SetWake.

// Bind binds the socket to a local address (Linux: inet_bind →
// inet_csk_get_port). Port 0 picks an ephemeral port.
func (s *Sock) Bind(a netip.AddrPort) error {
	p := s.proto
	p.lock()
	defer p.unlock()
	if s.state != StateClose || s.bound != nil || s.done {
		return ErrInvalid
	}
	addr := a.Addr()
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	if !addr.Is4() {
		return ErrInvalid
	}
	if !addr.IsUnspecified() && !p.ip.IsLocal(addr) {
		return ErrAddrNotAvail
	}
	return s.inetCskGetPortLocked(addr, a.Port())
}

// Listen makes the socket a listener (Linux: inet_listen →
// inet_csk_listen_start).
func (s *Sock) Listen(backlog int) error {
	s.proto.lock()
	defer s.proto.unlock()
	return s.inetCskListenStartLocked(backlog)
}

// Accept returns the next established child, or ErrWouldBlock (Linux:
// inet_csk_accept without the wait).
func (s *Sock) Accept() (*Sock, error) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.inetCskAcceptLocked()
}

// Connect starts an active open and returns ErrInProgress; ConnectResult
// tells how it ended (Linux: tcp_v4_connect).
func (s *Sock) Connect(dst netip.AddrPort) error {
	s.proto.lock()
	defer s.proto.unlock()
	return s.tcpV4ConnectLocked(dst)
}

// ConnectResult reports whether the handshake is over and its error
// (Linux: the tail of __inet_stream_connect).
func (s *Sock) ConnectResult() (done bool, err error) {
	s.proto.lock()
	defer s.proto.unlock()
	switch s.state {
	case StateSynSent, StateSynRecv:
		return false, nil
	case StateClose:
		if s.tw != nil {
			return true, nil // it connected, and closed through TIME_WAIT
		}
		err := s.err
		if err == nil {
			err = ErrConnRefused
		}
		s.err = nil
		return true, err
	}
	return true, nil
}

// Send queues data and returns how much fit (Linux: tcp_sendmsg).
func (s *Sock) Send(b []byte) (int, error) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.tcpSendmsgLocked(b)
}

// Recv copies received data; 0, nil means end of stream (Linux: tcp_recvmsg).
func (s *Sock) Recv(b []byte, peek bool) (int, error) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.tcpRecvmsgLocked(b, peek)
}

// Shutdown half-closes (Linux: inet_shutdown → tcp_shutdown).
func (s *Sock) Shutdown(how int) error {
	s.proto.lock()
	defer s.proto.unlock()
	return s.tcpShutdownLocked(how)
}

// Close releases the socket (Linux: tcp_close).
func (s *Sock) Close() {
	s.proto.lock()
	defer s.proto.unlock()
	s.tcpCloseLocked()
}

// Abort resets the connection (Linux: tcp_abort).
func (s *Sock) Abort() {
	s.proto.lock()
	defer s.proto.unlock()
	s.tcpAbortLocked(ErrConnReset)
}

// LocalAddr and RemoteAddr are getsockname/getpeername (Linux: inet_getname).
func (s *Sock) LocalAddr() netip.AddrPort {
	s.proto.lock()
	defer s.proto.unlock()
	a := s.laddr
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a, s.lport)
}

// RemoteAddr returns ErrNotConnected unless the socket has a peer.
func (s *Sock) RemoteAddr() (netip.AddrPort, error) {
	s.proto.lock()
	defer s.proto.unlock()
	if !s.raddr.IsValid() || s.state == StateListen || (s.state == StateClose && s.done) || s.state == StateSynSent {
		return netip.AddrPort{}, ErrNotConnected
	}
	return netip.AddrPortFrom(s.raddr, s.rport), nil
}

// PeerAddr is the address the socket is or was connected to, whatever its
// state now: what accept(2) reports even for a connection the peer has
// already reset (Linux: inet_getname with peer == 2, as __sys_accept4
// calls it, skips getpeername's state check).
func (s *Sock) PeerAddr() netip.AddrPort {
	s.proto.lock()
	defer s.proto.unlock()
	return netip.AddrPortFrom(s.raddr, s.rport)
}

// PollMask is the readiness a socket reports (Linux: tcp_poll's EPOLL bits).
type PollMask uint32

const (
	PollIn  PollMask = 0x001
	PollOut PollMask = 0x004
	PollErr PollMask = 0x008
	PollHup PollMask = 0x010
)

// Poll returns the socket's readiness (Linux: tcp_poll).
func (s *Sock) Poll() PollMask {
	s.proto.lock()
	defer s.proto.unlock()
	var m PollMask
	if s.state == StateListen {
		if len(s.listen.acceptQ) > 0 {
			m |= PollIn
		}
		return m
	}
	if s.err != nil {
		m |= PollErr
	}
	if s.state == StateClose || (s.rcvShut && s.finQueued) {
		m |= PollHup // Linux: a closed (or never connected) socket hangs up
	}
	if s.rcvq.len() > 0 || s.finRcvd || s.rcvShut || s.done {
		m |= PollIn
	}
	if s.state.canSendData() && !s.finQueued && s.sndq.len() < s.sndBufSize {
		m |= PollOut
	}
	if s.state == StateClose || s.finQueued {
		m |= PollOut // writes fail at once rather than block
	}
	return m
}

// Option names a socket option TCP implements.
type Option int

const (
	OptReuseAddr Option = iota // SO_REUSEADDR
	OptKeepAlive               // SO_KEEPALIVE
	OptRcvBuf                  // SO_RCVBUF (stored doubled, as Linux does)
	OptSndBuf                  // SO_SNDBUF (stored doubled)
	OptNoDelay                 // TCP_NODELAY
	OptKeepIdle                // TCP_KEEPIDLE, seconds
	OptKeepIntvl               // TCP_KEEPINTVL, seconds
	OptKeepCnt                 // TCP_KEEPCNT
	OptMaxSeg                  // TCP_MAXSEG
)

// SetOption sets an integer option (Linux: sock_setsockopt / do_tcp_setsockopt).
func (s *Sock) SetOption(o Option, v int) error {
	s.proto.lock()
	defer s.proto.unlock()
	b := v != 0
	switch o {
	case OptReuseAddr:
		s.reuseAddr = b
	case OptKeepAlive:
		s.setKeepaliveLocked(b)
	case OptRcvBuf:
		s.rcvBufSize = max(2*v, 2304) // Linux: SOCK_MIN_RCVBUF
		s.rcvBufLocked = true
	case OptSndBuf:
		s.sndBufSize = max(2*v, 4608) // Linux: SOCK_MIN_SNDBUF
		s.sndBufLocked = true
	case OptNoDelay:
		s.noDelay = b
		if b {
			s.tcpWriteXmitLocked() // Linux: tcp_push_pending_frames
		}
	case OptKeepIdle, OptKeepIntvl:
		if v < 1 || v > 32767 {
			return ErrInvalid
		}
		if o == OptKeepIdle {
			s.keepIdle = time.Duration(v) * time.Second
		} else {
			s.keepIntvl = time.Duration(v) * time.Second
		}
	case OptKeepCnt:
		if v < 1 || v > 127 {
			return ErrInvalid
		}
		s.keepCnt = v
	case OptMaxSeg:
		if v < 88 || v > 65535 {
			return ErrInvalid
		}
		s.userMSS = v
	default:
		return ErrNoProtoOpt
	}
	return nil
}

// GetOption reads an integer option (Linux: sock_getsockopt / do_tcp_getsockopt).
func (s *Sock) GetOption(o Option) (int, error) {
	s.proto.lock()
	defer s.proto.unlock()
	bit := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	switch o {
	case OptReuseAddr:
		return bit(s.reuseAddr), nil
	case OptKeepAlive:
		return bit(s.keepOpen), nil
	case OptRcvBuf:
		return s.rcvBufSize, nil
	case OptSndBuf:
		return s.sndBufSize, nil
	case OptNoDelay:
		return bit(s.noDelay), nil
	case OptKeepIdle:
		return int(s.keepIdle / time.Second), nil
	case OptKeepIntvl:
		return int(s.keepIntvl / time.Second), nil
	case OptKeepCnt:
		return s.keepCnt, nil
	case OptMaxSeg:
		if s.sndMSS > 0 {
			return s.sndMSS, nil
		}
		return 536, nil
	}
	return 0, ErrNoProtoOpt
}

// setKeepaliveLocked turns SO_KEEPALIVE on or off (Linux: tcp_set_keepalive).
func (s *Sock) setKeepaliveLocked(on bool) {
	s.keepOpen = on
	if !on {
		s.keepT.stop()
		return
	}
	if s.state == StateEstablished || s.state == StateCloseWait {
		s.lastRecvAt = s.proto.now()
		s.resetKeepaliveLocked(s.keepIdle)
	}
}

// SetCongestion picks the congestion control by name, "reno" or
// "cubic" (Linux: TCP_CONGESTION → tcp_set_congestion_control).
func (s *Sock) SetCongestion(name string) error {
	s.proto.lock()
	defer s.proto.unlock()
	f := s.proto.ccs[name]
	if f == nil {
		return ErrNoEnt
	}
	s.ccName = name
	if s.cc != nil {
		s.cc = f()
	}
	return nil
}

// Congestion returns the congestion control's name.
func (s *Sock) Congestion() string {
	s.proto.lock()
	defer s.proto.unlock()
	if s.cc != nil {
		return s.cc.Name()
	}
	if s.ccName != "" {
		return s.ccName
	}
	return s.proto.newCongestionControl("").Name()
}

// SetLinger sets SO_LINGER.
func (s *Sock) SetLinger(on bool, d time.Duration) {
	s.proto.lock()
	defer s.proto.unlock()
	s.lingerOn, s.linger = on, d
}

// Linger returns SO_LINGER.
func (s *Sock) Linger() (bool, time.Duration) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.lingerOn, s.linger
}

// StreamClosing reports whether our FIN is still unacknowledged
// (FIN_WAIT1, CLOSING, LAST_ACK), what a lingering close waits out
// (Linux: sk_stream_closing).
func (s *Sock) StreamClosing() bool {
	s.proto.lock()
	defer s.proto.unlock()
	switch s.state {
	case StateFinWait1, StateClosing, StateLastAck:
		return true
	}
	return false
}

// TakeError returns and clears the pending error (Linux: SO_ERROR via
// sock_error), falling back to the last soft (ICMP) error.
func (s *Sock) TakeError() error {
	s.proto.lock()
	defer s.proto.unlock()
	err := s.err
	if err == nil {
		err = s.softErr
	}
	s.err, s.softErr = nil, nil
	return err
}

// SendQueued returns the octets queued and not yet acknowledged.
func (s *Sock) SendQueued() int {
	s.proto.lock()
	defer s.proto.unlock()
	return s.sndq.len()
}
