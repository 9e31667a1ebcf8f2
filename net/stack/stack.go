// Package stack is the IPv4 layer of gomenuos and the devices under it:
// Ethernet demultiplexing, ARP, IPv4 input and output with fragment
// reassembly, ICMP, a small routing table and the counters Linux shows in
// /proc/net. Transports (TCP, UDP) register with AddTransport and send
// with OutputIPv4 or OutputIPv4Datagram.
//
// The structure follows Linux's net/core and net/ipv4: a device hands a
// frame to netifReceiveSkb, which demultiplexes to arpRcv or ipRcv;
// ipLocalDeliver hands datagrams to the registered transport's Receive
// (Linux: net_protocol.handler). Output goes ipQueueXmit → ipLocalOut →
// ipFinishOutput → neighOutput → devQueueXmit.
//
// Concurrency: received frames are processed on the goroutine of the
// device that delivered them (the loopback backlog goroutine, the clock
// callback of a pipe, a NIC's receive goroutine). No stack lock is held
// while a transport or a device is called, so a transport may send from
// inside Receive, and a device may deliver while another goroutine sends.
package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"gomenuos/net/clock"
	"gomenuos/net/header"
	"gomenuos/net/link"
)

// MaxHeaderRoom is the headroom transports reserve in front of a segment:
// an Ethernet header plus the largest IPv4 header.
const MaxHeaderRoom = header.EthernetHeaderLen + header.IPv4MaxHeaderLen

// DefaultTTL is Linux's net.ipv4.ip_default_ttl.
const DefaultTTL = 64

// PacketInfo is one received IPv4 datagram handed to a transport.
type PacketInfo struct {
	Src, Dst netip.Addr
	TTL, TOS uint8
	// Payload is the transport header and data, IP header stripped. For
	// ReceiveICMPError it is the whole ICMP message (header included, so a
	// transport can read the next-hop MTU of RFC 1191). Valid only during
	// the call: copy what you keep.
	Payload []byte
	IfIndex int
	// ChecksumVerified says the transport checksum needs no check: the
	// device verified it, or the datagram never left this host (Linux:
	// CHECKSUM_UNNECESSARY, which loopback and NICs with RX offload set).
	ChecksumVerified bool
	// Broadcast says Dst is the limited broadcast or a subnet's directed
	// broadcast (Linux: RTCF_BROADCAST on the input route): UDP delivers
	// it to every matching socket and never answers it with an ICMP error.
	Broadcast bool

	ip header.IPv4 // the datagram Payload came from, for ICMP errors about it
}

// TransportProtocol is what TCP and UDP register (Linux: struct
// net_protocol).
type TransportProtocol interface {
	// Protocol returns the IP protocol number (6 = TCP).
	Protocol() uint8
	// Receive handles one datagram addressed to this host (Linux:
	// net_protocol.handler, tcp_v4_rcv). It runs on the receiving device's
	// goroutine.
	Receive(p *PacketInfo)
	// ReceiveICMPError handles an ICMP error about a datagram this host sent
	// (Linux: net_protocol.err_handler, tcp_v4_err). quoted is the offending
	// IP header plus at least 8 bytes of its payload.
	ReceiveICMPError(p *PacketInfo, typ, code uint8, quoted []byte)
}

// Options configures New.
type Options struct {
	// Clock drives ARP, reassembly and ping timers (default clock.Real()).
	Clock clock.Clock
	// IPIDSeed seeds the IPv4 identification counter; tests fix it.
	IPIDSeed uint16
}

// Stack is one instance of the IPv4 layer with its interfaces.
//
// Lock contract: mu guards ifaces, byDev, routes and transports. It is
// never held while calling a device or a transport. neigh, frags and icmp
// have their own locks, always taken after (never while holding) mu's
// callers have released it; none of them nests inside another.
type Stack struct {
	clock      clock.Clock
	defaultTTL uint8

	mu         sync.RWMutex
	ifaces     []*Interface
	byDev      map[link.Device]*Interface
	routes     routeTable
	transports [256]TransportProtocol
	batch      []batcher // the transports among them that batch (link.BatchReceiver)
	backlogs   []link.BacklogDevice
	flushers   []link.TxFlushDevice
	// rtGen counts changes made under mu: a cached route (rtCache) made
	// at another count is stale.
	rtGen   atomic.Uint64
	rtCache atomic.Pointer[rtCacheEntry]

	neigh neighTable
	frags fragTable
	icmp  icmpState

	ipID    atomic.Uint32
	ipMIB   IPMIB
	icmpMIB ICMPMIB
	drops   dropCounters
}

// New returns a stack with no interfaces.
func New(opts Options) *Stack {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	s := &Stack{clock: opts.Clock, defaultTTL: DefaultTTL, byDev: map[link.Device]*Interface{}}
	s.ipID.Store(uint32(opts.IPIDSeed))
	s.neigh.init(s)
	s.frags.init(s)
	s.icmp.init(s)
	return s
}

// AddTransport registers p for its IP protocol number, replacing any
// earlier registration (Linux: inet_add_protocol). ICMP is built in.
func (s *Stack) AddTransport(p TransportProtocol) {
	if p.Protocol() == header.ProtocolICMP {
		return
	}
	s.lockChange()
	s.transports[p.Protocol()] = p
	if b, ok := p.(batcher); ok {
		s.batch = append(s.batch, b)
	}
	s.mu.Unlock()
}

func (s *Stack) transport(proto uint8) TransportProtocol {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.transports[proto]
}

// batcher is a transport that acknowledges once per burst of frames.
type batcher interface {
	BeginBatch()
	EndBatch()
}

// BeginBatch implements link.BatchReceiver: a driver's burst of frames
// begins (Linux: napi_schedule → the poll); dev's frames may be merged
// (GRO) until EndBatch.
func (s *Stack) BeginBatch(dev link.Device) {
	if ifc := s.iface(dev); ifc != nil {
		ifc.groBegin()
	}
	for _, b := range s.batchers() {
		b.BeginBatch()
	}
}

// EndBatch implements link.BatchReceiver: the burst is over (Linux:
// napi_complete → napi_gro_flush): held segments go up, then the
// transports send what waited for the end of the burst.
func (s *Stack) EndBatch(dev link.Device) {
	if ifc := s.iface(dev); ifc != nil {
		s.groEnd(ifc)
	}
	for _, b := range s.batchers() {
		b.EndBatch()
	}
}

func (s *Stack) iface(dev link.Device) *Interface {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byDev[dev]
}

func (s *Stack) batchers() []batcher {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.batch
}

// DeliverFrame is the receive entry point devices call (link.Receiver).
func (s *Stack) DeliverFrame(dev link.Device, frame []byte) {
	s.mu.RLock()
	ifc := s.byDev[dev]
	s.mu.RUnlock()
	if ifc == nil {
		return
	}
	if ifc.gro.active && s.groReceive(ifc, frame) {
		return
	}
	s.netifReceiveSkb(ifc, frame, false)
}

// DoSoftirq delivers the frames waiting in the backlogs of devices such as
// the loopback, on the caller's goroutine (Linux: do_softirq →
// net_rx_action → process_backlog), and has the devices that hold back
// transmit notifications for the caller send them (link.TxFlushDevice).
// The socket layer calls it when a task leaves the network code, after a
// call that sent and before it sleeps; the devices' own goroutines deliver
// whatever no task did.
func (s *Stack) DoSoftirq() {
	s.mu.RLock()
	devs, flushers := s.backlogs, s.flushers
	s.mu.RUnlock()
	for _, d := range devs {
		d.ProcessBacklog()
	}
	for _, d := range flushers {
		d.FlushTx()
	}
}
