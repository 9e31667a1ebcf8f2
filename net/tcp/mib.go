package tcp

import (
	"fmt"
	"io"
	"sync/atomic"
)

// MIB holds the counters of Linux's TCP SNMP MIB (/proc/net/snmp "Tcp:")
// and the TcpExt ones we keep, including drop reasons (/proc/net/netstat).
type MIB struct {
	ActiveOpens, PassiveOpens, AttemptFails, EstabResets atomic.Uint64
	CurrEstab                                            atomic.Uint64
	InSegs, OutSegs, RetransSegs, InErrs, OutRsts        atomic.Uint64
	InCsumErrors                                         atomic.Uint64

	// TcpExt.
	SyncookiesSent, SyncookiesRecv, SyncookiesFailed   atomic.Uint64
	ListenOverflows, ListenDrops                       atomic.Uint64
	TCPChallengeACK, PAWSEstabRejected                 atomic.Uint64
	DelayedACKs, TCPTimeouts, TCPWinProbe              atomic.Uint64
	TCPKeepAliveDrops, TCPAbortOnData, TCPAbortOnClose atomic.Uint64
	TCPFastRetrans, TCPOFOQueue, TCPOFODrop            atomic.Uint64
	TCPSACKRecovery, TCPRenoRecovery, TCPFullUndo      atomic.Uint64
	DropNoSocket, DropBadHeader, DropOutOfWindow       atomic.Uint64
	DropOldAck, TCPReqQFullDrop, TWRecycled            atomic.Uint64
	TCPTimeWaitOverflow                                atomic.Uint64

	// Loss recovery (Linux: LINUX_MIB_TCPLOSSPROBES and its neighbours).
	TCPLossProbes, TCPLossProbeRecovery, TCPLostRetransmit atomic.Uint64
	TCPDSACKRecv, TCPDSACKOfoRecv                          atomic.Uint64
	TCPDSACKOldSent, TCPDSACKOfoSent                       atomic.Uint64
	TCPDSACKUndo, TCPPartialUndo, TCPLossUndo              atomic.Uint64
	TCPSpuriousRTOs, TCPSACKReorder                        atomic.Uint64
	TCPHystartDelayDetect, TCPHystartDelayCwnd             atomic.Uint64

	// Rate-limited answers (Linux: LINUX_MIB_TCPACKSKIPPED*).
	TCPACKSkippedSeq, TCPACKSkippedPAWS, TCPACKSkippedChallenge atomic.Uint64
	DropBadFlags                                                atomic.Uint64
	TCPAckCoalesced                                             atomic.Uint64 // pure ACKs a newer one of the same burst replaced (batch.go)
}

// atomicCounter is one MIB counter.
type atomicCounter = atomic.Uint64

type mibRow struct {
	name string
	v    *atomic.Uint64
}

func (m *MIB) tcpRows() []mibRow {
	return []mibRow{{"ActiveOpens", &m.ActiveOpens}, {"PassiveOpens", &m.PassiveOpens},
		{"AttemptFails", &m.AttemptFails}, {"EstabResets", &m.EstabResets},
		{"CurrEstab", &m.CurrEstab}, {"InSegs", &m.InSegs}, {"OutSegs", &m.OutSegs},
		{"RetransSegs", &m.RetransSegs}, {"InErrs", &m.InErrs}, {"OutRsts", &m.OutRsts},
		{"InCsumErrors", &m.InCsumErrors}}
}

