package tcp

import (
	"encoding/binary"
	"net/netip"

	"gomenuos/net/header"
)

// softwareSegment cuts one offloaded segment (header + many MSS of data,
// checksum field holding the pseudo-header sum) into ordinary segments of
// mss bytes with full checksums, each in a buffer with MaxHeaderRoom of
// headroom. FIN and PSH stay on the last piece only (Linux:
// tcp_gso_segment).
func softwareSegment(seg []byte, src, dst netip.Addr, mss int) [][]byte {
	hl := int(seg[12]>>4) * 4
	payload := seg[hl:]
	seq := binary.BigEndian.Uint32(seg[4:])
	flags := seg[13]
	var out [][]byte
	for off := 0; off < len(payload); off += mss {
		end := min(off+mss, len(payload))
		buf := make([]byte, MaxHeaderRoom+hl+end-off)
		piece := buf[MaxHeaderRoom:]
		copy(piece, seg[:hl])
		copy(piece[hl:], payload[off:end])
		binary.BigEndian.PutUint32(piece[4:], seq+uint32(off))
		if end < len(payload) {
			piece[13] = flags &^ (header.TCPFlagFin | header.TCPFlagPsh)
		}
		header.SetTCPChecksum(piece, src.As4(), dst.As4())
		out = append(out, buf)
	}
	return out
}
