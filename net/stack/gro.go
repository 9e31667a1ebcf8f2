package stack

import (
	"bytes"
	"encoding/binary"
	"sync"

	"gomenuos/net/buf"
	"gomenuos/net/checksum"
	"gomenuos/net/header"
	"gomenuos/net/link"
)

// Generic receive offload (Linux: napi_gro_receive, inet_gro_receive,
// tcp4_gro_receive, napi_gro_flush). Within a driver's burst of frames
// (link.BatchReceiver), in-order TCP segments of one flow are merged into
// one before IP and TCP see them: one pass through the stack and one ACK
// decision per merged segment instead of per frame. Under TCG a frame's
// trip through IP and TCP cost about 40 µs, most of a receive over QEMU's
// user networking, whose frames are MSS-sized.
//
// A segment merges with the one held for its flow when it follows it in
// sequence with the same ACK, window, TTL, TOS and TCP options (so the
// same timestamp), carries only ACK and maybe PSH, and the sum stays an
// IPv4 datagram; PSH ends the merge, as in Linux. Anything else flushes
// every held segment first, so frames reach the stack in arrival order.
// Each segment's checksum is verified before it merges (unless the device
// did), and the merged one goes up marked verified.

// groMaxFlows is how many flows one burst holds at a time (Linux:
// MAX_GRO_SKBS).
const groMaxFlows = 8

// Merged segments are built in buffers of a pool shared by every stack
// (Linux builds them as frag lists of the received pages): allocating,
// zeroing and collecting a 64 KiB buffer per merged segment was a fifth
// of a receive over user networking. A merged segment's text stays in its
// buffer while TCP's receive queue holds it (net/buf.Hold); when the pool
// is empty, GRO allocates as before.
const (
	groPoolBufs = 64
	groPad      = 2     // TCP text with timestamps 8-byte aligned, as NET_IP_ALIGN
	groBufSize  = 65568 // groPad, an Ethernet header and a 64 KiB datagram, a multiple of 16
)

var (
	groPoolOnce sync.Once
	groPool     *buf.Pool
)

// groBuffer returns an empty buffer for a merged segment: from the pool
// (holding a reference that groFlush gives back) or a new one.
func groBuffer() []byte {
	groPoolOnce.Do(func() { groPool = buf.NewPool(groPoolBufs, groBufSize) })
	if b := groPool.Get(); b != nil {
		return b[groPad:groPad]
	}
	return make([]byte, 0, header.EthernetHeaderLen+header.IPv4MaxTotalLen)
}

// groFlow is a segment being merged (Linux: an skb on the NAPI gro list).
type groFlow struct {
	frame  []byte // Ethernet frame: the first segment's headers, every payload
	tcpOff int    // where the TCP header starts
	next   uint32 // sequence number that continues it
	frames int
}

// groState is one interface's held segments; only its device's receive
// goroutine touches it, between BeginBatch and EndBatch.
type groState struct {
	active bool
	flows  []groFlow
}

// groBegin starts a burst on ifc.
func (ifc *Interface) groBegin() { ifc.gro.active = true }

// groEnd flushes what ifc holds and ends the burst (Linux: napi_gro_flush).
func (s *Stack) groEnd(ifc *Interface) {
	s.groFlush(ifc)
	ifc.gro.active = false
}

// groReceive takes a frame during a burst: it merges or holds it and
// reports true, or, for a frame GRO does not take, reports false after
// flushing, leaving the frame to the normal path.
func (s *Stack) groReceive(ifc *Interface, frame []byte) bool {
	tcpOff, ok := groCandidate(ifc, frame)
	if !ok {
		s.groFlush(ifc)
		return false
	}
	g := &ifc.gro
	for i := range g.flows {
		f := &g.flows[i]
		if !sameFlow(f.frame, frame, tcpOff) {
			continue
		}
		if !f.canMerge(frame, tcpOff) {
			s.groFlush(ifc) // then held anew below
			break
		}
		f.merge(frame, tcpOff)
		if frame[tcpOff+13]&header.TCPFlagPsh != 0 {
			s.groFlush(ifc) // Linux: PSH ends the merge
		}
		return true
	}
	if len(g.flows) == groMaxFlows {
		s.groFlush(ifc)
	}
	g.flows = append(g.flows, groFlow{frame: frame, tcpOff: tcpOff, next: nextSeq(frame, tcpOff), frames: 1})
	return true
}

// groFlush hands every held segment to the stack, oldest first.
func (s *Stack) groFlush(ifc *Interface) {
	g := &ifc.gro
	for i := range g.flows {
		f := &g.flows[i]
		if f.frames > 1 {
			ifc.Stats.RxGROMerged.Add(uint64(f.frames))
			f.finish()
		}
		s.netifReceiveSkb(ifc, f.frame, true)
		if f.frames > 1 {
			buf.Release(f.frame) // GRO's reference; TCP holds what it queued
		}
		g.flows[i] = groFlow{}
	}
	g.flows = g.flows[:0]
}

