package tcp

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"
)

// procLineWidth is Linux's TMPSZ - 1: every /proc/net/tcp line is padded
// to it.
const procLineWidth = 149

// procHeader is the first line of /proc/net/tcp.
const procHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"

// procAddr prints an IPv4 address and port as Linux does: the address as
// the host-order (little-endian) view of its network bytes.
func procAddr(a netip.Addr, port uint16) string {
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	b := a.As4()
	return fmt.Sprintf("%08X:%04X", binary.LittleEndian.Uint32(b[:]), port)
}

// clockT converts a duration to USER_HZ (100 Hz) ticks.
func clockT(d time.Duration) int64 {
	if d < 0 {
		d = 0
	}
	return int64(d / (10 * time.Millisecond))
}

// WriteProcNetTCP writes the socket table in the format of Linux's
// /proc/net/tcp (Linux: tcp4_seq_show): listeners first, then request
// socks and connections.
func (p *Proto) WriteProcNetTCP(w io.Writer) {
	p.lock()
	lines := p.procLinesLocked()
	p.unlock()
	fmt.Fprintf(w, "%-*s\n", procLineWidth, procHeader)
	for i, l := range lines {
		fmt.Fprintf(w, "%-*s\n", procLineWidth, fmt.Sprintf("%4d: %s", i, l))
	}
}

func (p *Proto) procLinesLocked() []string {
	var listeners, conns []*Sock
	for s := range p.socks {
		switch {
		case s.state == StateListen:
			listeners = append(listeners, s)
		case s.hashed:
			conns = append(conns, s)
		}
	}
	byPorts := func(a, b *Sock) int {
		if a.lport != b.lport {
			return int(a.lport) - int(b.lport)
		}
		return int(a.rport) - int(b.rport)
	}
	slices.SortFunc(listeners, byPorts)
	slices.SortFunc(conns, byPorts)
	var out []string
	now := p.now()
	for _, l := range listeners {
		out = append(out, l.procLineLocked(now))
	}
	for _, l := range listeners {
		for _, r := range sortedReqs(l.listen.synQueue) {
			out = append(out, r.procLineLocked(now))
		}
	}
	for _, s := range conns {
		out = append(out, s.procLineLocked(now))
	}
	tws := make([]*timewaitSock, 0, len(p.twhash))
	for _, tw := range p.twhash {
		tws = append(tws, tw)
	}
	slices.SortFunc(tws, func(a, b *timewaitSock) int {
		if a.key.lport != b.key.lport {
			return int(a.key.lport) - int(b.key.lport)
		}
		return int(a.key.rport) - int(b.key.rport)
	})
	for _, tw := range tws {
		out = append(out, tw.procLineLocked(p))
	}
	return out
}

func sortedReqs(m map[fourTuple]*requestSock) []*requestSock {
	rs := make([]*requestSock, 0, len(m))
	for _, r := range m {
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b *requestSock) int { return int(a.tuple.rport) - int(b.tuple.rport) })
	return rs
}

// procLineLocked is one socket's row (Linux: get_tcp4_sock and
// get_timewait4_sock).
func (s *Sock) procLineLocked(now time.Time) string {
	local, remote := procAddr(s.laddr, s.lport), procAddr(s.raddr, s.rport)
	timer, when := 0, time.Duration(0)
	switch {
	case s.rtxT.armed:
		timer, when = 1, s.rtxT.deadline.Sub(now)
	case s.persistT.armed:
		timer, when = 4, s.persistT.deadline.Sub(now)
	case s.keepT.armed:
		timer, when = 2, s.keepT.deadline.Sub(now)
	}
	rxq := s.rcvq.len()
	if s.state == StateListen {
		rxq = len(s.listen.acceptQ)
	}
	ssthresh := int64(s.ssthresh)
	if s.ssthresh >= infiniteSSThresh {
		ssthresh = -1
	}
	return fmt.Sprintf("%s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d",
		local, remote, uint8(s.state), s.sndq.len(), rxq, timer, clockT(when), s.retrans,
		s.uid, s.probesOut, s.inode, 1, 0, clockT(s.rtt.rto), clockT(tcpDelackMin), 0, s.cwnd, ssthresh)
}

// procLineLocked is a request sock's row, shown as SYN_RECV (Linux:
// get_openreq4).
func (r *requestSock) procLineLocked(now time.Time) string {
	return fmt.Sprintf("%s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x",
		procAddr(r.tuple.laddr, r.tuple.lport), procAddr(r.tuple.raddr, r.tuple.rport),
		uint8(StateSynRecv), 0, 0, 1, clockT(r.timer.deadline.Sub(now)), r.retrans, r.listener.uid, 0, 0, 0, 0)
}
