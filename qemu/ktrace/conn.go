package ktrace

import (
	"fmt"
	"sort"
	"strings"
)

// A TCP connection as the tracepoints saw it: the sockets (lanes) that
// sent and received its segments, every segment as an arrow between two
// lanes, and the sockets' state changes.
type Conn struct {
	Key    string // "127.0.0.1:5001 127.0.0.1:33886": its two endpoints, sorted
	Lanes  []*Lane
	Rows   int // events in time order: a row each
	Arrows []Arrow
	Marks  []Mark
}

// Lane is one socket of a connection, or the far end when it is not ours.
type Lane struct {
	Sock  string // sk=0x…, "" for a peer
	Role  string // client, listener, accepted child, peer, no socket
	Local string // local endpoint (for a peer: its endpoint)
	First string // the state the socket was in when first seen
	Task  string // the task that sent on it first, as comm(id) (not the loopback's or trap context)
}

// Arrow is one segment: from the lane (and row) that sent it to the one
// that received it. Either end may be missing from the trace (a peer's
// end, or a segment lost on the way): then it is drawn level.
type Arrow struct {
	From, To       int // lane indexes
	FromRow, ToRow int
	SendFunc       string // Linux name of our function that sent it ("" when a peer did)
	RcvFunc        string // and of the one that received it
	Flags          string
	Seq, Ack       uint32 // relative to each direction's initial sequence number when its SYN was seen
	Win, Len       int
	Opts           string
	Src, Dst       string
}

// Mark is a state change on a lane.
type Mark struct {
	Lane, Row int
	State     string
}

type segEv struct {
	ev      *Event
	rcv     bool
	matched bool
}

// Connections groups the segment and state events of a trace into
// connections, in the order their first event happened.
func Connections(events []Event) []*Conn {
	byKey := map[string]*Conn{}
	var order []*Conn
	segs := map[string][]*segEv{}
	states := map[string][]*Event{}
	lastState := map[string]string{} // sk → latest state seen before a connection
	var evs []*Event                 // this trace's TCP events, in order
	for i := range events {
		e := &events[i]
		var key string
		switch e.Name {
		case "tcp_send_segment", "tcp_rcv_segment":
			key = connKey(e.Fields["src"], e.Fields["dst"])
			segs[key] = append(segs[key], &segEv{ev: e, rcv: e.Name == "tcp_rcv_segment"})
		case "inet_sock_set_state":
			if e.Fields["dport"] == "0" { // a listener: no connection yet
				lastState[e.Fields["sk"]] = strings.TrimPrefix(e.Fields["newstate"], "TCP_")
				continue
			}
			key = connKey(e.Fields["saddr"]+":"+e.Fields["sport"], e.Fields["daddr"]+":"+e.Fields["dport"])
			states[key] = append(states[key], e)
		default:
			continue
		}
		if byKey[key] == nil {
			byKey[key] = &Conn{Key: key}
			order = append(order, byKey[key])
		}
		evs = append(evs, e)
	}
	for _, c := range order {
		c.build(evs, segs[c.Key], states[c.Key], lastState)
	}
	return order
}

func connKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}

// build lays out one connection: a row per event, lanes per socket.
func (c *Conn) build(all []*Event, segs []*segEv, states []*Event, lastState map[string]string) {
	row := map[*Event]int{}
	mine := map[*Event]bool{}
	for _, s := range segs {
		mine[s.ev] = true
	}
	for _, e := range states {
		mine[e] = true
	}
	for _, e := range all {
		if mine[e] {
			row[e] = c.Rows
			c.Rows++
		}
	}
	isn := initialSeqs(segs)
	for _, s := range segs {
		if s.rcv || s.matched {
			continue
		}
		s.matched = true
		a := c.arrowFrom(s.ev, isn)
		a.FromRow, a.ToRow = row[s.ev], row[s.ev]
		a.From = c.lane(s.ev.Fields["sk"], s.ev.Fields["src"], s.ev.Fields["state"], lastState)
		if l := c.Lanes[a.From]; l.Task == "" && !strings.HasPrefix(s.ev.Comm, "link.") && s.ev.Comm != "trap" {
			l.Task = fmt.Sprintf("%s(%d)", s.ev.Comm, s.ev.ID)
		}
		if r := matchRcv(s, segs); r != nil {
			r.matched = true
			a.To = c.lane(r.ev.Fields["sk"], r.ev.Fields["dst"], r.ev.Fields["state"], lastState)
			a.ToRow, a.RcvFunc = row[r.ev], r.ev.Fields["func"]
		} else {
			a.To = c.peer(s.ev.Fields["dst"])
		}
		c.Arrows = append(c.Arrows, a)
	}
	for _, r := range segs { // received from a peer
		if !r.rcv || r.matched {
			continue
		}
		r.matched = true
		a := c.arrowFrom(r.ev, isn)
		a.SendFunc, a.RcvFunc = "", r.ev.Fields["func"]
		a.From = c.peer(r.ev.Fields["src"])
		a.To = c.lane(r.ev.Fields["sk"], r.ev.Fields["dst"], r.ev.Fields["state"], lastState)
		a.FromRow, a.ToRow = row[r.ev], row[r.ev]
		c.Arrows = append(c.Arrows, a)
	}
	sort.SliceStable(c.Arrows, func(i, j int) bool { return c.Arrows[i].FromRow < c.Arrows[j].FromRow })
	for _, e := range states {
		local := e.Fields["saddr"] + ":" + e.Fields["sport"]
		l := c.lane(e.Fields["sk"], local, strings.TrimPrefix(e.Fields["oldstate"], "TCP_"), lastState)
		c.Marks = append(c.Marks, Mark{Lane: l, Row: row[e], State: strings.TrimPrefix(e.Fields["newstate"], "TCP_")})
	}
	c.orderLanes()
}

