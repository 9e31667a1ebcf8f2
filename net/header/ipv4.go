package header

import (
	"encoding/binary"
	"net/netip"

	"gomenuos/net/checksum"
)

// IPv4 header sizes (RFC 791 §3.1): IHL counts 32-bit words, 5 to 15.
const (
	IPv4MinHeaderLen = 20
	IPv4MaxHeaderLen = 60
	// IPv4MaxTotalLen is the largest datagram the 16-bit length can describe.
	IPv4MaxTotalLen = 65535
)

// IP protocol numbers the stack knows by name.
const (
	ProtocolICMP uint8 = 1
	ProtocolTCP  uint8 = 6
	ProtocolUDP  uint8 = 17
)

// IPv4 flag bits in the flags/fragment-offset word (RFC 791 §3.1).
const (
	IPv4FlagDF  uint16 = 0x4000 // don't fragment
	IPv4FlagMF  uint16 = 0x2000 // more fragments
	ipv4OffMask        = 0x1fff
)

// IPv4 is a view of one IPv4 datagram, trimmed to its total length.
type IPv4 []byte

// ParseIPv4 validates b as an IPv4 datagram: version 4, a header length of
// at least 20 bytes that fits, a total length covering the header and not
// exceeding b, and a correct header checksum. Options are not interpreted:
// RFC 1122 §3.2.1.8 lets a host ignore options it does not implement, and
// HeaderLen skips them. The returned view excludes link-layer padding.
func ParseIPv4(b []byte) (IPv4, error) {
	if len(b) < IPv4MinHeaderLen {
		return nil, ErrTruncated
	}
	if b[0]>>4 != 4 {
		return nil, ErrVersion
	}
	hl := int(b[0]&0x0f) * 4
	if hl < IPv4MinHeaderLen {
		return nil, ErrHeaderLength
	}
	if hl > len(b) {
		return nil, ErrTruncated
	}
	tl := int(binary.BigEndian.Uint16(b[2:4]))
	if tl < hl {
		return nil, ErrTotalLength
	}
	if tl > len(b) {
		return nil, ErrTruncated
	}
	// RFC 791 §3.1: the checksum covers the header only; summing the header
	// including its checksum field yields 0 when it is intact.
	if checksum.Checksum(b[:hl], 0) != 0 {
		return nil, ErrChecksum
	}
	return IPv4(b[:tl]), nil
}

// HeaderLen returns the header length in bytes, options included.
func (ip IPv4) HeaderLen() int { return int(ip[0]&0x0f) * 4 }

// TOS returns the type-of-service (DSCP + ECN) byte.
func (ip IPv4) TOS() uint8 { return ip[1] }

// TotalLength returns the datagram length, header included.
func (ip IPv4) TotalLength() int { return int(binary.BigEndian.Uint16(ip[2:4])) }

// ID returns the identification field.
func (ip IPv4) ID() uint16 { return binary.BigEndian.Uint16(ip[4:6]) }

// DF reports whether the don't-fragment flag is set.
func (ip IPv4) DF() bool { return ip.flagsOff()&IPv4FlagDF != 0 }

// MF reports whether the more-fragments flag is set.
func (ip IPv4) MF() bool { return ip.flagsOff()&IPv4FlagMF != 0 }

// FragmentOffset returns the fragment offset in bytes.
func (ip IPv4) FragmentOffset() int { return int(ip.flagsOff()&ipv4OffMask) * 8 }

// IsFragment reports whether the datagram is one piece of a larger one.
func (ip IPv4) IsFragment() bool { return ip.MF() || ip.FragmentOffset() != 0 }

// TTL returns the time-to-live.
func (ip IPv4) TTL() uint8 { return ip[8] }

// Protocol returns the transport protocol number.
func (ip IPv4) Protocol() uint8 { return ip[9] }

// Src returns the source address.
func (ip IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(ip[12:16])) }

// Dst returns the destination address.
func (ip IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(ip[16:20])) }

// Options returns the raw option bytes (possibly empty).
func (ip IPv4) Options() []byte { return ip[IPv4MinHeaderLen:ip.HeaderLen()] }

// Payload returns the bytes after the header, up to the total length.
func (ip IPv4) Payload() []byte { return ip[ip.HeaderLen():] }

func (ip IPv4) flagsOff() uint16 { return binary.BigEndian.Uint16(ip[6:8]) }

// IPv4Fields describes an option-less IPv4 header to write.
type IPv4Fields struct {
	TOS         uint8
	TotalLength uint16
	ID          uint16
	Flags       uint16 // IPv4FlagDF and/or IPv4FlagMF
	FragOffset  int    // in bytes, a multiple of 8
	TTL         uint8
	Protocol    uint8
	Src, Dst    netip.Addr
}

// PutIPv4 writes a 20-byte header described by f into b and fills in the
// header checksum.
func PutIPv4(b []byte, f IPv4Fields) {
	b[0] = 4<<4 | IPv4MinHeaderLen/4
	b[1] = f.TOS
	binary.BigEndian.PutUint16(b[2:4], f.TotalLength)
	binary.BigEndian.PutUint16(b[4:6], f.ID)
	binary.BigEndian.PutUint16(b[6:8], f.Flags|uint16(f.FragOffset/8)&ipv4OffMask)
	b[8] = f.TTL
	b[9] = f.Protocol
	b[10], b[11] = 0, 0
	s, d := f.Src.As4(), f.Dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:12], checksum.Checksum(b[:IPv4MinHeaderLen], 0))
}
