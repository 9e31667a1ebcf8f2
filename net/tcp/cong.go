package tcp

import "time"

// ccState is the congestion window state shared with the algorithm, in
// segments like Linux's snd_cwnd. Guarded by proto.mu.
type ccState struct {
	cwnd     uint32
	ssthresh uint32
	cwndCnt  uint32 // acked segments towards the next increase
}

// CongestionControl is a congestion-avoidance algorithm (Linux: struct
// tcp_congestion_ops).
type CongestionControl interface {
	Name() string
	// SSThresh returns the slow-start threshold after a loss (Linux: .ssthresh).
	SSThresh(c *ccState) uint32
	// CongAvoid grows cwnd for acked newly acknowledged segments (Linux: .cong_avoid).
	CongAvoid(c *ccState, acked uint32, now time.Time, srtt time.Duration)
	// OnRTO resets per-epoch state after a retransmission timeout.
	OnRTO(c *ccState)
}

// rttObserver is implemented by a congestion control that wants every RTT
// sample (Linux: tcp_congestion_ops.pkts_acked), such as HyStart++ in
// CUBIC. una and nxt mark the round in progress. It reports whether the
// sample ended slow start (HyStart++ set ssthresh).
type rttObserver interface {
	PktsAcked(c *ccState, rtt time.Duration, una, nxt seqnum) bool
}

// initialCwnd is RFC 6928's initial window of 10 segments.
const initialCwnd = 10

// infiniteSSThresh is Linux's TCP_INFINITE_SSTHRESH.
const infiniteSSThresh = 0x7fffffff

// slowStart grows cwnd by one per acked segment up to ssthresh and
// returns the acked count left over (RFC 5681 §3.1; Linux: tcp_slow_start).
func slowStart(c *ccState, acked uint32) uint32 {
	cwnd := min(c.cwnd+acked, c.ssthresh)
	acked -= cwnd - c.cwnd
	c.cwnd = cwnd
	return acked
}

// congAvoidAI adds one segment per window of acked segments (RFC 5681
// §3.1 congestion avoidance; Linux: tcp_cong_avoid_ai).
func congAvoidAI(c *ccState, w, acked uint32) {
	if c.cwndCnt >= w {
		c.cwndCnt = 0
		c.cwnd++
	}
	c.cwndCnt += acked
	if c.cwndCnt >= w {
		delta := c.cwndCnt / w
		c.cwndCnt -= delta * w
		c.cwnd += delta
	}
}

// reno is RFC 5681 NewReno's window growth (Linux: tcp_reno_*).
type reno struct{}

func (*reno) Name() string { return "reno" }

func (*reno) SSThresh(c *ccState) uint32 { return max(c.cwnd/2, 2) }

func (*reno) CongAvoid(c *ccState, acked uint32, _ time.Time, _ time.Duration) {
	if c.cwnd < c.ssthresh {
		if acked = slowStart(c, acked); acked == 0 {
			return
		}
	}
	congAvoidAI(c, c.cwnd, acked)
}

func (*reno) OnRTO(*ccState) {}
