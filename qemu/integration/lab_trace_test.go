package integration

import (
	"fmt"
	"strings"
	"testing"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/lab"
)

// TestQEMULabHandshakeOrder runs `make lab` (qemu/lab) and checks the
// breakpoint order of both opens against Linux's walkthrough. The order
// below was read off real runs; where ours differs from Linux,
// docs/gdb-lab.md says why.
func TestQEMULabHandshakeOrder(t *testing.T) {
	tr := runLab(t, lab.Config{BuildDir: harness.BuildDir()})

	// replyhi: socket, bind, listen, then accept sleeps — nothing else.
	tr.exactly("replyhi", []string{"__sys_socket", "inet_create", "inet_bind", "inet_listen",
		"inet_csk_listen_start", "inet_csk_accept"})

	tr.handshake()
	tr.filesMatchMap()
}

// handshake checks hello's active open and both halves of the handshake
// in the hits, against Linux's order; the Go shell's and the C MenuOS's
// labs have the same chains.
func (tr *trace) handshake() {
	t := tr.t
	t.Helper()
	// hello's active open: inet_stream_connect → tcp_v4_connect →
	// tcp_connect → tcp_transmit_skb → ip_queue_xmit carries the SYN.
	connect := tr.run("inet_stream_connect", "", "inet_stream_connect", "~tcp_v4_connect", "tcp_connect",
		"tcp_transmit_skb SYN", "~ip_queue_xmit SYN")
	client, _, ok := tr.hits[tr.find("tcp_transmit_skb", "SYN ")].Ports()
	if !ok {
		t.Fatalf("tcp_transmit_skb of the SYN names no ports")
	}
	syn := fmt.Sprintf("%d->5001", client)
	synack := fmt.Sprintf("5001->%d", client)

	// The listener on the SYN: tcp_v4_rcv → tcp_v4_do_rcv →
	// tcp_rcv_state_process → tcp_v4_conn_request, whose SYN-ACK goes out.
	passiveSyn := tr.run("tcp_v4_rcv", "SYN "+syn, "tcp_v4_rcv SYN", "tcp_v4_do_rcv SYN",
		"tcp_rcv_state_process SYN", "tcp_v4_conn_request SYN", "tcp_v4_send_synack SYN,ACK",
		"~ip_queue_xmit SYN,ACK")

	// The client on the SYN-ACK: tcp_v4_rcv → tcp_v4_do_rcv →
	// tcp_rcv_state_process → tcp_rcv_synsent_state_process, which ACKs.
	synsent := tr.run("tcp_v4_rcv", "SYN,ACK "+synack, "tcp_v4_rcv SYN,ACK", "tcp_v4_do_rcv SYN,ACK",
		"tcp_rcv_state_process SYN,ACK", "tcp_rcv_synsent_state_process SYN,ACK", "tcp_transmit_skb ACK",
		"~ip_queue_xmit ACK")

	// The listener on the final ACK: tcp_v4_rcv finds the request sock →
	// tcp_check_req → tcp_v4_syn_recv_sock → tcp_child_process, which runs
	// the child's tcp_rcv_state_process.
	finalAck := tr.run("tcp_v4_rcv", "ACK "+syn, "tcp_v4_rcv ACK", "tcp_check_req ACK",
		"tcp_v4_syn_recv_sock ACK", "tcp_child_process ACK", "tcp_rcv_state_process ACK")

	// inet_csk_accept hands the child to replyhi after all that.
	accepted := tr.find("inet_csk_accept", "returns")
	if !(connect < passiveSyn && passiveSyn < synsent && synsent < finalAck && finalAck < accepted) {
		t.Errorf("handshake out of order: connect #%d, SYN at the listener #%d, SYN-ACK at the client #%d, final ACK #%d, accept returns #%d",
			connect, passiveSyn, synsent, finalAck, accepted)
	}
	// Each handshake function ran exactly once.
	for _, fn := range []string{"tcp_v4_connect", "tcp_connect", "tcp_v4_conn_request", "tcp_v4_send_synack",
		"tcp_rcv_synsent_state_process", "tcp_check_req", "tcp_v4_syn_recv_sock", "tcp_child_process"} {
		if n := tr.count(fn); n != 1 {
			t.Errorf("%s hit %d times, want 1", fn, n)
		}
	}
}

// trace is a lab run's hits with helpers that report through t.
type trace struct {
	t    *testing.T
	hits []lab.Hit
}

func newTrace(t *testing.T, hits []lab.Hit) *trace { return &trace{t: t, hits: hits} }

