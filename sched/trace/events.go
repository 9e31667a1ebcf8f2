package trace

import (
	"sync/atomic"
	"unsafe"
)

// Kind says what an event records and which payload view applies.
type Kind uint16

// Event kinds. The probe kinds are written by kernel/kprobes whenever a
// probe is armed; the others are tracepoints, written only while enabled.
const (
	KindNone             Kind = iota
	KindProbeEntry            // a function entry probe hit (Probe)
	KindProbeReturn           // a function return probe hit (Probe)
	KindSchedSwitch           // sched:sched_switch (SchedSwitchArgs)
	KindSchedWakeup           // sched:sched_wakeup (SchedWakeupArgs)
	KindTCPProbe              // tcp:tcp_probe (TCPProbeArgs)
	KindInetSockSetState      // sock:inet_sock_set_state (SetStateArgs)
	KindTCPSendSegment        // tcp:tcp_send_segment (Segment)
	KindTCPRcvSegment         // tcp:tcp_rcv_segment (Segment)
	NumKinds
)

// Tracepoints lists the tracepoints with their system, as Linux's
// /sys/kernel/tracing/available_events spells them.
var Tracepoints = []struct {
	Kind         Kind
	System, Name string
}{
	{KindSchedSwitch, "sched", "sched_switch"},
	{KindSchedWakeup, "sched", "sched_wakeup"},
	{KindTCPProbe, "tcp", "tcp_probe"},
	{KindInetSockSetState, "sock", "inet_sock_set_state"},
	{KindTCPSendSegment, "tcp", "tcp_send_segment"},
	{KindTCPRcvSegment, "tcp", "tcp_rcv_segment"},
}

// enabled holds one bit per tracepoint kind.
var enabled atomic.Uint32

// Enabled reports whether tracepoint k records events. It is the whole
// cost of a disabled tracepoint: one load and a test.
func Enabled(k Kind) bool { return enabled.Load()&(1<<k) != 0 }

// Enable turns tracepoint k on or off.
func Enable(k Kind, on bool) {
	for {
		old := enabled.Load()
		v := old &^ (1 << k)
		if on {
			v |= 1 << k
		}
		if enabled.CompareAndSwap(old, v) {
			return
		}
	}
}

// Probe is the payload of a probe hit.
type Probe struct {
	Func  uint64 // index of the probed function in kernel/ksyms's table
	Point uint64 // the probe point's slot
	SP    uint64 // stack pointer at the hit (entry: points at the return address)
	Addr  uint64 // the probed instruction
}

// SchedSwitchArgs is sched_switch's payload (Linux: prev_comm, prev_pid,
// prev_state ==> next_comm, next_pid), plus the kernel stack the TSS now
// hands out (TSS.RSP0) and the goroutines on both threads.
type SchedSwitchArgs struct {
	PrevTID, NextTID         int32
	PrevState                uint8 // sched.State the previous thread was left in
	_                        [7]byte
	PrevGoID, NextGoID       uint64
	PrevStartPC, NextStartPC uint64
	RSP0                     uint64
}

// SchedWakeupArgs is sched_wakeup's payload (Linux: comm, pid, target_cpu).
type SchedWakeupArgs struct {
	TID     int32
	_       int32
	GoID    uint64
	StartPC uint64
}

// TCPProbeArgs is tcp_probe's payload (Linux: trace_tcp_probe in
// tcp_rcv_established).
type TCPProbeArgs struct {
	Sock              uint64 // the sock's identity (its address; Linux: sock_cookie)
	Saddr, Daddr      [4]byte
	Sport, Dport      uint16
	DataLen           uint32
	SndNxt, SndUna    uint32
	SndCwnd, Ssthresh uint32
	SndWnd, RcvWnd    uint32
	SRTTMicros        uint32
	State             uint8
}

// SetStateArgs is inet_sock_set_state's payload.
type SetStateArgs struct {
	Sock               uint64
	Saddr, Daddr       [4]byte
	Sport, Dport       uint16
	OldState, NewState uint8
}

// Segment is the payload of tcp_send_segment and tcp_rcv_segment: one TCP
// segment as it left or reached a socket, and the function that sent or
// received it.
type Segment struct {
	Sock         uint64 // 0 when no socket sent or received it
	Saddr, Daddr [4]byte
	Sport, Dport uint16
	Flags        uint8
	Site         Site
	Opt          uint8 // OptMSS | OptWS | OptSACKOK | OptTS
	WS           uint8
	Seq, Ack     uint32
	Win          uint16 // the window field as sent (unscaled)
	MSS          uint16
	Len          uint32 // payload bytes
	TSVal, TSEcr uint32
	NSACK        uint8
	State        uint8 // the socket's state when it happened
	_            [2]byte
	SACK         [4][2]uint32
}

