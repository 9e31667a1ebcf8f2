package udp

import "net/netip"

// The calls that set a socket's addresses: bind, connect, disconnect,
// shutdown and close. Each takes the protocol lock and never blocks.

// Bind binds a local address; port 0 picks an ephemeral port (Linux:
// inet_bind → __inet_bind → udp_v4_get_port). The address must be one of
// ours, the wildcard, or a broadcast address (to receive broadcasts sent
// there; the source of what the socket sends is then routed).
func (s *Sock) Bind(a netip.AddrPort) error {
	s.proto.lock()
	defer s.proto.unlock()
	return s.inetBindLocked(a)
}

func (s *Sock) inetBindLocked(a netip.AddrPort) error {
	p := s.proto
	addr := a.Addr()
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	if !addr.Is4() {
		return ErrAFNoSupport
	}
	bcast := p.ip.IsBroadcast(addr)
	if !addr.IsUnspecified() && !p.ip.IsLocal(addr) && !bcast {
		return ErrAddrNotAvail
	}
	if s.state != StateClose || s.lport != 0 || s.closed {
		return ErrInvalid
	}
	s.laddr, s.saddr = addr, addr
	if bcast || addr.IsUnspecified() {
		s.saddr = netip.Addr{} // Linux: "use device" — routed per datagram
	}
	if err := s.udpV4GetPortLocked(a.Port()); err != nil {
		s.laddr, s.saddr = netip.Addr{}, netip.Addr{}
		return err
	}
	s.bindAddrLock = !addr.IsUnspecified()
	s.bindPortLock = a.Port() != 0
	return nil
}

// inetAutobindLocked gives an unbound socket an ephemeral port before it
// connects or sends (Linux: inet_autobind); failing, the caller says
// EAGAIN, as Linux does.
func (s *Sock) inetAutobindLocked() error {
	if s.lport != 0 {
		return nil
	}
	if s.udpV4GetPortLocked(0) != nil {
		return ErrWouldBlock
	}
	return nil
}

// Connect fixes the peer: datagrams then go there without an address and
// only datagrams from there are received; an invalid (zero) dst is
// AF_UNSPEC and disconnects (Linux: inet_dgram_connect →
// ip4_datagram_connect, or udp_disconnect).
func (s *Sock) Connect(dst netip.AddrPort) error {
	s.proto.lock()
	defer s.proto.unlock()
	if !dst.Addr().IsValid() {
		s.udpDisconnectLocked()
		return nil
	}
	if !dst.Addr().Is4() {
		return ErrAFNoSupport
	}
	if s.closed {
		return ErrInvalid
	}
	if err := s.inetAutobindLocked(); err != nil {
		return err
	}
	return s.ip4DatagramConnectLocked(dst)
}

// ip4DatagramConnectLocked routes to dst and records it as the peer; the
// route's source becomes the local address unless one was bound (Linux:
// __ip4_datagram_connect). A broadcast peer needs SO_BROADCAST.
func (s *Sock) ip4DatagramConnectLocked(dst netip.AddrPort) error {
	p := s.proto
	daddr := localIfUnspecified(dst.Addr())
	src, _, err := p.ip.Route(daddr)
	if err != nil {
		return ipErrno(err)
	}
	if p.ip.IsBroadcast(daddr) && !s.broadcast {
		return ErrAccess
	}
	if !s.saddr.IsValid() {
		s.saddr = src
	}
	if s.boundAddr().IsUnspecified() {
		s.laddr = s.saddr
		s.udpV4RehashLocked()
	}
	s.raddr, s.rport = daddr, dst.Port()
	s.state = StateEstablished
	return nil
}

// localIfUnspecified turns 0.0.0.0 into 127.0.0.1: Linux's output route
// for INADDR_ANY is the loopback device, so sending or connecting there
// reaches this host.
func localIfUnspecified(a netip.Addr) netip.Addr {
	if a.IsUnspecified() {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return a
}

// udpDisconnectLocked forgets the peer; the local address and port go
// too unless the user bound them (Linux: __udp_disconnect).
func (s *Sock) udpDisconnectLocked() {
	s.state = StateClose
	s.raddr, s.rport = netip.Addr{}, 0
	if !s.bindAddrLock {
		s.laddr, s.saddr = netip.Addr{}, netip.Addr{}
		if s.bindPortLock {
			s.udpV4RehashLocked()
		}
	}
	if !s.bindPortLock {
		s.udpLibUnhashLocked()
		s.lport = 0
	}
}

// Shutdown half-closes: SHUT_RD (0) ends blocking receives on an empty
// queue, SHUT_WR (1) makes sends fail with EPIPE, SHUT_RDWR (2) both.
// An unconnected socket answers ENOTCONN but is shut down all the same,
// so pollers wake (Linux: inet_shutdown's "hack to wake up other
// listeners").
func (s *Sock) Shutdown(how int) error {
	if how < 0 || how > 2 {
		return ErrInvalid
	}
	s.proto.lock()
	defer s.proto.unlock()
	var err error
	if s.state == StateClose {
		err = ErrNotConnected
	}
	s.shutdown |= uint8(how + 1)
	s.wakeLocked() // Linux: sk_state_change
	return err
}

// Close releases the socket: its port, its queued datagrams (Linux:
// udp_lib_close → sk_common_release).
func (s *Sock) Close() {
	s.proto.lock()
	defer s.proto.unlock()
	s.udpLibCloseLocked()
}

func (s *Sock) udpLibCloseLocked() {
	if s.closed {
		return
	}
	s.udpLibUnhashLocked()
	s.closed = true
	s.state = StateClose
	s.rcvQ, s.rmem = nil, 0
	s.wakeLocked()
}
