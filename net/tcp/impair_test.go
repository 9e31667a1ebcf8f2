package tcp

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
	"time"
)

// TestImpairedTransfers moves several MB across a link with loss,
// reordering, duplication, corruption and delay, and checks the bytes by
// hash.
func TestImpairedTransfers(t *testing.T) {
	cases := []struct {
		name string
		imp  impair
		cc   string
	}{
		{"clean-cubic", impair{delay: 10 * time.Millisecond}, "cubic"},
		{"loss1-cubic", impair{delay: 10 * time.Millisecond, loss: 0.01}, "cubic"},
		{"loss5-reno", impair{delay: 10 * time.Millisecond, loss: 0.05}, "reno"},
		{"loss10-cubic", impair{delay: 5 * time.Millisecond, loss: 0.10}, "cubic"},
		{"reorder-dup", impair{delay: 5 * time.Millisecond, jitter: 4 * time.Millisecond, dup: 0.05}, "cubic"},
		{"corrupt", impair{delay: 5 * time.Millisecond, corrupt: 0.05}, "reno"},
		{"everything", impair{delay: 5 * time.Millisecond, jitter: 3 * time.Millisecond, loss: 0.03, dup: 0.02, corrupt: 0.02}, "cubic"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, a, b := newPair(t, tc.imp, func(c *Config) { c.Congestion = tc.cc })
			c, s := connectPairRetry(t, l, a, b)
			data := make([]byte, 3<<20)
			for i := range data {
				data[i] = byte(i*31 + i>>11)
			}
			start := l.clock.Now()
			got := transfer(t, l, c, s, data, 30*time.Minute)
			if sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("sha256 mismatch: got %d bytes of %d", len(got), len(data))
			}
			el := l.clock.Now().Sub(start)
			t.Logf("%s: %d bytes in %v virtual (%.1f MB/s), retrans %d, csum errs %d",
				tc.name, len(data), el, float64(len(data))/el.Seconds()/1e6,
				a.MIB.RetransSegs.Load(), b.MIB.InCsumErrors.Load()+a.MIB.InCsumErrors.Load())
		})
	}
}

// connectPairRetry is connectPair on a lossy link: it lets the SYN retry.
func connectPairRetry(t testing.TB, l *testLink, a, b *Proto) (*Sock, *Sock) {
	t.Helper()
	imp := l.imp
	l.imp = impair{delay: imp.delay}
	c, s := connectPair(t, l, a, b)
	l.imp = imp
	return c, s
}

// TestImpairedManySeeds runs many shorter transfers under heavy
// impairment, varying the seed, congestion control, SACK and timestamps,
// to catch stalls that only some loss patterns provoke (it found the
// TS.Recent update order of RFC 7323 Appendix D).
func TestImpairedManySeeds(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		imp := impair{delay: 3 * time.Millisecond, jitter: 3 * time.Millisecond, loss: 0.10, dup: 0.03, corrupt: 0.03}
		l, a, b := newPair(t, imp, func(c *Config) {
			c.Congestion = [...]string{"cubic", "reno"}[seed%2]
			c.SACK = seed%3 != 0
			c.Timestamps = seed%5 != 0
		})
		l.rng = rand.New(rand.NewPCG(seed, seed*31))
		c, s := connectPairRetry(t, l, a, b)
		data := make([]byte, 512<<10)
		for i := range data {
			data[i] = byte(i*7 + int(seed))
		}
		got := transfer(t, l, c, s, data, 10*time.Minute)
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("seed %d: sha256 mismatch", seed)
		}
	}
}
