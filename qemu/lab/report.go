package lab

import (
	"fmt"
	"io"
	"strings"
)

// Line formats one hit as the lab prints it:
//
//	tcp_v4_rcv                     ->  gomenuos/net/tcp.(*Proto).tcpV4RcvLocked (net/tcp/input.go:78)  [SYN 41234->5001]
func Line(h Hit) string {
	s := fmt.Sprintf("%-30s ->  %s (%s)", h.Linux, h.Sym, h.File)
	if h.Note != "" {
		s += "  [" + h.Note + "]"
	}
	return s
}

// Write prints a run's hits: each typed command as a heading, every hit
// until the three-way handshake is complete, then only the hits that are
// not per-segment (the per-segment ones are counted), then the hits per
// function.
//
// A run on the C MenuOS (hits that name their process) gets a column with
// the process each hit ran for, "-" for the kernel's own goroutines (the
// loopback device's receive path).
func Write(w io.Writer, hits []Hit) {
	var hs handshake
	counted := map[string]int{}
	after := false
	user := false
	for _, h := range hits {
		user = user || h.Proc != ""
	}
	for _, h := range hits {
		if h.Cmd != "" {
			caption := cmdCaption(h.Cmd)
			if user {
				caption = userCmdCaption(h.Cmd, h.Proc)
			}
			fmt.Fprintf(w, "\n%s%s   %s\n", Prompt, h.Cmd, caption)
			continue
		}
		inHandshake := hs.step(h)
		if !inHandshake && hs.done && !after {
			after = true
			fmt.Fprintf(w, "\n-- handshake complete: hello/hi, the closes and the FINs (per-segment functions only counted) --\n")
		}
		if after && h.PerSegment {
			counted[h.Linux]++
			continue
		}
		if user {
			fmt.Fprintf(w, "%4d  %-10s %s\n", h.Seq, procColumn(h), Line(h))
			continue
		}
		fmt.Fprintf(w, "%4d  %s\n", h.Seq, Line(h))
	}
	writeCounts(w, hits, counted)
}

func procColumn(h Hit) string {
	if h.Proc == "" {
		return "-"
	}
	return h.Proc
}

// userCmdCaption says what a command line read by the C MenuOS (proc)
// sets off.
func userCmdCaption(cmd, proc string) string {
	switch strings.Fields(cmd + " x")[0] {
	case "replyhi":
		return "(read by " + proc + ": socket, bind, listen, then fork; the server child sleeps in accept)"
	case "hello":
		return "(read by " + proc + ": socket, connect; over loopback the server's half of the handshake runs in between)"
	}
	return ""
}

// cmdCaption says what a typed command sets off.
func cmdCaption(cmd string) string {
	switch strings.Fields(cmd + " x")[0] {
	case "replyhi":
		return "(the passive open: socket, bind, listen; the server then sleeps in accept)"
	case "hello":
		return "(the active open; over loopback the server's half of the handshake runs in between)"
	}
	return ""
}

// handshake follows the three-way handshake through the hits: it ends
// with the final ACK's processing by the child (tcp_child_process →
// tcp_rcv_state_process).
type handshake struct {
	ack        string // note of the final ACK, once the SYN-ACK arrived: "ACK 41234->5001"
	childDone  bool   // tcp_child_process ran
	done       bool
	sawSynsent bool
}

// step takes the next hit and reports whether it belongs to the handshake.
func (hs *handshake) step(h Hit) bool {
	if hs.done {
		return false
	}
	switch {
	case h.Linux == "tcp_rcv_synsent_state_process":
		hs.sawSynsent = true
		if src, dst, ok := h.Ports(); ok {
			hs.ack = fmt.Sprintf("ACK %d->%d", dst, src)
		}
	case h.Linux == "tcp_child_process":
		hs.childDone = true
	case hs.childDone && h.Linux == "tcp_rcv_state_process" && h.Note == hs.ack:
		hs.done = hs.sawSynsent
		return true
	}
	return !h.PerSegment || strings.Contains(h.Flags(), "SYN") || (hs.ack != "" && h.Note == hs.ack)
}

// writeCounts prints the hits per function over the whole run, in the
// order the functions first fired.
func writeCounts(w io.Writer, hits []Hit, after map[string]int) {
	total := map[string]int{}
	var order []Hit
	for _, h := range hits {
		if h.Cmd != "" || h.Returns() {
			continue
		}
		if total[h.Linux] == 0 {
			order = append(order, h)
		}
		total[h.Linux]++
	}
	fmt.Fprintf(w, "\nhits per function over the whole run:\n")
	for _, h := range order {
		extra := ""
		if n := after[h.Linux]; n > 0 {
			extra = fmt.Sprintf("  (%d after the handshake, not listed above)", n)
		}
		fmt.Fprintf(w, "  %-30s %3d  %s%s\n", h.Linux, total[h.Linux], h.Sym, extra)
	}
}
