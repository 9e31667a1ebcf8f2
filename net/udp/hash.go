package udp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"
)

// udpV4GetPortLocked gives s local port port, 0 meaning an ephemeral
// one, and hashes it in the table; s.laddr is already the address to
// bind (Linux: udp_v4_get_port → udp_lib_get_port).
func (s *Sock) udpV4GetPortLocked(port uint16) error {
	p := s.proto
	if port == 0 {
		var ok bool
		if port, ok = p.pickEphemeralLocked(); !ok {
			return ErrAddrInUse
		}
	} else if s.udpLibLportInuseLocked(port) {
		return ErrAddrInUse
	}
	s.lport = port
	p.table[port] = append([]*Sock{s}, p.table[port]...)
	s.hashed = true
	return nil
}

// udpLibLportInuseLocked reports whether another socket holds port on an
// overlapping address, unless both set SO_REUSEADDR (Linux:
// udp_lib_lport_inuse with inet_rcv_saddr_equal matching wildcards).
// Unlike TCP there is no listener exception: two UDP sockets with
// SO_REUSEADDR may share an address and port outright.
func (s *Sock) udpLibLportInuseLocked(port uint16) bool {
	for _, o := range s.proto.table[port] {
		if o != s && !(o.reuseAddr && s.reuseAddr) && addrsOverlap(o.laddr, s.laddr) {
			return true
		}
	}
	return false
}

// addrsOverlap is inet_rcv_saddr_equal with wildcards matching anything.
func addrsOverlap(a, b netip.Addr) bool {
	return !a.IsValid() || !b.IsValid() || a.IsUnspecified() || b.IsUnspecified() || a == b
}

// pickEphemeralLocked returns a port of the ephemeral range that no
// socket holds, on any address (Linux: udp_lib_get_port with snum 0, whose
// bitmap skips every port in use). The walk starts at a fresh random
// offset each time — RFC 6056 §3.3.2, algorithm 2, as Linux's
// get_random_u32 start — drawn from a keyed hash of a counter, so that
// ports cannot be predicted without the key yet replay from a test seed.
func (p *Proto) pickEphemeralLocked() (uint16, bool) {
	lo, hi := int(p.cfg.EphemeralLo), int(p.cfg.EphemeralHi)
	n := hi - lo + 1
	if n <= 0 {
		return 0, false
	}
	p.nextPort++
	off := int(p.portDraw(p.nextPort) % uint64(n))
	for i := range n {
		port := uint16(lo + (off+i)%n)
		if len(p.table[port]) == 0 {
			return port, true
		}
	}
	return 0, false
}

// portDraw is HMAC-SHA256 of counter under the instance's port key.
func (p *Proto) portDraw(counter uint64) uint64 {
	m := hmac.New(sha256.New, p.portKey[:])
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], counter)
	m.Write(b[:])
	return binary.BigEndian.Uint64(m.Sum(nil))
}

// udpLibUnhashLocked takes s out of the table and frees its port (Linux:
// udp_lib_unhash).
func (s *Sock) udpLibUnhashLocked() {
	if !s.hashed {
		return
	}
	p := s.proto
	chain := slices.DeleteFunc(p.table[s.lport], func(o *Sock) bool { return o == s })
	if len(chain) == 0 {
		delete(p.table, s.lport)
	} else {
		p.table[s.lport] = chain
	}
	s.hashed = false
}

// udpV4RehashLocked moves s to the front of its port's chain after its
// address changed on connect, as Linux's udp_lib_rehash re-adds it at the
// head of its new address slot: of equally good matches the most
// recently (re)hashed socket receives.
func (s *Sock) udpV4RehashLocked() {
	if !s.hashed {
		return
	}
	s.udpLibUnhashLocked()
	p := s.proto
	p.table[s.lport] = append([]*Sock{s}, p.table[s.lport]...)
	s.hashed = true
}
