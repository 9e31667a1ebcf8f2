package lab

import (
	"strings"
	"testing"
)

// hit builds a recorded hit as tcplab.py reports it.
func hit(seq int, linux, sym, file string, seg bool, note string) Hit {
	return Hit{Seq: seq, Linux: linux, Sym: sym, File: file, PerSegment: seg, Note: note}
}

const (
	rcv     = "gomenuos/net/tcp.(*Proto).tcpV4RcvLocked"
	doRcv   = "gomenuos/net/tcp.(*Sock).tcpV4DoRcvLocked"
	state   = "gomenuos/net/tcp.(*Sock).tcpRcvStateProcessLocked"
	synsent = "gomenuos/net/tcp.(*Sock).tcpRcvSynSentStateProcessLocked"
	child   = "gomenuos/net/tcp.(*Sock).tcpChildProcessLocked"
)

// A recorded handshake, shortened: the SYN-ACK at the client, the final
// ACK at the listener, then one data segment and a close.
var recorded = []Hit{
	{Seq: 1, Cmd: "hello"},
	hit(2, "tcp_v4_rcv", rcv, "net/tcp/input.go:78", true, "SYN,ACK 5001->40000"),
	hit(3, "tcp_rcv_synsent_state_process", synsent, "net/tcp/connect.go:95", false, "SYN,ACK 5001->40000"),
	hit(4, "tcp_v4_rcv", rcv, "net/tcp/input.go:78", true, "ACK 40000->5001"),
	hit(5, "tcp_child_process", child, "net/tcp/listen.go:336", false, "ACK 40000->5001"),
	hit(6, "tcp_rcv_state_process", state, "net/tcp/rcvstate.go:7", true, "ACK 40000->5001"),
	hit(7, "inet_csk_accept", "gomenuos/net/inet.(*Socket).Accept", "net/inet/socket.go:138", false, "returns"),
	hit(8, "tcp_v4_rcv", rcv, "net/tcp/input.go:78", true, "ACK,PSH 40000->5001"),
	hit(9, "tcp_v4_do_rcv", doRcv, "net/tcp/input.go:115", true, "ACK,PSH 40000->5001"),
	hit(10, "tcp_close", "gomenuos/net/tcp.(*Sock).tcpCloseLocked", "net/tcp/close.go:61", false, "local :5001 peer :40000"),
}

// TestWrite: every hit up to the child's tcp_rcv_state_process, then only
// the hits that are not per-segment; counts over the whole run.
func TestWrite(t *testing.T) {
	var b strings.Builder
	Write(&b, recorded)
	want := `
MenuOS>>hello   (the active open; over loopback the server's half of the handshake runs in between)
   2  tcp_v4_rcv                     ->  gomenuos/net/tcp.(*Proto).tcpV4RcvLocked (net/tcp/input.go:78)  [SYN,ACK 5001->40000]
   3  tcp_rcv_synsent_state_process  ->  gomenuos/net/tcp.(*Sock).tcpRcvSynSentStateProcessLocked (net/tcp/connect.go:95)  [SYN,ACK 5001->40000]
   4  tcp_v4_rcv                     ->  gomenuos/net/tcp.(*Proto).tcpV4RcvLocked (net/tcp/input.go:78)  [ACK 40000->5001]
   5  tcp_child_process              ->  gomenuos/net/tcp.(*Sock).tcpChildProcessLocked (net/tcp/listen.go:336)  [ACK 40000->5001]
   6  tcp_rcv_state_process          ->  gomenuos/net/tcp.(*Sock).tcpRcvStateProcessLocked (net/tcp/rcvstate.go:7)  [ACK 40000->5001]

-- handshake complete: hello/hi, the closes and the FINs (per-segment functions only counted) --
   7  inet_csk_accept                ->  gomenuos/net/inet.(*Socket).Accept (net/inet/socket.go:138)  [returns]
  10  tcp_close                      ->  gomenuos/net/tcp.(*Sock).tcpCloseLocked (net/tcp/close.go:61)  [local :5001 peer :40000]

hits per function over the whole run:
  tcp_v4_rcv                       3  gomenuos/net/tcp.(*Proto).tcpV4RcvLocked  (1 after the handshake, not listed above)
  tcp_rcv_synsent_state_process    1  gomenuos/net/tcp.(*Sock).tcpRcvSynSentStateProcessLocked
  tcp_child_process                1  gomenuos/net/tcp.(*Sock).tcpChildProcessLocked
  tcp_rcv_state_process            1  gomenuos/net/tcp.(*Sock).tcpRcvStateProcessLocked
  tcp_v4_do_rcv                    1  gomenuos/net/tcp.(*Sock).tcpV4DoRcvLocked  (1 after the handshake, not listed above)
  tcp_close                        1  gomenuos/net/tcp.(*Sock).tcpCloseLocked
`
	if b.String() != want {
		t.Errorf("Write:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestHitNotes: the flags and ports of tcplab.py's notes.
func TestHitNotes(t *testing.T) {
	for _, c := range []struct {
		note, flags string
		src, dst    int
		ok          bool
	}{
		{"SYN,ACK 5001->40000", "SYN,ACK", 5001, 40000, true},
		{"ACK 40000->5001", "ACK", 40000, 5001, true},
		{"local :5001 peer :40000", "", 0, 0, false},
		{"to :5001", "", 0, 0, false},
		{"returns", "", 0, 0, false},
		{"", "", 0, 0, false},
	} {
		h := Hit{Note: c.note}
		src, dst, ok := h.Ports()
		if h.Flags() != c.flags || src != c.src || dst != c.dst || ok != c.ok {
			t.Errorf("%q: flags %q ports %d %d %v, want %q %d %d %v", c.note, h.Flags(), src, dst, ok,
				c.flags, c.src, c.dst, c.ok)
		}
	}
	if !(Hit{Note: "returns"}).Returns() || (Hit{Note: "SYN 1->2"}).Returns() {
		t.Errorf("Returns")
	}
}

// TestWriteProcesses: a run on the C MenuOS gets a process column ("-" for
// the kernel's goroutines) and captions naming the process that read the
// command.
func TestWriteProcesses(t *testing.T) {
	hits := []Hit{
		{Seq: 1, Cmd: "replyhi", Proc: "menu[1]"},
		{Seq: 2, Linux: "__sys_socket", Sym: "gomenuos/kernel/proc.(*Thread).sysSocket", File: "kernel/proc/sys_net.go:90", Proc: "menu[1]"},
		{Seq: 3, Linux: "inet_csk_accept", Sym: "gomenuos/net/inet.(*Socket).inetCskAccept", File: "net/inet/socket.go:194", Proc: "menu[2]"},
		hit(4, "tcp_v4_rcv", rcv, "net/tcp/input.go:78", true, "SYN 40000->5001"),
	}
	var b strings.Builder
	Write(&b, hits)
	want := `
MenuOS>>replyhi   (read by menu[1]: socket, bind, listen, then fork; the server child sleeps in accept)
   2  menu[1]    __sys_socket                   ->  gomenuos/kernel/proc.(*Thread).sysSocket (kernel/proc/sys_net.go:90)
   3  menu[2]    inet_csk_accept                ->  gomenuos/net/inet.(*Socket).inetCskAccept (net/inet/socket.go:194)
   4  -          tcp_v4_rcv                     ->  gomenuos/net/tcp.(*Proto).tcpV4RcvLocked (net/tcp/input.go:78)  [SYN 40000->5001]
`
	if got := b.String(); !strings.HasPrefix(got, want) {
		t.Errorf("Write:\n%s\nwant it to start with\n%s", got, want)
	}
}
