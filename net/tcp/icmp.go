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
	if typ != icmpDestUnreach || code == icmpFragNeeded {
		return
	}
	p.lock()
	defer p.unlock()
	s := p.quotedSockLocked(quoted)
	if s == nil {
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

// quotedSockLocked finds the connection an ICMP error quotes, if the
// quoted sequence number is in flight (RFC 5927 §4.1).
func (p *Proto) quotedSockLocked(quoted []byte) *Sock {
	if len(quoted) < 20 {
		return nil
	}
	ihl := int(quoted[0]&0xf) * 4
	if ihl < 20 || len(quoted) < ihl+8 {
		return nil
	}
	th := quoted[ihl:]
	t := fourTuple{laddr: netip.AddrFrom4([4]byte(quoted[12:16])), raddr: netip.AddrFrom4([4]byte(quoted[16:20])),
		lport: binary.BigEndian.Uint16(th), rport: binary.BigEndian.Uint16(th[2:])}
	s := p.ehash[t]
	if s == nil || s.state == StateTimeWait {
		return nil
	}
	if seq := seqnum(binary.BigEndian.Uint32(th[4:])); !seq.inRange(s.sndUna, s.sndMax.add(1)) {
		return nil
	}
	return s
}

// minPMTU is Linux's ip_rt_min_pmtu: smaller "fragmentation needed" MTUs
// are not believed.
const minPMTU = 552

// MTUReduced handles ICMP "fragmentation needed" with the next-hop MTU
// (RFC 1191 §6.2): shrink the MSS and resend what the path dropped
// (Linux: tcp_v4_mtu_reduced + tcp_simple_retransmit).
func (p *Proto) MTUReduced(quoted []byte, mtu int) {
	p.lock()
	defer p.unlock()
	s := p.quotedSockLocked(quoted)
	if s == nil || !s.state.synchronized() {
		return
	}
	mss := mssForMTU(max(mtu, minPMTU))
	if mss >= s.advMSS {
		return
	}
	s.advMSS = mss
	s.tcpSyncMSSLocked()
	s.sndNxt = s.sndUna
	s.tcpWriteXmitLocked()
}
