package integration

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/ktrace"
	"gomenuos/qemu/lab"
)

// The pictures of `make trace`'s run (replyhi, hello): one sequence
// diagram for the one connection, with the client, listener and accepted
// child as lanes, the handshake's segments between the right lanes and
// functions, the data and FINs, and the state changes; a context-switch
// timeline. Both parse as XML and render with rsvg-convert to a PNG that
// is not blank.
func TestQEMUTracePictures(t *testing.T) {
	res := traceSocketRun(t)
	dir := t.TempDir()
	files, err := ktrace.WriteSVGs(dir, res.Events)
	if err != nil {
		t.Fatal(err)
	}
	var seq, sched string
	for _, f := range files {
		switch {
		case filepath.Base(f) == "sched.svg":
			sched = f
		case port5001.MatchString(filepath.Base(f)):
			if seq != "" {
				t.Errorf("two diagrams for port 5001: %s, %s", seq, f)
			}
			seq = f
		}
	}
	if seq == "" || sched == "" || len(files) != 2 {
		t.Fatalf("wrote %v: want one connection diagram and sched.svg", files)
	}
	doc := parseSVG(t, seq)

	var roles []string
	for _, g := range doc.all("g") {
		if g.attr("class") == "lane-head" {
			roles = append(roles, g.attr("data-role"))
		}
	}
	if strings.Join(roles, ",") != "client,listener,accepted child" {
		t.Errorf("lanes %q, want client, listener, accepted child", roles)
	}
	type arrow struct{ flags, sender, receiver, seq, ack, len, src string }
	var arrows []arrow
	for _, g := range doc.all("g") {
		if g.attr("class") == "seg" {
			arrows = append(arrows, arrow{g.attr("data-flags"), g.attr("data-sender"), g.attr("data-receiver"),
				g.attr("data-seq"), g.attr("data-ack"), g.attr("data-len"), g.attr("data-src")})
			if len(g.all("line")) != 1 {
				t.Errorf("segment %s has no arrow line", g.attr("data-flags"))
			}
		}
	}
	client := ""
	if len(arrows) > 0 {
		client = arrows[0].src
	}
	handshake := []arrow{
		{"SYN", "tcp_transmit_skb", "tcp_v4_conn_request", "0", "0", "0", client},
		{"SYN,ACK", "tcp_v4_send_synack", "tcp_rcv_synsent_state_process", "0", "1", "0", "127.0.0.1:5001"},
		{"ACK", "tcp_transmit_skb", "tcp_check_req", "1", "1", "0", client},
		{"PSH,ACK", "tcp_transmit_skb", "tcp_rcv_established", "1", "1", "5", client}, // "hello"
	}
	if len(arrows) < 8 || fmt.Sprint(arrows[:4]) != fmt.Sprint(handshake) {
		t.Fatalf("first arrows %v, want %v (of %d)", arrows[:min(4, len(arrows))], handshake, len(arrows))
	}
	// Both ends close, and "hi" goes back (a slow machine may retransmit
	// either: count senders, not segments).
	finFrom, hiFrom := map[string]bool{}, map[string]bool{}
	for _, a := range arrows {
		if a.sender == "" || a.receiver == "" {
			t.Errorf("over loopback both ends are ours, but %v lacks one", a)
		}
		if strings.Contains(a.flags, "FIN") {
			finFrom[a.src] = true
		}
		if strings.Contains(a.flags, "PSH") && a.len == "2" {
			hiFrom[a.src] = true
		}
	}
	if len(finFrom) != 2 || !hiFrom["127.0.0.1:5001"] || len(hiFrom) != 1 {
		t.Errorf("FINs from %v, 'hi' from %v: want both ends and the server: %v", finFrom, hiFrom, arrows)
	}
	var states []string
	for _, g := range doc.all("g") {
		if g.attr("class") == "state" {
			states = append(states, g.attr("data-state"))
		}
	}
	for _, s := range []string{"SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "CLOSE_WAIT", "LAST_ACK", "FIN_WAIT2", "TIME_WAIT", "CLOSE"} {
		if !strings.Contains(" "+strings.Join(states, " ")+" ", " "+s+" ") {
			t.Errorf("no %s on the lanes (%v)", s, states)
		}
	}
	text := doc.text()
	for _, want := range []string{"<mss 65495,sackOK,TS val", "SYN seq=0 win=65535", "PSH,ACK seq=1 ack=1 win="} {
		if !strings.Contains(text, want) {
			t.Errorf("the diagram's text lacks %q", want)
		}
	}

	tl := parseSVG(t, sched)
	switches := 0
	for _, l := range tl.all("line") {
		if l.attr("class") == "switch" {
			switches++
		}
	}
	if switches == 0 || len(tl.all("rect")) < switches {
		t.Errorf("timeline: %d switch edges, %d rects", switches, len(tl.all("rect")))
	}
	for _, f := range []string{seq, sched} {
		renderPNG(t, f)
	}
}

