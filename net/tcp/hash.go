package tcp

import "net/netip"

// bindBucket is every socket and TIME_WAIT holding one local port (Linux:
// inet_bind_bucket in tcp_hashinfo.bhash, whose owners list holds both).
type bindBucket struct {
	port   uint16
	owners map[*Sock]struct{} // a set; nil while only TIME_WAITs hold the port
	tws    []*timewaitSock    // each knows its index (bindIdx)
}

func newBindBucket(port uint16) *bindBucket { return &bindBucket{port: port} }

// addOwner makes s an owner of b.
func (b *bindBucket) addOwner(s *Sock) {
	if b.owners == nil {
		b.owners = map[*Sock]struct{}{}
	}
	b.owners[s] = struct{}{}
}

func (b *bindBucket) empty() bool { return len(b.owners) == 0 && len(b.tws) == 0 }

// dropEmptyBucketLocked forgets b once nobody holds its port, and its
// owner set once only TIME_WAITs do (a map never shrinks: a client's
// port in TIME_WAIT would otherwise keep one).
func (p *Proto) dropEmptyBucketLocked(b *bindBucket) {
	if len(b.owners) == 0 {
		b.owners = nil
	}
	if b.empty() && p.bhash[b.port] == b {
		delete(p.bhash, b.port)
	}
}

// bindConflictLocked reports whether s may not share b's port (Linux:
// inet_csk_bind_conflict). Two sockets conflict when their local addresses
// overlap, unless both set SO_REUSEADDR and the other is not listening.
// A TIME_WAIT socket yields to any SO_REUSEADDR binder, the case the
// option exists for (Linux reaches the same through tw_reuse inherited
// from the server socket that set it).
func (s *Sock) bindConflictLocked(b *bindBucket, addr netip.Addr) bool {
	for o := range b.owners {
		if o != s && s.conflictsWithLocked(o, addr) {
			return true
		}
	}
	for _, tw := range b.tws {
		if !s.reuseAddr && addrsOverlap(addr, tw.laddr()) {
			return true
		}
	}
	return false
}

// addrsOverlap reports whether two local addresses of one port collide:
// equal, or either the wildcard.
func addrsOverlap(a, b netip.Addr) bool {
	return !a.IsValid() || a.IsUnspecified() || !b.IsValid() || b.IsUnspecified() || a == b
}

// conflictsWithLocked is the per-owner test of bindConflictLocked.
func (s *Sock) conflictsWithLocked(o *Sock, addr netip.Addr) bool {
	if !addrsOverlap(addr, o.laddr) {
		return false
	}
	return !(s.reuseAddr && o.reuseAddr && o.state != StateListen)
}

// inetCskGetPort binds s to port (0: pick an ephemeral port at random)
// on addr (Linux: inet_csk_get_port).
func (s *Sock) inetCskGetPortLocked(addr netip.Addr, port uint16) error {
	p := s.proto
	if port == 0 {
		var ok bool
		if port, ok = p.pickEphemeralLocked(); !ok {
			return ErrAddrInUse
		}
	}
	b := p.bhash[port]
	if b == nil {
		b = newBindBucket(port)
		p.bhash[port] = b
	} else if s.bindConflictLocked(b, addr) {
		return ErrAddrInUse
	}
	b.addOwner(s)
	s.bound, s.laddr, s.lport = b, addr, port
	return nil
}

// pickEphemeralLocked walks the ephemeral range from a random offset for
// a port nobody holds, for bind() to port 0 (Linux:
// inet_csk_find_open_port, which also starts at get_random_u32).
func (p *Proto) pickEphemeralLocked() (uint16, bool) {
	lo, hi := int(p.cfg.EphemeralLo), int(p.cfg.EphemeralHi)
	n := hi - lo + 1
	off := int(randUint32() % uint32(n))
	for i := range n {
		port := uint16(lo + (off+i)%n)
		if b := p.bhash[port]; b == nil || b.empty() {
			return port, true
		}
	}
	return 0, false
}

// portPerturbSize is the length of RFC 6056 algorithm 4's table.
const portPerturbSize = 256

