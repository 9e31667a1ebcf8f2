package stack

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// DropReason says why the stack discarded a packet (Linux: enum
// skb_drop_reason). Every drop increments exactly one reason counter.
type DropReason int

// Drop reasons, named after Linux's SKB_DROP_REASON_* where one exists.
const (
	DropNotSpecified     DropReason = iota
	DropPktTooSmall                 // PKT_TOO_SMALL: shorter than its header
	DropOtherHost                   // OTHERHOST: link destination is not us
	DropUnhandledProto              // UNHANDLED_PROTO: EtherType we do not speak
	DropIPCsum                      // IP_CSUM: bad IPv4 header checksum
	DropIPInHdr                     // IP_INHDR: bad version or header length
	DropIPInAddrErrors              // IP_INADDRERRORS: not for us and we do not forward
	DropIPInvalidSource             // IP_INVALID_SOURCE: martian source address
	DropIPNoProto                   // IP_NOPROTO: no transport for the protocol
	DropFragReasmTimeout            // FRAG_REASM_TIMEOUT: reassembly timed out
	DropFragTooFar                  // FRAG_TOO_FAR: overlapping or oversized fragment
	DropFragMem                     // reassembly memory limit reached
	DropICMPCsum                    // ICMP_CSUM: bad ICMP checksum
	DropICMPInvalid                 // malformed or unsolicited ICMP
	DropARPInvalid                  // malformed, unsupported or unsafe ARP
	DropARPConflict                 // ARP claiming one of our own addresses
	DropNeighFailed                 // NEIGH_FAILED: resolution failed
	DropNeighQueueFull              // NEIGH_QUEUEFULL: too many packets awaiting resolution
	DropNoRoute                     // IP_OUTNOROUTES: no route for an internal reply
	DropTxQueueFull                 // device refused the frame (queue full, closed)
	DropICMPRateLimit               // ICMP error suppressed by the rate limit
	numDropReasons
)

var dropNames = [numDropReasons]string{
	"NOT_SPECIFIED", "PKT_TOO_SMALL", "OTHERHOST", "UNHANDLED_PROTO", "IP_CSUM", "IP_INHDR",
	"IP_INADDRERRORS", "IP_INVALID_SOURCE", "IP_NOPROTO", "FRAG_REASM_TIMEOUT", "FRAG_TOO_FAR",
	"FRAG_MEM", "ICMP_CSUM", "ICMP_INVALID", "ARP_INVALID", "ARP_CONFLICT", "NEIGH_FAILED",
	"NEIGH_QUEUEFULL", "IP_OUTNOROUTES", "TXQUEUE_FULL", "ICMP_RATELIMIT",
}

// String returns the Linux-style name of r.
func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return fmt.Sprintf("DropReason(%d)", int(r))
	}
	return dropNames[r]
}

// dropCounters counts drops per reason; safe for concurrent use.
type dropCounters [numDropReasons]atomic.Uint64

// Dropped returns how many packets were dropped for reason r.
func (s *Stack) Dropped(r DropReason) uint64 {
	if r < 0 || r >= numDropReasons {
		return 0
	}
	return s.drops[r].Load()
}

// DropsText lists the non-zero drop counters, one "REASON count" a line.
func (s *Stack) DropsText() string {
	var b strings.Builder
	for r := DropReason(0); r < numDropReasons; r++ {
		if n := s.drops[r].Load(); n != 0 {
			fmt.Fprintf(&b, "%s %d\n", r, n)
		}
	}
	return b.String()
}

// drop records one discarded packet (Linux: kfree_skb_reason).
func (s *Stack) drop(r DropReason) { s.drops[r].Add(1) }
