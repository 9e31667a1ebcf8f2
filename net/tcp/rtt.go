package tcp

import "time"

// rttEstimator keeps SRTT, RTTVAR and RTO (RFC 6298 §2).
type rttEstimator struct {
	srtt, rttvar time.Duration
	rto          time.Duration
	minRTT       time.Duration // smallest sample (RACK's min_RTT)
	valid        bool
}

func (r *rttEstimator) init() { r.rto = tcpTimeoutInit }

// sample folds one RTT measurement in (RFC 6298 §2.2, §2.3; Linux:
// tcp_rtt_estimator + tcp_set_rto).
func (r *rttEstimator) sample(m time.Duration) {
	if m <= 0 {
		m = time.Microsecond
	}
	if !r.valid || m < r.minRTT {
		r.minRTT = m
	}
	if !r.valid {
		r.srtt, r.rttvar, r.valid = m, m/2, true
	} else {
		delta := r.srtt - m
		if delta < 0 {
			delta = -delta
		}
		r.rttvar = (3*r.rttvar + delta) / 4 // beta = 1/4
		r.srtt = (7*r.srtt + m) / 8         // alpha = 1/8
	}
	// RFC 6298 §2.4 rounds RTO up to 1 s; Linux uses 200 ms, as do we.
	r.rto = min(max(r.srtt+max(4*r.rttvar, time.Millisecond), tcpRtoMin), tcpRtoMax)
}
