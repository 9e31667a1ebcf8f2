package udp

import "time"

// Option names a socket option UDP keeps.
type Option int

const (
	OptReuseAddr Option = iota // SO_REUSEADDR
	OptBroadcast               // SO_BROADCAST
	OptRcvBuf                  // SO_RCVBUF (stored doubled, as Linux does)
	OptSndBuf                  // SO_SNDBUF (stored doubled)
)

// Linux's floors for the doubled buffer sizes (SOCK_MIN_RCVBUF,
// SOCK_MIN_SNDBUF on x86-64).
const (
	minRcvBuf = 2304
	minSndBuf = 4608
)

// SetOption sets an integer option (Linux: sk_setsockopt). Buffer sizes
// are capped at rmem_max / wmem_max, then doubled for bookkeeping
// overhead, as Linux does; a negative size counts as huge.
func (s *Sock) SetOption(o Option, v int) error {
	s.proto.lock()
	defer s.proto.unlock()
	switch o {
	case OptReuseAddr:
		s.reuseAddr = v != 0
	case OptBroadcast:
		s.broadcast = v != 0
	case OptRcvBuf:
		s.rcvBuf = max(2*capped(v, s.proto.cfg.RmemMax), minRcvBuf)
	case OptSndBuf:
		s.sndBuf = max(2*capped(v, s.proto.cfg.WmemMax), minSndBuf)
	default:
		return ErrNoProtoOpt
	}
	return nil
}

// capped is Linux's min_t(u32, v, limit).
func capped(v, limit int) int {
	if v < 0 || v > limit {
		return limit
	}
	return v
}

// GetOption reads an integer option (Linux: sk_getsockopt).
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
	case OptBroadcast:
		return bit(s.broadcast), nil
	case OptRcvBuf:
		return s.rcvBuf, nil
	case OptSndBuf:
		return s.sndBuf, nil
	}
	return 0, ErrNoProtoOpt
}

// SetLinger stores SO_LINGER; UDP has nothing to linger for.
func (s *Sock) SetLinger(on bool, d time.Duration) {
	s.proto.lock()
	s.lingerOn, s.linger = on, d
	s.proto.unlock()
}

// Linger reads SO_LINGER.
func (s *Sock) Linger() (bool, time.Duration) {
	s.proto.lock()
	defer s.proto.unlock()
	return s.lingerOn, s.linger
}
