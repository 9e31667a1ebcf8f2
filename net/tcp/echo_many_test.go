package tcp

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// TestEchoManySeeds echoes data both ways under heavy impairment with
// small buffers, varying seed and options. It found two deadlocks where
// both sides retransmit and drop each other's ACKs: bare ACKs sent below
// the peer's RCV.NXT after an RTO rewound SND.NXT, and retransmissions
// running past SND.MAX.
func TestEchoManySeeds(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		imp := impair{delay: 2 * time.Millisecond, jitter: 2 * time.Millisecond, loss: 0.08, dup: 0.02, corrupt: 0.02}
		l, a, b := newPair(t, imp, func(c *Config) {
			c.Congestion = [...]string{"cubic", "reno"}[seed%2]
			c.SACK = seed%3 != 0
			c.Timestamps = seed%5 != 0
			c.RcvBuf = []int{256 << 10, 8 << 10, 64 << 10}[seed%3]
			c.SndBuf = []int{256 << 10, 16 << 10}[seed%2]
		})
		l.rng = rand.New(rand.NewPCG(seed, seed*77))
		c, s := connectPairRetry(t, l, a, b)
		data := make([]byte, 300<<10)
		for i := range data {
			data[i] = byte(i ^ i>>9 + int(seed))
		}
		var got []byte
		buf := make([]byte, 7<<10)
		sent, shut, srvClosed := 0, false, false
		var pend []byte
		for step := 0; step < 2000000; step++ {
			if sent < len(data) {
				n, _ := c.Send(data[sent:])
				sent += n
			} else if !shut {
				must(t, c.Shutdown(ShutWr))
				shut = true
			}
			if len(pend) > 0 {
				k, _ := s.Send(pend)
				pend = pend[k:]
			} else if n, err := s.Recv(buf, false); err == nil && n > 0 {
				pend = append([]byte(nil), buf[:n]...)
			} else if err == nil && n == 0 && !srvClosed {
				s.Close()
				srvClosed = true
			}
			if n, err := c.Recv(buf, false); err == nil && n > 0 {
				got = append(got, buf[:n]...)
			} else if err == nil && n == 0 {
				break
			} else if err != nil && err != ErrWouldBlock {
				t.Fatalf("seed %d: client Recv %v", seed, err)
			}
			l.run(time.Millisecond)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("seed %d: echoed %d of %d (sent %d); c %v s %v\nclient %s\nserver %s", seed, len(got), len(data), sent, c.State(), s.State(), c.debugString(), s.debugString())
		}
	}
}
