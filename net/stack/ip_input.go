package stack

import (
	"errors"
	"gomenuos/net/link"
	"net/netip"

	"gomenuos/net/header"
)

// ipRcv validates one IPv4 datagram from a device (Linux: ip_rcv →
// ip_rcv_core). Datagrams not addressed to this host are dropped: the
// stack is a host and never forwards.
func (s *Stack) ipRcv(ifc *Interface, b []byte, verified bool) {
	s.ipMIB.InReceives.Add(1)
	ip, err := header.ParseIPv4(b)
	if err != nil {
		s.ipRcvError(ifc, err)
		return
	}
	// RFC 1122 §3.2.1.7: a host must not discard a datagram because its
	// TTL is below 2; TTL only matters when forwarding, which we do not.
	s.ipRcvFinish(ifc, ip, verified)
}

// ipRcvError maps a parse failure to Linux's counters and drop reasons.
func (s *Stack) ipRcvError(ifc *Interface, err error) {
	switch {
	case errors.Is(err, header.ErrChecksum):
		s.ipMIB.InCsumErrors.Add(1)
		s.ipMIB.InHdrErrors.Add(1)
		s.dropRx(ifc, DropIPCsum)
	case errors.Is(err, header.ErrTruncated):
		s.ipMIB.InTruncatedPkts.Add(1)
		s.dropRx(ifc, DropPktTooSmall)
	default:
		s.ipMIB.InHdrErrors.Add(1)
		s.dropRx(ifc, DropIPInHdr)
	}
}

// ipRcvFinish checks the addresses and routes the datagram to local
// delivery (Linux: ip_rcv_finish → ip_route_input_noref).
func (s *Stack) ipRcvFinish(ifc *Interface, ip header.IPv4, verified bool) {
	src, dst := ip.Src(), ip.Dst()
	s.mu.RLock()
	local := s.isLocalLocked(dst)
	bcast := s.isBroadcastLocked(ifc, dst)
	martian := s.isMartianSourceLocked(ifc, src)
	s.mu.RUnlock()
	if martian {
		s.ipMIB.InAddrErrors.Add(1)
		s.dropRx(ifc, DropIPInvalidSource)
		return
	}
	// Linux: a loopback destination arriving on a real device is a martian.
	if !local && !bcast || dst.IsLoopback() && !ifc.isLoopback() {
		// Linux with ip_forward=0: ip_route_input fails, IPSTATS_MIB_INADDRERRORS.
		s.ipMIB.InAddrErrors.Add(1)
		s.dropRx(ifc, DropIPInAddrErrors)
		return
	}
	// A device's checksum verdict covers one frame: a reassembled datagram
	// is checked by its transport.
	verified = verified || ifc.dev.Features()&(link.FeatureRxChecksum|link.FeatureLoopback) != 0
	if ip.IsFragment() {
		whole, done := s.ipDefrag(ifc, ip)
		if !done {
			return
		}
		ip, verified = whole, false
	}
	s.ipLocalDeliver(ifc, ip, bcast, verified)
}

// isMartianSourceLocked rejects sources no host may use (Linux:
// fib_validate_source / ip_route_input_slow martian checks): multicast,
// limited broadcast, and — on a real device — loopback addresses or one of
// our own addresses (a spoof, or our own frame looped back by a switch).
func (s *Stack) isMartianSourceLocked(ifc *Interface, src netip.Addr) bool {
	if src.IsMulticast() || src == limitedBroadcast {
		return true
	}
	return !ifc.isLoopback() && (src.IsLoopback() || s.isLocalLocked(src))
}

// ipLocalDeliver hands a complete datagram to its transport (Linux:
// ip_local_deliver → ip_protocol_deliver_rcu).
func (s *Stack) ipLocalDeliver(ifc *Interface, ip header.IPv4, bcast, verified bool) {
	p := &PacketInfo{Src: ip.Src(), Dst: ip.Dst(), TTL: ip.TTL(), TOS: ip.TOS(), Payload: ip.Payload(),
		IfIndex: ifc.index, ChecksumVerified: verified, Broadcast: bcast, ip: ip}
	if ip.Protocol() == header.ProtocolICMP {
		s.ipMIB.InDelivers.Add(1)
		s.icmpRcv(ifc, p, bcast)
		return
	}
	t := s.transport(ip.Protocol())
	if t == nil {
		s.ipMIB.InUnknownProtos.Add(1)
		s.drop(DropIPNoProto)
		if !bcast {
			// RFC 1122 §3.2.2.1: protocol unreachable for an unknown transport.
			s.icmpSend(ip, header.ICMPv4DestUnreach, header.ICMPv4ProtoUnreach, 0)
		}
		return
	}
	if bcast && ip.Protocol() == header.ProtocolTCP {
		s.drop(DropIPInAddrErrors) // RFC 9293 §3.9.1: TCP ignores broadcast datagrams
		return
	}
	s.ipMIB.InDelivers.Add(1)
	t.Receive(p)
}
