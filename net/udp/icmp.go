package udp

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"gomenuos/net/header"
	"gomenuos/net/stack"
)

// ReceiveICMPError is net_protocol.err_handler for UDP (Linux: udp_err):
// an ICMP error about a datagram we sent; quoted is its IPv4 header and at
// least the first 8 bytes of its payload.
func (p *Proto) ReceiveICMPError(pi *stack.PacketInfo, typ, code uint8, quoted []byte) {
	p.udp4LibErr(typ, code, quoted)
}

// icmpErrConvert maps destination-unreachable codes to the errno and
// whether the error is "hard", i.e. reported to a socket without
// IP_RECVERR (Linux: icmp_err_convert; RFC 1122 §4.1.3.3).
var icmpErrConvert = [16]struct {
	errno syscall.Errno
	fatal bool
}{
	{syscall.ENETUNREACH, false},  // NET_UNREACH
	{syscall.EHOSTUNREACH, false}, // HOST_UNREACH
	{syscall.ENOPROTOOPT, true},   // PROT_UNREACH
	{syscall.ECONNREFUSED, true},  // PORT_UNREACH
	{syscall.EMSGSIZE, false},     // FRAG_NEEDED
	{syscall.EOPNOTSUPP, false},   // SR_FAILED
	{syscall.ENETUNREACH, true},   // NET_UNKNOWN
	{syscall.EHOSTDOWN, true},     // HOST_UNKNOWN
	{syscall.ENONET, true},        // HOST_ISOLATED
	{syscall.ENETUNREACH, true},   // NET_ANO
	{syscall.EHOSTUNREACH, true},  // HOST_ANO
	{syscall.ENETUNREACH, false},  // NET_UNR_TOS
	{syscall.EHOSTUNREACH, false}, // HOST_UNR_TOS
	{syscall.EHOSTUNREACH, true},  // PKT_FILTERED
	{syscall.EHOSTUNREACH, true},  // PREC_VIOLATION
	{syscall.EHOSTUNREACH, true},  // PREC_CUTOFF
}

// udp4LibErr finds the socket that sent the quoted datagram and, for a
// hard error on a connected socket, leaves the errno for its next call
// (send, receive or SO_ERROR) and wakes it with POLLERR (Linux:
// __udp4_lib_err). Soft errors and unconnected sockets are not told, as
// Linux does without IP_RECVERR: an unconnected socket cannot tell which
// of its peers the error is about.
func (p *Proto) udp4LibErr(typ, code uint8, quoted []byte) {
	if len(quoted) < header.IPv4MinHeaderLen {
		return
	}
	hl := int(quoted[0]&0x0f) * 4
	if hl < header.IPv4MinHeaderLen || len(quoted) < hl+4 {
		return // the IPv4 layer checked this; a transport does not trust it
	}
	q := header.IPv4(quoted)
	local := netip.AddrPortFrom(q.Src(), binary.BigEndian.Uint16(quoted[hl:]))
	remote := netip.AddrPortFrom(q.Dst(), binary.BigEndian.Uint16(quoted[hl+2:]))
	errno, hard := icmpErrno(typ, code)
	if errno == 0 {
		return
	}
	p.lock()
	defer p.unlock()
	sk := p.udp4LibLookupLocked(remote, local)
	if sk == nil || !hard || sk.state != StateEstablished {
		return
	}
	sk.err = errno
	sk.wakeLocked() // Linux: sk_error_report
}

// icmpErrno is the switch of __udp4_lib_err: the errno an ICMP error
// means to UDP and whether it is hard; 0 for messages UDP ignores (source
// quench, redirect). Fragmentation needed is hard, EMSGSIZE, under the
// default IP_PMTUDISC_WANT; the IPv4 layer has already recorded the new
// path MTU, so later datagrams are fragmented to it.
func icmpErrno(typ, code uint8) (syscall.Errno, bool) {
	switch typ {
	case header.ICMPv4DestUnreach:
		if code == header.ICMPv4FragNeeded {
			return syscall.EMSGSIZE, true
		}
		if int(code) < len(icmpErrConvert) {
			return icmpErrConvert[code].errno, icmpErrConvert[code].fatal
		}
		return syscall.EHOSTUNREACH, false
	case header.ICMPv4ParamProblem:
		return syscall.EPROTO, true
	case header.ICMPv4SourceQuench, header.ICMPv4Redirect:
		return 0, false
	}
	return syscall.EHOSTUNREACH, false // time exceeded and the rest
}
