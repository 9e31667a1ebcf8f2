package lab

import (
	"strconv"
	"strings"
)

// Hit is one breakpoint hit as tcplab.py reports it, or (Cmd set) the
// shell dispatching a typed command line.
type Hit struct {
	Seq        int    `json:"seq"`   // order of the report, from 1
	Linux      string `json:"linux"` // the Linux function: tcp_v4_rcv
	Sym        string `json:"sym"`   // ours as gdb spells it: gomenuos/net/tcp.(*Proto).tcpV4RcvLocked
	File       string `json:"file"`  // file:line of the stop: net/tcp/input.go:78
	N          int    `json:"n"`     // this breakpoint's hit count so far
	PerSegment bool   `json:"seg"`   // a function that runs once per segment
	Note       string `json:"note"`  // "SYN,ACK 5001->41234", "returns", or ""
	Cmd        string `json:"cmd"`   // the typed command line, for a dispatch marker
	Proc       string `json:"proc"`  // the user process it ran for, comm[pid] ("menu[2]"); "" for the kernel's goroutines and the Go shell
}

// Returns reports whether the hit is a function's return site (Linux's
// inet_csk_accept handing back the child) rather than its entry.
func (h Hit) Returns() bool { return h.Note == "returns" }

// Flags returns the TCP flags of the segment in hand ("SYN,ACK"), or "".
func (h Hit) Flags() string {
	f, _, ok := strings.Cut(h.Note, " ")
	if !ok || !strings.Contains(h.Note, "->") {
		return ""
	}
	return f
}

// Ports returns the segment's source and destination ports, or ok false
// when the hit names no segment.
func (h Hit) Ports() (src, dst int, ok bool) {
	_, p, found := strings.Cut(h.Note, " ")
	if !found {
		p = h.Note
	}
	a, b, found := strings.Cut(p, "->")
	if !found {
		return 0, 0, false
	}
	src, err1 := strconv.Atoi(strings.TrimSpace(a))
	dst, err2 := strconv.Atoi(strings.TrimSpace(b))
	return src, dst, err1 == nil && err2 == nil
}
