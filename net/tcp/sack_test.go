package tcp

import (
	"bytes"
	"testing"
	"time"

	"gomenuos/net/header"
)

// TestFastRecoveryAfterOneLoss drops one data segment and checks that it
// is repaired by fast retransmit (SACK-based with SACK, NewReno without),
// not by a retransmission timeout.
func TestFastRecoveryAfterOneLoss(t *testing.T) {
	for _, sack := range []bool{true, false} {
		l, a, b := newPair(t, impair{delay: 10 * time.Millisecond}, func(c *Config) { c.SACK = sack })
		c, s := connectPair(t, l, a, b)
		dataSegs := 0
		l.tap = func(from int, seg header.TCP) bool {
			if from == 0 && len(seg.Payload()) > 0 {
				dataSegs++
				return dataSegs != 5 // lose the fifth data segment once
			}
			return true
		}
		data := bytes.Repeat([]byte("0123456789abcdef"), 20000)
		got := transfer(t, l, c, s, data, time.Minute)
		if !bytes.Equal(got, data) {
			t.Fatalf("sack=%v: data differs", sack)
		}
		rec := a.MIB.TCPSACKRecovery.Load()
		if !sack {
			rec = a.MIB.TCPRenoRecovery.Load()
		}
		if rec != 1 || a.MIB.TCPTimeouts.Load() != 0 {
			t.Fatalf("sack=%v: recoveries %d, timeouts %d; want 1, 0", sack, rec, a.MIB.TCPTimeouts.Load())
		}
		if n := b.MIB.TCPOFOQueue.Load(); n == 0 {
			t.Fatalf("sack=%v: receiver queued nothing out of order", sack)
		}
	}
}
