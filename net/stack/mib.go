package stack

import "sync/atomic"

// IPMIB holds the RFC 4293 IP counters Linux prints on the "Ip:" line of
// /proc/net/snmp (Linux: IPSTATS_MIB_*). Fields are updated atomically.
type IPMIB struct {
	InReceives, InHdrErrors, InAddrErrors, ForwDatagrams, InUnknownProtos, InDiscards, InDelivers,
	OutRequests, OutDiscards, OutNoRoutes, ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails,
	FragOKs, FragFails, FragCreates, OutTransmits atomic.Uint64
	// InCsumErrors and InTruncatedPkts belong to Linux's "IpExt:" line.
	InCsumErrors, InTruncatedPkts atomic.Uint64
}

// ICMPMIB holds the ICMP counters of the "Icmp:" and "IcmpMsg:" lines
// (Linux: ICMP_MIB_* and the per-type ICMPMSG counters).
type ICMPMIB struct {
	InMsgs, InErrors, InCsumErrors, OutMsgs, OutErrors, OutRateLimitGlobal, OutRateLimitHost atomic.Uint64
	InType, OutType                                                                          [256]atomic.Uint64
}

// DevStats are the per-device counters of /proc/net/dev (Linux: struct
// rtnl_link_stats64). Fields are updated atomically.
type DevStats struct {
	RxBytes, RxPackets, RxErrors, RxDropped, RxMulticast atomic.Uint64
	TxBytes, TxPackets, TxErrors, TxDropped              atomic.Uint64
	RxGROMerged                                          atomic.Uint64 // frames merged by GRO (gro.go)
}

// IPStats returns the stack's IP counters.
func (s *Stack) IPStats() *IPMIB { return &s.ipMIB }

// ICMPStats returns the stack's ICMP counters.
func (s *Stack) ICMPStats() *ICMPMIB { return &s.icmpMIB }
