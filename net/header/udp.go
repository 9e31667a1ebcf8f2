package header

// The UDP view (RFC 768): ParseUDP is its one validated entry point;
// accessors never index past what it checked.

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"gomenuos/net/checksum"
)

// UDPHeaderLen is the size of the UDP header.
const UDPHeaderLen = 8

// ErrUDPLength: a UDP length field below the header's 8 bytes.
var ErrUDPLength = errors.New("udp: length field below 8")

// UDP is a view of one UDP datagram, trimmed to its length field.
type UDP []byte

// ParseUDP validates b, an IPv4 payload, as a UDP datagram: at least the
// 8-byte header and a length field between 8 and len(b). The view is cut
// to the length field: bytes after it are not the datagram's (Linux:
// __udp4_lib_rcv → pskb_trim_rcsum). The checksum needs the pseudo-header
// and is checked by ChecksumValid.
func ParseUDP(b []byte) (UDP, error) {
	if len(b) < UDPHeaderLen {
		return nil, ErrTruncated
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n < UDPHeaderLen {
		return nil, ErrUDPLength
	}
	if n > len(b) {
		return nil, ErrTruncated
	}
	return UDP(b[:n]), nil
}

func (u UDP) SrcPort() uint16  { return binary.BigEndian.Uint16(u[0:]) }
func (u UDP) DstPort() uint16  { return binary.BigEndian.Uint16(u[2:]) }
func (u UDP) Length() int      { return int(binary.BigEndian.Uint16(u[4:])) }
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[6:]) }
func (u UDP) Payload() []byte  { return u[UDPHeaderLen:] }

// ChecksumValid reports whether the datagram's checksum verifies over the
// pseudo-header of src and dst. A zero checksum means the sender computed
// none (RFC 768), which IPv4 allows.
func (u UDP) ChecksumValid(src, dst netip.Addr) bool {
	if u.Checksum() == 0 {
		return true
	}
	return checksum.Checksum(u, udpPseudo(src, dst, len(u))) == 0
}

func udpPseudo(src, dst netip.Addr, n int) uint32 {
	return checksum.PseudoHeaderIPv4(src.As4(), dst.As4(), ProtocolUDP, uint16(n))
}

// UDPFields is what PutUDP writes.
type UDPFields struct {
	SrcPort, DstPort uint16
}

// PutUDP writes a UDP header at the start of b, whose payload the caller
// already placed at b[8:], with the length of all of b and the checksum
// over the pseudo-header of src and dst. A computed checksum of zero is
// sent as 0xffff, since zero means "none" (RFC 768). len(b) must be at
// most 65535.
func PutUDP(b []byte, f UDPFields, src, dst netip.Addr) {
	binary.BigEndian.PutUint16(b[0:], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:], f.DstPort)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	b[6], b[7] = 0, 0
	c := checksum.Checksum(b, udpPseudo(src, dst, len(b)))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
}
