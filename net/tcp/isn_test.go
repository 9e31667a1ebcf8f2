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
	// secureSeq runs under the instance's lock, as connect and the SYN
	// path call it; that is where the clock is read.
	isn := func(p *Proto, t fourTuple) seqnum {
		p.lock()
		defer p.unlock()
		return p.secureSeq(t)
	}
	a, b := isn(p, tup), isn(p, other)
	if a == b {
		t.Fatal("two connection-ids got the same ISN")
	}
	v.Advance(time.Second)
	// RFC 6528: M ticks every 4 µs, so a second later the ISN moved 250000.
	if d := isn(p, tup) - a; d != 250000 {
		t.Fatalf("ISN advanced %d in 1 s, want 250000", d)
	}
	seed2 := *cfg.Seed
	seed2[5] ^= 1
	cfg.Seed = &seed2
	q := New(&fakeIP{addr: addrA, mtu: 1500}, v, cfg)
	if isn(q, tup) == isn(p, tup) {
		t.Fatal("the ISN does not depend on the secret")
	}
}
