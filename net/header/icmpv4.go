package header

import (
	"encoding/binary"

	"gomenuos/net/checksum"
)

// ICMPv4HeaderLen is the fixed part of every ICMP message (RFC 792).
const ICMPv4HeaderLen = 8

// ICMP message types (RFC 792).
const (
	ICMPv4EchoReply      uint8 = 0
	ICMPv4DestUnreach    uint8 = 3
	ICMPv4SourceQuench   uint8 = 4
	ICMPv4Redirect       uint8 = 5
	ICMPv4Echo           uint8 = 8
	ICMPv4TimeExceeded   uint8 = 11
	ICMPv4ParamProblem   uint8 = 12
	ICMPv4Timestamp      uint8 = 13
	ICMPv4TimestampReply uint8 = 14
)

// Destination-unreachable codes (RFC 792, RFC 1191).
const (
	ICMPv4NetUnreach   uint8 = 0
	ICMPv4HostUnreach  uint8 = 1
	ICMPv4ProtoUnreach uint8 = 2
	ICMPv4PortUnreach  uint8 = 3
	ICMPv4FragNeeded   uint8 = 4
)

// ICMPv4 is a view of one ICMP message: 8-byte header then body.
type ICMPv4 []byte

// ParseICMPv4 validates b as an ICMP message: at least the 8-byte header
// and a checksum over the whole message that verifies (RFC 792).
func ParseICMPv4(b []byte) (ICMPv4, error) {
	if len(b) < ICMPv4HeaderLen {
		return nil, ErrTruncated
	}
	if checksum.Checksum(b, 0) != 0 {
		return nil, ErrChecksum
	}
	return ICMPv4(b), nil
}

// Type returns the message type.
func (m ICMPv4) Type() uint8 { return m[0] }

// Code returns the message code.
func (m ICMPv4) Code() uint8 { return m[1] }

// Ident returns the echo identifier (echo and echo reply only).
func (m ICMPv4) Ident() uint16 { return binary.BigEndian.Uint16(m[4:6]) }

// Seq returns the echo sequence number (echo and echo reply only).
func (m ICMPv4) Seq() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// NextHopMTU returns the MTU of a fragmentation-needed message (RFC 1191 §4).
func (m ICMPv4) NextHopMTU() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// Body returns the bytes after the 8-byte header: echo data, or the quoted
// offending datagram of an error message.
func (m ICMPv4) Body() []byte { return m[ICMPv4HeaderLen:] }

// IsError reports whether the message is an error that quotes an
// offending datagram.
func (m ICMPv4) IsError() bool { return ICMPv4TypeIsError(m.Type()) }

// ICMPv4TypeIsError reports whether typ is one of the error messages of
// RFC 1122 §3.2.2 (destination unreachable, source quench, redirect, time
// exceeded, parameter problem).
func ICMPv4TypeIsError(typ uint8) bool {
	switch typ {
	case ICMPv4DestUnreach, ICMPv4SourceQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// PutICMPv4 writes an ICMP header with the given type, code and 4-byte
// rest-of-header word into b[:8], then fills the checksum over all of b
// (header and the body the caller already placed at b[8:]).
func PutICMPv4(b []byte, typ, code uint8, rest uint32) {
	b[0], b[1] = typ, code
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint32(b[4:8], rest)
	binary.BigEndian.PutUint16(b[2:4], checksum.Checksum(b, 0))
}
