// Package udp is the UDP of gomenuos (RFC 768), shaped after Linux's
// net/ipv4/udp.c: one table of sockets by local port (udp_table), the
// receive path udpRcv → udp4LibRcv → udp4LibLookup → udpQueueRcvSkb into
// the socket's receive queue, ICMP errors through udp4LibErr, and
// udpSendmsg / udpRecvmsg for the socket layer. It registers with the IPv4
// layer as protocol 17 (Proto implements stack.TransportProtocol).
//
// Nothing here blocks: Sendmsg never waits (a datagram goes to IP at once)
// and Recvmsg returns ErrWouldBlock on an empty queue; the socket layer
// (net/inet) sleeps on its wait queue, which SetWake connects.
package udp

import (
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"sync"

	"gomenuos/net/stack"
)

// IP is what UDP needs from the IPv4 layer; *stack.Stack satisfies it.
type IP interface {
	// OutputIPv4Datagram sends buf[off:], a complete datagram, fragmenting
	// it past the path MTU; buf passes to the IP layer.
	OutputIPv4Datagram(src, dst netip.Addr, proto, tos uint8, buf []byte, off int) error
	// Route returns the source address and path MTU towards dst.
	Route(dst netip.Addr) (src netip.Addr, mtu int, err error)
	IsLocal(a netip.Addr) bool
	IsBroadcast(a netip.Addr) bool
	// SendICMPUnreachable answers the datagram p came in with an ICMP
	// destination unreachable of the given code, within ICMP's rate limits.
	SendICMPUnreachable(p *stack.PacketInfo, code uint8)
}

// Config holds the sysctl-like knobs.
type Config struct {
	RcvBuf, SndBuf   int    // net.core.rmem_default / wmem_default: SO_RCVBUF / SO_SNDBUF of a new socket
	RmemMax, WmemMax int    // net.core.rmem_max / wmem_max: the most SO_RCVBUF / SO_SNDBUF may ask for
	EphemeralLo      uint16 // net.ipv4.ip_local_port_range, shared with TCP
	EphemeralHi      uint16
	Seed             *[32]byte // derive the port key from this (tests); nil = random
}

// DefaultConfig returns Linux's defaults.
func DefaultConfig() Config {
	return Config{RcvBuf: 212992, SndBuf: 212992, RmemMax: 212992, WmemMax: 212992,
		EphemeralLo: 32768, EphemeralHi: 60999}
}

// Proto is one UDP instance (Linux: udp_prot + udp_table + the UDP MIB).
//
// Lock contract: mu guards table, nextPort and every field of every Sock
// of this instance (one lock, as in net/tcp). Wake-ups are queued under mu
// and run by unlock after it is released; datagrams and ICMP errors are
// handed to IP without mu held.
type Proto struct {
	ip  IP
	cfg Config
	MIB MIB

	mu       sync.Mutex
	table    map[uint16][]*Sock // udp_table: port → sockets, most recently hashed first
	portKey  [32]byte           // key of the ephemeral port draws
	nextPort uint64             // counter the port draws hash
	wakes    []func()           // wake-ups queued under mu
}

// New returns a UDP instance sending through ip.
func New(ip IP, cfg Config) *Proto {
	p := &Proto{ip: ip, cfg: cfg, table: map[uint16][]*Sock{}}
	if cfg.Seed == nil {
		_, _ = rand.Read(p.portKey[:])
	} else {
		p.portKey = sha256.Sum256(append([]byte("udp port key"), cfg.Seed[:]...))
	}
	return p
}

// Protocol returns UDP's IP protocol number.
func (p *Proto) Protocol() uint8 { return 17 }

// Config returns the instance's configuration.
func (p *Proto) Config() Config { return p.cfg }

func (p *Proto) lock() { p.mu.Lock() }

// unlock releases mu, then runs the wake-ups queued under it.
func (p *Proto) unlock() {
	wakes := p.wakes
	p.wakes = nil
	p.mu.Unlock()
	for _, w := range wakes {
		w()
	}
}

// wakeLocked queues s's wake-up (Linux: sk_data_ready, sk_error_report,
// sk_state_change all wake the socket's wait queue).
func (s *Sock) wakeLocked() {
	if s.wake != nil {
		s.proto.wakes = append(s.proto.wakes, s.wake)
	}
}
