package header

// The TCP view: ParseTCP is its one validated entry point; accessors never
// index past what it checked.

import (
	"encoding/binary"
	"errors"

	"gomenuos/net/checksum"
)

// TCP flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
const (
	TCPFlagFin uint8 = 1 << iota
	TCPFlagSyn
	TCPFlagRst
	TCPFlagPsh
	TCPFlagAck
	TCPFlagUrg
	TCPFlagEce
	TCPFlagCwr
)

// TCPMinimumSize is the size of a TCP header without options.
const TCPMinimumSize = 20

// TCPMaximumSize is the largest header: data offset 15 words.
const TCPMaximumSize = 60

// TCPProtocolNumber is TCP's IP protocol number.
const TCPProtocolNumber = 6

// Errors returned by ParseTCP.
var (
	ErrTCPTruncated  = errors.New("tcp: segment shorter than its header")
	ErrTCPDataOffset = errors.New("tcp: data offset below 5 words")
)

// TCP is a view over a TCP segment: header, options and payload.
type TCP []byte

// ParseTCP validates b as a TCP segment: at least 20 bytes, and a data
// offset between 5 words and the segment length. Options are not parsed
// here (see ParseTCPOptions) so a bad option never hides the header.
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < TCPMinimumSize {
		return nil, ErrTCPTruncated
	}
	off := int(b[12]>>4) * 4
	if off < TCPMinimumSize {
		return nil, ErrTCPDataOffset
	}
	if off > len(b) {
		return nil, ErrTCPTruncated
	}
	return TCP(b), nil
}

func (t TCP) SrcPort() uint16      { return binary.BigEndian.Uint16(t[0:]) }
func (t TCP) DstPort() uint16      { return binary.BigEndian.Uint16(t[2:]) }
func (t TCP) Seq() uint32          { return binary.BigEndian.Uint32(t[4:]) }
func (t TCP) Ack() uint32          { return binary.BigEndian.Uint32(t[8:]) }
func (t TCP) DataOffset() int      { return int(t[12]>>4) * 4 }
func (t TCP) Flags() uint8         { return t[13] }
func (t TCP) Window() uint16       { return binary.BigEndian.Uint16(t[14:]) }
func (t TCP) Checksum() uint16     { return binary.BigEndian.Uint16(t[16:]) }
func (t TCP) UrgentPtr() uint16    { return binary.BigEndian.Uint16(t[18:]) }
func (t TCP) Options() []byte      { return t[TCPMinimumSize:t.DataOffset()] }
func (t TCP) Payload() []byte      { return t[t.DataOffset():] }
func (t TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(t[16:], c) }

// ChecksumValid reports whether the segment's checksum verifies against
// the pseudo-header sum (RFC 9293 §3.1).
func (t TCP) ChecksumValid(pseudo uint32) bool {
	return checksum.Checksum(t, pseudo) == 0
}

// TCPFields is what EncodeTCP writes.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8
	Window           uint16
	Urgent           uint16
	Options          *TCPOptions // nil: none
}

// EncodeTCP writes the header described by f at the start of b and returns
// its length. b must have room for TCPMinimumSize + f.Options.Len() bytes.
// The checksum field is zeroed; fill it with SetTCPChecksum.
func EncodeTCP(b []byte, f *TCPFields) int {
	n := TCPMinimumSize
	if f.Options != nil {
		n += f.Options.Encode(b[TCPMinimumSize:])
	}
	binary.BigEndian.PutUint16(b[0:], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:], f.DstPort)
	binary.BigEndian.PutUint32(b[4:], f.Seq)
	binary.BigEndian.PutUint32(b[8:], f.Ack)
	b[12] = byte(n/4) << 4
	b[13] = f.Flags
	binary.BigEndian.PutUint16(b[14:], f.Window)
	b[16], b[17] = 0, 0
	binary.BigEndian.PutUint16(b[18:], f.Urgent)
	return n
}

// SetTCPChecksum computes and stores the checksum of segment seg (header
// + payload) sent from src to dst.
func SetTCPChecksum(seg TCP, src, dst [4]byte) {
	seg.SetChecksum(0)
	ph := checksum.PseudoHeaderIPv4(src, dst, TCPProtocolNumber, uint16(len(seg)))
	seg.SetChecksum(checksum.Checksum(seg, ph))
}
