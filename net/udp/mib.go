package udp

import (
	"fmt"
	"io"
	"sync/atomic"
)

// MIB holds the counters of the "Udp:" line of /proc/net/snmp (RFC 4113,
// Linux: UDP_MIB_*). Fields are updated atomically.
type MIB struct {
	InDatagrams  atomic.Uint64 // datagrams read by a socket
	NoPorts      atomic.Uint64 // unicast datagrams for a port nobody has
	InErrors     atomic.Uint64 // short, bad checksum, or no room on the socket
	OutDatagrams atomic.Uint64
	RcvbufErrors atomic.Uint64 // dropped because the socket's SO_RCVBUF was full
	SndbufErrors atomic.Uint64 // lost because the device queue was full
	InCsumErrors atomic.Uint64
	IgnoredMulti atomic.Uint64 // broadcasts no socket wanted
	MemErrors    atomic.Uint64 // memory accounting failures: always 0 here
}

// WriteSNMP writes the "Udp:" header and value lines as /proc/net/snmp
// shows them (Linux: snmp_seq_show_tcp_udp).
func (m *MIB) WriteSNMP(w io.Writer) {
	fmt.Fprintln(w, "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors")
	fmt.Fprintf(w, "Udp: %d %d %d %d %d %d %d %d %d\n", m.InDatagrams.Load(), m.NoPorts.Load(), m.InErrors.Load(),
		m.OutDatagrams.Load(), m.RcvbufErrors.Load(), m.SndbufErrors.Load(), m.InCsumErrors.Load(),
		m.IgnoredMulti.Load(), m.MemErrors.Load())
}
