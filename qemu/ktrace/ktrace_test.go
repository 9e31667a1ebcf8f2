package ktrace

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"testing"
)

// testdata/replyhi-hello.trace is what `trace` printed after replyhi and
// hello under socket.stp with the default tracepoints (a real run).
func loadTrace(t *testing.T) []Event {
	t.Helper()
	b, err := os.ReadFile("testdata/replyhi-hello.trace")
	if err != nil {
		t.Fatal(err)
	}
	return Parse(string(b))
}

func TestParse(t *testing.T) {
	ev := loadTrace(t)
	var probes, segs, switches int
	for _, e := range ev {
		switch {
		case e.Probe:
			probes++
		case e.Name == "tcp_send_segment" || e.Name == "tcp_rcv_segment":
			segs++
			if e.Fields["src"] == "" || e.Fields["dst"] == "" || e.Fields["func"] == "" {
				t.Errorf("segment without endpoints or function: %s", e.Line)
			}
		case e.Name == "sched_switch":
			switches++
		}
	}
	if probes != 16 || segs != 22 || switches == 0 {
		t.Errorf("%d probe hits, %d segment events, %d switches; want 16, 22 (11 segments, both ends), some", probes, segs, switches)
	}
	e, ok := parseLine("   307 link.(*Loopback).Attach(10):  -> tcp_v4_rcv [tcp.(*Proto).tcpV4RcvLocked]")
	if !ok || e.Comm != "link.(*Loopback).Attach" || e.ID != 10 || e.Depth != 1 || e.Return ||
		e.Func != "tcp_v4_rcv [tcp.(*Proto).tcpV4RcvLocked]" || e.US != 307 {
		t.Errorf("parsed %+v", e)
	}
	if _, ok := parseLine("MenuOS>>trace"); ok {
		t.Error("a prompt parsed as an event")
	}
}

func TestConnectionOverLoopback(t *testing.T) {
	conns := Connections(loadTrace(t))
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	c := conns[0]
	var roles []string
	for _, l := range c.Lanes {
		roles = append(roles, l.Role)
	}
	if strings.Join(roles, ",") != "client,listener,accepted child" {
		t.Fatalf("lanes %v", roles)
	}
	if len(c.Arrows) != 11 {
		t.Fatalf("%d arrows, want 11", len(c.Arrows))
	}
	want := []string{
		"0->1 SYN seq=0 win=65535 tcp_transmit_skb/tcp_v4_conn_request",
		"1->0 SYN,ACK seq=0 ack=1 win=65535 tcp_v4_send_synack/tcp_rcv_synsent_state_process",
		"0->1 ACK seq=1 ack=1 win=32768 tcp_transmit_skb/tcp_check_req",
		"0->2 PSH,ACK seq=1 ack=1 win=32768 len=5 tcp_transmit_skb/tcp_rcv_established",
	}
	for i, w := range want {
		a := c.Arrows[i]
		if got := fmt.Sprintf("%d->%d %s %s/%s", a.From, a.To, a.Label(), a.SendFunc, a.RcvFunc); got != w {
			t.Errorf("arrow %d: %s, want %s", i, got, w)
		}
	}
	if o := c.Arrows[0].OptionsLabel(); !strings.HasPrefix(o, "<mss 65495,sackOK,TS val ") || !strings.HasSuffix(o, " ecr 0,wscale 3>") {
		t.Errorf("the SYN's options: %s", o)
	}
}

// When only one end is in the trace (a peer outside the guest), the other
// end is a peer lane and the arrows to and from it are level.
func TestConnectionWithPeer(t *testing.T) {
	var client string
	var ev []Event
	for _, e := range loadTrace(t) {
		if e.Name == "inet_sock_set_state" && e.Fields["newstate"] == "TCP_SYN_SENT" {
			client = e.Fields["sk"]
		}
		if client != "" && e.Fields["sk"] == client {
			continue // the client is on another machine
		}
		ev = append(ev, e)
	}
	c := Connections(ev)[0]
	if c.Lanes[0].Role != "peer" || !strings.HasPrefix(c.Lanes[0].Local, "127.0.0.1:") || len(c.Arrows) != 11 {
		t.Fatalf("lanes %+v, %d arrows", c.Lanes, len(c.Arrows))
	}
	syn := c.Arrows[0]
	if syn.From != 0 || syn.To != 1 || syn.SendFunc != "" || syn.RcvFunc != "tcp_v4_conn_request" || syn.FromRow != syn.ToRow {
		t.Errorf("SYN from the peer: %+v", syn)
	}
	synack := c.Arrows[1]
	if synack.From != 1 || synack.To != 0 || synack.SendFunc != "tcp_v4_send_synack" || synack.RcvFunc != "" {
		t.Errorf("SYN-ACK to the peer: %+v", synack)
	}
}

func TestSVGsAreXML(t *testing.T) {
	ev := loadTrace(t)
	for _, b := range [][]byte{SequenceSVG(Connections(ev)[0]), TimelineSVG(ev)} {
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("not XML: %v", err)
				}
				break
			}
		}
		if !bytes.Contains(b, []byte(`<svg xmlns="http://www.w3.org/2000/svg"`)) {
			t.Error("no svg root")
		}
	}
	if TimelineSVG(nil) != nil {
		t.Error("a timeline without switches")
	}
}
