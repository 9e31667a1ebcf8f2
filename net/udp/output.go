package udp

import (
	"errors"
	"net/netip"
	"syscall"

	"gomenuos/net/header"
	"gomenuos/net/stack"
)

// Linux's MSG_* values UDP looks at.
const (
	msgOOB      = 0x1
	msgPeek     = 0x2
	msgTrunc    = 0x20
	msgErrQueue = 0x2000
)

// MsgTrunc is the MSG_TRUNC bit Recvmsg reports when a datagram was longer
// than the buffer (recvmsg's msg_flags).
const MsgTrunc = msgTrunc

// Sendmsg sends b as one datagram to to, or to the connected peer when to
// is the zero AddrPort, and returns len(b) (Linux: inet_sendmsg →
// udp_sendmsg). It never waits.
func (s *Sock) Sendmsg(b []byte, to netip.AddrPort, flags int) (int, error) {
	return s.udpSendmsg(b, to, flags)
}

// sendPlan is what udpSendmsg decides under the lock and uses after it.
type sendPlan struct {
	src, dst     netip.Addr
	sport, dport uint16
}

// udpSendmsg checks the length and destination, binds an ephemeral port
// if needed, and sends (Linux: udp_sendmsg). Errors: EMSGSIZE past 65,507
// bytes, EDESTADDRREQ with no destination, EINVAL for port 0, EACCES for
// a broadcast without SO_BROADCAST, ENETUNREACH without a route, EPIPE
// after SHUT_WR, and first of all an error an ICMP message left.
func (s *Sock) udpSendmsg(b []byte, to netip.AddrPort, flags int) (int, error) {
	if len(b) > maxPayload {
		return 0, ErrMsgSize
	}
	if flags&msgOOB != 0 {
		return 0, ErrOpNotSupp
	}
	p := s.proto
	p.lock()
	plan, err := s.udpSendPlanLocked(to)
	p.unlock()
	if err != nil {
		return 0, err
	}
	return len(b), p.udpSendSkb(plan, b)
}

// udpSendPlanLocked resolves the addresses of one datagram.
func (s *Sock) udpSendPlanLocked(to netip.AddrPort) (sendPlan, error) {
	p := s.proto
	var pl sendPlan
	if s.closed {
		return pl, ErrPipe
	}
	if err := s.inetAutobindLocked(); err != nil { // Linux: inet_send_prepare
		return pl, err
	}
	switch {
	case to.Addr().IsValid():
		if !to.Addr().Is4() {
			return pl, ErrAFNoSupport
		}
		if to.Port() == 0 {
			return pl, ErrInvalid
		}
		pl.dst, pl.dport = localIfUnspecified(to.Addr()), to.Port()
	case s.state == StateEstablished:
		pl.dst, pl.dport = s.raddr, s.rport
	default:
		return pl, ErrDestAddrReq
	}
	src, _, err := p.ip.Route(pl.dst)
	if err != nil {
		return pl, ipErrno(err)
	}
	if p.ip.IsBroadcast(pl.dst) && !s.broadcast {
		return pl, ErrAccess
	}
	if s.saddr.IsValid() {
		src = s.saddr
	}
	// Linux: sock_alloc_send_skb reports a pending error, then SHUT_WR.
	if e := s.takeErrorLocked(); e != 0 {
		return pl, e
	}
	if s.shutdown&sendShutdown != 0 {
		return pl, ErrPipe
	}
	pl.src, pl.sport = src, s.lport
	return pl, nil
}

// udpSendSkb builds the datagram and hands it to IP (Linux: udp_send_skb).
// A full device queue (ENOBUFS) is counted in SndbufErrors and not
// reported, as Linux does without IP_RECVERR: UDP may lose datagrams.
func (p *Proto) udpSendSkb(pl sendPlan, b []byte) error {
	buf := make([]byte, stack.MaxHeaderRoom+header.UDPHeaderLen+len(b))
	dgram := buf[stack.MaxHeaderRoom:]
	copy(dgram[header.UDPHeaderLen:], b)
	header.PutUDP(dgram, header.UDPFields{SrcPort: pl.sport, DstPort: pl.dport}, pl.src, pl.dst)
	err := p.ip.OutputIPv4Datagram(pl.src, pl.dst, header.ProtocolUDP, 0, buf, stack.MaxHeaderRoom)
	if err == nil {
		p.MIB.OutDatagrams.Add(1)
		return nil
	}
	e := ipErrno(err)
	if errors.Is(e, syscall.ENOBUFS) {
		p.MIB.SndbufErrors.Add(1)
		return nil
	}
	return e
}
