package stack

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// arpFrameLen is an ARP frame padded to Ethernet's 60-byte minimum.
const arpFrameLen = 60

// arpRcv handles one ARP packet (Linux: arp_rcv → arp_process).
func (s *Stack) arpRcv(ifc *Interface, eth header.Ethernet) {
	a, err := header.ParseARP(eth.Payload())
	if err != nil || ifc.dev.Features().Has(link.FeatureNoARP) || !arpSenderValid(a) {
		s.dropRx(ifc, DropARPInvalid)
		return
	}
	sip, tip, sha := a.SenderIP(), a.TargetIP(), a.SenderMAC()
	s.mu.RLock()
	tipOurs, sipOurs := ifc.ownsAddrLocked(tip), s.ownsAddrAnyLocked(sip)
	s.mu.RUnlock()
	if sipOurs {
		// Someone claims our address (a conflict or a spoof): never let it
		// redirect our own traffic.
		s.dropRx(ifc, DropARPConflict)
		return
	}
	if a.Op() == header.ARPRequest && tipOurs {
		s.arpReply(ifc, a)
		if !sip.IsUnspecified() {
			// Linux: neigh_event_ns — a request to us proves nothing about
			// reachability, so the sender enters the cache STALE.
			s.neighUpdate(ifc, sip, sha, false, true)
		}
		return
	}
	if !sip.IsUnspecified() {
		// Replies (solicited or not) and gratuitous ARP (sip == tip, RFC
		// 5227 §3) only refresh entries we already have: Linux's
		// arp_accept=0 keeps strangers from filling the cache. A reply to
		// us confirms reachability.
		s.neighUpdate(ifc, sip, sha, a.Op() == header.ARPReply && tipOurs, false)
	}
}

// arpSenderValid rejects senders that must never enter the cache (Linux:
// arp_process): multicast or zero hardware addresses, multicast or
// broadcast IPs. 0.0.0.0 passes: it is an RFC 5227 §2.1.1 probe, answered
// but not learned.
func arpSenderValid(a header.ARP) bool {
	sha, sip := a.SenderMAC(), a.SenderIP()
	return !sha.IsMulticast() && !sha.IsZero() && !sip.IsMulticast() && sip != limitedBroadcast
}

// arpReply answers a request for one of our addresses (Linux: arp_send
// with ARPOP_REPLY).
func (s *Stack) arpReply(ifc *Interface, req header.ARP) {
	s.arpSend(ifc, header.ARPReply, req.SenderMAC(), req.TargetIP(), req.SenderMAC(), req.SenderIP())
}

// arpSolicit sends a request for ip: broadcast while resolving, unicast to
// the cached MAC while probing a stale entry (Linux: arp_solicit).
func (s *Stack) arpSolicit(ifc *Interface, ip netip.Addr, unicast header.MAC) {
	s.mu.RLock()
	src := ifc.primaryAddrLocked()
	for _, p := range ifc.addrs {
		if p.Contains(ip) {
			src = p.Addr()
			break
		}
	}
	s.mu.RUnlock()
	dst := unicast
	if dst.IsZero() {
		dst = header.BroadcastMAC
	}
	s.arpSend(ifc, header.ARPRequest, dst, src, header.MAC{}, ip)
}

func (s *Stack) arpSend(ifc *Interface, op header.ARPOp, dst header.MAC, spa netip.Addr, tha header.MAC, tpa netip.Addr) {
	f := make([]byte, arpFrameLen)
	me := ifc.dev.HardwareAddr()
	header.PutEthernet(f, dst, me, header.EtherTypeARP)
	header.PutARP(f[header.EthernetHeaderLen:], op, me, spa, tha, tpa)
	s.devQueueXmit(ifc, f)
}

// ARPEntry is one row of the ARP cache view.
type ARPEntry struct {
	IP       netip.Addr
	MAC      header.MAC
	Device   string
	Complete bool // the MAC is known (Linux flag ATF_COM)
	State    string
}

var neighStateNames = [...]string{"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE"}

// ARPTable returns the cache sorted by interface then address.
func (s *Stack) ARPTable() []ARPEntry {
	t := &s.neigh
	t.mu.Lock()
	out := make([]ARPEntry, 0, len(t.entries))
	idx := map[string]int{}
	for _, e := range t.entries {
		out = append(out, ARPEntry{IP: e.ip, MAC: e.mac, Device: e.ifc.dev.Name(),
			Complete: e.state != neighIncomplete, State: neighStateNames[e.state]})
		idx[e.ifc.dev.Name()] = e.ifc.index
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b ARPEntry) int {
		if d := idx[a.Device] - idx[b.Device]; d != 0 {
			return d
		}
		return a.IP.Compare(b.IP)
	})
	return out
}

// ARPText renders the cache as Linux's /proc/net/arp (Linux:
// arp_seq_show): flags 0x2 (ATF_COM) once the MAC is known.
func (s *Stack) ARPText() string {
	var b strings.Builder
	b.WriteString("IP address       HW type     Flags       HW address            Mask     Device\n")
	for _, e := range s.ARPTable() {
		flags := 0
		if e.Complete {
			flags = 2
		}
		fmt.Fprintf(&b, "%-16s 0x%-10x0x%-10x%-17s     %-8s %s\n", e.IP, 1, flags, e.MAC, "*", e.Device)
	}
	return b.String()
}
