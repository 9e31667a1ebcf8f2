package inet

import (
	"encoding/binary"

	"gomenuos/net/clock"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
	"gomenuos/net/udp"
)

// NewNet returns the socket layer on top of st, with TCP registered as
// st's protocol 6 and UDP as 17 (Linux: inet_init →
// inet_add_protocol(&tcp_protocol) and (&udp_protocol)). UDP shares TCP's
// ephemeral port range (ip_local_port_range) and test seed.
func NewNet(st *stack.Stack, clk clock.Clock, cfg tcp.Config) *Net {
	n := New(st, clk, cfg)
	st.AddTransport(tcpProtocol{n.tcp})
	ucfg := udp.DefaultConfig()
	ucfg.EphemeralLo, ucfg.EphemeralHi, ucfg.Seed = cfg.EphemeralLo, cfg.EphemeralHi, cfg.Seed
	n.udp = udp.New(st, ucfg)
	st.AddTransport(n.udp)
	n.softirq = st.DoSoftirq
	return n
}

// tcpProtocol adapts TCP to the stack's transport interface (Linux:
// struct net_protocol tcp_protocol).
type tcpProtocol struct{ p *tcp.Proto }

func (t tcpProtocol) Protocol() uint8 { return t.p.Protocol() }

// Receive is net_protocol.handler: tcp_v4_rcv.
func (t tcpProtocol) Receive(pi *stack.PacketInfo) {
	if pi.ChecksumVerified {
		t.p.RcvVerified(pi.Src, pi.Dst, pi.Payload)
		return
	}
	t.p.Rcv(pi.Src, pi.Dst, pi.Payload)
}

// BeginBatch and EndBatch bracket a device's burst of frames (the stack's
// link.BatchReceiver).
func (t tcpProtocol) BeginBatch() { t.p.BeginBatch() }
func (t tcpProtocol) EndBatch()   { t.p.EndBatch() }

// ReceiveICMPError is net_protocol.err_handler: tcp_v4_err. For
// "fragmentation needed" the next-hop MTU sits in bytes 6-7 of the ICMP
// header (RFC 1191 §4), which the stack hands over in pi.Payload.
func (t tcpProtocol) ReceiveICMPError(pi *stack.PacketInfo, typ, code uint8, quoted []byte) {
	if typ == 3 && code == 4 && len(pi.Payload) >= 8 {
		t.p.MTUReduced(quoted, int(binary.BigEndian.Uint16(pi.Payload[6:8])))
		return
	}
	t.p.Err(typ, code, quoted)
}
