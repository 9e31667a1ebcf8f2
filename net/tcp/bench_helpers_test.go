package tcp

import "gomenuos/net/header"

// encodeBench writes an ACK|PSH header from the peer and its checksum
// over a payload already placed after it.
func encodeBench(b []byte, dport uint16, seq, ack uint32) int {
	n := header.EncodeTCP(b, &header.TCPFields{SrcPort: peerPort, DstPort: dport, Seq: seq, Ack: ack,
		Flags: flagAck | flagPsh, Window: 65535})
	return n
}
