package link

import (
	"sync"

	"gomenuos/net/header"
)

// LoopbackMTU is Linux's default loopback MTU.
const LoopbackMTU = 65536

// BacklogLen bounds the loopback queue like Linux's netdev_max_backlog.
const BacklogLen = 1000

// Loopback is the "lo" device: Transmit queues the frame on a backlog and
// a goroutine feeds the backlog to the receive path, like Linux's
// loopback_xmit → netif_rx → the per-CPU backlog drained by NET_RX softirq.
// A transmit never runs the receive path on the caller's stack.
//
// Lock contract: mu guards rx and closed; the backlog channel itself is
// only sent to while mu is held, so Close can close it safely.
type Loopback struct {
	mu      sync.Mutex
	rx      Receiver
	closed  bool
	backlog chan []byte
	done    chan struct{}
}

// NewLoopback returns a loopback device; its receive goroutine starts on
// Attach and stops on Close.
func NewLoopback() *Loopback {
	return &Loopback{backlog: make(chan []byte, BacklogLen), done: make(chan struct{})}
}

// Name returns "lo".
func (l *Loopback) Name() string { return "lo" }

// MTU returns LoopbackMTU.
func (l *Loopback) MTU() int { return LoopbackMTU }

// HardwareAddr returns the zero address, as Linux's lo has.
func (l *Loopback) HardwareAddr() header.MAC { return header.MAC{} }

// Features marks the device as loopback without ARP.
func (l *Loopback) Features() Features { return FeatureLoopback | FeatureNoARP }

// Attach sets the receiver and starts the backlog goroutine.
func (l *Loopback) Attach(r Receiver) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rx != nil || l.closed {
		return
	}
	l.rx = r
	go l.processBacklog(r)
}

// Transmit queues frame for the receive path (Linux: loopback_xmit).
func (l *Loopback) Transmit(frame []byte) error {
	if len(frame) > LoopbackMTU+header.EthernetHeaderLen {
		return ErrTooBig
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.backlog <- frame:
		return nil
	default:
		return ErrQueueFull // Linux: enqueue_to_backlog drops past netdev_max_backlog
	}
}

// Close stops the receive goroutine after it has drained what was queued,
// and waits for it.
func (l *Loopback) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	started := l.rx != nil
	close(l.backlog)
	l.mu.Unlock()
	if started {
		<-l.done
	}
}

// processBacklog is the loopback's bottom half (Linux: process_backlog).
func (l *Loopback) processBacklog(r Receiver) {
	defer close(l.done)
	for frame := range l.backlog {
		r.DeliverFrame(l, frame)
	}
}