// runLab runs the unattended gdb lab with cfg and returns its hits. It
// logs the lab's trace and console, reports gdb's warnings as errors and
// stops the test when the lab failed or hello did not get its answer
// under the breakpoints.
func runLab(t *testing.T, cfg lab.Config) *trace {
	t.Helper()
	res, err := lab.Run(cfg)
	if res != nil {
		var b strings.Builder
		lab.Write(&b, res.Hits)
		t.Logf("lab trace:\n%s\nconsole:\n%s", b.String(), res.Console)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Errorf("gdb: %s", w)
	}
	if !strings.Contains(res.Console, lab.HelloOut) {
		t.Fatalf("hello did not print %q under the lab's breakpoints", lab.HelloOut)
	}
	return newTrace(t, res.Hits)
}

// step renders a hit as the expectations spell it: "tcp_v4_rcv SYN".
func step(h lab.Hit) string {
	if f := h.Flags(); f != "" {
		return h.Linux + " " + f
	}
	return h.Linux
}

// find returns the index of the first hit of linux whose note starts with
// note (entry hits only unless note is "returns"); it fails the test if
// there is none.
func (tr *trace) find(linux, note string) int {
	tr.t.Helper()
	for i, h := range tr.hits {
		if h.Linux == linux && strings.HasPrefix(h.Note, note) && (note == "returns" || !h.Returns()) {
			return i
		}
	}
	tr.t.Fatalf("no hit of %s [%s...]", linux, note)
	return -1
}

// run checks that the hits from the first linux [note...] on follow
// want and returns where they start. A step must be the very next hit; a
// step written "~step" may come later (only hits of other tasks can fall
// between: ip_queue_xmit runs after the TCP lock is dropped, and the
// inet_* functions take no lock). Functions that run under the TCP lock
// are never interleaved with another task's, so those steps are strict.
func (tr *trace) run(linux, note string, want ...string) int {
	tr.t.Helper()
	start := tr.find(linux, note)
	i := start
	var got, clean []string
	for k, w := range want {
		loose := strings.HasPrefix(w, "~")
		w = strings.TrimPrefix(w, "~")
		clean = append(clean, w)
		if k > 0 {
			i++
		}
		for loose && i < len(tr.hits) && step(tr.hits[i]) != w {
			i++
		}
		if i >= len(tr.hits) {
			got = append(got, "(end)")
			break
		}
		got = append(got, step(tr.hits[i]))
	}
	if strings.Join(got, " | ") != strings.Join(clean, " | ") {
		tr.t.Errorf("from hit #%d:\n got  %s\n want %s", start, strings.Join(got, " | "), strings.Join(want, " | "))
	}
	return start
}

// exactly checks the hits between the command's dispatch and the next
// command.
func (tr *trace) exactly(cmd string, want []string) {
	tr.t.Helper()
	var got []string
	in := false
	for _, h := range tr.hits {
		if h.Cmd != "" {
			in = h.Cmd == cmd
			continue
		}
		if in {
			got = append(got, step(h))
		}
	}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		tr.t.Errorf("%s:\n got  %s\n want %s", cmd, strings.Join(got, " | "), strings.Join(want, " | "))
	}
}

func (tr *trace) count(linux string) int {
	n := 0
	for _, h := range tr.hits {
		if h.Linux == linux && !h.Returns() {
			n++
		}
	}
	return n
}

// labUserNames are tcplab.py's USER_NAMES: a lab function's name when it
// runs under a system call (the map's row gives the Go shell's).
var labUserNames = map[string]string{"gomenuos/net/inet.(*Net).Socket": "sock_create"}

// filesMatchMap checks that each hit stopped in the file docs/linux-map.md
// gives for that symbol in its gdb lab section.
func (tr *trace) filesMatchMap() {
	tr.t.Helper()
	rows := gdbLabRows(tr.t)
	for _, h := range tr.hits {
		if h.Cmd != "" || h.Returns() {
			continue
		}
		r, ok := rows[h.Sym]
		if !ok {
			tr.t.Errorf("%s (%s) is not in linux-map.md's gdb lab section", h.Sym, h.Linux)
			continue
		}
		file, _, _ := strings.Cut(h.File, ":")
		if h.Proc != "" && labUserNames[h.Sym] != "" {
			r.linux = labUserNames[h.Sym]
		}
		if r.linux != h.Linux || r.file != file {
			tr.t.Errorf("%s stopped as %s in %s; the map says %s in %s", h.Sym, h.Linux, file, r.linux, r.file)
		}
	}
}
