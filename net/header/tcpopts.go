package header

import (
	"encoding/binary"
	"errors"
)

// TCP option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
const (
	TCPOptEOL       = 0
	TCPOptNOP       = 1
	TCPOptMSS       = 2
	TCPOptWS        = 3
	TCPOptSACKPerm  = 4
	TCPOptSACK      = 5
	TCPOptTimestamp = 8
)

// MaxSACKBlocks is how many SACK blocks fit beside a timestamp option.
const MaxSACKBlocks = 3

// ErrTCPOption reports a malformed option list (bad length or truncation).
var ErrTCPOption = errors.New("tcp: malformed option")

// SACKBlock is one received range [Start, End) (RFC 2018 §3).
type SACKBlock struct{ Start, End uint32 }

// TCPOptions is the parsed (or to-be-encoded) option set of a segment.
type TCPOptions struct {
	HasMSS        bool
	MSS           uint16
	HasWS         bool
	WS            uint8
	SACKPermitted bool
	HasTS         bool
	TSVal, TSEcr  uint32
	NumSACK       int
	SACK          [4]SACKBlock
}

// optLen is the fixed length of the options we understand; 0 = variable.
var optLen = [256]uint8{TCPOptMSS: 4, TCPOptWS: 3, TCPOptSACKPerm: 2, TCPOptTimestamp: 10}

// ParseTCPOptions parses an option list into o. RFC 9293 §3.2: unknown
// options are skipped by their length; a length that is too short or runs
// past the list is an error. RFC 7323 §2.2: WS above 14 is clamped to 14.
func ParseTCPOptions(b []byte, o *TCPOptions) error {
	*o = TCPOptions{}
	for len(b) > 0 {
		kind := b[0]
		if kind == TCPOptEOL {
			return nil
		}
		if kind == TCPOptNOP {
			b = b[1:]
			continue
		}
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return ErrTCPOption
		}
		n := int(b[1])
		if want := optLen[kind]; want != 0 && n != int(want) {
			return ErrTCPOption
		}
		if err := o.parseOne(kind, b[2:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (o *TCPOptions) parseOne(kind uint8, v []byte) error {
	switch kind {
	case TCPOptMSS:
		o.HasMSS, o.MSS = true, binary.BigEndian.Uint16(v)
	case TCPOptWS:
		o.HasWS, o.WS = true, min(v[0], 14)
	case TCPOptSACKPerm:
		o.SACKPermitted = true
	case TCPOptTimestamp:
		o.HasTS = true
		o.TSVal = binary.BigEndian.Uint32(v)
		o.TSEcr = binary.BigEndian.Uint32(v[4:])
	case TCPOptSACK:
		if len(v)%8 != 0 || len(v) == 0 || len(v) > 32 {
			return ErrTCPOption
		}
		o.NumSACK = len(v) / 8
		for i := range o.NumSACK {
			o.SACK[i] = SACKBlock{binary.BigEndian.Uint32(v[8*i:]), binary.BigEndian.Uint32(v[8*i+4:])}
		}
	}
	return nil
}

// Len returns the encoded length of o, a multiple of 4.
func (o *TCPOptions) Len() int {
	n := 0
	if o.HasMSS {
		n += 4
	}
	if o.HasTS {
		n += 12 // SACK-permitted rides in the TS option's NOP padding
	} else if o.SACKPermitted {
		n += 4
	}
	if o.HasWS {
		n += 4
	}
	if o.NumSACK > 0 {
		n += 4 + 8*o.NumSACK
	}
	return n
}

// Encode writes o in the order Linux uses (MSS, SACK-permitted/TS, WS,
// SACK), padded with NOPs to 4-byte words, and returns the length.
func (o *TCPOptions) Encode(b []byte) int {
	i := 0
	if o.HasMSS {
		b[0], b[1] = TCPOptMSS, 4
		binary.BigEndian.PutUint16(b[2:], o.MSS)
		i = 4
	}
	if o.HasTS {
		if o.SACKPermitted {
			b[i], b[i+1] = TCPOptSACKPerm, 2
		} else {
			b[i], b[i+1] = TCPOptNOP, TCPOptNOP
		}
		b[i+2], b[i+3] = TCPOptTimestamp, 10
		binary.BigEndian.PutUint32(b[i+4:], o.TSVal)
		binary.BigEndian.PutUint32(b[i+8:], o.TSEcr)
		i += 12
	} else if o.SACKPermitted {
		b[i], b[i+1], b[i+2], b[i+3] = TCPOptNOP, TCPOptNOP, TCPOptSACKPerm, 2
		i += 4
	}
	if o.HasWS {
		b[i], b[i+1], b[i+2], b[i+3] = TCPOptNOP, TCPOptWS, 3, o.WS
		i += 4
	}
	if o.NumSACK > 0 {
		b[i], b[i+1], b[i+2], b[i+3] = TCPOptNOP, TCPOptNOP, TCPOptSACK, byte(2+8*o.NumSACK)
		i += 4
		for _, blk := range o.SACK[:o.NumSACK] {
			binary.BigEndian.PutUint32(b[i:], blk.Start)
			binary.BigEndian.PutUint32(b[i+4:], blk.End)
			i += 8
		}
	}
	return i
}
