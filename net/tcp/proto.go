// Package tcp is the TCP of gomenuos, shaped after Linux's net/ipv4/tcp*.c:
// the same tables (bind, established, listening hashes), the same
// lightweight request socks for half-open connections, and the same
// functions on the receive path (tcpV4Rcv → tcpV4DoRcv →
// tcpRcvStateProcess / tcpRcvEstablished) and send path (tcpSendmsg →
// tcpWriteXmit → tcpTransmitSkb). The IP layer sits behind the IP
// interface; time comes from an injected clock.Clock.
package tcp

import (
	"net/netip"
	"sync"
	"time"

	"gomenuos/net/clock"
)

// MaxHeaderRoom is the headroom left in front of every segment for the
// link and IPv4 headers (the value of stack.MaxHeaderRoom).
const MaxHeaderRoom = 14 + 60

// IP is what TCP needs from the IPv4 layer; *stack.Stack satisfies it.
type IP interface {
	// OutputIPv4 sends buf[off:], a complete segment; buf passes to the IP layer.
	OutputIPv4(src, dst netip.Addr, proto, tos uint8, buf []byte, off int) error
	// Route returns the source address and path MTU towards dst.
	Route(dst netip.Addr) (src netip.Addr, mtu int, err error)
	IsLocal(a netip.Addr) bool
}

// Config holds the sysctl-like knobs (Linux: net.ipv4.tcp_*).
type Config struct {
	TimeWait       time.Duration // TIME_WAIT length (Linux TCP_TIMEWAIT_LEN, 60 s)
	MaxTimeWait    int           // tcp_max_tw_buckets: more TIME_WAITs are closed at once
	SynRetries     int           // tcp_syn_retries
	SynackRetries  int           // tcp_synack_retries
	Retries2       int           // tcp_retries2
	SynCookies     bool          // tcp_syncookies = 1: cookies when the SYN queue overflows
	Somaxconn      int           // net.core.somaxconn
	RcvBuf, SndBuf int           // initial SO_RCVBUF / SO_SNDBUF (Linux: tcp_rmem[1], tcp_wmem[1])
	RcvBufMax      int           // autotuning's limit (Linux: tcp_rmem[2])
	SndBufMax      int           // autotuning's limit (Linux: tcp_wmem[2])
	KeepIdle       time.Duration // tcp_keepalive_time
	KeepIntvl      time.Duration // tcp_keepalive_intvl
	KeepCnt        int           // tcp_keepalive_probes
	Timestamps     bool          // tcp_timestamps
	SACK           bool          // tcp_sack
	WindowScaling  bool          // tcp_window_scaling
	Congestion     string        // tcp_congestion_control: "cubic" or "reno"
	EphemeralLo    uint16        // ip_local_port_range
	EphemeralHi    uint16
	Seed           *[32]byte // derive the ISN, cookie, timestamp and port keys from this (tests); nil = random
}

// DefaultConfig returns Linux's defaults.
func DefaultConfig() Config {
	return Config{
		TimeWait: 60 * time.Second, MaxTimeWait: 16384, SynRetries: 6, SynackRetries: 5, Retries2: 15,
		SynCookies: true, Somaxconn: 4096, RcvBuf: 256 << 10, SndBuf: 256 << 10,
		RcvBufMax: 6 << 20, SndBufMax: 4 << 20,
		KeepIdle: 2 * time.Hour, KeepIntvl: 75 * time.Second, KeepCnt: 9,
		Timestamps: true, SACK: true, WindowScaling: true, Congestion: "cubic",
		EphemeralLo: 32768, EphemeralHi: 60999,
	}
}

// Proto is one TCP instance: its tables, counters and clock (Linux:
// tcp_prot + tcp_hashinfo + the per-netns sysctls).
//
// Lock contract: mu guards the hash tables and every field of every Sock
// and requestSock of this instance (one lock for the whole protocol; the
// stack is small and this keeps lock order trivial). Segments to send and
// wake-ups are queued under mu and performed by unlock, without mu held,
// so the IP layer and wait queues never run under it.
type Proto struct {
	ip    IP
	clock clock.Clock
	cfg   Config
	start time.Time
	MIB   MIB

	mu        sync.Mutex
	bhash     map[uint16]*bindBucket  // Linux: tcp_hashinfo.bhash
	ehash     map[fourTuple]*Sock     // Linux: tcp_hashinfo.ehash
	lhash     map[uint16][]*Sock      // Linux: tcp_hashinfo.lhash2
	outq      []outSeg                // segments queued under mu
	wakes     []func()                // wake-ups queued under mu
	flushing  bool                    // one goroutine drains outq at a time
	mstamp    time.Time               // the clock, read once per critical section (now)
	mstampOK  bool                    // mstamp was read since mu was taken
	keys      secrets                 // ISN, timestamp, cookie and port keys
	perturb   [portPerturbSize]uint32 // RFC 6056 §3.3.4 table (Linux: table_perturb)
	socks     map[*Sock]struct{}      // every live socket, for /proc/net/tcp
	twCount   int                     // connections in TIME_WAIT
	twhash    map[twKey]*timewaitSock // TIME_WAIT connections (Linux: also in ehash)
	twQueue   []*timewaitSock         // in expiry order (timewait.go)
	twTimer   sockTimer               // fires for twQueue's head
	batch     int                     // depth of BeginBatch calls (batch.go)
	batchAcks []*Sock                 // sockets whose ACK waits for EndBatch
	batchHeld []*Sock                 // sockets holding a received pure ACK (batch.go)
	ccs       map[string]func() CongestionControl

	challengeSecond int64  // the second challengeCount belongs to
	challengeCount  uint32 // challenge ACKs left this second (Linux: tcp_challenge_count)
}

