package tcp

// seqnum is a 32-bit sequence number compared modulo 2^32 (RFC 9293 §3.4).
type seqnum uint32

func (a seqnum) lt(b seqnum) bool  { return int32(a-b) < 0 }
func (a seqnum) leq(b seqnum) bool { return int32(a-b) <= 0 }
func (a seqnum) gt(b seqnum) bool  { return int32(a-b) > 0 }
func (a seqnum) geq(b seqnum) bool { return int32(a-b) >= 0 }

// add advances a by n octets.
func (a seqnum) add(n int) seqnum { return a + seqnum(uint32(n)) }

// sub returns a - b as a signed distance.
func (a seqnum) sub(b seqnum) int { return int(int32(a - b)) }

// inRange reports lo <= a < hi.
func (a seqnum) inRange(lo, hi seqnum) bool { return a.geq(lo) && a.lt(hi) }

func seqMax(a, b seqnum) seqnum {
	if a.gt(b) {
		return a
	}
	return b
}

func seqMin(a, b seqnum) seqnum {
	if a.lt(b) {
		return a
	}
	return b
}
