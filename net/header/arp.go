package header

import (
	"encoding/binary"
	"net/netip"
)

// ARPLen is the length of an ARP packet for IPv4 over Ethernet (RFC 826).
const ARPLen = 28

// ARPOp is the ARP operation code.
type ARPOp uint16

// ARP operations (RFC 826).
const (
	ARPRequest ARPOp = 1
	ARPReply   ARPOp = 2
)

const (
	arpHardwareEthernet = 1
	arpProtocolIPv4     = 0x0800
)

// ARP is a view of an ARP packet mapping IPv4 to Ethernet addresses.
type ARP []byte

// ParseARP validates b as an RFC 826 packet for IPv4 over Ethernet with a
// request or reply operation. Trailing bytes (frame padding) are dropped
// from the view.
func ParseARP(b []byte) (ARP, error) {
	if len(b) < ARPLen {
		return nil, ErrTruncated
	}
	a := ARP(b[:ARPLen])
	if binary.BigEndian.Uint16(a[0:2]) != arpHardwareEthernet ||
		binary.BigEndian.Uint16(a[2:4]) != arpProtocolIPv4 || a[4] != 6 || a[5] != 4 {
		return nil, ErrUnsupported
	}
	if op := a.Op(); op != ARPRequest && op != ARPReply {
		return nil, ErrUnsupported
	}
	return a, nil
}

// Op returns the operation (request or reply).
func (a ARP) Op() ARPOp { return ARPOp(binary.BigEndian.Uint16(a[6:8])) }

// SenderMAC returns the sender hardware address.
func (a ARP) SenderMAC() MAC { return MAC(a[8:14]) }

// SenderIP returns the sender protocol address.
func (a ARP) SenderIP() netip.Addr { return netip.AddrFrom4([4]byte(a[14:18])) }

// TargetMAC returns the target hardware address.
func (a ARP) TargetMAC() MAC { return MAC(a[18:24]) }

// TargetIP returns the target protocol address.
func (a ARP) TargetIP() netip.Addr { return netip.AddrFrom4([4]byte(a[24:28])) }

// PutARP writes an IPv4-over-Ethernet ARP packet into b[:ARPLen].
func PutARP(b []byte, op ARPOp, sha MAC, spa netip.Addr, tha MAC, tpa netip.Addr) {
	binary.BigEndian.PutUint16(b[0:2], arpHardwareEthernet)
	binary.BigEndian.PutUint16(b[2:4], arpProtocolIPv4)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:8], uint16(op))
	copy(b[8:14], sha[:])
	s, t := spa.As4(), tpa.As4()
	copy(b[14:18], s[:])
	copy(b[18:24], tha[:])
	copy(b[24:28], t[:])
}
