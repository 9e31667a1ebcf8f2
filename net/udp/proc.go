package udp

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
)

// procLineWidth is the width Linux pads every /proc/net/udp line to
// (udp4_seq_show: seq_setwidth(seq, 127)).
const procLineWidth = 127

// procHeader is the first line of /proc/net/udp.
const procHeader = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"

// udpHtableMask is the mask of Linux's udp_table on a small machine
// (UDP_HTABLE_SIZE_MIN = 256 slots); the "sl" column is the slot.
const udpHtableMask = 255

// WriteProcNetUDP writes the socket table in the format of Linux's
// /proc/net/udp (Linux: udp4_seq_show → udp4_format_sock): every bound
// socket by hash slot, each slot's most recently hashed first, with the
// queued bytes (skb truesize), the socket's inode and its drops.
func (p *Proto) WriteProcNetUDP(w io.Writer) {
	p.lock()
	lines := p.procLinesLocked()
	p.unlock()
	fmt.Fprintf(w, "%-*s\n", procLineWidth, procHeader)
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s\n", procLineWidth, l)
	}
}

func (p *Proto) procLinesLocked() []string {
	ports := make([]uint16, 0, len(p.table))
	for port := range p.table {
		ports = append(ports, port)
	}
	slices.SortFunc(ports, func(a, b uint16) int {
		if sa, sb := a&udpHtableMask, b&udpHtableMask; sa != sb {
			return int(sa) - int(sb)
		}
		return int(a) - int(b)
	})
	var out []string
	for _, port := range ports {
		for _, s := range p.table[port] {
			out = append(out, s.udp4FormatSockLocked())
		}
	}
	return out
}

// udp4FormatSockLocked is one socket's row (Linux: udp4_format_sock).
// Linux prints the socket's kernel address where we print zeros (as with
// kptr_restrict), and a reference count of 2.
func (s *Sock) udp4FormatSockLocked() string {
	return fmt.Sprintf("%5d: %s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d",
		s.lport&udpHtableMask, procAddr(s.laddr, s.lport), procAddr(s.raddr, s.rport), uint8(s.state),
		0, s.rmem, 0, 0, 0, s.uid, 0, s.inode, 2, 0, s.drops)
}

// procAddr prints an IPv4 address and port as Linux does: the address as
// the host-order (little-endian) view of its network bytes.
func procAddr(a netip.Addr, port uint16) string {
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	b := a.As4()
	return fmt.Sprintf("%08X:%04X", binary.LittleEndian.Uint32(b[:]), port)
}