// matchRcv finds the receive event of a sent segment: the first later
// one with the same endpoints, numbers and flags.
func matchRcv(s *segEv, segs []*segEv) *segEv {
	seen := false
	for _, r := range segs {
		if r == s {
			seen = true
			continue
		}
		if !seen || !r.rcv || r.matched {
			continue
		}
		f, g := s.ev.Fields, r.ev.Fields
		if f["src"] == g["src"] && f["dst"] == g["dst"] && f["seq"] == g["seq"] && f["ack"] == g["ack"] &&
			f["flags"] == g["flags"] && f["len"] == g["len"] {
			return r
		}
	}
	return nil
}

// initialSeqs is each sender endpoint's SYN sequence number.
func initialSeqs(segs []*segEv) map[string]uint32 {
	isn := map[string]uint32{}
	for _, s := range segs {
		if strings.Contains(s.ev.Fields["flags"], "SYN") {
			if _, ok := isn[s.ev.Fields["src"]]; !ok {
				isn[s.ev.Fields["src"]] = uint32(s.ev.Uint("seq"))
			}
		}
	}
	return isn
}

func (c *Conn) arrowFrom(e *Event, isn map[string]uint32) Arrow {
	a := Arrow{SendFunc: e.Fields["func"], Flags: e.Fields["flags"], Win: int(e.Int("win")), Len: int(e.Int("len")),
		Opts: e.Fields["opts"], Src: e.Fields["src"], Dst: e.Fields["dst"]}
	a.Seq, a.Ack = uint32(e.Uint("seq")), uint32(e.Uint("ack"))
	if i, ok := isn[a.Src]; ok {
		a.Seq -= i
	}
	if i, ok := isn[a.Dst]; ok && strings.Contains(a.Flags, "ACK") {
		a.Ack -= i
	}
	return a
}

// lane returns the lane of socket sk (whose local endpoint is local and
// whose state before this event was state), adding it on first sight. A
// segment no socket sent or received (sk=0) goes to a "no socket" lane of
// its local endpoint.
func (c *Conn) lane(sk, local, state string, lastState map[string]string) int {
	if sk == "0x0" || sk == "" {
		sk = "none " + local
	}
	for i, l := range c.Lanes {
		if l.Sock == sk {
			return i
		}
	}
	l := &Lane{Sock: sk, Local: local, First: state}
	if s, ok := lastState[sk]; ok && state == "" {
		l.First = s
	}
	switch {
	case strings.HasPrefix(sk, "none "):
		l.Role = "no socket"
	case l.First == "LISTEN":
		l.Role = "listener"
	case l.First == "SYN_SENT":
		l.Role = "client"
	default:
		l.Role = "socket"
	}
	c.Lanes = append(c.Lanes, l)
	return len(c.Lanes) - 1
}

// peer returns the lane of a far end that is not in this kernel.
func (c *Conn) peer(endpoint string) int {
	for i, l := range c.Lanes {
		if l.Sock == "" && l.Local == endpoint {
			return i
		}
	}
	c.Lanes = append(c.Lanes, &Lane{Role: "peer", Local: endpoint})
	return len(c.Lanes) - 1
}

// orderLanes names the roles the state changes reveal (a socket born in
// SYN_RECV is the listener's accepted child; one that went to SYN_SENT is
// the client) and puts the lanes in handshake order: client, listener,
// child, the rest.
func (c *Conn) orderLanes() {
	for _, m := range c.Marks {
		l := c.Lanes[m.Lane]
		switch {
		case m.State == "SYN_SENT":
			l.Role = "client"
		case m.State == "SYN_RECV" && l.Role != "listener":
			l.Role = "accepted child"
		}
	}
	rank := map[string]int{"client": 0, "peer": 1, "listener": 2, "accepted child": 3, "socket": 4, "no socket": 5}
	idx := make([]int, len(c.Lanes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rank[c.Lanes[idx[a]].Role] < rank[c.Lanes[idx[b]].Role] })
	pos := make([]int, len(idx))
	lanes := make([]*Lane, len(idx))
	for newPos, old := range idx {
		pos[old] = newPos
		lanes[newPos] = c.Lanes[old]
	}
	c.Lanes = lanes
	for i := range c.Arrows {
		c.Arrows[i].From, c.Arrows[i].To = pos[c.Arrows[i].From], pos[c.Arrows[i].To]
	}
	for i := range c.Marks {
		c.Marks[i].Lane = pos[c.Marks[i].Lane]
	}
}

// Label is an arrow's text: flags, relative seq/ack, window, length.
func (a *Arrow) Label() string {
	s := fmt.Sprintf("%s seq=%d", a.Flags, a.Seq)
	if strings.Contains(a.Flags, "ACK") {
		s += fmt.Sprintf(" ack=%d", a.Ack)
	}
	s += fmt.Sprintf(" win=%d", a.Win)
	if a.Len > 0 {
		s += fmt.Sprintf(" len=%d", a.Len)
	}
	return s
}

// OptionsLabel spells the options as tcpdump does.
func (a *Arrow) OptionsLabel() string {
	if a.Opts == "" || a.Opts == "none" {
		return ""
	}
	var out []string
	for _, o := range strings.Split(a.Opts, ",") {
		f := strings.Split(o, ":")
		switch f[0] {
		case "mss", "wscale", "sack":
			out = append(out, f[0]+" "+strings.Join(f[1:], " "))
		case "TS":
			if len(f) == 3 {
				out = append(out, "TS val "+f[1]+" ecr "+f[2])
			}
		default:
			out = append(out, o)
		}
	}
	return "<" + strings.Join(out, ",") + ">"
}
