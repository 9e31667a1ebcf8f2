package header

import (
	"bytes"
	"testing"
)

func TestTCPEncodeParseRoundTrip(t *testing.T) {
	opts := &TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTS: true, TSVal: 7, TSEcr: 9, HasWS: true, WS: 7}
	b := make([]byte, 64)
	n := EncodeTCP(b, &TCPFields{SrcPort: 1234, DstPort: 80, Seq: 100, Ack: 200, Flags: TCPFlagSyn | TCPFlagAck, Window: 65535, Options: opts})
	// Linux's SYN-ACK layout: MSS | SACK_PERM TS | NOP WS.
	wantOpts := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 3, 3, 7}
	if n != 40 || !bytes.Equal(b[20:40], wantOpts) {
		t.Fatalf("encoded %d bytes, options % x; want 40, % x", n, b[20:40], wantOpts)
	}
	seg := append(b[:n:n], "hi"...)
	SetTCPChecksum(TCP(seg), [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2})
	h, err := ParseTCP(seg)
	if err != nil {
		t.Fatal(err)
	}
	if h.SrcPort() != 1234 || h.DstPort() != 80 || h.Seq() != 100 || h.Ack() != 200 ||
		h.Flags() != TCPFlagSyn|TCPFlagAck || h.Window() != 65535 || string(h.Payload()) != "hi" {
		t.Fatalf("fields differ after round trip: %x", []byte(h))
	}
	var got TCPOptions
	if err := ParseTCPOptions(h.Options(), &got); err != nil || got != *opts {
		t.Fatalf("options %+v err %v, want %+v", got, err, *opts)
	}
}

func TestTCPSACKBlocksEncode(t *testing.T) {
	o := &TCPOptions{HasTS: true, TSVal: 1, TSEcr: 2, NumSACK: 2, SACK: [4]SACKBlock{{10, 20}, {30, 40}}}
	b := make([]byte, 40)
	if n := o.Encode(b); n != o.Len() || n != 32 {
		t.Fatalf("Encode = %d, Len = %d, want 32", n, o.Len())
	}
	var got TCPOptions
	if err := ParseTCPOptions(b[:32], &got); err != nil || got != *o {
		t.Fatalf("parsed %+v err %v", got, err)
	}
}

func TestTCPParseRejects(t *testing.T) {
	if _, err := ParseTCP(make([]byte, 19)); err != ErrTCPTruncated {
		t.Fatalf("19 bytes: err %v", err)
	}
	b := make([]byte, 20)
	b[12] = 4 << 4
	if _, err := ParseTCP(b); err != ErrTCPDataOffset {
		t.Fatalf("offset 4: err %v", err)
	}
	b[12] = 6 << 4
	if _, err := ParseTCP(b); err != ErrTCPTruncated {
		t.Fatalf("offset past end: err %v", err)
	}
	for _, bad := range [][]byte{{2, 4, 1}, {2, 3, 0}, {5, 1}, {8, 9, 0, 0, 0, 0, 0, 0, 0}, {5, 6, 0, 0, 0, 0}} {
		var o TCPOptions
		if err := ParseTCPOptions(bad, &o); err != ErrTCPOption {
			t.Errorf("options % x: err %v, want ErrTCPOption", bad, err)
		}
	}
}

func FuzzParseTCP(f *testing.F) {
	seed := make([]byte, 64)
	n := EncodeTCP(seed, &TCPFields{SrcPort: 1, DstPort: 2, Flags: TCPFlagSyn,
		Options: &TCPOptions{HasMSS: true, MSS: 1460, HasWS: true, WS: 7, SACKPermitted: true, HasTS: true}})
	f.Add(seed[:n])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseTCP(b)
		if err != nil {
			return
		}
		_ = h.Payload()
		var o TCPOptions
		if ParseTCPOptions(h.Options(), &o) != nil {
			return
		}
		// Whatever parsed must re-encode and parse to the same set.
		if o.NumSACK > MaxSACKBlocks+1 {
			t.Fatalf("NumSACK %d", o.NumSACK)
		}
		enc := make([]byte, o.Len())
		if n := o.Encode(enc); n != len(enc) {
			t.Fatalf("Encode wrote %d, Len %d", n, len(enc))
		}
		var again TCPOptions
		if err := ParseTCPOptions(enc, &again); err != nil || again != o {
			t.Fatalf("re-parse %+v err %v, want %+v", again, err, o)
		}
	})
}
