package inet

import (
	"time"

	"gomenuos/net/tcp"
)

// Option levels and names (Linux values from asm-generic/socket.h and
// linux/tcp.h).
const (
	SolSocket = 1
	SolTCP    = 6

	SoReuseAddr = 2
	SoError     = 4
	SoBroadcast = 6
	SoKeepAlive = 9
	SoSndBuf    = 7
	SoRcvBuf    = 8
	SoLinger    = 13
	SoRcvTimeo  = 20
	SoSndTimeo  = 21

	TCPNoDelay    = 1
	TCPMaxSeg     = 2
	TCPKeepIdle   = 4
	TCPKeepIntvl  = 5
	TCPKeepCnt    = 6
	TCPCongestion = 13
)

var intOptions = map[[2]int]tcp.Option{
	{SolSocket, SoReuseAddr}: tcp.OptReuseAddr,
	{SolSocket, SoKeepAlive}: tcp.OptKeepAlive,
	{SolSocket, SoSndBuf}:    tcp.OptSndBuf,
	{SolSocket, SoRcvBuf}:    tcp.OptRcvBuf,
	{SolTCP, TCPNoDelay}:     tcp.OptNoDelay,
	{SolTCP, TCPMaxSeg}:      tcp.OptMaxSeg,
	{SolTCP, TCPKeepIdle}:    tcp.OptKeepIdle,
	{SolTCP, TCPKeepIntvl}:   tcp.OptKeepIntvl,
	{SolTCP, TCPKeepCnt}:     tcp.OptKeepCnt,
}

// SetSockOpt sets an integer option (Linux: sock_setsockopt and the
// protocol's setsockopt).
func (s *Socket) SetSockOpt(level, name, v int) error { return s.ops.setsockopt(s, level, name, v) }

// GetSockOpt reads an integer option; SO_ERROR returns and clears the
// pending error as an errno.
func (s *Socket) GetSockOpt(level, name int) (int, error) { return s.ops.getsockopt(s, level, name) }

// tcpSetsockopt: Linux sock_setsockopt / tcp_setsockopt.
func (s *Socket) tcpSetsockopt(level, name, v int) error {
	o, ok := intOptions[[2]int{level, name}]
	if !ok {
		return tcp.ErrNoProtoOpt
	}
	return s.sk.SetOption(o, v)
}

// tcpGetsockopt: Linux sock_getsockopt / tcp_getsockopt.
func (s *Socket) tcpGetsockopt(level, name int) (int, error) {
	if level == SolSocket && name == SoError {
		if err := s.sk.TakeError(); err != nil {
			return int(Errno(err)), nil
		}
		return 0, nil
	}
	o, ok := intOptions[[2]int{level, name}]
	if !ok {
		return 0, tcp.ErrNoProtoOpt
	}
	return s.sk.GetOption(o)
}

// SetSockOptString sets a string option: TCP_CONGESTION.
func (s *Socket) SetSockOptString(level, name int, v string) error {
	if level != SolTCP || name != TCPCongestion || s.sk == nil {
		return tcp.ErrNoProtoOpt
	}
	return s.sk.SetCongestion(v)
}

// GetSockOptString reads a string option: TCP_CONGESTION.
func (s *Socket) GetSockOptString(level, name int) (string, error) {
	if level != SolTCP || name != TCPCongestion || s.sk == nil {
		return "", tcp.ErrNoProtoOpt
	}
	return s.sk.Congestion(), nil
}

// SetLinger sets SO_LINGER (struct linger's l_onoff and l_linger); a
// datagram socket keeps it without effect, as Linux's does.
func (s *Socket) SetLinger(on bool, d time.Duration) { s.prot.SetLinger(on, d) }

// GetLinger reads SO_LINGER.
func (s *Socket) GetLinger() (bool, time.Duration) { return s.prot.Linger() }

// SetTimeout sets SO_RCVTIMEO or SO_SNDTIMEO; 0 waits forever.
func (s *Socket) SetTimeout(name int, d time.Duration) error {
	switch name {
	case SoRcvTimeo:
		s.rcvTimeo.Store(int64(d))
	case SoSndTimeo:
		s.sndTimeo.Store(int64(d))
	default:
		return tcp.ErrNoProtoOpt
	}
	return nil
}

// GetTimeout reads SO_RCVTIMEO or SO_SNDTIMEO.
func (s *Socket) GetTimeout(name int) (time.Duration, error) {
	switch name {
	case SoRcvTimeo:
		return time.Duration(s.rcvTimeo.Load()), nil
	case SoSndTimeo:
		return time.Duration(s.sndTimeo.Load()), nil
	}
	return 0, tcp.ErrNoProtoOpt
}
