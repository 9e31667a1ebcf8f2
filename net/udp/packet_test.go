package udp

import (
	"net/netip"

	"gomenuos/net/header"
	"gomenuos/net/stack"
)

// udpPacket is a datagram as the IPv4 layer hands it to Receive.
func udpPacket(src, dst netip.Addr, sport, dport uint16, payload []byte) *stack.PacketInfo {
	b := make([]byte, header.UDPHeaderLen+len(payload))
	copy(b[header.UDPHeaderLen:], payload)
	header.PutUDP(b, header.UDPFields{SrcPort: sport, DstPort: dport}, src, dst)
	return &stack.PacketInfo{Src: src, Dst: dst, TTL: 64, Payload: b}
}

// quotedDatagram is what an ICMP error quotes of a datagram local → remote:
// its IPv4 header and UDP header.
func quotedDatagram(local, remote netip.AddrPort) []byte {
	q := make([]byte, header.IPv4MinHeaderLen+header.UDPHeaderLen)
	header.PutIPv4(q, header.IPv4Fields{TotalLength: uint16(len(q)), TTL: 64, Protocol: header.ProtocolUDP,
		Src: local.Addr(), Dst: remote.Addr()})
	header.PutUDP(q[header.IPv4MinHeaderLen:], header.UDPFields{SrcPort: local.Port(), DstPort: remote.Port()},
		local.Addr(), remote.Addr())
	return q
}
