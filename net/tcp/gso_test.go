package tcp

import (
	"bytes"
	"encoding/binary"
	"testing"

	"gomenuos/net/checksum"
	"gomenuos/net/header"
)

// The software fallback cuts an offloaded segment exactly as a device
// would: consecutive sequence numbers, FIN and PSH on the last piece
// only, every piece with a full, valid checksum.
func TestSoftwareSegmentMatchesDeviceCut(t *testing.T) {
	const mss = 100
	data := bytes.Repeat([]byte("0123456789"), 35) // 3.5 MSS
	f := header.TCPFields{SrcPort: 4000, DstPort: 80, Seq: 1000, Ack: 7, Flags: flagAck | flagPsh | flagFin, Window: 512}
	seg := make([]byte, header.TCPMinimumSize+len(data))
	n := header.EncodeTCP(seg, &f)
	copy(seg[n:], data)
	ph := checksum.PseudoHeaderIPv4(addrA.As4(), addrB.As4(), 6, uint16(len(seg)))
	binary.BigEndian.PutUint16(seg[16:], checksum.Fold(ph))

	pieces := softwareSegment(seg, addrA, addrB, mss)
	if len(pieces) != 4 {
		t.Fatalf("%d pieces, want 4", len(pieces))
	}
	var got []byte
	for i, buf := range pieces {
		p := buf[MaxHeaderRoom:]
		h, err := header.ParseTCP(p)
		if err != nil {
			t.Fatal(err)
		}
		if !h.ChecksumValid(checksum.PseudoHeaderIPv4(addrA.As4(), addrB.As4(), 6, uint16(len(p)))) {
			t.Errorf("piece %d: bad checksum", i)
		}
		if h.Seq() != uint32(1000+i*mss) {
			t.Errorf("piece %d: seq %d", i, h.Seq())
		}
		last := i == len(pieces)-1
		if (h.Flags()&flagFin != 0) != last || (h.Flags()&flagPsh != 0) != last || h.Flags()&flagAck == 0 {
			t.Errorf("piece %d: flags %#x", i, h.Flags())
		}
		got = append(got, h.Payload()...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("payload differs")
	}
}
