package stack

import (
	"net/netip"
	"slices"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// limitedBroadcast is 255.255.255.255 (RFC 919).
var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// Interface is one device attached to the stack with its IPv4 addresses
// (Linux: struct net_device + struct in_device). The address list is
// guarded by Stack.mu; Stats are atomic.
type Interface struct {
	index int
	dev   link.Device
	addrs []netip.Prefix
	Stats DevStats
	gro   groState // receive offload within a burst (gro.go)
}

// Index returns the interface index (1 for the first interface added).
func (ifc *Interface) Index() int { return ifc.index }

// Device returns the underlying device.
func (ifc *Interface) Device() link.Device { return ifc.dev }

// AddInterface attaches dev to the stack with the given addresses, adds a
// connected route for each, and starts receiving from it (Linux:
// register_netdevice + inet_insert_ifa + fib_add_ifaddr).
func (s *Stack) AddInterface(dev link.Device, addrs ...netip.Prefix) (*Interface, error) {
	for _, a := range addrs {
		if !a.Addr().Is4() {
			return nil, ErrInvalid
		}
	}
	s.lockChange()
	if s.byDev[dev] != nil {
		s.mu.Unlock()
		return nil, ErrExists
	}
	ifc := &Interface{index: len(s.ifaces) + 1, dev: dev}
	s.ifaces = append(s.ifaces, ifc)
	s.byDev[dev] = ifc
	if b, ok := dev.(link.BacklogDevice); ok {
		s.backlogs = append(s.backlogs[:len(s.backlogs):len(s.backlogs)], b) // DoSoftirq reads the old slice unlocked
	}
	if f, ok := dev.(link.TxFlushDevice); ok {
		s.flushers = append(s.flushers[:len(s.flushers):len(s.flushers)], f) // as backlogs
	}
	s.mu.Unlock()
	for _, a := range addrs {
		if err := s.AddAddress(ifc, a); err != nil {
			return nil, err
		}
	}
	dev.Attach(s)
	return ifc, nil
}

// AddAddress adds an IPv4 address with its prefix to ifc and the
// connected route for its subnet.
func (s *Stack) AddAddress(ifc *Interface, a netip.Prefix) error {
	if !a.Addr().Is4() {
		return ErrInvalid
	}
	s.lockChange()
	defer s.mu.Unlock()
	if slices.Contains(ifc.addrs, a) {
		return ErrExists
	}
	ifc.addrs = append(ifc.addrs, a)
	s.routes.add(route{dst: a.Masked(), ifc: ifc, src: a.Addr(), connected: true})
	return nil
}

// IsLocal reports whether a is an address of this host: one configured on
// an interface, or any address of a loopback interface's subnet (Linux's
// "local 127.0.0.0/8 dev lo" route).
func (s *Stack) IsLocal(a netip.Addr) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.isLocalLocked(a)
}

func (s *Stack) isLocalLocked(a netip.Addr) bool {
	for _, ifc := range s.ifaces {
		for _, p := range ifc.addrs {
			if p.Addr() == a || (ifc.isLoopback() && p.Contains(a)) {
				return true
			}
		}
	}
	return false
}

// IsBroadcast reports whether a is the limited broadcast address or the
// directed broadcast of a subnet on any interface (Linux: inet_addr_type
// returning RTN_BROADCAST). UDP refuses to send there without
// SO_BROADCAST.
func (s *Stack) IsBroadcast(a netip.Addr) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ifc := range s.ifaces {
		if s.isBroadcastLocked(ifc, a) {
			return true
		}
	}
	return false
}

// isBroadcastLocked reports whether a is the limited broadcast address or
// the directed broadcast of one of ifc's subnets.
func (s *Stack) isBroadcastLocked(ifc *Interface, a netip.Addr) bool {
	if a == limitedBroadcast {
		return true
	}
	for _, p := range ifc.addrs {
		if p.Bits() < 31 && p.Contains(a) && a == lastAddr(p) {
			return true
		}
	}
	return false
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (ifc *Interface) isLoopback() bool { return ifc.dev.Features().Has(link.FeatureLoopback) }

// ownsAddrLocked reports whether a is configured on ifc.
func (ifc *Interface) ownsAddrLocked(a netip.Addr) bool {
	for _, p := range ifc.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// primaryAddrLocked returns ifc's first address, or the zero Addr.
func (ifc *Interface) primaryAddrLocked() netip.Addr {
	if len(ifc.addrs) == 0 {
		return netip.Addr{}
	}
	return ifc.addrs[0].Addr()
}

// InterfaceInfo is a snapshot of one interface for ifconfig-style views.
type InterfaceInfo struct {
	Index    int
	Name     string
	MTU      int
	MAC      header.MAC
	Features link.Features
	Addrs    []netip.Prefix
	Stats    DevStatsSnapshot
}

// DevStatsSnapshot is a copy of DevStats.
type DevStatsSnapshot struct {
	RxBytes, RxPackets, RxErrors, RxDropped, RxMulticast uint64
	TxBytes, TxPackets, TxErrors, TxDropped              uint64
}

// Interfaces returns a snapshot of every interface in index order.
func (s *Stack) Interfaces() []InterfaceInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]InterfaceInfo, 0, len(s.ifaces))
	for _, ifc := range s.ifaces {
		out = append(out, InterfaceInfo{Index: ifc.index, Name: ifc.dev.Name(), MTU: ifc.dev.MTU(),
			MAC: ifc.dev.HardwareAddr(), Features: ifc.dev.Features(), Addrs: slices.Clone(ifc.addrs),
			Stats: ifc.Stats.snapshot()})
	}
	return out
}

func (d *DevStats) snapshot() DevStatsSnapshot {
	return DevStatsSnapshot{d.RxBytes.Load(), d.RxPackets.Load(), d.RxErrors.Load(), d.RxDropped.Load(),
		d.RxMulticast.Load(), d.TxBytes.Load(), d.TxPackets.Load(), d.TxErrors.Load(), d.TxDropped.Load()}
}
