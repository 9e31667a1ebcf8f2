package stack

import (
	"net/netip"
	"time"
)

// route is one entry of the routing table (Linux: struct fib_info +
// fib_nh). A connected route reaches dst directly; otherwise via gw.
type route struct {
	dst       netip.Prefix
	gw        netip.Addr
	ifc       *Interface
	src       netip.Addr
	connected bool
}

// routeTable is a longest-prefix-match list; the table of a host with one
// or two interfaces is a handful of entries. Guarded by Stack.mu.
type routeTable struct {
	routes []route
	pmtu   map[netip.Addr]pmtuEntry
}

// pmtuEntry is a path MTU learned from ICMP fragmentation needed (RFC
// 1191), forgotten after pmtuExpires like Linux's ip_rt_mtu_expires.
type pmtuEntry struct {
	mtu     int
	expires time.Time
}

const (
	pmtuExpires = 10 * time.Minute
	minPMTU     = 552 // Linux: ip_rt_min_pmtu
	// maxPMTUEntries bounds the cache against floods of forged ICMP.
	maxPMTUEntries = 256
)

func (t *routeTable) add(r route) { t.routes = append(t.routes, r) }

// lookup returns the most specific route containing dst.
func (t *routeTable) lookup(dst netip.Addr) (route, bool) {
	best, found := route{}, false
	for _, r := range t.routes {
		if r.dst.Contains(dst) && (!found || r.dst.Bits() > best.dst.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

// nextHop is the result of an output route lookup (Linux: struct rtable):
// the interface, the neighbour to resolve, the source address and the MTU.
type nextHop struct {
	ifc      *Interface
	neighbor netip.Addr
	src      netip.Addr
	mtu      int
}

// AddRoute adds a route to dst through gateway gw, which must lie in a
// connected subnet (Linux: ip route add dst via gw).
func (s *Stack) AddRoute(dst netip.Prefix, gw netip.Addr) error {
	if !dst.Addr().Is4() || !gw.Is4() {
		return ErrInvalid
	}
	s.lockChange()
	defer s.mu.Unlock()
	via, ok := s.routes.lookup(gw)
	if !ok || !via.connected {
		return ErrNoRoute
	}
	s.routes.add(route{dst: dst.Masked(), gw: gw, ifc: via.ifc, src: via.src})
	return nil
}

// SetDefaultGateway adds the default route 0.0.0.0/0 via gw.
func (s *Stack) SetDefaultGateway(gw netip.Addr) error {
	return s.AddRoute(netip.PrefixFrom(netip.IPv4Unspecified(), 0), gw)
}

// Route picks the source address and path MTU for dst (Linux:
// ip_route_output_key). Errors: ErrNoRoute.
func (s *Stack) Route(dst netip.Addr) (src netip.Addr, mtu int, err error) {
	nh, err := s.routeOutput(dst)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	return nh.src, nh.mtu, nil
}

// lockChange takes mu to change what it guards, which makes any cached
// route stale (rtGen). Every writer takes mu this way.
func (s *Stack) lockChange() {
	s.mu.Lock()
	s.rtGen.Add(1)
}

// rtCacheEntry is the last route routeOutput resolved, kept while nothing
// under mu changed (gen) and any path MTU it took is current (until).
type rtCacheEntry struct {
	gen   uint64
	dst   netip.Addr
	nh    nextHop
	until time.Time // the expiry of the path MTU in nh (zero: none)
}

// routeOutput resolves dst to a next hop (Linux: ip_route_output_key_hash).
// Local destinations go through the loopback device, as Linux's local
// table sends them to lo. The last answer is cached: a connection sends
// every segment to one destination, and the lookup walks the interfaces'
// addresses and the route table (Linux keeps the route in the socket
// instead, sk_dst_cache, checked against a generation count the same way).
func (s *Stack) routeOutput(dst netip.Addr) (nextHop, error) {
	if e := s.rtCache.Load(); e != nil && e.dst == dst && e.gen == s.rtGen.Load() &&
		(e.until.IsZero() || s.clock.Now().Before(e.until)) {
		return e.nh, nil
	}
	if !dst.Is4() {
		return nextHop{}, ErrNoRoute
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	nh, until, err := s.routeOutputLocked(dst)
	if err == nil {
		s.rtCache.Store(&rtCacheEntry{gen: s.rtGen.Load(), dst: dst, nh: nh, until: until})
	}
	return nh, err
}

// routeOutputLocked is routeOutput's lookup; until is the expiry of the
// path MTU it applied (zero: none).
func (s *Stack) routeOutputLocked(dst netip.Addr) (nh nextHop, until time.Time, err error) {
	if s.isLocalLocked(dst) {
		nh, err = s.localRouteLocked(dst)
		return nh, until, err
	}
	r, ok := s.routes.lookup(dst)
	if !ok {
		return nextHop{}, until, ErrNoRoute
	}
	nh = nextHop{ifc: r.ifc, neighbor: dst, src: r.src, mtu: r.ifc.dev.MTU()}
	// The limited broadcast leaves on the route's device as a broadcast,
	// never to the gateway (Linux: __mkroute_output makes it RTN_BROADCAST).
	if !r.connected && dst != limitedBroadcast {
		nh.neighbor = r.gw
	}
	if e, ok := s.routes.pmtu[dst]; ok && e.mtu < nh.mtu && s.clock.Now().Before(e.expires) {
		nh.mtu, until = e.mtu, e.expires
	}
	return nh, until, nil
}

func (s *Stack) localRouteLocked(dst netip.Addr) (nextHop, error) {
	for _, ifc := range s.ifaces {
		if !ifc.isLoopback() {
			continue
		}
		src := dst
		if !s.ownsAddrAnyLocked(dst) {
			src = ifc.primaryAddrLocked()
		}
		return nextHop{ifc: ifc, neighbor: dst, src: src, mtu: ifc.dev.MTU()}, nil
	}
	return nextHop{}, ErrNoRoute
}

func (s *Stack) ownsAddrAnyLocked(a netip.Addr) bool {
	for _, ifc := range s.ifaces {
		if ifc.ownsAddrLocked(a) {
			return true
		}
	}
	return false
}

// updatePMTU records a smaller path MTU for dst (RFC 1191 §6.1; Linux:
// __ip_rt_update_pmtu). Values below minPMTU are raised to it, as Linux
// does, so a forged ICMP cannot shrink segments to nothing.
func (s *Stack) updatePMTU(dst netip.Addr, mtu int) {
	mtu = max(mtu, minPMTU)
	s.lockChange()
	defer s.mu.Unlock()
	if s.routes.pmtu == nil {
		s.routes.pmtu = map[netip.Addr]pmtuEntry{}
	}
	if len(s.routes.pmtu) >= maxPMTUEntries {
		s.routes.prunePMTU(s.clock.Now())
	}
	s.routes.pmtu[dst] = pmtuEntry{mtu: mtu, expires: s.clock.Now().Add(pmtuExpires)}
}

// prunePMTU drops expired entries, and an arbitrary one if none expired.
func (t *routeTable) prunePMTU(now time.Time) {
	for a, e := range t.pmtu {
		if !now.Before(e.expires) {
			delete(t.pmtu, a)
		}
	}
	for a := range t.pmtu {
		if len(t.pmtu) < maxPMTUEntries {
			break
		}
		delete(t.pmtu, a)
	}
}
