package tcp

import (
	"math"
	"time"
)

// RFC 9438 §4.6 and §5: beta_cubic and C.
const (
	cubicBeta = 0.7
	cubicC    = 0.4
)

// cubic is CUBIC congestion control (RFC 9438; Linux: tcp_cubic.c). All
// windows are in segments.
type cubic struct {
	wMax       float64   // window before the last reduction (W_max)
	wLastMax   float64   // for fast convergence (§4.7)
	k          float64   // seconds to reach wMax again (§4.2 eq. 2)
	epochStart time.Time // start of the current congestion-avoidance epoch
	origin     float64
	wEst       float64 // Reno-friendly estimate (§4.3)
	frac       float64 // fractional cwnd growth not yet applied
	hy         hystart // RFC 9406 in slow start
}

func (*cubic) Name() string { return "cubic" }

// SSThresh records W_max and reduces by beta (RFC 9438 §4.6, §4.7).
func (cu *cubic) SSThresh(c *ccState) uint32 {
	w := float64(c.cwnd)
	if w < cu.wLastMax {
		cu.wLastMax = w
		cu.wMax = w * (1 + cubicBeta) / 2 // fast convergence
	} else {
		cu.wLastMax = w
		cu.wMax = w
	}
	cu.epochStart = time.Time{}
	cu.hy.off = true // a loss ended the first slow start
	return max(uint32(w*cubicBeta), 2)
}

func (cu *cubic) OnRTO(*ccState) { cu.epochStart = time.Time{} }

// PktsAcked feeds HyStart++ (Linux: bictcp_acked → hystart_update).
func (cu *cubic) PktsAcked(c *ccState, rtt time.Duration, una, nxt seqnum) bool {
	return cu.hy.sample(c, rtt, una, nxt)
}

// CongAvoid grows cwnd along W_cubic(t) = C(t-K)^3 + W_max, never slower
// than the Reno-friendly estimate (RFC 9438 §4.2-§4.5).
func (cu *cubic) CongAvoid(c *ccState, acked uint32, now time.Time, srtt time.Duration) {
	if c.cwnd < c.ssthresh {
		if acked = cu.hy.grow(c, acked); acked == 0 {
			return
		}
	}
	cwnd := float64(c.cwnd)
	if cu.epochStart.IsZero() {
		cu.epochStart = now
		cu.k, cu.origin = 0, cwnd
		if cwnd < cu.wMax {
			cu.k = math.Cbrt((cu.wMax - cwnd) / cubicC)
			cu.origin = cu.wMax
		}
		cu.wEst = cwnd
	}
	t := now.Sub(cu.epochStart).Seconds() + srtt.Seconds()
	target := cu.origin + cubicC*math.Pow(t-cu.k, 3)
	// §4.3: the Reno-friendly region grows by alpha per RTT.
	cu.wEst += 3 * (1 - cubicBeta) / (1 + cubicBeta) * float64(acked) / cwnd
	target = max(target, cu.wEst)
	target = min(target, 1.5*cwnd) // §4.4: at most 1.5x per RTT
	if target > cwnd {
		cu.frac += (target - cwnd) / cwnd * float64(acked)
	}
	if cu.frac >= 1 {
		inc := math.Floor(cu.frac)
		cu.frac -= inc
		c.cwnd += uint32(inc)
	}
}