// groCandidate reports whether frame is an in-order-mergeable TCP/IPv4
// segment with text and a valid checksum, and where its TCP header is.
func groCandidate(ifc *Interface, frame []byte) (int, bool) {
	const eth = header.EthernetHeaderLen
	if len(frame) < eth+20+20 || header.EtherType(binary.BigEndian.Uint16(frame[12:])) != header.EtherTypeIPv4 ||
		header.MAC(frame[0:6]) != ifc.dev.HardwareAddr() {
		return 0, false
	}
	ip := frame[eth:]
	tl := int(binary.BigEndian.Uint16(ip[2:]))
	if ip[0] != 0x45 || ip[9] != header.ProtocolTCP || tl > len(ip) ||
		binary.BigEndian.Uint16(ip[6:])&0x3FFF != 0 || checksum.Checksum(ip[:20], 0) != 0 {
		return 0, false // options, another protocol, a fragment, a bad header
	}
	tcp := ip[20:tl]
	hl := int(tcp[12]>>4) * 4
	if len(tcp) < 20 || hl < 20 || hl >= len(tcp) || tcp[13]&^header.TCPFlagPsh != header.TCPFlagAck {
		return 0, false // no text, or flags other than ACK and PSH
	}
	if !ifc.dev.Features().Has(link.FeatureRxChecksum) &&
		checksum.Checksum(tcp, checksum.PseudoHeaderIPv4([4]byte(ip[12:16]), [4]byte(ip[16:20]), 6, uint16(len(tcp)))) != 0 {
		return 0, false // TCP counts and drops it
	}
	return eth + 20, true
}

// sameFlow compares the addresses and ports of two segments.
func sameFlow(a, b []byte, tcpOff int) bool {
	const eth = header.EthernetHeaderLen
	return bytes.Equal(a[eth+12:eth+20], b[eth+12:eth+20]) && bytes.Equal(a[tcpOff:tcpOff+4], b[tcpOff:tcpOff+4])
}

func nextSeq(frame []byte, tcpOff int) uint32 {
	ip := frame[header.EthernetHeaderLen:]
	tl := int(binary.BigEndian.Uint16(ip[2:]))
	hl := int(frame[tcpOff+12]>>4) * 4
	return binary.BigEndian.Uint32(frame[tcpOff+4:]) + uint32(tl-20-hl)
}

// canMerge reports whether frame continues f (Linux: the flush conditions
// of tcp_gro_receive and inet_gro_receive).
func (f *groFlow) canMerge(frame []byte, tcpOff int) bool {
	const eth = header.EthernetHeaderLen
	h, n := f.frame, frame
	hl := int(n[tcpOff+12]>>4) * 4
	textLen := int(binary.BigEndian.Uint16(n[eth+2:])) - 20 - hl
	mergedLen := int(binary.BigEndian.Uint16(h[eth+2:])) + textLen
	return f.frame[f.tcpOff+13]&header.TCPFlagPsh == 0 &&
		binary.BigEndian.Uint32(n[tcpOff+4:]) == f.next &&
		h[eth+1] == n[eth+1] && h[eth+8] == n[eth+8] && // TOS, TTL
		bytes.Equal(h[tcpOff+8:tcpOff+12], n[tcpOff+8:tcpOff+12]) && // ACK
		bytes.Equal(h[tcpOff+14:tcpOff+16], n[tcpOff+14:tcpOff+16]) && // window
		int(h[f.tcpOff+12]>>4)*4 == hl &&
		bytes.Equal(h[f.tcpOff+20:f.tcpOff+hl], n[tcpOff+20:tcpOff+hl]) && // options, timestamps included
		mergedLen <= header.IPv4MaxTotalLen
}

// merge appends frame's text to f, moving f into a buffer of its own with
// room for a whole datagram on the first merge.
func (f *groFlow) merge(frame []byte, tcpOff int) {
	const eth = header.EthernetHeaderLen
	hl := int(frame[tcpOff+12]>>4) * 4
	tl := int(binary.BigEndian.Uint16(frame[eth+2:]))
	text := frame[tcpOff+hl : eth+tl]
	if f.frames == 1 {
		first := f.frame[:eth+int(binary.BigEndian.Uint16(f.frame[eth+2:]))]
		f.frame = buf.Append(groBuffer(), first)
	}
	f.frame = buf.Append(f.frame, text)
	binary.BigEndian.PutUint16(f.frame[eth+2:], uint16(len(f.frame)-eth))
	f.frame[f.tcpOff+13] |= frame[tcpOff+13] & header.TCPFlagPsh
	f.next += uint32(len(text))
	f.frames++
}

// finish gives a merged segment a valid IPv4 header checksum for its new
// length (its TCP checksum field is stale: it goes up verified).
func (f *groFlow) finish() {
	ip := f.frame[header.EthernetHeaderLen:]
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], checksum.Checksum(ip[:20], 0))
}
