// Package checksum computes the Internet checksum of RFC 1071, used by the
// IPv4 header, ICMP and TCP (with the RFC 9293 §3.1 pseudo-header).
package checksum

import "encoding/binary"

// Sum adds b, as big-endian 16-bit words, to the running one's-complement
// sum initial and returns the unfolded result. An odd trailing byte is
// padded with zero (RFC 1071 §4.1). Chaining Sum calls is only exact when
// every chunk but the last has even length.
func Sum(b []byte, initial uint32) uint32 {
	acc := uint64(initial)
	// RFC 1071 §2(B): the sum is byte-order independent, so 8 bytes are
	// added at a time as 32-bit halves and folded at the end.
	for len(b) >= 8 {
		w := binary.BigEndian.Uint64(b)
		acc += w >> 32
		acc += w & 0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	for acc>>32 != 0 {
		acc = (acc & 0xffffffff) + (acc >> 32)
	}
	return uint32(acc)
}

// Fold folds a 32-bit running sum into 16 bits with end-around carry.
func Fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = (sum & 0xffff) + (sum >> 16)
	}
	return uint16(sum)
}

// Checksum returns the complemented, folded checksum of b over initial:
// the value to store in a header field.
func Checksum(b []byte, initial uint32) uint16 {
	return ^Fold(Sum(b, initial))
}

// PseudoHeaderIPv4 returns the sum of the IPv4 pseudo-header (RFC 9293
// §3.1): source, destination, zero + protocol, and the transport length.
func PseudoHeaderIPv4(src, dst [4]byte, proto uint8, length uint16) uint32 {
	s := uint32(src[0])<<8 | uint32(src[1])
	s += uint32(src[2])<<8 | uint32(src[3])
	s += uint32(dst[0])<<8 | uint32(dst[1])
	s += uint32(dst[2])<<8 | uint32(dst[3])
	s += uint32(proto)
	s += uint32(length)
	return s
}
