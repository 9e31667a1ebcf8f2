package link

import (
	"sync"

	"gomenuos/net/header"
)

// LoopbackMTU is Linux's default loopback MTU.
const LoopbackMTU = 65536

// BacklogLen bounds the loopback queue like Linux's netdev_max_backlog.
const BacklogLen = 1000

// Loopback is the "lo" device: Transmit queues the frame on a backlog
// (Linux: loopback_xmit → netif_rx → enqueue_to_backlog), and the backlog
// reaches the receive path in one of two ways, as Linux's per-CPU backlog
// does: the task that sent it processes it when it leaves the network
// code (ProcessBacklog; Linux: do_softirq from local_bh_enable), or the
// device's goroutine does (Linux: ksoftirqd). A transmit never runs the
// receive path on the caller's stack, so no lock of the sender is held
// when a frame arrives.
//
// Lock contract: mu guards rx, closed and the queue; rxMu is held by
// whoever is delivering, so frames reach the stack one at a time and in
// order.
type Loopback struct {
	mu     sync.Mutex
	rx     Receiver
	closed bool
	queue  [][]byte // frames from head on are waiting
	head   int
	kick   chan struct{} // wakes the goroutine; capacity 1
	rxMu   sync.Mutex
	done   chan struct{}
}

// NewLoopback returns a loopback device; its receive goroutine starts on
// Attach and stops on Close.
func NewLoopback() *Loopback {
	return &Loopback{kick: make(chan struct{}, 1), done: make(chan struct{})}
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
	go l.ksoftirqd()
}

// Transmit queues frame for the receive path (Linux: loopback_xmit).
func (l *Loopback) Transmit(frame []byte) error {
	if len(frame) > LoopbackMTU+header.EthernetHeaderLen {
		return ErrTooBig
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if len(l.queue)-l.head >= BacklogLen {
		l.mu.Unlock()
		return ErrQueueFull // Linux: enqueue_to_backlog drops past netdev_max_backlog
	}
	l.queue = append(l.queue, frame)
	select { // under mu: Close closes kick under mu too
	case l.kick <- struct{}{}:
	default: // already kicked
	}
	l.mu.Unlock()
	return nil
}

// ProcessBacklog delivers the queued frames on the caller's goroutine
// unless another goroutine is delivering them already (it then takes the
// caller's too). The socket layer calls it when a task leaves the network
// code — before it sleeps, and after a call that sent — so a loopback
// exchange runs in the tasks that make it instead of waiting for the
// device's goroutine to be scheduled (Linux: do_softirq → net_rx_action →
// process_backlog, run at local_bh_enable).
func (l *Loopback) ProcessBacklog() {
	if !l.rxMu.TryLock() {
		return
	}
	l.processBacklogLocked()
	l.rxMu.Unlock()
}

// processBacklogLocked delivers frames until the queue is empty; rxMu is held.
func (l *Loopback) processBacklogLocked() {
	for {
		l.mu.Lock()
		if l.head == len(l.queue) {
			l.queue, l.head = l.queue[:0], 0
			l.mu.Unlock()
			return
		}
		frame, rx := l.queue[l.head], l.rx
		l.queue[l.head] = nil
		l.head++
		l.mu.Unlock()
		rx.DeliverFrame(l, frame)
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
	close(l.kick)
	l.mu.Unlock()
	if started {
		<-l.done
	}
}

// ksoftirqd is the loopback's goroutine: it delivers whatever the sending
// tasks left queued (Linux: ksoftirqd running process_backlog).
func (l *Loopback) ksoftirqd() {
	defer close(l.done)
	for range l.kick {
		l.rxMu.Lock()
		l.processBacklogLocked()
		l.rxMu.Unlock()
	}
	l.rxMu.Lock()
	l.processBacklogLocked() // what came before Close
	l.rxMu.Unlock()
}
