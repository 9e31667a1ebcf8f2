package tcp

import "time"

// Buffer autotuning as Linux does it: the receive buffer grows to twice
// what the reader drains per round trip (dynamic right-sizing, Linux:
// tcp_rcv_space_adjust), the send buffer to twice the congestion window's
// memory (Linux: tcp_sndbuf_expand), each up to its sysctl maximum and
// never once the application set SO_RCVBUF or SO_SNDBUF (Linux:
// SOCK_RCVBUF_LOCK, SOCK_SNDBUF_LOCK). The sizes count payload octets.

// rcvSpace is what dynamic right-sizing measures (Linux: rcvq_space and
// rcv_rtt_est).
type rcvSpace struct {
	space  int           // octets the reader drained in the last measured round trip
	seq    seqnum        // where the current measurement started (copied_seq)
	copied seqnum        // next octet the reader will get (Linux: copied_seq)
	time   time.Time     // when it started
	rtt    time.Duration // receiver's smoothed RTT estimate; 0 = none yet
}

// tcpRcvRttMeasureTsLocked samples the receiver's RTT from the echo of
// our timestamp in an in-order data segment (Linux:
// tcp_rcv_rtt_measure_ts). Timestamps tick in milliseconds; a sample of 0
// counts as 1 ms.
func (s *Sock) tcpRcvRttMeasureTsLocked(g *segment) {
	if !s.tsOK || !g.opts.HasTS || g.opts.TSEcr == 0 || len(g.data) == 0 {
		return
	}
	d := int32(s.tsValLocked() - g.opts.TSEcr)
	if d < 0 {
		return
	}
	m := time.Duration(max(d, 1)) * time.Millisecond
	if s.rcvSpace.rtt == 0 {
		s.rcvSpace.rtt = m
	} else {
		s.rcvSpace.rtt = (7*s.rcvSpace.rtt + m) / 8
	}
}

// tcpRcvSpaceAdjustLocked runs after the reader took n octets: once per
// receiver round trip, if the reader drained more than in the last one,
// the receive buffer grows to twice that plus 16 segments, more when the
// rate is rising (Linux: tcp_rcv_space_adjust).
func (s *Sock) tcpRcvSpaceAdjustLocked(n int) {
	rs := &s.rcvSpace
	rs.copied = rs.copied.add(n)
	now := s.proto.now()
	rtt := rs.rtt
	if rtt == 0 && s.rtt.valid {
		rtt = s.rtt.srtt
	}
	if rtt == 0 || now.Sub(rs.time) < rtt {
		return
	}
	copied := rs.copied.sub(rs.seq)
	if copied > rs.space {
		if !s.rcvBufLocked && rs.space > 0 {
			win := 2*copied + 16*s.advMSS
			win += 2 * win * (copied - rs.space) / rs.space // the rate is rising: room for it
			if win > s.rcvBufSize {
				s.rcvBufSize = min(win, s.proto.cfg.RcvBufMax)
			}
		}
		rs.space = copied
	}
	rs.seq, rs.time = rs.copied, now
}

// tcpInitBufferSpaceLocked starts the measurement once the connection is
// established (Linux: tcp_init_buffer_space).
func (s *Sock) tcpInitBufferSpaceLocked() {
	s.rcvSpace = rcvSpace{space: min(s.rcvBufSize, 10*s.advMSS), seq: s.rcvNxt, copied: s.rcvNxt,
		time: s.proto.now()}
}

// tcpSndbufExpandLocked grows the send buffer to hold twice the
// congestion window, each segment counted as Linux's per-segment memory
// (Linux: tcp_sndbuf_expand, from tcp_new_space when
// tcp_should_expand_sndbuf: the window is not full).
func (s *Sock) tcpSndbufExpandLocked() {
	if s.sndBufLocked || s.rtxq.pipe() >= int(s.cwnd) {
		return
	}
	segs := max(int(s.cwnd), initialCwnd, s.reordering+1)
	if want := min(2*segs*perSegmentMemory(s.sndMSS), s.proto.cfg.SndBufMax); want > s.sndBufSize {
		s.sndBufSize = want
	}
}

// perSegmentMemory is what Linux charges one segment of mss octets in the
// send buffer: the data and headers rounded up to a power of two, plus
// the sk_buff (Linux: the per_mss of tcp_sndbuf_expand, about 4.3 KiB for
// a 1448-octet MSS).
func perSegmentMemory(mss int) int {
	const maxTCPHeader, sharedInfo, skBuff = 320, 320, 256
	n := 1
	for n < mss+maxTCPHeader+sharedInfo {
		n <<= 1
	}
	return n + skBuff
}

// rcvWScale is the window scale we announce: enough for the largest the
// receive buffer may grow to (Linux: tcp_select_initial_window, which
// scales for tcp_rmem[2] unless SO_RCVBUF fixed the size).
func (s *Sock) rcvWScale() uint8 {
	space := s.rcvBufSize
	if !s.rcvBufLocked {
		space = max(space, s.proto.cfg.RcvBufMax)
	}
	ws := uint8(0)
	for ws < 14 && 65535<<ws < space {
		ws++
	}
	return ws
}