// port5001 matches the diagram of a connection to 127.0.0.1:5001 (the
// endpoints are sorted as strings, so the server's may come first).
var port5001 = regexp.MustCompile(`^tcp-(127\.0\.0\.1_5001-.*|.*-127\.0\.0\.1_5001)\.svg$`)

// node is a parsed XML element.
type node struct {
	name  string
	attrs []xml.Attr
	kids  []*node
	chars string
}

func (n *node) attr(k string) string {
	for _, a := range n.attrs {
		if a.Name.Local == k {
			return a.Value
		}
	}
	return ""
}

func (n *node) all(name string) []*node {
	var out []*node
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

func (n *node) text() string {
	s := n.chars
	for _, k := range n.kids {
		s += " " + k.text()
	}
	return s
}

func parseSVG(t *testing.T, path string) *node {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s does not parse: %v", path, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{name: tk.Name.Local, attrs: tk.Attr}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].chars += string(tk)
		}
	}
	if len(root.kids) != 1 || root.kids[0].name != "svg" {
		t.Fatalf("%s: the root is not <svg>", path)
	}
	return root.kids[0]
}

// renderPNG renders an SVG with rsvg-convert (librsvg2-bin, which `make
// deps` and the CI script install) and checks the PNG is not blank.
func renderPNG(t *testing.T, svg string) {
	t.Helper()
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Fatalf("rsvg-convert not found (make deps installs librsvg2-bin): %v", err)
	}
	out := strings.TrimSuffix(svg, ".svg") + ".png"
	if b, err := exec.Command(rsvg, "-o", out, svg).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert %s: %v\n%s", svg, err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xc000 || g < 0xc000 || bl < 0xc000 {
				ink++
			}
		}
	}
	if total := b.Dx() * b.Dy(); b.Dx() < 300 || ink < total/200 {
		t.Errorf("%s: %dx%d with %d dark pixels: blank", out, b.Dx(), b.Dy(), ink)
	}
}

// `make lab` draws the same pictures of its run: the handshake it
// stepped through under gdb, from the kernel's own tracepoints.
func TestQEMULabPictures(t *testing.T) {
	dir := t.TempDir()
	res, err := lab.Run(lab.Config{BuildDir: harness.BuildDir(), Pictures: dir})
	if err != nil {
		if res != nil {
			t.Logf("console:\n%s\ntrace:\n%s", res.Console, res.Trace)
		}
		t.Fatal(err)
	}
	var seq string
	for _, f := range res.Files {
		if port5001.MatchString(filepath.Base(f)) {
			seq = f
		}
	}
	if seq == "" || len(res.Files) != 2 {
		t.Fatalf("the lab wrote %v", res.Files)
	}
	doc := parseSVG(t, seq)
	var got []string
	for _, g := range doc.all("g") {
		if g.attr("class") == "seg" && len(got) < 3 {
			got = append(got, g.attr("data-flags")+" "+g.attr("data-sender")+" "+g.attr("data-receiver"))
		}
	}
	want := []string{"SYN tcp_transmit_skb tcp_v4_conn_request", "SYN,ACK tcp_v4_send_synack tcp_rcv_synsent_state_process",
		"ACK tcp_transmit_skb tcp_check_req"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the lab's handshake: %q, want %q", got, want)
	}
	for _, f := range res.Files {
		renderPNG(t, f)
	}
}
