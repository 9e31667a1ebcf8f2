package virtionet

import (
	"encoding/binary"
	"testing"

	"gomenuos/net/checksum"
)

// FuzzReceiveBuffer feeds arbitrary device-written buffers through the
// header parser and the checksum handling a received frame goes through.
func FuzzReceiveBuffer(f *testing.F) {
	f.Add(append(make([]byte, 12), make([]byte, 60)...), true)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 34, 0, 16, 0, 1, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, mergeable bool) {
		h, err := parseNetHdr(b, rxParams{mergeable: mergeable, maxBufs: 256, tso4: true})
		if err != nil {
			return
		}
		if h.numBuffers < 1 || h.numBuffers > 256 || (!mergeable && h.numBuffers != 1) {
			t.Fatalf("num_buffers %d accepted", h.numBuffers)
		}
		frame := append([]byte(nil), b[hdrLen:]...)
		if h.flags&hdrFNeedsCsum != 0 {
			start, field := int(h.csumStart), int(h.csumStart)+int(h.csumOffset)
			var pseudo uint32 // the partial sum the host left in the field
			if field+2 <= len(frame) {
				pseudo = uint32(binary.BigEndian.Uint16(frame[field:]))
			}
			if completeCsum(frame, h) == nil {
				// A receiver adds the pseudo-header sum again when verifying.
				if h.csumOffset%2 == 0 && checksum.Fold(checksum.Sum(frame[start:], pseudo)) != 0xFFFF {
					t.Fatalf("completed checksum does not verify")
				}
			}
			return
		}
		_ = verifyCsum(frame)
	})
}

func TestParseNetHdr(t *testing.T) {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint16(b[10:], 3)
	for _, tc := range []struct {
		b         []byte
		mergeable bool
		want      error
		bufs      uint16
	}{
		{b, true, nil, 3},
		{b, false, nil, 1}, // without MRG_RXBUF num_buffers is ignored
		{b[:11], false, ErrShortHdr, 0},
		{[]byte{0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, true, ErrGSO, 0},
		{make([]byte, 12), true, ErrNumBuffers, 0},
	} {
		h, err := parseNetHdr(tc.b, rxParams{mergeable: tc.mergeable, maxBufs: 3})
		if err != tc.want || h.numBuffers != tc.bufs {
			t.Errorf("parse % x mergeable=%v: %+v, %v; want %d buffers, %v", tc.b, tc.mergeable, h, err, tc.bufs, tc.want)
		}
	}
}
