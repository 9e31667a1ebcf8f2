package tcp

import (
	"encoding/binary"
	"time"
)

// TCP_INFO (Linux: tcp_get_info, struct tcp_info in uapi/linux/tcp.h):
// what a connection's state, congestion control and counters look like
// to the program that owns it.

// tcp_info's option bits.
const (
	infoOptTimestamps = 1
	infoOptSACK       = 2
	infoOptWscale     = 4
)

// InfoSize is the length of Linux 6.1's struct tcp_info (it ends with
// tcpi_snd_wnd); fields this stack does not keep are 0.
const InfoSize = 232

// Info returns the socket's struct tcp_info in Linux's byte layout.
func (s *Sock) Info(now time.Time) [InfoSize]byte {
	s.proto.lock()
	defer s.proto.unlock()
	var b [InfoSize]byte
	b[0] = byte(s.state)
	b[1] = byte(s.caState)
	b[2] = byte(s.retrans)
	b[3] = byte(s.probesOut)
	b[4] = byte(s.backoff)
	var opts byte
	if s.tsOK {
		opts |= infoOptTimestamps
	}
	if s.sackOK {
		opts |= infoOptSACK
	}
	if s.wsOK {
		opts |= infoOptWscale
		b[6] = s.sndWS | s.rcvWS<<4 // tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4
	}
	b[5] = opts
	le := binary.LittleEndian
	us := func(d time.Duration) uint32 { return uint32(d / time.Microsecond) }
	ms := func(t time.Time) uint32 {
		if t.IsZero() {
			return 0
		}
		return uint32(now.Sub(t) / time.Millisecond)
	}
	le.PutUint32(b[8:], us(s.rtt.rto))      // tcpi_rto
	le.PutUint32(b[12:], us(tcpDelackMin))  // tcpi_ato
	le.PutUint32(b[16:], uint32(s.sndMSS))  // tcpi_snd_mss
	le.PutUint32(b[20:], uint32(s.peerMSS)) // tcpi_rcv_mss (what the peer sends us)
	le.PutUint32(b[24:], uint32(s.rtxq.packetsOut()))
	le.PutUint32(b[28:], uint32(s.rtxq.sackedOut))
	le.PutUint32(b[32:], uint32(s.rtxq.lostOut))
	le.PutUint32(b[36:], uint32(s.rtxq.retransOut))
	le.PutUint32(b[52:], ms(s.lastRecvAt)) // tcpi_last_data_recv
	le.PutUint32(b[60:], 1500)             // tcpi_pmtu: Ethernet
	le.PutUint32(b[64:], s.rcvWnd)         // tcpi_rcv_ssthresh
	le.PutUint32(b[68:], us(s.rtt.srtt))   // tcpi_rtt
	le.PutUint32(b[72:], us(s.rtt.rttvar)) // tcpi_rttvar
	le.PutUint32(b[76:], s.ssthresh)       // tcpi_snd_ssthresh
	le.PutUint32(b[80:], s.cwnd)           // tcpi_snd_cwnd
	le.PutUint32(b[84:], uint32(s.advMSS)) // tcpi_advmss
	le.PutUint32(b[88:], uint32(s.reordering))
	le.PutUint32(b[96:], uint32(s.rcvBufSize)) // tcpi_rcv_space
	le.PutUint32(b[148:], us(s.rtt.minRTT))    // tcpi_min_rtt
	le.PutUint32(b[228:], s.sndWnd)            // tcpi_snd_wnd
	if s.state != StateListen && s.state != StateClose && s.state != StateSynSent {
		le.PutUint64(b[120:], uint64(s.sndUna-s.iss-1)) // tcpi_bytes_acked
		le.PutUint64(b[128:], uint64(s.rcvNxt-s.irs-1)) // tcpi_bytes_received
	}
	return b
}
