package header

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// sampleUDP is 10.0.0.1:1234 → 10.0.0.2:53 carrying "hi!", its checksum
// (5d65) computed outside this code base.
const sampleUDP = "04d2 0035 000b 5d65 686921"

var udpSrc, udpDst = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")

func TestParseUDP(t *testing.T) {
	b := unhex(t, sampleUDP)
	u, err := ParseUDP(append(b, 0, 0)) // Ethernet padding after the datagram
	if err != nil {
		t.Fatal(err)
	}
	if u.SrcPort() != 1234 || u.DstPort() != 53 || u.Length() != 11 || string(u.Payload()) != "hi!" {
		t.Fatalf("got %d>%d len %d payload %q", u.SrcPort(), u.DstPort(), u.Length(), u.Payload())
	}
	if !u.ChecksumValid(udpSrc, udpDst) {
		t.Fatal("checksum of the sample does not verify")
	}
	if u.ChecksumValid(udpSrc, netip.MustParseAddr("10.0.0.3")) {
		t.Fatal("checksum verifies for another destination")
	}
	for _, c := range []struct {
		b    string
		want error
	}{
		{"04d2 0035 000b", ErrTruncated},             // shorter than the header
		{"04d2 0035 0007 0000", ErrUDPLength},        // length below 8
		{"04d2 0035 000c 5d65 686921", ErrTruncated}, // length past the bytes
	} {
		if _, err := ParseUDP(unhex(t, c.b)); !errors.Is(err, c.want) {
			t.Errorf("ParseUDP(%s) = %v, want %v", c.b, err, c.want)
		}
	}
}

func TestUDPZeroChecksumMeansNone(t *testing.T) {
	u, err := ParseUDP(unhex(t, "04d2 0035 000b 0000 686921"))
	if err != nil || !u.ChecksumValid(udpSrc, udpDst) {
		t.Fatalf("zero checksum: %v, valid %v", err, err == nil && u.ChecksumValid(udpSrc, udpDst))
	}
}

func TestPutUDP(t *testing.T) {
	b := make([]byte, 11)
	copy(b[8:], "hi!")
	PutUDP(b, UDPFields{SrcPort: 1234, DstPort: 53}, udpSrc, udpDst)
	if want := unhex(t, sampleUDP); !bytes.Equal(b, want) {
		t.Fatalf("PutUDP = % x, want % x", b, want)
	}
}

// TestPutUDPNeverSendsZero: a datagram whose checksum computes to zero
// carries 0xffff, the same value in one's complement (RFC 768).
func TestPutUDPNeverSendsZero(t *testing.T) {
	b := make([]byte, 10)
	PutUDP(b, UDPFields{SrcPort: 1, DstPort: 2}, udpSrc, udpDst)
	// With a zero payload the checksum is c = ^sum; a payload word of c
	// makes the sum 0xffff, whose complement is 0.
	c := uint16(b[6])<<8 | uint16(b[7])
	b[8], b[9] = byte(c>>8), byte(c)
	PutUDP(b, UDPFields{SrcPort: 1, DstPort: 2}, udpSrc, udpDst)
	if b[6] != 0xff || b[7] != 0xff {
		t.Fatalf("checksum % x, want ff ff", b[6:8])
	}
	u, _ := ParseUDP(b)
	if !u.ChecksumValid(udpSrc, udpDst) {
		t.Fatal("0xffff checksum does not verify")
	}
}
