package stack

import (
	"net/netip"
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

func TestIfconfigText(t *testing.T) {
	s, _ := newLoopbackStack(t)
	pipe := link.NewPipe(link.PipeConfig{Clock: s.clock, MACA: macA})
	if _, err := s.AddInterface(pipe.A, netip.MustParsePrefix("10.0.2.15/24")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ping(netip.MustParseAddr("127.0.0.1"), 1, 1, make([]byte, 2000), time.Second); err != nil {
		t.Fatal(err)
	}
	eq(t, "ifconfig", s.IfconfigText(), ""+
		"lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n"+
		"        inet 127.0.0.1  netmask 255.0.0.0\n"+
		"        loop  txqueuelen 1000  (Local Loopback)\n"+
		"        RX packets 2  bytes 4084 (4.0 KiB)\n"+
		"        RX errors 0  dropped 0  overruns 0  frame 0\n"+
		"        TX packets 2  bytes 4084 (4.0 KiB)\n"+
		"        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n"+
		"\n"+
		"pipeA: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"+
		"        inet 10.0.2.15  netmask 255.255.255.0  broadcast 10.0.2.255\n"+
		"        ether 02:00:00:00:00:0a  txqueuelen 1000  (Ethernet)\n"+
		"        RX packets 0  bytes 0 (0.0 B)\n"+
		"        RX errors 0  dropped 0  overruns 0  frame 0\n"+
		"        TX packets 0  bytes 0 (0.0 B)\n"+
		"        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n")
}
