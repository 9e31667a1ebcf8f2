// Package virtionet drives a virtio-net device (virtio 1.2 §5.1) over the
// modern PCI transport and presents it to the stack as a link.Device.
package virtionet

import (
	"encoding/binary"
	"errors"
)

// Feature bits (virtio 1.2 §5.1.3).
const (
	FeatureCsum      = 1 << 0  // device completes partial checksums we send
	FeatureGuestCsum = 1 << 1  // we accept partial / pre-validated checksums
	FeatureMTU       = 1 << 3  // config.mtu is valid
	FeatureMAC       = 1 << 5  // config.mac is valid
	FeatureGuestTSO4 = 1 << 7  // we accept coalesced TCP/IPv4 segments up to 64 KiB
	FeatureHostTSO4  = 1 << 11 // the device segments TCP/IPv4 frames up to 64 KiB
	FeatureMrgRxbuf  = 1 << 15 // a received packet may span several buffers
	FeatureStatus    = 1 << 16 // config.status is valid
)

// struct virtio_net_hdr (virtio 1.2 §5.1.6). With VERSION_1 it always
// carries num_buffers, so it is 12 bytes.
const (
	hdrLen          = 12
	hdrFNeedsCsum   = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	hdrFDataValid   = 2 // VIRTIO_NET_HDR_F_DATA_VALID
	hdrGSONone      = 0
	hdrGSOTCPv4     = 1 // VIRTIO_NET_HDR_GSO_TCPV4
	hdrOffFlags     = 0
	hdrOffGSOType   = 1
	hdrOffHdrLen    = 2
	hdrOffGSOSize   = 4
	hdrOffCsumStart = 6
	hdrOffCsumOff   = 8
	hdrOffNumBufs   = 10
)

// Errors from parsing a received header.
var (
	ErrShortHdr    = errors.New("virtionet: buffer shorter than virtio_net_hdr")
	ErrGSO         = errors.New("virtionet: GSO type not negotiated (or without NEEDS_CSUM)")
	ErrNumBuffers  = errors.New("virtionet: num_buffers out of range")
	ErrCsumRange   = errors.New("virtionet: csum_start/csum_offset outside the frame")
	ErrShortFrame  = errors.New("virtionet: frame shorter than an Ethernet header")
	ErrOversize    = errors.New("virtionet: frame longer than the MTU allows")
	ErrMissingBufs = errors.New("virtionet: packet's continuation buffers missing")
	ErrBadCsum     = errors.New("virtionet: transport checksum does not verify")
	ErrNoTSO       = errors.New("virtionet: device does not segment (no VIRTIO_NET_F_HOST_TSO4)")
	ErrNotTCPv4    = errors.New("virtionet: segmentation offload frame is not TCP over IPv4")
)

// netHdr is a validated virtio_net_hdr.
type netHdr struct {
	flags      uint8
	gsoType    uint8
	csumStart  uint16
	csumOffset uint16
	numBuffers uint16
}

// rxParams are what the negotiated features allow in a received header.
type rxParams struct {
	mergeable bool // num_buffers is meaningful (VIRTIO_NET_F_MRG_RXBUF)
	maxBufs   int  // the receive ring size bounds num_buffers
	tso4      bool // GSO_TCPV4 packets may arrive (VIRTIO_NET_F_GUEST_TSO4)
}

// parseNetHdr validates the header at the start of a receive buffer. It is
// the single entry point for device-written headers.
func parseNetHdr(b []byte, p rxParams) (netHdr, error) {
	if len(b) < hdrLen {
		return netHdr{}, ErrShortHdr
	}
	h := netHdr{
		flags:      b[hdrOffFlags],
		csumStart:  binary.LittleEndian.Uint16(b[hdrOffCsumStart:]),
		csumOffset: binary.LittleEndian.Uint16(b[hdrOffCsumOff:]),
		gsoType:    b[hdrOffGSOType],
		numBuffers: 1,
	}
	// virtio 1.2 §5.1.6.4: a coalesced segment comes with NEEDS_CSUM.
	switch {
	case h.gsoType == hdrGSONone:
	case h.gsoType == hdrGSOTCPv4 && p.tso4 && h.flags&hdrFNeedsCsum != 0:
	default:
		return netHdr{}, ErrGSO
	}
	if p.mergeable {
		h.numBuffers = binary.LittleEndian.Uint16(b[hdrOffNumBufs:])
		if h.numBuffers == 0 || int(h.numBuffers) > p.maxBufs {
			return netHdr{}, ErrNumBuffers
		}
	}
	return h, nil
}

// txHdr is what a transmitted frame asks of the device: nothing (zero), a
// checksum to complete (csumStart > 0), and segmentation (gsoType != 0).
type txHdr struct {
	csumStart, csumOffset uint16
	gsoType               uint8
	hdrLen, gsoSize       uint16
}

// put writes the virtio_net_hdr.
func (h txHdr) put(b []byte) {
	clear(b[:hdrLen])
	if h.csumStart != 0 {
		b[hdrOffFlags] = hdrFNeedsCsum
		binary.LittleEndian.PutUint16(b[hdrOffCsumStart:], h.csumStart)
		binary.LittleEndian.PutUint16(b[hdrOffCsumOff:], h.csumOffset)
	}
	b[hdrOffGSOType] = h.gsoType
	binary.LittleEndian.PutUint16(b[hdrOffHdrLen:], h.hdrLen)
	binary.LittleEndian.PutUint16(b[hdrOffGSOSize:], h.gsoSize)
}
