package tcp

import "time"

// RFC 9406 §4.3's constants.
const (
	hystartMinRTTThresh    = 4 * time.Millisecond
	hystartMaxRTTThresh    = 16 * time.Millisecond
	hystartMinRTTDivisor   = 8
	hystartNRTTSample      = 8
	hystartCSSGrowthDivide = 4
	hystartCSSRounds       = 5
)

// hystart is HyStart++ (RFC 9406): slow start watches the minimum RTT of
// each round trip and, when it rises by a threshold, grows cwnd at a
// quarter of the rate (Conservative Slow Start) for up to five rounds
// before leaving slow start, instead of overshooting until a loss.
type hystart struct {
	windowEnd   seqnum // the round ends when SND.UNA passes this
	started     bool
	lastMin     time.Duration // lastRoundMinRTT; 0 = none yet
	curMin      time.Duration // currentRoundMinRTT; 0 = none yet
	samples     int           // rttSampleCount
	css         bool          // in Conservative Slow Start
	cssBaseline time.Duration // cssBaselineMinRtt
	cssRounds   int
	cssFrac     uint32 // acked segments not yet turned into growth in CSS
	off         bool   // only the first slow start uses it (§4.3, after a loss: no)
}

// sample folds one RTT sample in (RFC 9406 §4.2) and reports whether slow
// start ends now, with ssthresh set to cwnd.
func (h *hystart) sample(c *ccState, rtt time.Duration, una, nxt seqnum) bool {
	if h.off || c.cwnd >= c.ssthresh {
		return false
	}
	if !h.started || una.geq(h.windowEnd) {
		// A new round: the minimum of the one that ended is the baseline.
		h.started, h.windowEnd = true, nxt
		h.lastMin, h.curMin, h.samples = h.curMin, 0, 0
		if h.css {
			if h.cssRounds++; h.cssRounds >= hystartCSSRounds {
				c.ssthresh = c.cwnd // §4.2: enter congestion avoidance
				h.css, h.off = false, true
				return true
			}
		}
	}
	if h.curMin == 0 || rtt < h.curMin {
		h.curMin = rtt
	}
	h.samples++
	if h.samples < hystartNRTTSample || h.lastMin == 0 {
		return false
	}
	if !h.css {
		thresh := min(max(h.lastMin/hystartMinRTTDivisor, hystartMinRTTThresh), hystartMaxRTTThresh)
		if h.curMin >= h.lastMin+thresh {
			h.css, h.cssBaseline, h.cssRounds = true, h.curMin, 0
		}
	} else if h.curMin < h.cssBaseline {
		h.css = false // §4.2: the RTT rise was spurious; back to slow start
	}
	return false
}

// grow is slow start's increase: one segment per segment acknowledged, a
// quarter of that in CSS (RFC 9406 §4.2). It returns what is left over
// once cwnd reaches ssthresh.
func (h *hystart) grow(c *ccState, acked uint32) uint32 {
	if !h.css {
		return slowStart(c, acked)
	}
	h.cssFrac += acked
	inc := h.cssFrac / hystartCSSGrowthDivide
	h.cssFrac -= inc * hystartCSSGrowthDivide
	c.cwnd = min(c.cwnd+inc, max(c.ssthresh, c.cwnd))
	return 0
}