// outSeg is a built segment waiting for unlock to hand it to IP.
type outSeg struct {
	src, dst netip.Addr
	buf      []byte
	gsoMSS   int // > 0: one offloaded segment the device cuts into gsoMSS-byte pieces
}

// gsoIP is the optional part of the IP layer for segmentation offload
// (net/stack implements it).
type gsoIP interface {
	RouteGSO(dst netip.Addr) int
	OutputIPv4GSO(src, dst netip.Addr, tos uint8, buf []byte, off, mss int) error
}

// txAllocIP is the optional part of the IP layer that lends buffers in a
// device's DMA memory (net/stack implements it).
type txAllocIP interface {
	AllocTx(dst netip.Addr, n int) []byte
	ReleaseTx(b []byte)
}

// allocTx returns a buffer of n bytes for a segment towards dst: one the
// device lends when it does, else a new one.
func (p *Proto) allocTx(dst netip.Addr, n int) []byte {
	if a, ok := p.ip.(txAllocIP); ok {
		if b := a.AllocTx(dst, n); b != nil {
			return b
		}
	}
	return make([]byte, n)
}

// releaseTx gives back a lent buffer whose segment was not sent as is.
func (p *Proto) releaseTx(b []byte) {
	if a, ok := p.ip.(txAllocIP); ok {
		a.ReleaseTx(b)
	}
}

// routeGSO is how much payload one segment towards dst may carry when the
// device segments it (Linux: sk_setup_caps → sk_gso_max_size), 0 without.
func (p *Proto) routeGSO(dst netip.Addr) int {
	if g, ok := p.ip.(gsoIP); ok {
		return g.RouteGSO(dst)
	}
	return 0
}

// New returns a TCP instance sending through ip and timing with clk.
func New(ip IP, clk clock.Clock, cfg Config) *Proto {
	p := &Proto{ip: ip, clock: clk, cfg: cfg, start: clk.Now(),
		bhash: map[uint16]*bindBucket{}, ehash: map[fourTuple]*Sock{},
		lhash: map[uint16][]*Sock{}, socks: map[*Sock]struct{}{}, twhash: map[twKey]*timewaitSock{}}
	p.keys = newSecrets(cfg.Seed)
	p.ccs = map[string]func() CongestionControl{
		"reno":  func() CongestionControl { return &reno{} },
		"cubic": func() CongestionControl { return &cubic{} },
	}
	return p
}

// Protocol returns TCP's IP protocol number.
func (p *Proto) Protocol() uint8 { return 6 }

// Config returns the instance's configuration.
func (p *Proto) Config() Config { return p.cfg }

func (p *Proto) lock() {
	p.mu.Lock()
	p.mstampOK = false
}

// unlock releases mu, then sends queued segments and runs queued wake-ups.
// A single goroutine drains at a time so segments leave in queue order; a
// re-entrant call (IP delivering to us synchronously) just queues.
func (p *Proto) unlock() {
	p.mstampOK = false
	if p.flushing {
		p.mu.Unlock()
		return
	}
	p.flushing = true
	for len(p.outq) > 0 || len(p.wakes) > 0 {
		out, wakes := p.outq, p.wakes
		p.outq, p.wakes = nil, nil
		p.mu.Unlock()
		for _, o := range out {
			p.output(o)
		}
		for _, w := range wakes {
			w()
		}
		clear(out)
		clear(wakes)
		p.mu.Lock()
		// Reuse the drained slices when nothing new was queued meanwhile.
		if p.outq == nil {
			p.outq = out[:0]
		}
		if p.wakes == nil {
			p.wakes = wakes[:0]
		}
	}
	p.flushing = false
	p.mu.Unlock()
}

// output hands one queued segment to IP. An offloaded segment the path
// cannot take after all (the neighbour went stale) is cut here instead
// (Linux: the software fallback of GSO, tcp_gso_segment).
func (p *Proto) output(o outSeg) {
	if o.gsoMSS == 0 {
		_ = p.ip.OutputIPv4(o.src, o.dst, 6, 0, o.buf, MaxHeaderRoom)
		return
	}
	g := p.ip.(gsoIP)
	if g.OutputIPv4GSO(o.src, o.dst, 0, o.buf, MaxHeaderRoom, o.gsoMSS) == nil {
		return
	}
	for _, seg := range softwareSegment(o.buf[MaxHeaderRoom:], o.src, o.dst, o.gsoMSS) {
		_ = p.ip.OutputIPv4(o.src, o.dst, 6, 0, seg, MaxHeaderRoom)
	}
	p.releaseTx(o.buf)
}

// tcpTimeStamp returns the TSval clock: milliseconds since the instance
// started (Linux: tcp_time_stamp_ms).
func (p *Proto) tcpTimeStamp() uint32 {
	return uint32(p.now().Sub(p.start) / time.Millisecond)
}

// now is the time of the current critical section: the clock is read the
// first time it is asked for after mu was taken, and that reading serves
// the rest of the section (Linux reads its clock once per segment or
// send into tp->tcp_mstamp, tcp_mstamp_refresh, for the same reason: a
// segment's RTT sample, timestamps, RACK times and timers all agree, and
// the clock, a vDSO call per read here, is read about a tenth as often).
func (p *Proto) now() time.Time {
	if !p.mstampOK {
		p.mstamp, p.mstampOK = p.clock.Now(), true
	}
	return p.mstamp
}
