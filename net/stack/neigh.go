package stack

import (
	"net/netip"
	"sync"
	"time"

	"gomenuos/net/clock"
	"gomenuos/net/header"
)

// Neighbour (ARP cache) parameters, Linux's defaults for arp_tbl.
const (
	arpRetransTime   = time.Second      // retrans_time_ms: gap between solicitations
	arpMaxProbes     = 3                // mcast_solicit / ucast_solicit
	arpReachableTime = 30 * time.Second // base_reachable_time
	arpGCStaleTime   = 60 * time.Second // gc_stale_time: unused stale entries go
	arpQueueLen      = 16               // unres_qlen: packets waiting per neighbour
	arpMaxEntries    = 1024             // gc_thresh3
	arpLockTime      = time.Second      // locktime: ignore a new MAC this soon after an update
	arpDelayTime     = 5 * time.Second  // delay_first_probe_time
)

// neighState is a Linux NUD state (without NOARP/PERMANENT: devices
// without ARP never reach the table). Reachability is confirmed only by
// ARP replies: the fixed seam carries no confirmation from TCP, so an entry
// in use is re-probed every arpReachableTime + arpDelayTime.
type neighState uint8

const (
	neighIncomplete neighState = iota // NUD_INCOMPLETE: resolving, packets queued
	neighReachable                    // NUD_REACHABLE: confirmed within arpReachableTime
	neighStale                        // NUD_STALE: usable, not recently confirmed
	neighDelay                        // NUD_DELAY: used while stale; probe unless confirmed soon
	neighProbe                        // NUD_PROBE: in use while unicast probes run
)

type neighKey struct {
	ifindex int
	ip      netip.Addr
}

// neighbour is one ARP cache entry (Linux: struct neighbour). All fields
// are guarded by neighTable.mu.
type neighbour struct {
	ifc     *Interface
	ip      netip.Addr
	mac     header.MAC
	state   neighState
	updated time.Time // MAC last set or confirmed
	used    time.Time // last output through the entry
	probes  int
	queue   [][]byte // frames awaiting resolution, link header room in front
	timer   clock.Timer
}

// neighTable is the ARP cache (Linux: arp_tbl). Lock contract: mu guards
// entries and every neighbour in it; no device or transport is called with
// mu held — work found under the lock is returned as a neighWork and done
// after unlocking.
type neighTable struct {
	s       *Stack
	mu      sync.Mutex
	entries map[neighKey]*neighbour
}

func (t *neighTable) init(s *Stack) {
	t.s = s
	t.entries = map[neighKey]*neighbour{}
}

// neighWork is what to do once the table lock is released.
type neighWork struct {
	ifc      *Interface
	solicit  bool       // send an ARP request for ip
	unicast  header.MAC // probe this MAC instead of broadcasting
	ip       netip.Addr
	send     [][]byte // frames now resolved, to transmit
	failed   [][]byte // frames whose resolution failed
	queueErr bool     // the new frame pushed an older one out of the queue
}

func (s *Stack) doNeighWork(w neighWork) {
	if w.solicit {
		s.arpSolicit(w.ifc, w.ip, w.unicast)
	}
	for _, f := range w.send {
		s.devQueueXmit(w.ifc, f)
	}
	for _, f := range w.failed {
		s.drop(DropNeighFailed)
		s.ipv4LinkFailure(f[header.EthernetHeaderLen:])
	}
	if w.queueErr {
		s.drop(DropNeighQueueFull)
	}
}

// neighResolveOutput sends frame (link header room in front, IPv4 after)
// to neighbour ip on ifc, resolving its MAC first if needed (Linux:
// neigh_resolve_output + __neigh_event_send).
func (s *Stack) neighResolveOutput(ifc *Interface, ip netip.Addr, frame []byte) error {
	t := &s.neigh
	t.mu.Lock()
	now := s.clock.Now()
	e := t.entries[neighKey{ifc.index, ip}]
	if e == nil {
		var ok bool
		if e, ok = t.createLocked(ifc, ip, now); !ok {
			t.mu.Unlock()
			s.drop(DropNeighQueueFull)
			return ErrNoBufferSpace
		}
	}
	e.used = now
	var w neighWork
	if e.state == neighIncomplete {
		w = t.enqueueLocked(e, frame)
		t.mu.Unlock()
		s.doNeighWork(w)
		return nil
	}
	mac := e.mac
	if e.state == neighReachable && now.Sub(e.updated) >= arpReachableTime {
		e.state = neighStale
	}
	if e.state == neighStale {
		e.state = neighDelay
		e.timer.Reset(arpDelayTime)
	}
	t.mu.Unlock()
	s.doNeighWork(w)
	header.PutEthernet(frame, mac, ifc.dev.HardwareAddr(), header.EtherTypeIPv4)
	return s.devQueueXmit(ifc, frame)
}

