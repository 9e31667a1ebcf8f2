package udp

import (
	"net/netip"
	"syscall"
	"time"
)

// State is a UDP socket's sk_state. Linux reuses TCP's numbers, and
// /proc/net/udp shows them: 07 unconnected, 01 connected.
type State uint8

const (
	StateEstablished State = 1 // TCP_ESTABLISHED: connected to one peer
	StateClose       State = 7 // TCP_CLOSE: unconnected
)

// Shutdown directions (the how of shutdown(2), plus one, as Linux's
// sk_shutdown bits).
const (
	rcvShutdown  = 1
	sendShutdown = 2
)

// skbOverhead is what a queued datagram is charged on top of its length:
// about what Linux's skb truesize adds to a small datagram (the sk_buff,
// skb_shared_info and headroom), so SO_RCVBUF holds a Linux-like number of
// datagrams and /proc/net/udp's rx_queue reads like Linux's.
const skbOverhead = 768

// maxPayload is the most a datagram can carry: 65535 minus the IPv4 and
// UDP headers (Linux: ip_append_data's EMSGSIZE limit).
const maxPayload = 65535 - 20 - 8

// Sock is one UDP socket (Linux: struct udp_sock with its inet_sock).
// Every field is guarded by proto.mu.
type Sock struct {
	proto *Proto
	state State

	laddr netip.Addr // inet_rcv_saddr: bound or connected local address, invalid = any
	saddr netip.Addr // inet_saddr: source for sending; unset when bound to a broadcast address
	lport uint16     // inet_num; 0 = not bound
	raddr netip.Addr // inet_daddr, valid when connected
	rport uint16     // inet_dport

	hashed       bool // in the table under lport
	bindAddrLock bool // SOCK_BINDADDR_LOCK: the user bound the address
	bindPortLock bool // SOCK_BINDPORT_LOCK: the user bound the port
	reuseAddr    bool // SO_REUSEADDR
	broadcast    bool // SO_BROADCAST
	lingerOn     bool // SO_LINGER is stored but, as on Linux, means nothing to UDP
	linger       time.Duration
	rcvBuf       int // sk_rcvbuf
	sndBuf       int // sk_sndbuf

	rcvQ     []datagram    // sk_receive_queue
	rmem     int           // sk_rmem_alloc: the truesize of rcvQ
	drops    uint32        // sk_drops
	err      syscall.Errno // sk_err: reported once by the next call
	shutdown uint8         // sk_shutdown
	closed   bool

	wake  func()
	inode uint64
	uid   uint32
}

// datagram is one queued datagram and its source.
type datagram struct {
	from     netip.AddrPort
	data     []byte
	truesize int
}

// NewSock returns an unbound, unconnected socket.
func (p *Proto) NewSock() *Sock {
	return &Sock{proto: p, state: StateClose, rcvBuf: p.cfg.RcvBuf, sndBuf: p.cfg.SndBuf}
}

// SetWake sets the function that wakes the socket's sleepers: run after
// data, an error or a shutdown arrives (Linux: sk_data_ready et al.).
func (s *Sock) SetWake(f func()) {
	s.proto.lock()
	s.wake = f
	s.proto.unlock()
}

// SetInode records the socket's inode number and owner for /proc/net/udp.
func (s *Sock) SetInode(ino uint64, uid uint32) {
	s.proto.lock()
	s.inode, s.uid = ino, uid
	s.proto.unlock()
}

// State returns the socket's state.
func (s *Sock) State() State {
	s.proto.lock()
	defer s.proto.unlock()
	return s.state
}

// LocalAddr is getsockname (Linux: inet_getname): the bound address, or
// the source address sends use, and the port; 0.0.0.0:0 before binding.
func (s *Sock) LocalAddr() netip.AddrPort {
	s.proto.lock()
	defer s.proto.unlock()
	a := s.laddr
	if !a.IsValid() {
		a = s.saddr
	}
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a, s.lport)
}

// RemoteAddr is getpeername: ErrNotConnected unless connected.
func (s *Sock) RemoteAddr() (netip.AddrPort, error) {
	s.proto.lock()
	defer s.proto.unlock()
	if s.state != StateEstablished {
		return netip.AddrPort{}, ErrNotConnected
	}
	return netip.AddrPortFrom(s.raddr, s.rport), nil
}

// TakeError returns and clears the pending error (Linux: sock_error, the
// SO_ERROR read): 0 when there is none.
func (s *Sock) TakeError() syscall.Errno {
	s.proto.lock()
	defer s.proto.unlock()
	return s.takeErrorLocked()
}

func (s *Sock) takeErrorLocked() syscall.Errno {
	e := s.err
	s.err = 0
	return e
}

// RcvShutdown reports whether shutdown(SHUT_RD) was called: a blocking
// receive on an empty queue then returns 0 instead of sleeping (Linux:
// __skb_wait_for_more_packets).
func (s *Sock) RcvShutdown() bool {
	s.proto.lock()
	defer s.proto.unlock()
	return s.shutdown&rcvShutdown != 0
}

// PollMask is the readiness a socket reports (EPOLL bits).
type PollMask uint32

const (
	PollIn    PollMask = 0x001
	PollOut   PollMask = 0x004
	PollErr   PollMask = 0x008
	PollHup   PollMask = 0x010
	PollRdHup PollMask = 0x2000
)

// Poll returns the socket's readiness (Linux: udp_poll → datagram_poll):
// readable with a datagram queued or after SHUT_RD, error with a pending
// error, hung up when shut down both ways, and always writable, since
// datagrams leave at once and hold no send buffer.
func (s *Sock) Poll() PollMask {
	s.proto.lock()
	defer s.proto.unlock()
	m := PollOut
	if len(s.rcvQ) > 0 {
		m |= PollIn
	}
	if s.err != 0 {
		m |= PollErr
	}
	if s.shutdown&rcvShutdown != 0 {
		m |= PollIn | PollRdHup
	}
	if s.shutdown == rcvShutdown|sendShutdown {
		m |= PollHup
	}
	return m
}
