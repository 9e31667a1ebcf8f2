package tcp

import (
	"encoding/binary"
	"net/netip"
)

// ICMP types and codes TCP reacts to (RFC 792, RFC 1122 §4.2.3.9).
const (
	icmpDestUnreach  = 3
	icmpProtoUnreach = 2
	icmpPortUnreach  = 3
	icmpFragNeeded   = 4
)

// Err handles an ICMP error quoting one of our segments: quoted is the
// offending IPv4 header and at least 8 bytes of TCP (Linux: tcp_v4_err).
// Unreachables abort a connection still in SYN-SENT/SYN-RECEIVED and are
// soft errors later (RFC 1122 §4.2.3.9; RFC 5927 advises this caution).
func (p *Proto) Err(typ, code uint8, quoted []byte) {
	if typ != icmpDestUnreach || len(quoted) < 20 {
		return
	}
	ihl := int(quoted[0]&0xf) * 4
	if ihl < 20 || len(quoted) < ihl+8 {
		return
	}
	src := netip.AddrFrom4([4]byte(quoted[12:16]))
	dst := netip.AddrFrom4([4]byte(quoted[16:20]))
	th := quoted[ihl:]
	t := fourTuple{laddr: src, raddr: dst, lport: binary.BigEndian.Uint16(th), rport: binary.BigEndian.Uint16(th[2:])}
	seq := seqnum(binary.BigEndian.Uint32(th[4:]))
	p.lock()
	defer p.unlock()
	s := p.ehash[t]
	if s == nil || s.state == StateTimeWait || code == icmpFragNeeded {
		return
	}
	// RFC 5927 §4.1: the quoted sequence number must be in flight.
	if !seq.inRange(s.sndUna, s.sndMax.add(1)) {
		return
	}
	err := ErrHostUnreachable
	if code == icmpPortUnreach || code == icmpProtoUnreach {
		err = ErrConnRefused
	}
	if s.state == StateSynSent || s.state == StateSynRecv {
		s.proto.MIB.AttemptFails.Add(1)
		s.err = err
		s.tcpDoneLocked()
		return
	}
	s.softErr = err
}