func (m *MIB) extRows() []mibRow {
	return []mibRow{{"SyncookiesSent", &m.SyncookiesSent}, {"SyncookiesRecv", &m.SyncookiesRecv},
		{"SyncookiesFailed", &m.SyncookiesFailed}, {"ListenOverflows", &m.ListenOverflows},
		{"ListenDrops", &m.ListenDrops}, {"TCPChallengeACK", &m.TCPChallengeACK},
		{"PAWSEstab", &m.PAWSEstabRejected}, {"DelayedACKs", &m.DelayedACKs},
		{"TCPTimeouts", &m.TCPTimeouts}, {"TCPWinProbe", &m.TCPWinProbe},
		{"TCPKeepAlive", &m.TCPKeepAliveDrops}, {"TCPAbortOnData", &m.TCPAbortOnData},
		{"TCPAbortOnClose", &m.TCPAbortOnClose}, {"TCPFastRetrans", &m.TCPFastRetrans},
		{"TCPOFOQueue", &m.TCPOFOQueue}, {"TCPOFODrop", &m.TCPOFODrop},
		{"TCPSackRecovery", &m.TCPSACKRecovery}, {"TCPRenoRecovery", &m.TCPRenoRecovery},
		{"TCPDropNoSocket", &m.DropNoSocket}, {"TCPDropBadHeader", &m.DropBadHeader},
		{"TCPDropOutOfWindow", &m.DropOutOfWindow}, {"TCPDropOldAck", &m.DropOldAck},
		{"TCPReqQFullDrop", &m.TCPReqQFullDrop}, {"TWRecycled", &m.TWRecycled},
		{"TCPTimeWaitOverflow", &m.TCPTimeWaitOverflow},
		{"TCPLossProbes", &m.TCPLossProbes}, {"TCPLossProbeRecovery", &m.TCPLossProbeRecovery},
		{"TCPLostRetransmit", &m.TCPLostRetransmit}, {"TCPFullUndo", &m.TCPFullUndo},
		{"TCPPartialUndo", &m.TCPPartialUndo}, {"TCPDSACKUndo", &m.TCPDSACKUndo},
		{"TCPLossUndo", &m.TCPLossUndo}, {"TCPSpuriousRTOs", &m.TCPSpuriousRTOs},
		{"TCPDSACKOldSent", &m.TCPDSACKOldSent}, {"TCPDSACKOfoSent", &m.TCPDSACKOfoSent},
		{"TCPDSACKRecv", &m.TCPDSACKRecv}, {"TCPDSACKOfoRecv", &m.TCPDSACKOfoRecv},
		{"TCPSACKReorder", &m.TCPSACKReorder},
		{"TCPHystartDelayDetect", &m.TCPHystartDelayDetect}, {"TCPHystartDelayCwnd", &m.TCPHystartDelayCwnd},
		{"TCPACKSkippedSeq", &m.TCPACKSkippedSeq}, {"TCPACKSkippedPAWS", &m.TCPACKSkippedPAWS},
		{"TCPACKSkippedChallenge", &m.TCPACKSkippedChallenge}, {"TCPDropBadFlags", &m.DropBadFlags},
		{"TCPAckCoalesced", &m.TCPAckCoalesced}}
}

// WriteSNMP writes the "Tcp:" header and value lines as /proc/net/snmp
// shows them (RtoAlgorithm, RtoMin, RtoMax and MaxConn come first, as in
// Linux).
func (m *MIB) WriteSNMP(w io.Writer) {
	writePair(w, "Tcp", []string{"RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn"},
		[]string{"1", "200", "120000", "-1"}, m.tcpRows())
}

// WriteNetstat writes the "TcpExt:" lines of /proc/net/netstat.
func (m *MIB) WriteNetstat(w io.Writer) {
	writePair(w, "TcpExt", nil, nil, m.extRows())
}

func writePair(w io.Writer, prefix string, names, vals []string, rows []mibRow) {
	fmt.Fprintf(w, "%s:", prefix)
	for _, n := range names {
		fmt.Fprintf(w, " %s", n)
	}
	for _, r := range rows {
		fmt.Fprintf(w, " %s", r.name)
	}
	fmt.Fprintf(w, "\n%s:", prefix)
	for _, v := range vals {
		fmt.Fprintf(w, " %s", v)
	}
	for _, r := range rows {
		fmt.Fprintf(w, " %d", r.v.Load())
	}
	fmt.Fprintln(w)
}
