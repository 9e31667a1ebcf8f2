package tcp

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

// simulate acks a full window every RTT for d and returns cwnd over time.
func simulate(cc CongestionControl, c *ccState, rtt, d time.Duration) map[time.Duration]uint32 {
	out := map[time.Duration]uint32{}
	start := epoch
	for t := time.Duration(0); t <= d; t += rtt {
		cc.CongAvoid(c, c.cwnd, start.Add(t), rtt)
		out[t] = c.cwnd
	}
	return out
}

func TestRenoGrowsOnePerRTT(t *testing.T) {
	c := &ccState{cwnd: 10, ssthresh: 10}
	r := &reno{}
	w := simulate(r, c, 100*time.Millisecond, time.Second)
	// Eleven windows acked (t = 0, 0.1 ... 1 s): one segment each.
	if w[time.Second] != 21 {
		t.Fatalf("cwnd after 11 RTTs of congestion avoidance = %d, want 21", w[time.Second])
	}
	if got := r.SSThresh(c); got != 10 {
		t.Fatalf("ssthresh at cwnd 21 = %d, want 10", got)
	}
}

func TestRenoSlowStartDoubles(t *testing.T) {
	c := &ccState{cwnd: 10, ssthresh: infiniteSSThresh}
	w := simulate(&reno{}, c, 100*time.Millisecond, 300*time.Millisecond)
	if w[300*time.Millisecond] != 160 {
		t.Fatalf("cwnd after 4 slow-start RTTs = %d, want 160", w[300*time.Millisecond])
	}
}

// TestCubicReturnsToWmaxAtK checks RFC 9438's curve: after a loss at
// W_max = 100 the window drops to 70 and is back near 100 at
// K = cbrt(100*0.3/0.4) ≈ 4.2 s, then grows past it (convex region).
func TestCubicReturnsToWmaxAtK(t *testing.T) {
	cu := &cubic{}
	c := &ccState{cwnd: 100}
	c.ssthresh = cu.SSThresh(c)
	c.cwnd = c.ssthresh
	if c.cwnd != 70 {
		t.Fatalf("cwnd after loss = %d, want 70", c.cwnd)
	}
	rtt := 100 * time.Millisecond
	w := simulate(cu, c, rtt, 8*time.Second)
	k := math.Cbrt(100 * (1 - cubicBeta) / cubicC)
	atK := w[time.Duration(math.Round(k*10))*rtt]
	if atK < 95 || atK > 106 {
		t.Fatalf("cwnd at K=%.2fs is %d, want about 100", k, atK)
	}
	if w[2*time.Second] >= atK || w[8*time.Second] <= atK+20 {
		t.Fatalf("not concave then convex: %d at 2s, %d at K, %d at 8s", w[2*time.Second], atK, w[8*time.Second])
	}
}

func TestCongestionPerSocket(t *testing.T) {
	l, a, b := newPair(t, impair{delay: time.Millisecond})
	ln := listenAt(t, b, 80)
	must(t, ln.SetCongestion("reno"))
	c := a.NewSock()
	if got := c.Congestion(); got != "cubic" {
		t.Fatalf("default congestion %q, want cubic", got)
	}
	if err := c.SetCongestion("vegas"); err != ErrNoEnt {
		t.Fatalf("SetCongestion(vegas) = %v, want ENOENT", err)
	}
	_ = c.Connect(netip.AddrPortFrom(addrB, 80))
	l.run(100 * time.Millisecond)
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if s.Congestion() != "reno" || c.Congestion() != "cubic" {
		t.Fatalf("child %q (inherits reno), client %q", s.Congestion(), c.Congestion())
	}
}

// TestHystartPlusPlus walks RFC 9406 §4.2: eight samples of 50 ms in a
// round set the baseline; a round whose minimum is 50 ms + max(4 ms,
// 50/8 ms) enters Conservative Slow Start, growing a quarter as fast; five
// CSS rounds end slow start with ssthresh = cwnd.
func TestHystartPlusPlus(t *testing.T) {
	cu := &cubic{}
	c := &ccState{cwnd: 10, ssthresh: infiniteSSThresh}
	nxt := seqnum(1000)
	round := func(rtt time.Duration) bool {
		una := nxt
		nxt = nxt.add(100)
		ended := false
		for range hystartNRTTSample {
			ended = cu.PktsAcked(c, rtt, una, nxt) || ended
		}
		return ended
	}
	round(50 * time.Millisecond)
	round(50 * time.Millisecond)
	if cu.hy.css {
		t.Fatal("CSS without an RTT rise")
	}
	round(56 * time.Millisecond) // below 50 + 6.25 ms
	if cu.hy.css {
		t.Fatal("CSS on a rise below the threshold")
	}
	round(50 * time.Millisecond)
	round(57 * time.Millisecond)
	if !cu.hy.css {
		t.Fatal("no CSS after the minimum RTT rose by 7 ms over 50 ms")
	}
	before := c.cwnd
	cu.CongAvoid(c, 8, epoch, 50*time.Millisecond)
	if c.cwnd != before+2 {
		t.Fatalf("CSS grew cwnd by %d for 8 acked, want 2", c.cwnd-before)
	}
	ended := false
	for i := 0; i < hystartCSSRounds && !ended; i++ {
		ended = round(60 * time.Millisecond)
	}
	if !ended || c.ssthresh != c.cwnd {
		t.Fatalf("after %d CSS rounds: ended %v, ssthresh %d cwnd %d", hystartCSSRounds, ended, c.ssthresh, c.cwnd)
	}
}