// createLocked adds an INCOMPLETE entry and starts soliciting, evicting an
// unused entry when the table is full (Linux: neigh_alloc + neigh_forced_gc).
func (t *neighTable) createLocked(ifc *Interface, ip netip.Addr, now time.Time) (*neighbour, bool) {
	if len(t.entries) >= arpMaxEntries && !t.forcedGCLocked() {
		return nil, false
	}
	e := &neighbour{ifc: ifc, ip: ip, state: neighIncomplete, used: now}
	t.entries[neighKey{ifc.index, ip}] = e
	e.timer = t.s.clock.AfterFunc(arpRetransTime, func() { t.s.neighTimer(e) })
	return e, true
}

// forcedGCLocked removes one entry that is not resolving.
func (t *neighTable) forcedGCLocked() bool {
	for _, e := range t.entries {
		if e.state == neighStale {
			t.removeLocked(e)
			return true
		}
	}
	return false
}

func (t *neighTable) removeLocked(e *neighbour) {
	e.timer.Stop()
	delete(t.entries, e.key())
}

func (e *neighbour) key() neighKey { return neighKey{e.ifc.index, e.ip} }

// enqueueLocked queues frame on an INCOMPLETE entry, dropping the oldest
// when full as Linux does, and solicits if this is the first packet.
func (t *neighTable) enqueueLocked(e *neighbour, frame []byte) neighWork {
	w := neighWork{ifc: e.ifc, ip: e.ip}
	if len(e.queue) >= arpQueueLen {
		e.queue = e.queue[1:]
		w.queueErr = true
	}
	e.queue = append(e.queue, frame)
	if e.probes == 0 {
		e.probes = 1
		w.solicit = true
	}
	return w
}

// neighTimer advances one entry's state machine (Linux: neigh_timer_handler).
func (s *Stack) neighTimer(e *neighbour) {
	t := &s.neigh
	t.mu.Lock()
	var w neighWork
	if t.entries[e.key()] == e {
		w = t.timerLocked(e, s.clock.Now())
	}
	t.mu.Unlock()
	s.doNeighWork(w)
}

func (t *neighTable) timerLocked(e *neighbour, now time.Time) neighWork {
	w := neighWork{ifc: e.ifc, ip: e.ip}
	switch e.state {
	case neighIncomplete, neighProbe:
		if e.probes >= arpMaxProbes {
			// Linux: NUD_FAILED; queued packets get host unreachable.
			w.failed = e.queue
			t.removeLocked(e)
			break
		}
		e.probes++
		w.solicit = true
		if e.state == neighProbe {
			w.unicast = e.mac
		}
		e.timer.Reset(arpRetransTime)
	case neighDelay:
		// No reply confirmed the entry during the delay: probe it.
		e.state, e.probes = neighProbe, 1
		w.solicit, w.unicast = true, e.mac
		e.timer.Reset(arpRetransTime)
	case neighReachable:
		e.state = neighStale
		e.timer.Reset(arpGCStaleTime)
	case neighStale:
		if idle := now.Sub(e.used); idle < arpGCStaleTime {
			e.timer.Reset(arpGCStaleTime - idle)
			break
		}
		t.removeLocked(e) // Linux: neigh_periodic_work
	}
	return w
}

// neighUpdate records mac for ip on ifc (Linux: neigh_update). confirmed
// marks proof of reachability (a reply to our request); otherwise the entry
// becomes STALE. create says whether a missing entry may be added. Frames
// queued on an INCOMPLETE entry are sent.
func (s *Stack) neighUpdate(ifc *Interface, ip netip.Addr, mac header.MAC, confirmed, create bool) {
	t := &s.neigh
	t.mu.Lock()
	now := s.clock.Now()
	var w neighWork
	if e := t.updatableLocked(ifc, ip, mac, confirmed, create, now); e != nil {
		w = t.setLocked(e, mac, confirmed, now)
	}
	t.mu.Unlock()
	s.doNeighWork(w)
}

// updatableLocked returns the entry an update may change, creating it if
// allowed, or nil when the update must be ignored.
func (t *neighTable) updatableLocked(ifc *Interface, ip netip.Addr, mac header.MAC, confirmed, create bool, now time.Time) *neighbour {
	e := t.entries[neighKey{ifc.index, ip}]
	if e == nil {
		if !create {
			return nil
		}
		e, _ = t.createLocked(ifc, ip, now)
		return e
	}
	if e.state == neighIncomplete {
		return e
	}
	if e.mac != mac && now.Sub(e.updated) < arpLockTime {
		return nil // Linux: locktime guards against ARP flapping between two answers
	}
	if e.mac == mac && !confirmed {
		return nil // Linux: neigh_update keeps the state when nothing new was learned
	}
	return e
}

// setLocked stores the MAC and new state and releases queued frames.
func (t *neighTable) setLocked(e *neighbour, mac header.MAC, confirmed bool, now time.Time) neighWork {
	w := neighWork{ifc: e.ifc, ip: e.ip, send: e.queue}
	e.queue = nil
	e.mac, e.updated, e.probes = mac, now, 0
	e.state = neighStale
	e.timer.Reset(arpGCStaleTime)
	if confirmed {
		e.state = neighReachable
		e.timer.Reset(arpReachableTime)
	}
	for _, f := range w.send {
		header.PutEthernet(f, mac, e.ifc.dev.HardwareAddr(), header.EtherTypeIPv4)
	}
	return w
}
