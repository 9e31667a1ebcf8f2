package header

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A UDP datagram header from 192.168.0.1 to 192.168.0.199, checksum b861.
const sampleIPv4 = "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"

func TestParseEthernet(t *testing.T) {
	f := unhex(t, "ffffffffffff 020000000001 0806 aabb")
	e, err := ParseEthernet(f)
	if err != nil {
		t.Fatal(err)
	}
	if e.Dst() != BroadcastMAC || e.Src().String() != "02:00:00:00:00:01" || e.Type() != EtherTypeARP {
		t.Fatalf("got dst %v src %v type %#x", e.Dst(), e.Src(), e.Type())
	}
	if !bytes.Equal(e.Payload(), []byte{0xaa, 0xbb}) {
		t.Fatalf("payload % x", e.Payload())
	}
	if _, err := ParseEthernet(f[:13]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("13 bytes: err %v, want ErrTruncated", err)
	}
	out := make([]byte, EthernetHeaderLen)
	PutEthernet(out, e.Dst(), e.Src(), e.Type())
	if !bytes.Equal(out, f[:14]) {
		t.Fatalf("PutEthernet % x", out)
	}
}

func TestParseARP(t *testing.T) {
	// who-has 10.0.0.2 tell 10.0.0.1, as sent by 02:00:00:00:00:01, padded to 46 bytes.
	req := unhex(t, "0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002"+strings.Repeat("00", 18))
	a, err := ParseARP(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != ARPLen || a.Op() != ARPRequest || a.SenderIP() != netip.MustParseAddr("10.0.0.1") ||
		a.TargetIP() != netip.MustParseAddr("10.0.0.2") || a.SenderMAC().String() != "02:00:00:00:00:01" || !a.TargetMAC().IsZero() {
		t.Fatalf("bad view: op %d %v %v %v %v", a.Op(), a.SenderIP(), a.SenderMAC(), a.TargetIP(), a.TargetMAC())
	}
	out := make([]byte, ARPLen)
	PutARP(out, ARPRequest, a.SenderMAC(), a.SenderIP(), MAC{}, a.TargetIP())
	if !bytes.Equal(out, req[:ARPLen]) {
		t.Fatalf("PutARP % x", out)
	}
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
		want error
	}{
		{"short", func(b []byte) []byte { return b[:27] }, ErrTruncated},
		{"hw type 6", func(b []byte) []byte { b[1] = 6; return b }, ErrUnsupported},
		{"ptype IPv6", func(b []byte) []byte { b[2], b[3] = 0x86, 0xdd; return b }, ErrUnsupported},
		{"hlen 8", func(b []byte) []byte { b[4] = 8; return b }, ErrUnsupported},
		{"op 3 (RARP)", func(b []byte) []byte { b[7] = 3; return b }, ErrUnsupported},
	} {
		b := tc.edit(append([]byte(nil), req...))
		if _, err := ParseARP(b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseIPv4(t *testing.T) {
	hdr := unhex(t, sampleIPv4)
	pkt := append(append([]byte(nil), hdr...), make([]byte, 0x73-20+6)...) // 6 bytes of link padding
	ip, err := ParseIPv4(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if len(ip) != 0x73 || ip.HeaderLen() != 20 || !ip.DF() || ip.MF() || ip.IsFragment() || ip.TTL() != 64 ||
		ip.Protocol() != ProtocolUDP || ip.Src() != netip.MustParseAddr("192.168.0.1") || ip.Dst() != netip.MustParseAddr("192.168.0.199") {
		t.Fatalf("bad view len=%d hl=%d ttl=%d proto=%d %v>%v", len(ip), ip.HeaderLen(), ip.TTL(), ip.Protocol(), ip.Src(), ip.Dst())
	}
	out := make([]byte, 20)
	PutIPv4(out, IPv4Fields{TotalLength: 0x73, Flags: IPv4FlagDF, TTL: 64, Protocol: ProtocolUDP, Src: ip.Src(), Dst: ip.Dst()})
	if !bytes.Equal(out, hdr) {
		t.Fatalf("PutIPv4\n got % x\nwant % x", out, hdr)
	}
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
		want error
	}{
		{"19 bytes", func(b []byte) []byte { return b[:19] }, ErrTruncated},
		{"version 6", func(b []byte) []byte { b[0] = 0x65; return b }, ErrVersion},
		{"ihl 4", func(b []byte) []byte { b[0] = 0x44; return b }, ErrHeaderLength},
		{"ihl 15 beyond buffer", func(b []byte) []byte { b[0] = 0x4f; return b[:40] }, ErrTruncated},
		{"total 19", func(b []byte) []byte { b[2], b[3] = 0, 19; return b }, ErrTotalLength},
		{"total beyond buffer", func(b []byte) []byte { return b[:0x72] }, ErrTruncated},
		{"checksum", func(b []byte) []byte { b[8] = 63; return b }, ErrChecksum},
	} {
		b := tc.edit(append([]byte(nil), pkt...))
		if _, err := ParseIPv4(b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestIPv4OptionsSkipped(t *testing.T) {
	// IHL 6: one word of options (NOP NOP NOP EOL) before a 4-byte payload.
	b := make([]byte, 28)
	PutIPv4(b, IPv4Fields{TotalLength: 28, ID: 7, Flags: IPv4FlagMF, FragOffset: 1480, TTL: 1, Protocol: ProtocolICMP,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")})
	copy(b[24:], b[20:24])
	b[0] = 0x46
	copy(b[20:24], []byte{1, 1, 1, 0})
	copy(b[24:], "data")
	b[10], b[11] = 0, 0
	fixChecksum(b[:24])
	ip, err := ParseIPv4(b)
	if err != nil {
		t.Fatal(err)
	}
	if ip.HeaderLen() != 24 || string(ip.Payload()) != "data" || !bytes.Equal(ip.Options(), []byte{1, 1, 1, 0}) ||
		!ip.MF() || ip.FragmentOffset() != 1480 || ip.ID() != 7 || !ip.IsFragment() {
		t.Fatalf("hl=%d payload=%q opts=% x mf=%v off=%d id=%d", ip.HeaderLen(), ip.Payload(), ip.Options(), ip.MF(), ip.FragmentOffset(), ip.ID())
	}
}

func TestParseICMPv4(t *testing.T) {
	b := make([]byte, 8+4)
	copy(b[8:], "ping")
	PutICMPv4(b, ICMPv4Echo, 0, 0x1234_0001)
	m, err := ParseICMPv4(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type() != ICMPv4Echo || m.Code() != 0 || m.Ident() != 0x1234 || m.Seq() != 1 || string(m.Body()) != "ping" || m.IsError() {
		t.Fatalf("bad view type=%d id=%#x seq=%d body=%q", m.Type(), m.Ident(), m.Seq(), m.Body())
	}
	b[9] ^= 0x20
	if _, err := ParseICMPv4(b); !errors.Is(err, ErrChecksum) {
		t.Fatalf("corrupt: err %v, want ErrChecksum", err)
	}
	if _, err := ParseICMPv4(b[:7]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short: err %v, want ErrTruncated", err)
	}
}

func fixChecksum(h []byte) {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	h[10], h[11] = byte(c>>8), byte(c)
}
