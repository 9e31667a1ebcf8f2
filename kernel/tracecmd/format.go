package tracecmd

import (
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"

	"gomenuos/kernel/ksyms"
	"gomenuos/sched/trace"
)

// Printer turns events into text. Probe hits come out as SystemTap's
// thread_indent prints them:
//
//	1159 hello(42):  -> __sys_socket [inet.(*Net).Socket]
//
// microseconds since the first event, the task's name and id, one space
// per call depth of that task, an arrow, the Linux name (when the map has
// one) and our function. Tracepoints come out in the same frame as
// ftrace's "name: field=value ..." lines. The call depth is worked out
// here, per goroutine, from the order of entries and returns, so a return
// whose entry was never seen (the function was running when the probe
// was placed) or an entry left by a panic does not shift what follows.
type Printer struct {
	Tab   *ksyms.Table
	Map   *LinuxMap
	TSCHz uint64
	Comm  func(goid, tsc uint64) (string, uint64, bool) // task names and ids (trace.Comm)

	t0     uint64
	stacks map[uint64][]uint64 // per task: the functions entered and not left
}

// Reset starts a new session: times count from the next event again.
func (p *Printer) Reset() {
	p.t0 = 0
	p.stacks = nil
}

// Print writes one event.
func (p *Printer) Print(w io.Writer, e *trace.Event) {
	if p.t0 == 0 {
		p.t0 = e.TSC
	}
	if p.stacks == nil {
		p.stacks = map[uint64][]uint64{}
	}
	prefix := p.prefix(e)
	switch e.Kind {
	case trace.KindProbeEntry, trace.KindProbeReturn:
		p.printProbe(w, prefix, e)
	case trace.KindSchedSwitch:
		a := e.SchedSwitch()
		fmt.Fprintf(w, "%s sched_switch: prev_tid=%d prev_g=%s prev_state=%s ==> next_tid=%d next_g=%s rsp0=%#x\n",
			prefix, a.PrevTID, p.thread(a.PrevTID, a.PrevGoID, a.PrevStartPC, e.TSC), threadState(a.PrevState),
			a.NextTID, p.thread(a.NextTID, a.NextGoID, a.NextStartPC, e.TSC), a.RSP0)
	case trace.KindSchedWakeup:
		a := e.SchedWakeup()
		fmt.Fprintf(w, "%s sched_wakeup: tid=%d g=%s\n", prefix, a.TID, p.thread(a.TID, a.GoID, a.StartPC, e.TSC))
	case trace.KindTCPProbe:
		a := e.TCPProbe()
		fmt.Fprintf(w, "%s tcp_probe: src=%s dest=%s data_len=%d snd_nxt=%#x snd_una=%#x snd_cwnd=%d ssthresh=%d snd_wnd=%d srtt=%d rcv_wnd=%d state=%s sk=%#x\n",
			prefix, addrPort(a.Saddr, a.Sport), addrPort(a.Daddr, a.Dport), a.DataLen, a.SndNxt, a.SndUna,
			a.SndCwnd, a.Ssthresh, a.SndWnd, a.SRTTMicros, a.RcvWnd, tcpState(a.State), a.Sock)
	case trace.KindInetSockSetState:
		a := e.SetState()
		fmt.Fprintf(w, "%s inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=%d dport=%d saddr=%s daddr=%s oldstate=TCP_%s newstate=TCP_%s sk=%#x\n",
			prefix, a.Sport, a.Dport, netip.AddrFrom4(a.Saddr), netip.AddrFrom4(a.Daddr), tcpState(a.OldState),
			tcpState(a.NewState), a.Sock)
	case trace.KindTCPSendSegment, trace.KindTCPRcvSegment:
		name := "tcp_send_segment"
		if e.Kind == trace.KindTCPRcvSegment {
			name = "tcp_rcv_segment"
		}
		fmt.Fprintf(w, "%s %s: %s\n", prefix, name, SegmentText(e.Segment()))
	default:
		fmt.Fprintf(w, "%s event %d\n", prefix, e.Kind)
	}
}

// prefix is thread_indent's "time comm(id):".
func (p *Printer) prefix(e *trace.Event) string {
	us := uint64(0)
	if p.TSCHz != 0 && e.TSC > p.t0 {
		us = (e.TSC - p.t0) * 1_000_000 / p.TSCHz
	}
	return fmt.Sprintf("%6d %s:", us, p.task(e.GoID, e.StartPC, e.TSC))
}

// task names a goroutine as comm(id): the name the shell gave it, else
// its start function; trap and idle context are trap(0), a thread's
// runtime scheduler stack (g0) is g0(0).
func (p *Printer) task(goid, startPC, tsc uint64) string {
	switch goid {
	case 0:
		return "trap(0)"
	case trace.GoIDScheduler:
		return "g0(0)"
	case trace.GoIDUser:
		return "user(0)"
	}
	if p.Comm != nil {
		if n, id, ok := p.Comm(goid, tsc); ok {
			return fmt.Sprintf("%s(%d)", n, id)
		}
	}
	name := "g"
	if f := runtime.FuncForPC(uintptr(startPC)); f != nil && startPC != 0 {
		name = startName(f.Name())
	}
	return fmt.Sprintf("%s(%d)", name, goid)
}