// Option bits of Segment.Opt.
const (
	OptMSS = 1 << iota
	OptWS
	OptSACKOK
	OptTS
)

// Site names the Linux function whose counterpart sent or received a
// segment.
type Site uint8

// Sites.
const (
	SiteNone Site = iota
	SiteTransmitSkb
	SiteSendSynack
	SiteSendReset
	SiteRcvEstablished
	SiteRcvStateProcess
	SiteRcvSynSent
	SiteConnRequest
	SiteCheckReq
	SiteTimewait
	SiteNoSocket
	numSites
)

var siteNames = [numSites]string{"-", "tcp_transmit_skb", "tcp_v4_send_synack", "tcp_v4_send_reset",
	"tcp_rcv_established", "tcp_rcv_state_process", "tcp_rcv_synsent_state_process",
	"tcp_v4_conn_request", "tcp_check_req", "tcp_timewait_state_process", "tcp_v4_rcv"}

func (s Site) String() string {
	if s < numSites {
		return siteNames[s]
	}
	return "?"
}

// The typed views of an event's payload.

func (e *Event) Probe() *Probe { return (*Probe)(unsafe.Pointer(&e.Payload)) }
func (e *Event) SchedSwitch() *SchedSwitchArgs {
	return (*SchedSwitchArgs)(unsafe.Pointer(&e.Payload))
}
func (e *Event) SchedWakeup() *SchedWakeupArgs {
	return (*SchedWakeupArgs)(unsafe.Pointer(&e.Payload))
}
func (e *Event) TCPProbe() *TCPProbeArgs { return (*TCPProbeArgs)(unsafe.Pointer(&e.Payload)) }
func (e *Event) SetState() *SetStateArgs { return (*SetStateArgs)(unsafe.Pointer(&e.Payload)) }
func (e *Event) Segment() *Segment       { return (*Segment)(unsafe.Pointer(&e.Payload)) }

// Every view fits the payload.
const payloadBytes = PayloadWords * 8

var (
	_ [payloadBytes - unsafe.Sizeof(Probe{})]byte
	_ [payloadBytes - unsafe.Sizeof(SchedSwitchArgs{})]byte
	_ [payloadBytes - unsafe.Sizeof(SchedWakeupArgs{})]byte
	_ [payloadBytes - unsafe.Sizeof(TCPProbeArgs{})]byte
	_ [payloadBytes - unsafe.Sizeof(SetStateArgs{})]byte
	_ [payloadBytes - unsafe.Sizeof(Segment{})]byte
)

// SchedSwitch records a context switch from thread prevTID (left in
// prevState) to nextTID; prevFS and nextFS are the threads' FS bases,
// which name the goroutines they run, and rsp0 the kernel stack now in
// TSS.RSP0 (Linux: trace_sched_switch in __schedule). Trap context.
func SchedSwitch(prevTID, nextTID int32, prevState uint8, prevFS, nextFS, rsp0 uint64) {
	if Enabled(KindSchedSwitch) {
		schedSwitch(prevTID, nextTID, prevState, prevFS, nextFS, rsp0)
	}
}

func schedSwitch(prevTID, nextTID int32, prevState uint8, prevFS, nextFS, rsp0 uint64) {
	e := Reserve(KindSchedSwitch, 0)
	if e == nil {
		return
	}
	a := e.SchedSwitch()
	a.PrevTID, a.NextTID, a.PrevState, a.RSP0 = prevTID, nextTID, prevState, rsp0
	a.PrevGoID, a.PrevStartPC = taskOf(prevFS)
	a.NextGoID, a.NextStartPC = taskOf(nextFS)
	e.Commit()
}

// SchedWakeup records that thread tid (FS base fs) became runnable
// (Linux: trace_sched_wakeup in try_to_wake_up). Trap context.
func SchedWakeup(tid int32, fs uint64) {
	if Enabled(KindSchedWakeup) {
		schedWakeup(tid, fs)
	}
}

func schedWakeup(tid int32, fs uint64) {
	e := Reserve(KindSchedWakeup, 0)
	if e == nil {
		return
	}
	a := e.SchedWakeup()
	a.TID = tid
	a.GoID, a.StartPC = taskOf(fs)
	e.Commit()
}
