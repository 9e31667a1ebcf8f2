package stack

import (
	"errors"
	"net/netip"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// Generic segmentation offload on output (Linux: sk_setup_caps with
// NETIF_F_TSO, ip_queue_xmit of a GSO skb): TCP may hand IP one segment of
// many MSS worth of payload when the route's device segments in hardware.

// ErrGSOUnavailable is returned when a GSO segment cannot be sent as one
// frame (no offload on the path, or the neighbour is not resolved yet);
// the caller sends MSS-sized segments instead.
var ErrGSOUnavailable = errors.New("stack: no segmentation offload on this path")

// maxTCPHeader is the largest TCP header (with options).
const maxTCPHeader = 60

// RouteGSO returns how much TCP payload one segment towards dst may carry
// when the device segments it, or 0 without offload. Loopback needs none:
// its MTU is already 64 KiB.
func (s *Stack) RouteGSO(dst netip.Addr) int {
	nh, err := s.routeOutput(dst)
	if err != nil || nh.ifc.isLoopback() {
		return 0
	}
	g, ok := nh.ifc.dev.(link.GSODevice)
	if !ok {
		return 0
	}
	max := min(g.GSOMaxSize(), header.EthernetHeaderLen+header.IPv4MaxTotalLen)
	if max <= 0 {
		return 0
	}
	return max - header.EthernetHeaderLen - ipHdrLen - maxTCPHeader
}

// OutputIPv4GSO sends one TCP segment larger than the path MTU, which the
// device cuts into segments of mss payload bytes. The segment's checksum
// field must hold the folded pseudo-header sum (Linux: CHECKSUM_PARTIAL).
// Ownership of buf passes to the stack as for OutputIPv4.
func (s *Stack) OutputIPv4GSO(src, dst netip.Addr, tos uint8, buf []byte, off, mss int) error {
	if off < MaxHeaderRoom || off > len(buf) || len(buf)-off+ipHdrLen > header.IPv4MaxTotalLen {
		return ErrInvalid
	}
	nh, err := s.routeOutput(dst)
	if err != nil {
		return err
	}
	g, ok := nh.ifc.dev.(link.GSODevice)
	if !ok || nh.ifc.isLoopback() || len(buf)-off+ipHdrLen+header.EthernetHeaderLen > g.GSOMaxSize() {
		return ErrGSOUnavailable
	}
	mac, ok := s.neighMAC(nh.ifc, nh.neighbor)
	if !ok {
		return ErrGSOUnavailable
	}
	s.ipMIB.OutRequests.Add(1)
	s.ipMIB.OutTransmits.Add(1)
	header.PutIPv4(buf[off-ipHdrLen:off], header.IPv4Fields{TOS: tos, TotalLength: uint16(len(buf) - off + ipHdrLen),
		ID: s.nextIPID(), TTL: s.defaultTTL, Protocol: header.ProtocolTCP, Src: src, Dst: dst, Flags: header.IPv4FlagDF})
	frame := buf[off-ipHdrLen-header.EthernetHeaderLen:]
	header.PutEthernet(frame, mac, nh.ifc.dev.HardwareAddr(), header.EtherTypeIPv4)
	n := len(frame)
	if err := g.TransmitGSO(frame, header.EthernetHeaderLen+ipHdrLen, mss); err != nil {
		nh.ifc.Stats.TxDropped.Add(1)
		s.drop(DropTxQueueFull)
		return ErrNoBufferSpace
	}
	nh.ifc.Stats.TxPackets.Add(1)
	nh.ifc.Stats.TxBytes.Add(uint64(n))
	return nil
}

// neighMAC returns the link address of a neighbour that is confirmed or
// being confirmed, without queuing or soliciting. Unknown, incomplete and
// stale entries say no: the ordinary path (neighResolveOutput) resolves
// them and moves STALE to DELAY, so the next segment can use offload.
func (s *Stack) neighMAC(ifc *Interface, ip netip.Addr) (header.MAC, bool) {
	t := &s.neigh
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[neighKey{ifc.index, ip}]
	now := s.clock.Now()
	if e == nil {
		return header.MAC{}, false
	}
	switch e.state {
	case neighReachable:
		if now.Sub(e.updated) >= arpReachableTime {
			return header.MAC{}, false
		}
	case neighDelay, neighProbe:
	default:
		return header.MAC{}, false
	}
	e.used = now
	return e.mac, true
}

// AllocTx lends a buffer of n bytes from the device the route to dst
// leaves through, when it lends any (link.FrameAllocator): a frame built
// in it is sent without a copy. It returns nil otherwise.
func (s *Stack) AllocTx(dst netip.Addr, n int) []byte {
	nh, err := s.routeOutput(dst)
	if err != nil {
		return nil
	}
	if a, ok := nh.ifc.dev.(link.FrameAllocator); ok {
		return a.AllocFrame(n)
	}
	return nil
}

// ReleaseTx gives back a buffer AllocTx lent whose frame will not be
// sent; any other buffer is ignored.
func (s *Stack) ReleaseTx(b []byte) {
	s.mu.RLock()
	devs := make([]link.FrameAllocator, 0, 2)
	for _, ifc := range s.byDev {
		if a, ok := ifc.dev.(link.FrameAllocator); ok {
			devs = append(devs, a)
		}
	}
	s.mu.RUnlock()
	for _, a := range devs {
		a.ReleaseFrame(b)
	}
}
