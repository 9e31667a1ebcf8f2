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

// TestSackScoreboardHoles checks the sender's scoreboard merging.
func TestSackScoreboardHoles(t *testing.T) {
	var sb scoreboard
	sb.update([]header.SACKBlock{{Start: 300, End: 400}, {Start: 100, End: 200}, {Start: 150, End: 250}, {Start: 5000, End: 6000}}, 50, 1000)
	want := []sackRange{{100, 250}, {300, 400}}
	if len(sb.blocks) != 2 || sb.blocks[0] != want[0] || sb.blocks[1] != want[1] {
		t.Fatalf("blocks %v, want %v (the block past SND.MAX ignored)", sb.blocks, want)
	}
	if h, ok := sb.nextHole(50); !ok || h != (sackRange{50, 100}) {
		t.Fatalf("first hole %v %v", h, ok)
	}
	if h, ok := sb.nextHole(100); !ok || h != (sackRange{250, 300}) {
		t.Fatalf("second hole %v %v", h, ok)
	}
	if _, ok := sb.nextHole(300); ok {
		t.Fatal("a hole above the highest SACKed octet")
	}
	sb.ackedTo(320)
	if sb.sackedBytes(1000) != 80 {
		t.Fatalf("sacked bytes %d after ACK 320, want 80", sb.sackedBytes(1000))
	}
}
