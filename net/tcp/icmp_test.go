package tcp

import (
	"bytes"
	"net/netip"
	"testing"

	"gomenuos/net/header"
)

// quote builds what an ICMP error quotes: our IPv4 header and the first 8
// bytes of the segment.
func quote(h header.TCP) []byte {
	q := make([]byte, 28)
	q[0] = 0x45
	q[9] = 6
	a, b := addrA.As4(), addrB.As4()
	copy(q[12:], a[:])
	copy(q[16:], b[:])
	copy(q[20:], h[:8])
	return q
}

func TestICMPPortUnreachableInSynSent(t *testing.T) {
	sc := newScript(t)
	s := sc.p.NewSock()
	_ = s.Connect(netip.AddrPortFrom(addrB, peerPort))
	syn := sc.expect(flags(flagSyn))
	bogus := append([]byte(nil), syn...)
	bogus[4] ^= 0x80 // a sequence number we never sent: ignored (RFC 5927)
	sc.p.Err(3, 3, quote(bogus))
	if s.State() != StateSynSent {
		t.Fatal("ICMP error with a foreign sequence number was believed")
	}
	sc.p.Err(3, 3, quote(syn))
	if done, err := s.ConnectResult(); !done || err != ErrConnRefused {
		t.Fatalf("ConnectResult = %v, %v", done, err)
	}
}

func TestFragmentationNeededShrinksMSS(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(&header.TCPOptions{HasMSS: true, MSS: 1460})
	data := bytes.Repeat([]byte("x"), 1400)
	must(t, s.SetOption(OptNoDelay, 1))
	_, _ = s.Send(data)
	big := sc.expect(seqIs(iss+1), payload(string(data)))
	sc.p.MTUReduced(quote(big), 1000)
	sc.expect(seqIs(iss+1), payload(string(data[:960])))
	sc.expect(seqIs(iss+961), payload(string(data[960:])))
	if mss, _ := s.GetOption(OptMaxSeg); mss != 960 {
		t.Fatalf("MSS %d after PMTU 1000, want 960", mss)
	}
}
