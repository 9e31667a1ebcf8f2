package stack

import "net/netip"

// TransportFuncs adapts a transport whose entry points are plain
// functions — TCP's Proto.Rcv and Proto.Err — to TransportProtocol, so
// neither package imports the other:
//
//	s.AddTransport(stack.TransportFuncs{Proto: 6, Rcv: tcpProto.Rcv, Err: tcpProto.Err})
type TransportFuncs struct {
	Proto uint8
	// Rcv handles one datagram; payload is valid only during the call.
	Rcv func(src, dst netip.Addr, payload []byte)
	// Err handles an ICMP error quoting a datagram we sent; may be nil.
	Err func(typ, code uint8, quoted []byte)
}

// Protocol returns f.Proto.
func (f TransportFuncs) Protocol() uint8 { return f.Proto }

// Receive calls f.Rcv.
func (f TransportFuncs) Receive(p *PacketInfo) { f.Rcv(p.Src, p.Dst, p.Payload) }

// ReceiveICMPError calls f.Err if set.
func (f TransportFuncs) ReceiveICMPError(_ *PacketInfo, typ, code uint8, quoted []byte) {
	if f.Err != nil {
		f.Err(typ, code, quoted)
	}
}
