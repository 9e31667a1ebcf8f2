package header

import "testing"

// Each fuzz target checks that the parser never panics and that an
// accepted view satisfies the invariants its accessors rely on.

func FuzzParseEthernet(f *testing.F) {
	f.Add(unhex(f, "ffffffffffff 020000000001 0806"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEthernet(b)
		if err != nil {
			return
		}
		_, _, _ = e.Dst(), e.Src(), e.Type()
		if len(e.Payload()) != len(b)-EthernetHeaderLen {
			t.Fatalf("payload length %d of %d", len(e.Payload()), len(b))
		}
	})
}

func FuzzParseARP(f *testing.F) {
	f.Add(unhex(f, "0001 0800 06 04 0002 020000000001 0a000001 020000000002 0a000002"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseARP(b)
		if err != nil {
			return
		}
		if len(a) != ARPLen || (a.Op() != ARPRequest && a.Op() != ARPReply) {
			t.Fatalf("accepted len %d op %d", len(a), a.Op())
		}
		_, _, _, _ = a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP()
	})
}

func FuzzParseIPv4(f *testing.F) {
	f.Add(append(unhex(f, sampleIPv4), make([]byte, 0x73-20)...))
	f.Add(unhex(f, "4600 0018 0007 2000 0101 0000 0a00 0001 0a00 0002 0101 0100"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, err := ParseIPv4(b)
		if err != nil {
			return
		}
		hl := ip.HeaderLen()
		if hl < IPv4MinHeaderLen || hl > len(ip) || len(ip) != ip.TotalLength() || len(ip) > len(b) {
			t.Fatalf("accepted hl=%d len=%d total=%d buf=%d", hl, len(ip), ip.TotalLength(), len(b))
		}
		_, _, _, _ = ip.Options(), ip.Payload(), ip.Src(), ip.Dst()
		_, _, _ = ip.FragmentOffset(), ip.MF(), ip.DF()
	})
}

func FuzzParseICMPv4(f *testing.F) {
	f.Add(unhex(f, "0800 f7fd 0001 0001"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseICMPv4(b)
		if err != nil {
			return
		}
		if len(m.Body()) != len(b)-ICMPv4HeaderLen {
			t.Fatalf("body %d of %d", len(m.Body()), len(b))
		}
		_, _, _, _, _ = m.Type(), m.Code(), m.Ident(), m.Seq(), m.IsError()
	})
}

func FuzzParseUDP(f *testing.F) {
	f.Add(unhex(f, sampleUDP))
	f.Add(unhex(f, "04d2 0035 0008 0000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUDP(b)
		if err != nil {
			return
		}
		if len(u) < UDPHeaderLen || len(u) != u.Length() || len(u) > len(b) {
			t.Fatalf("accepted len %d, length field %d, buffer %d", len(u), u.Length(), len(b))
		}
		if len(u.Payload()) != u.Length()-UDPHeaderLen {
			t.Fatalf("payload %d of length %d", len(u.Payload()), u.Length())
		}
		_, _, _ = u.SrcPort(), u.DstPort(), u.ChecksumValid(udpSrc, udpDst)
	})
}
