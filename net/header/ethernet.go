package header

import (
	"encoding/binary"
	"fmt"
)

// EthernetHeaderLen is the length of an Ethernet II header (no FCS, no VLAN tag).
const EthernetHeaderLen = 14

// EtherType is the 16-bit protocol field of an Ethernet II header.
type EtherType uint16

// EtherTypes the stack demultiplexes.
const (
	EtherTypeIPv4 EtherType = 0x0800
	EtherTypeARP  EtherType = 0x0806
)

// MAC is a 48-bit IEEE 802 hardware address.
type MAC [6]byte

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsBroadcast reports whether m is ff:ff:ff:ff:ff:ff.
func (m MAC) IsBroadcast() bool { return m == BroadcastMAC }

// IsMulticast reports whether the group bit is set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m as Linux does: lower-case hex, colon separated.
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Ethernet is a view of an Ethernet II frame: header then payload.
type Ethernet []byte

// ParseEthernet validates that b holds at least an Ethernet II header.
// The payload may include trailing padding (frames are at least 60 bytes);
// the network layer trims it using its own length field.
func ParseEthernet(b []byte) (Ethernet, error) {
	if len(b) < EthernetHeaderLen {
		return nil, ErrTruncated
	}
	return Ethernet(b), nil
}

// Dst returns the destination hardware address.
func (e Ethernet) Dst() MAC { return MAC(e[0:6]) }

// Src returns the source hardware address.
func (e Ethernet) Src() MAC { return MAC(e[6:12]) }

// Type returns the EtherType.
func (e Ethernet) Type() EtherType { return EtherType(binary.BigEndian.Uint16(e[12:14])) }

// Payload returns the bytes after the header.
func (e Ethernet) Payload() []byte { return e[EthernetHeaderLen:] }

// PutEthernet writes an Ethernet II header into b[:EthernetHeaderLen].
func PutEthernet(b []byte, dst, src MAC, t EtherType) {
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	binary.BigEndian.PutUint16(b[12:14], uint16(t))
}
