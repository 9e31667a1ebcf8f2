package stack

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// SNMPText renders the Ip:, Icmp: and IcmpMsg: lines of Linux's
// /proc/net/snmp (Linux: snmp_seq_show_ipstats, icmp_put, icmpmsg_put).
func (s *Stack) SNMPText() string {
	var b strings.Builder
	m := &s.ipMIB
	writePair(&b, "Ip", []string{"Forwarding", "DefaultTTL", "InReceives", "InHdrErrors", "InAddrErrors",
		"ForwDatagrams", "InUnknownProtos", "InDiscards", "InDelivers", "OutRequests", "OutDiscards",
		"OutNoRoutes", "ReasmTimeout", "ReasmReqds", "ReasmOKs", "ReasmFails", "FragOKs", "FragFails",
		"FragCreates", "OutTransmits"},
		[]uint64{2, uint64(s.defaultTTL), m.InReceives.Load(), m.InHdrErrors.Load(), m.InAddrErrors.Load(),
			m.ForwDatagrams.Load(), m.InUnknownProtos.Load(), m.InDiscards.Load(), m.InDelivers.Load(),
			m.OutRequests.Load(), m.OutDiscards.Load(), m.OutNoRoutes.Load(), m.ReasmTimeout.Load(),
			m.ReasmReqds.Load(), m.ReasmOKs.Load(), m.ReasmFails.Load(), m.FragOKs.Load(), m.FragFails.Load(),
			m.FragCreates.Load(), m.OutTransmits.Load()})
	c := &s.icmpMIB
	in := func(t uint8) uint64 { return c.InType[t].Load() }
	out := func(t uint8) uint64 { return c.OutType[t].Load() }
	writePair(&b, "Icmp", []string{"InMsgs", "InErrors", "InCsumErrors", "InDestUnreachs", "InTimeExcds",
		"InParmProbs", "InSrcQuenchs", "InRedirects", "InEchos", "InEchoReps", "InTimestamps",
		"InTimestampReps", "InAddrMasks", "InAddrMaskReps", "OutMsgs", "OutErrors", "OutRateLimitGlobal",
		"OutRateLimitHost", "OutDestUnreachs", "OutTimeExcds", "OutParmProbs", "OutSrcQuenchs",
		"OutRedirects", "OutEchos", "OutEchoReps", "OutTimestamps", "OutTimestampReps", "OutAddrMasks",
		"OutAddrMaskReps"},
		[]uint64{c.InMsgs.Load(), c.InErrors.Load(), c.InCsumErrors.Load(), in(3), in(11), in(12), in(4), in(5),
			in(8), in(0), in(13), in(14), in(17), in(18), c.OutMsgs.Load(), c.OutErrors.Load(),
			c.OutRateLimitGlobal.Load(), c.OutRateLimitHost.Load(), out(3), out(11), out(12), out(4), out(5),
			out(8), out(0), out(13), out(14), out(17), out(18)})
	s.writeICMPMsg(&b)
	return b.String()
}

// writeICMPMsg renders IcmpMsg: with only the non-zero per-type counters,
// inputs before outputs, as Linux does.
func (s *Stack) writeICMPMsg(b *strings.Builder) {
	var names []string
	var vals []uint64
	for dir, arr := range []*[256]atomic.Uint64{&s.icmpMIB.InType, &s.icmpMIB.OutType} {
		for t := range arr {
			if v := arr[t].Load(); v != 0 {
				names = append(names, fmt.Sprintf("%sType%d", [2]string{"In", "Out"}[dir], t))
				vals = append(vals, v)
			}
		}
	}
	if len(names) > 0 {
		writePair(b, "IcmpMsg", names, vals)
	}
}

func writePair(b *strings.Builder, tag string, names []string, vals []uint64) {
	fmt.Fprintf(b, "%s: %s\n%s:", tag, strings.Join(names, " "), tag)
	for _, v := range vals {
		fmt.Fprintf(b, " %d", v)
	}
	b.WriteByte('\n')
}

// DevText renders Linux's /proc/net/dev (Linux: dev_seq_show).
func (s *Stack) DevText() string {
	var b strings.Builder
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for _, ifc := range s.Interfaces() {
		st := ifc.Stats
		fmt.Fprintf(&b, "%6s:%8d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			ifc.Name, st.RxBytes, st.RxPackets, st.RxErrors, st.RxDropped, 0, 0, 0, st.RxMulticast,
			st.TxBytes, st.TxPackets, st.TxErrors, st.TxDropped, 0, 0, 0, 0)
	}
	return b.String()
}
