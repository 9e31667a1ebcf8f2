package tcp

import (
	"testing"
	"time"

	"gomenuos/net/clock"
)

func TestSipHashVector(t *testing.T) {
	// The SipHash paper's Appendix A: key 00..0f, message 00..0e.
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	if got := siphash24(0x0706050403020100, 0x0f0e0d0c0b0a0908, msg); got != 0xa129ca6149be45e5 {
		t.Fatalf("siphash24 = %#x, want 0xa129ca6149be45e5", got)
	}
}

func TestISNKeyedAndClocked(t *testing.T) {
	v := clock.NewVirtual(epoch)
	cfg := testConfig()
	p := New(&fakeIP{addr: addrA, mtu: 1500}, v, cfg)
	tup := fourTuple{laddr: addrA, raddr: addrB, lport: 40000, rport: 80}
	other := tup
	other.rport = 81
	a, b := p.secureSeq(tup), p.secureSeq(other)
	if a == b {
		t.Fatal("two connection-ids got the same ISN")
	}
	v.Advance(time.Second)
	// RFC 6528: M ticks every 4 µs, so a second later the ISN moved 250000.
	if d := p.secureSeq(tup) - a; d != 250000 {
		t.Fatalf("ISN advanced %d in 1 s, want 250000", d)
	}
	seed2 := *cfg.Seed
	seed2[5] ^= 1
	cfg.Seed = &seed2
	q := New(&fakeIP{addr: addrA, mtu: 1500}, v, cfg)
	if q.secureSeq(tup) == p.secureSeq(tup) {
		t.Fatal("the ISN does not depend on the secret")
	}
}