// inetHashConnectLocked gives a connecting socket its four-tuple towards
// dst: an unbound socket gets the first ephemeral port whose bucket only
// holds other connections and where the tuple is free; then s goes into
// ehash (Linux: __inet_hash_connect). The search starts where RFC 6056
// §3.3.4 (algorithm 4, "double-hash") says: F(addresses, remote port)
// plus a counter per table slot, so successive connections to one peer
// walk the range while other peers see unrelated ports. reused reports a
// recycled TIME_WAIT and twSndNxt its SND.NXT.
func (s *Sock) inetHashConnectLocked(src netip.Addr, dst netip.AddrPort) (twSndNxt seqnum, reused bool, err error) {
	s.laddr, s.raddr, s.rport = src, dst.Addr(), dst.Port()
	if s.bound != nil {
		if twSndNxt, reused, err = s.checkEstablishedLocked(); err != nil {
			s.raddr, s.rport = netip.Addr{}, 0
		}
		return twSndNxt, reused, err
	}
	p := s.proto
	lo, hi := int(p.cfg.EphemeralLo), int(p.cfg.EphemeralHi)
	n := hi - lo + 1
	h := p.portOffset(src, dst.Addr(), dst.Port())
	slot := &p.perturb[h%portPerturbSize]
	off := int((uint32(h>>32) + *slot) % uint32(n))
	for i := range n {
		port := uint16(lo + (off+i)%n)
		b := p.bhash[port]
		if b != nil && !b.connectOnly() {
			continue
		}
		s.lport = port
		if twSndNxt, reused, err = s.checkEstablishedLocked(); err != nil {
			continue
		}
		if b == nil {
			b = newBindBucket(port)
			p.bhash[port] = b
		}
		b.addOwner(s)
		s.bound, s.connectBound = b, true
		*slot += uint32(i) + 2 // Linux: table_perturb[index] += i + 2
		return twSndNxt, reused, nil
	}
	s.raddr, s.rport, s.lport = netip.Addr{}, 0, 0
	return 0, false, ErrAddrNotAvail
}

// connectOnly reports whether every owner got its port from connect
// (Linux: a bucket with fastreuse = -1), so connections may share it.
func (b *bindBucket) connectOnly() bool {
	for o := range b.owners {
		if !o.connectBound {
			return false
		}
	}
	for _, tw := range b.tws {
		if !tw.connect {
			return false
		}
	}
	return true
}

// checkEstablishedLocked hashes s unless its four-tuple is taken. A
// TIME_WAIT holder is recycled when tcp_tw_reuse = 2 allows it: loopback,
// timestamps on, last timestamp over a second old, so PAWS protects the
// new connection (Linux: __inet_check_established + tcp_twsk_unique).
func (s *Sock) checkEstablishedLocked() (twSndNxt seqnum, reused bool, err error) {
	p := s.proto
	if tw := p.twhash[twKeyOf(s.tuple())]; tw != nil {
		if !p.twReusableLocked(tw) {
			return 0, false, ErrAddrNotAvail
		}
		twSndNxt, reused = tw.sndNxt, true
		p.MIB.TWRecycled.Add(1)
		p.inetTwskKillLocked(tw)
	}
	if !s.inetEhashInsertLocked() {
		return 0, false, ErrAddrNotAvail
	}
	return twSndNxt, reused, nil
}

// releasePortLocked drops s from its bind bucket (Linux: inet_put_port).
func (s *Sock) releasePortLocked() {
	b := s.bound
	if b == nil {
		return
	}
	delete(b.owners, s)
	s.proto.dropEmptyBucketLocked(b)
	s.bound = nil
}

// inetEhashInsertLocked adds s to the established hash (Linux:
// inet_ehash_insert). It fails if the four-tuple is taken.
func (s *Sock) inetEhashInsertLocked() bool {
	t := s.tuple()
	if _, taken := s.proto.ehash[t]; taken {
		return false
	}
	s.proto.ehash[t] = s
	s.hashed = true
	return true
}

// unhashLocked removes s from ehash or lhash (Linux: inet_unhash).
func (s *Sock) unhashLocked() {
	p := s.proto
	if s.hashed {
		if p.ehash[s.tuple()] == s {
			delete(p.ehash, s.tuple())
		}
		s.hashed = false
	}
	if s.state == StateListen || s.listen != nil {
		ls := p.lhash[s.lport]
		for i, o := range ls {
			if o == s {
				p.lhash[s.lport] = append(ls[:i:i], ls[i+1:]...)
				break
			}
		}
		if len(p.lhash[s.lport]) == 0 {
			delete(p.lhash, s.lport)
		}
	}
}

// lookupEstablishedLocked finds the socket for a four-tuple (Linux:
// __inet_lookup_established).
func (p *Proto) lookupEstablishedLocked(t fourTuple) *Sock {
	return p.ehash[t]
}

// lookupListenerLocked finds the listener for dst:port, preferring an
// exact address over a wildcard (Linux: inet_lhash2_lookup scoring).
func (p *Proto) lookupListenerLocked(dst netip.Addr, port uint16) *Sock {
	var wild *Sock
	for _, l := range p.lhash[port] {
		if l.laddr == dst {
			return l
		}
		if !l.laddr.IsValid() || l.laddr.IsUnspecified() {
			wild = l
		}
	}
	return wild
}