// thread names what a kernel thread runs: thread 0 is the idle thread.
func (p *Printer) thread(tid int32, goid, startPC, tsc uint64) string {
	switch {
	case tid == 0:
		return "idle(0)"
	case goid == trace.GoIDUser:
		return fmt.Sprintf("user(%d)", tid)
	}
	return p.task(goid, startPC, tsc)
}

// startName shortens a goroutine's start function: the go statement's
// wrapper and closure suffixes say nothing to a reader.
func startName(fn string) string {
	s := ksyms.Short(fn)
	for {
		i := strings.LastIndex(s, ".")
		if i < 0 || !(strings.HasPrefix(s[i+1:], "gowrap") || strings.HasPrefix(s[i+1:], "func")) {
			return s
		}
		s = s[:i]
	}
}

func (p *Printer) printProbe(w io.Writer, prefix string, e *trace.Event) {
	a := e.Probe()
	key := e.GoID
	if key == 0 {
		key = 1<<63 | uint64(uint32(e.TID)) // trap context: per thread
	}
	st := p.stacks[key]
	if e.Kind == trace.KindProbeEntry {
		fmt.Fprintf(w, "%s%s -> %s\n", prefix, strings.Repeat(" ", len(st)), p.FuncName(int(a.Func)))
		p.stacks[key] = append(st, a.Func)
		return
	}
	// A return closes the innermost open entry of the same function and
	// anything opened after it (frames a panic unwound without returning).
	depth := len(st)
	for i := len(st) - 1; i >= 0; i-- {
		if st[i] == a.Func {
			depth = i
			break
		}
	}
	if depth < len(st) {
		p.stacks[key] = st[:depth]
	}
	fmt.Fprintf(w, "%s%s <- %s\n", prefix, strings.Repeat(" ", depth), p.FuncName(int(a.Func)))
}

// FuncName is how output names a function: its Linux name first when the
// map has one, then ours.
func (p *Printer) FuncName(i int) string {
	if p.Tab == nil || i < 0 || i >= len(p.Tab.Syms) {
		return fmt.Sprintf("func#%d", i)
	}
	name := p.Tab.Syms[i].Name
	if p.Map != nil {
		if l, ok := p.Map.Linux(name); ok {
			return l + " [" + ksyms.Short(name) + "]"
		}
	}
	return ksyms.Short(name)
}

var threadStates = [...]string{"free", "R", "running", "S"}

func threadState(s uint8) string {
	if int(s) < len(threadStates) {
		return threadStates[s]
	}
	return "?"
}

// tcpStates are Linux's TCP states by number (ours are numbered alike);
// 12 is the request sock of a SYN queue.
var tcpStates = [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}

func tcpState(s uint8) string {
	if int(s) < len(tcpStates) && s != 0 {
		return tcpStates[s]
	}
	return fmt.Sprintf("%d", s)
}

func addrPort(a [4]byte, port uint16) string {
	return netip.AddrPortFrom(netip.AddrFrom4(a), port).String()
}

var flagNames = [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// SegmentText spells a segment event's fields as key=value words:
//
//	sk=0x… 127.0.0.1:33886 > 127.0.0.1:5001 flags=SYN seq=… ack=0 win=65535 len=0
//	opts=mss:65495,sackOK,TS:12:0,wscale:7 state=SYN_SENT func=tcp_transmit_skb
func SegmentText(g *trace.Segment) string {
	var fl []string
	for i, n := range flagNames {
		if g.Flags&(1<<i) != 0 {
			fl = append(fl, n)
		}
	}
	if len(fl) == 0 {
		fl = []string{"none"}
	}
	var opts []string
	if g.Opt&trace.OptMSS != 0 {
		opts = append(opts, fmt.Sprintf("mss:%d", g.MSS))
	}
	if g.Opt&trace.OptSACKOK != 0 {
		opts = append(opts, "sackOK")
	}
	if g.Opt&trace.OptTS != 0 {
		opts = append(opts, fmt.Sprintf("TS:%d:%d", g.TSVal, g.TSEcr))
	}
	if g.Opt&trace.OptWS != 0 {
		opts = append(opts, fmt.Sprintf("wscale:%d", g.WS))
	}
	for _, b := range g.SACK[:min(int(g.NSACK), len(g.SACK))] {
		opts = append(opts, fmt.Sprintf("sack:%d-%d", b[0], b[1]))
	}
	if len(opts) == 0 {
		opts = []string{"none"}
	}
	return fmt.Sprintf("sk=%#x %s > %s flags=%s seq=%d ack=%d win=%d len=%d opts=%s state=%s func=%s",
		g.Sock, addrPort(g.Saddr, g.Sport), addrPort(g.Daddr, g.Dport), strings.Join(fl, ","), g.Seq, g.Ack,
		g.Win, g.Len, strings.Join(opts, ","), tcpState(g.State), g.Site)
}
