package stack

import (
	"fmt"
	"net/netip"
	"strings"

	"gomenuos/net/link"
)

// Interface flags as ifconfig prints them (Linux: IFF_*).
const (
	iffUp        = 0x1
	iffBroadcast = 0x2
	iffLoopback  = 0x8
	iffRunning   = 0x40
	iffMulticast = 0x1000
)

// IfconfigText renders every interface as net-tools' ifconfig does.
func (s *Stack) IfconfigText() string {
	var b strings.Builder
	for i, ifc := range s.Interfaces() {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeIfconfig(&b, ifc)
	}
	return b.String()
}

func writeIfconfig(b *strings.Builder, ifc InterfaceInfo) {
	loop := ifc.Features.Has(link.FeatureLoopback)
	flags, names := iffUp|iffRunning, "UP,RUNNING"
	if loop {
		flags, names = flags|iffLoopback, "UP,LOOPBACK,RUNNING"
	} else {
		flags, names = flags|iffBroadcast|iffMulticast, "UP,BROADCAST,RUNNING,MULTICAST"
	}
	fmt.Fprintf(b, "%s: flags=%d<%s>  mtu %d\n", ifc.Name, flags, names, ifc.MTU)
	for _, a := range ifc.Addrs {
		fmt.Fprintf(b, "        inet %v  netmask %v", a.Addr(), prefixMask(a))
		if !loop && a.Bits() < 31 {
			fmt.Fprintf(b, "  broadcast %v", lastAddr(a))
		}
		b.WriteByte('\n')
	}
	if loop {
		b.WriteString("        loop  txqueuelen 1000  (Local Loopback)\n")
	} else {
		fmt.Fprintf(b, "        ether %v  txqueuelen 1000  (Ethernet)\n", ifc.MAC)
	}
	st := ifc.Stats
	fmt.Fprintf(b, "        RX packets %d  bytes %d (%s)\n", st.RxPackets, st.RxBytes, scaledBytes(st.RxBytes))
	fmt.Fprintf(b, "        RX errors %d  dropped %d  overruns 0  frame 0\n", st.RxErrors, st.RxDropped)
	fmt.Fprintf(b, "        TX packets %d  bytes %d (%s)\n", st.TxPackets, st.TxBytes, scaledBytes(st.TxBytes))
	fmt.Fprintf(b, "        TX errors %d  dropped %d overruns 0  carrier 0  collisions 0\n", st.TxErrors, st.TxDropped)
}

func prefixMask(p netip.Prefix) netip.Addr {
	m := ^uint32(0) << (32 - p.Bits())
	if p.Bits() == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// scaledBytes formats a byte count with binary units, as net-tools does.
func scaledBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
