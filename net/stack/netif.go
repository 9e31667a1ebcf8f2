package stack

import (
	"gomenuos/net/header"
)

// netifReceiveSkb takes one frame from a device and hands it to the
// protocol named by its EtherType (Linux: netif_receive_skb →
// __netif_receive_skb_core → deliver to the packet_type handler).
// verified says GRO already checked its transport checksum.
func (s *Stack) netifReceiveSkb(ifc *Interface, frame []byte, verified bool) {
	ifc.Stats.RxPackets.Add(1)
	ifc.Stats.RxBytes.Add(uint64(len(frame)))
	eth, err := header.ParseEthernet(frame)
	if err != nil {
		s.dropRx(ifc, DropPktTooSmall)
		return
	}
	dst := eth.Dst()
	switch {
	case dst == ifc.dev.HardwareAddr():
	case dst.IsBroadcast():
		ifc.Stats.RxMulticast.Add(1)
	default:
		// Linux: eth_type_trans marks PACKET_OTHERHOST; ip_rcv drops it.
		// Multicast groups are not joined, so they land here too.
		s.dropRx(ifc, DropOtherHost)
		return
	}
	switch eth.Type() {
	case header.EtherTypeIPv4:
		s.ipRcv(ifc, eth.Payload(), verified)
	case header.EtherTypeARP:
		s.arpRcv(ifc, eth)
	default:
		s.dropRx(ifc, DropUnhandledProto)
	}
}

// dropRx counts a frame discarded on receive against the device and the reason.
func (s *Stack) dropRx(ifc *Interface, r DropReason) {
	ifc.Stats.RxDropped.Add(1)
	s.drop(r)
}

// devQueueXmit hands a complete frame to the device (Linux:
// dev_queue_xmit). The frame belongs to the device afterwards.
func (s *Stack) devQueueXmit(ifc *Interface, frame []byte) error {
	n := len(frame)
	if err := ifc.dev.Transmit(frame); err != nil {
		ifc.Stats.TxDropped.Add(1)
		s.drop(DropTxQueueFull)
		return ErrNoBufferSpace
	}
	ifc.Stats.TxPackets.Add(1)
	ifc.Stats.TxBytes.Add(uint64(n))
	return nil
}
