package stack

import (
	"testing"
	"time"

	"gomenuos/net/link"
)

func TestProcTextAfterOnePing(t *testing.T) {
	n := newTestNet(t, link.Impairment{})
	if _, err := n.ping(n.a, ipB, 1, 1, []byte("abcd"), time.Second); err != nil {
		t.Fatal(err)
	}
	eq(t, "B /proc/net/snmp", n.b.SNMPText(), ""+
		"Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits\n"+
		"Ip: 2 64 1 0 0 0 0 0 1 1 0 0 0 0 0 0 0 0 0 1\n"+
		"Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps\n"+
		"Icmp: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 1 0 0 0 0\n"+
		"IcmpMsg: InType8 OutType0\n"+
		"IcmpMsg: 1 1\n")
	// A: ARP request (60) + echo (34+12=46 → 46 bytes) out; ARP reply + echo reply in.
	eq(t, "A /proc/net/dev", n.a.DevText(), ""+
		"Inter-|   Receive                                                |  Transmit\n"+
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"+
		" pipeA:     106       2    0    0    0     0          0         0      106       2    0    0    0     0       0          0\n")
	eq(t, "drops", n.a.DropsText()+n.b.DropsText(), "")
}
