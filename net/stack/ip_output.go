package stack

import (
	"encoding/binary"
	"net/netip"

	"gomenuos/net/checksum"
	"gomenuos/net/header"
	"gomenuos/net/link"
)

const ipHdrLen = header.IPv4MinHeaderLen

// pmtuDisc is a datagram's path MTU discovery mode (Linux: IP_PMTUDISC_*).
type pmtuDisc int

const (
	pmtuDont pmtuDisc = iota // never DF: fragment as needed (IP_PMTUDISC_DONT)
	pmtuWant                 // DF when the datagram fits, else fragment (IP_PMTUDISC_WANT)
	pmtuDo                   // always DF: EMSGSIZE past the path MTU (IP_PMTUDISC_DO)
)

// OutputIPv4 sends one datagram. buf[off:] is the complete transport
// segment (checksum already filled by the transport); buf[:off] is free
// headroom, off >= MaxHeaderRoom. Ownership of buf passes to the stack (it
// may be queued on a device); the caller must not touch it again. src must
// be a local address (use Route). DF is set. Linux: ip_queue_xmit /
// ip_local_out.
func (s *Stack) OutputIPv4(src, dst netip.Addr, proto, tos uint8, buf []byte, off int) error {
	return s.ipQueueXmit(src, dst, proto, tos, buf, off, pmtuDo)
}

// OutputIPv4Datagram is OutputIPv4 for a datagram transport such as UDP,
// with Linux's default IP_PMTUDISC_WANT: DF when the datagram fits the
// path MTU, otherwise it is fragmented here, without DF (Linux:
// __ip_make_skb's DF decision, then ip_fragment).
func (s *Stack) OutputIPv4Datagram(src, dst netip.Addr, proto, tos uint8, buf []byte, off int) error {
	return s.ipQueueXmit(src, dst, proto, tos, buf, off, pmtuWant)
}

// ipQueueXmit routes the datagram and writes its header (Linux: ip_queue_xmit).
func (s *Stack) ipQueueXmit(src, dst netip.Addr, proto, tos uint8, buf []byte, off int, pmtu pmtuDisc) error {
	if off < MaxHeaderRoom || off > len(buf) || len(buf)-off+ipHdrLen > header.IPv4MaxTotalLen {
		return ErrInvalid
	}
	s.ipMIB.OutRequests.Add(1)
	nh, err := s.routeOutput(dst)
	if err != nil {
		s.ipMIB.OutNoRoutes.Add(1)
		return err
	}
	if !s.IsLocal(src) {
		s.ipMIB.OutDiscards.Add(1)
		return ErrInvalidSource
	}
	total := len(buf) - off + ipHdrLen
	if total > nh.mtu && pmtu == pmtuDo {
		s.ipMIB.FragFails.Add(1)
		return ErrMessageTooLong // Linux: ip_fragment refuses DF, EMSGSIZE
	}
	f := header.IPv4Fields{TOS: tos, TotalLength: uint16(total), ID: s.nextIPID(), TTL: s.defaultTTL,
		Protocol: proto, Src: src, Dst: dst}
	if pmtu == pmtuDo || pmtu == pmtuWant && total <= nh.mtu {
		f.Flags = header.IPv4FlagDF
	}
	header.PutIPv4(buf[off-ipHdrLen:off], f)
	return s.ipFinishOutput(nh, buf[off-ipHdrLen-header.EthernetHeaderLen:])
}

// nextIPID returns the identification for a new datagram. Linux hashes
// per destination (ip_idents); one counter suffices for a host this size.
func (s *Stack) nextIPID() uint16 { return uint16(s.ipID.Add(1)) }

// ipFinishOutput fragments if needed and hands each frame to the neighbour
// layer (Linux: ip_finish_output → ip_finish_output2). frame starts with
// room for the Ethernet header, followed by the datagram.
func (s *Stack) ipFinishOutput(nh nextHop, frame []byte) error {
	if len(frame)-header.EthernetHeaderLen > nh.mtu {
		return s.ipFragment(nh, header.IPv4(frame[header.EthernetHeaderLen:]))
	}
	return s.neighOutput(nh, frame)
}

// neighOutput picks the link destination (Linux: ip_finish_output2 →
// neigh_output): none on NOARP devices, broadcast for broadcast
// destinations, otherwise the ARP cache.
func (s *Stack) neighOutput(nh nextHop, frame []byte) error {
	s.ipMIB.OutTransmits.Add(1)
	if nh.ifc.dev.Features().Has(link.FeatureNoARP) {
		header.PutEthernet(frame, header.MAC{}, nh.ifc.dev.HardwareAddr(), header.EtherTypeIPv4)
		return s.devQueueXmit(nh.ifc, frame)
	}
	s.mu.RLock()
	bcast := s.isBroadcastLocked(nh.ifc, nh.neighbor)
	s.mu.RUnlock()
	if bcast {
		header.PutEthernet(frame, header.BroadcastMAC, nh.ifc.dev.HardwareAddr(), header.EtherTypeIPv4)
		return s.devQueueXmit(nh.ifc, frame)
	}
	return s.neighResolveOutput(nh.ifc, nh.neighbor, frame)
}

// ipFragment splits a datagram without DF into MTU-sized fragments
// (Linux: ip_do_fragment; RFC 791 §3.2). Options are not copied: the
// stack's own datagrams carry none.
func (s *Stack) ipFragment(nh nextHop, ip header.IPv4) error {
	payload := ip.Payload()
	chunk := (nh.mtu - ipHdrLen) &^ 7
	for off := 0; off < len(payload); off += chunk {
		end := min(off+chunk, len(payload))
		frame := make([]byte, header.EthernetHeaderLen+ipHdrLen+end-off)
		f := header.IPv4Fields{TOS: ip.TOS(), TotalLength: uint16(ipHdrLen + end - off), ID: ip.ID(),
			FragOffset: off, TTL: ip.TTL(), Protocol: ip.Protocol(), Src: ip.Src(), Dst: ip.Dst()}
		if end < len(payload) {
			f.Flags = header.IPv4FlagMF
		}
		header.PutIPv4(frame[header.EthernetHeaderLen:], f)
		copy(frame[header.EthernetHeaderLen+ipHdrLen:], payload[off:end])
		s.ipMIB.FragCreates.Add(1)
		if err := s.neighOutput(nh, frame); err != nil {
			s.ipMIB.FragFails.Add(1)
			return err
		}
	}
	s.ipMIB.FragOKs.Add(1)
	return nil
}

// ipSend builds and sends a datagram the stack itself originates (ICMP
// replies and errors). Like Linux's ICMP socket it does not set DF, so a
// large echo reply is fragmented.
func (s *Stack) ipSend(src, dst netip.Addr, proto, tos uint8, payload []byte) error {
	buf := make([]byte, MaxHeaderRoom+len(payload))
	copy(buf[MaxHeaderRoom:], payload)
	return s.ipQueueXmit(src, dst, proto, tos, buf, MaxHeaderRoom, pmtuDont)
}

// fixIPv4Checksum recomputes the checksum of header h after an edit.
func fixIPv4Checksum(h []byte) {
	h[10], h[11] = 0, 0
	binary.BigEndian.PutUint16(h[10:12], checksum.Checksum(h, 0))
}
