package virtionet

import (
	"encoding/binary"

	"gomenuos/net/checksum"
)

const (
	ethHdrLen     = 14
	etherTypeIPv4 = 0x0800
	protoTCP      = 6
	protoUDP      = 17
)

// completeCsum finishes a partial checksum the host left for us
// (VIRTIO_NET_HDR_F_NEEDS_CSUM): the field at csumStart+csumOffset holds the
// pseudo-header sum, and the checksum covers csumStart to the end of the
// frame. Doing it here means no frame with a partial checksum ever leaves
// the driver, whatever the stack does with FeatureRxChecksum.
//
// Linux: skb_checksum_help
func completeCsum(frame []byte, h netHdr) error {
	if err := checkCsumRange(frame, h); err != nil {
		return err
	}
	start, field := int(h.csumStart), int(h.csumStart)+int(h.csumOffset)
	sum := checksum.Checksum(frame[start:], 0)
	binary.BigEndian.PutUint16(frame[field:], sum)
	return nil
}

// checkCsumRange checks that a partial checksum's start and field lie in
// the frame.
func checkCsumRange(frame []byte, h netHdr) error {
	start, field := int(h.csumStart), int(h.csumStart)+int(h.csumOffset)
	if start < ethHdrLen || field+2 > len(frame) {
		return ErrCsumRange
	}
	return nil
}

// verifyCsum checks the TCP or UDP checksum of an unfragmented IPv4 frame
// that the device delivered without DATA_VALID; other frames pass through
// for the stack to check.
func verifyCsum(frame []byte) error {
	if len(frame) < ethHdrLen+20 || binary.BigEndian.Uint16(frame[12:]) != etherTypeIPv4 {
		return nil
	}
	ip := frame[ethHdrLen:]
	ihl := int(ip[0]&0xF) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	fragment := binary.BigEndian.Uint16(ip[6:])&0x3FFF != 0
	if ip[0]>>4 != 4 || ihl < 20 || total < ihl || total > len(ip) || fragment {
		return nil // the stack reports malformed IP itself
	}
	proto, seg := ip[9], ip[ihl:total]
	if proto != protoTCP && proto != protoUDP {
		return nil
	}
	if proto == protoUDP && len(seg) >= 8 && binary.BigEndian.Uint16(seg[6:]) == 0 {
		return nil // RFC 768: zero means no checksum was sent
	}
	ph := checksum.PseudoHeaderIPv4([4]byte(ip[12:16]), [4]byte(ip[16:20]), proto, uint16(len(seg)))
	if checksum.Fold(checksum.Sum(seg, ph)) != 0xFFFF {
		return ErrBadCsum
	}
	return nil
}
