package ktrace

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Drawing: plain SVG 1.1 that any renderer takes (rsvg-convert, browsers).

const (
	laneGap  = 320
	margin   = 30
	headerH  = 110
	rowH     = 46
	svgStyle = `text{font-family:DejaVu Sans,Verdana,sans-serif;font-size:11px;fill:#111}` +
		`.role{font-size:13px;font-weight:bold}.func{font-size:10px;fill:#0b4f8a}` +
		`.opts{font-size:9px;fill:#555}.lane{stroke:#999;stroke-dasharray:4 3}` +
		`.segment{stroke:#222;stroke-width:1.4}.state rect{fill:#fff6d5;stroke:#c9a227}` +
		`.run{stroke:#333;stroke-width:0.5}.switch{stroke:#c0392b;stroke-width:0.8}` +
		`.axis{stroke:#444}.title{font-size:15px;font-weight:bold}` +
		`.lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}`
)

type svgDoc struct {
	b    bytes.Buffer
	w, h int
}

func newSVG(w, h int, title string) *svgDoc {
	d := &svgDoc{w: w, h: h}
	fmt.Fprintf(&d.b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&d.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", w, h, w, h)
	fmt.Fprintf(&d.b, "<title>%s</title>\n<style>%s</style>\n", esc(title), svgStyle)
	d.b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>` + "\n")
	fmt.Fprintf(&d.b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	return d
}

func (d *svgDoc) text(x, y int, class, anchor, s string) {
	fmt.Fprintf(&d.b, `<text x="%d" y="%d" class="%s" text-anchor="%s">%s</text>`+"\n", x, y, class, anchor, esc(s))
}

func (d *svgDoc) bytes() []byte {
	d.b.WriteString("</svg>\n")
	return d.b.Bytes()
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func laneX(i int) int { return margin + laneGap/2 + i*laneGap }
func rowY(r int) int  { return headerH + 20 + r*rowH }

// SequenceSVG draws one connection: a lane per socket, an arrow per
// segment labelled with its flags, relative seq/ack, window and options,
// each end with the Linux name of the function that sent or received it,
// and the state changes on the lanes.
func SequenceSVG(c *Conn) []byte {
	w := 2*margin + laneGap*max(len(c.Lanes), 2)
	h := rowY(c.Rows) + 30
	d := newSVG(w, h, "TCP "+c.Key)
	d.text(margin, 20, "title", "start", "TCP connection "+strings.ReplaceAll(c.Key, " ", " ⇄ "))
	for i, l := range c.Lanes {
		x := laneX(i)
		fmt.Fprintf(&d.b, `<g class="lane-head" data-role="%s" data-sock="%s">`+"\n", esc(l.Role), esc(l.Sock))
		d.text(x, 48, "role", "middle", l.Role)
		d.text(x, 64, "", "middle", l.Local)
		if l.Sock != "" && !strings.HasPrefix(l.Sock, "none ") {
			d.text(x, 79, "opts", "middle", "sk="+l.Sock)
		}
		var notes []string
		if l.Role == "listener" && l.First != "" {
			notes = append(notes, l.First)
		}
		if l.Task != "" {
			notes = append(notes, l.Task)
		}
		if len(notes) > 0 {
			d.text(x, 94, "opts", "middle", "("+strings.Join(notes, ", ")+")")
		}
		d.b.WriteString("</g>\n")
		fmt.Fprintf(&d.b, `<line class="lane" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x, headerH-8, x, h-10)
	}
	for _, a := range c.Arrows {
		drawArrow(d, &a)
	}
	for _, m := range c.Marks {
		x, y := laneX(m.Lane), rowY(m.Row)
		wd := 9*len(m.State) + 12
		fmt.Fprintf(&d.b, `<g class="state" data-state="%s"><rect x="%d" y="%d" width="%d" height="18" rx="4"/>`, esc(m.State), x-wd/2, y-12, wd)
		d.text(x, y+2, "", "middle", m.State)
		d.b.WriteString("</g>\n")
	}
	return d.bytes()
}

func drawArrow(d *svgDoc, a *Arrow) {
	x1, y1, x2, y2 := laneX(a.From), rowY(a.FromRow), laneX(a.To), rowY(a.ToRow)
	dir := 1
	if x2 < x1 {
		dir = -1
	}
	fmt.Fprintf(&d.b, `<g class="seg" data-flags="%s" data-seq="%d" data-ack="%d" data-win="%d" data-len="%d" data-src="%s" data-dst="%s" data-sender="%s" data-receiver="%s">`+"\n",
		esc(a.Flags), a.Seq, a.Ack, a.Win, a.Len, esc(a.Src), esc(a.Dst), esc(a.SendFunc), esc(a.RcvFunc))
	fmt.Fprintf(&d.b, `<line class="segment" x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#arrow)"/>`+"\n",
		x1+dir*4, y1, x2-dir*4, y2)
	mx, my := (x1+x2)/2, (y1+y2)/2
	d.text(mx, my-6, "lbl", "middle", a.Label())
	if o := a.OptionsLabel(); o != "" {
		d.text(mx, my+12, "opts lbl", "middle", o)
	}
	anchor := map[int]string{1: "start", -1: "end"}
	if a.SendFunc != "" {
		d.text(x1+dir*6, y1-14, "func", anchor[dir], a.SendFunc)
	}
	if a.RcvFunc != "" {
		d.text(x2-dir*6, y2+16, "func", anchor[-dir], a.RcvFunc)
	}
	d.b.WriteString("</g>\n")
}

// switchEv is one sched_switch.
type switchEv struct {
	us         int64
	prev, next int64
	nextG      string
}

// timeline is the layout of the context-switch picture.
type timeline struct {
	d      *svgDoc
	sw     []switchEv
	rowOf  map[int64]int
	rows   []int64
	legend []string // the goroutines, sorted: one colour each
	t0, t1 int64
	axisY  int
}

const (
	tlLeft  = 110  // room for the row names
	tlWidth = 1100 // the time axis
	tlRow   = 34
	tlTop   = 50
)

// TimelineSVG draws the context switches: a row per kernel thread, a bar
// while it ran (coloured by the goroutine it ran), a red edge from the
// thread that left the CPU to the one that got it. It returns nil when
// the trace has no sched_switch.
func TimelineSVG(events []Event) []byte {
	tl := newTimeline(events)
	if tl == nil {
		return nil
	}
	tl.rowNames()
	tl.bars()
	tl.axis()
	return tl.d.bytes()
}

func newTimeline(events []Event) *timeline {
	tl := &timeline{rowOf: map[int64]int{}}
	names := map[string]bool{}
	for _, e := range events {
		if e.Name != "sched_switch" {
			continue
		}
		s := switchEv{us: e.US, prev: e.Int("prev_tid"), next: e.Int("next_tid"), nextG: e.Fields["next_g"]}
		tl.sw = append(tl.sw, s)
		tl.rowOf[s.prev], tl.rowOf[s.next] = 0, 0
		names[s.nextG] = true
	}
	if len(tl.sw) == 0 {
		return nil
	}
	for t := range tl.rowOf {
		tl.rows = append(tl.rows, t)
	}
	sort.Slice(tl.rows, func(i, j int) bool { return tl.rows[i] < tl.rows[j] })
	for i, t := range tl.rows {
		tl.rowOf[t] = i
	}
	for n := range names {
		tl.legend = append(tl.legend, n)
	}
	sort.Strings(tl.legend)
	tl.t0, tl.t1 = tl.sw[0].us, max(tl.sw[len(tl.sw)-1].us, tl.sw[0].us+1)
	tl.axisY = tlTop + tlRow*len(tl.rows) + 6
	h := tl.axisY + 40 + 20*((len(tl.legend)+3)/4) + 10
	tl.d = newSVG(tlLeft+tlWidth+30, h, "context switches")
	tl.d.text(10, 20, "title", "start", fmt.Sprintf("Context switches: %d sched_switch events over %.1f ms",
		len(tl.sw), float64(tl.t1-tl.t0)/1000))
	return tl
}

func (tl *timeline) x(us int64) float64 {
	return tlLeft + float64(us-tl.t0)*tlWidth/float64(tl.t1-tl.t0)
}

func (tl *timeline) rowY(tid int64) int { return tlTop + tl.rowOf[tid]*tlRow }

func (tl *timeline) rowNames() {
	for _, t := range tl.rows {
		y := tl.rowY(t)
		name := fmt.Sprintf("thread %d", t)
		if t == 0 {
			name = "idle (0)"
		}
		tl.d.text(10, y+tlRow/2+4, "role", "start", name)
		fmt.Fprintf(&tl.d.b, `<line class="lane" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", tlLeft, y+tlRow-4, tlLeft+tlWidth, y+tlRow-4)
	}
}

// bars draws who ran between two switches, and each switch's edge.
func (tl *timeline) bars() {
	running, start, g := tl.sw[0].prev, tl.t0, ""
	for _, s := range tl.sw {
		tl.bar(running, start, s.us, g)
		fmt.Fprintf(&tl.d.b, `<line class="switch" data-prev="%d" data-next="%d" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n",
			s.prev, s.next, tl.x(s.us), tl.rowY(s.prev)+tlRow/2, tl.x(s.us), tl.rowY(s.next)+tlRow/2)
		running, start, g = s.next, s.us, s.nextG
	}
}

func (tl *timeline) bar(tid, from, to int64, g string) {
	y := tl.rowY(tid) + 6
	x1 := tl.x(from)
	wd := max(tl.x(to)-x1, 1)
	fmt.Fprintf(&tl.d.b, `<rect class="run" data-tid="%d" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
		tid, x1, y, wd, tlRow-14, color(g), esc(fmt.Sprintf("thread %d runs %s, %d µs", tid, g, to-from)))
	if wd > 8*float64(len(g))+4 {
		tl.d.text(int(x1+wd/2), y+(tlRow-14)/2+4, "opts", "middle", g)
	}
}

// axis draws the time axis and the legend of colours.
func (tl *timeline) axis() {
	d := tl.d
	fmt.Fprintf(&d.b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", tlLeft, tl.axisY, tlLeft+tlWidth, tl.axisY)
	for i := 0; i <= 10; i++ {
		us := tl.t0 + (tl.t1-tl.t0)*int64(i)/10
		d.text(int(tl.x(us)), tl.axisY+16, "opts", "middle", strconv.FormatFloat(float64(us)/1000, 'f', 1, 64)+" ms")
	}
	for i, n := range tl.legend {
		lx, ly := tlLeft+(i%4)*(tlWidth/4), tl.axisY+36+(i/4)*20
		fmt.Fprintf(&d.b, `<g class="legend"><rect x="%d" y="%d" width="14" height="12" fill="%s" stroke="#333" stroke-width="0.5"/>`, lx, ly-10, color(n))
		d.text(lx+20, ly, "", "start", n)
		d.b.WriteString("</g>\n")
	}
}

// color gives each goroutine name a stable pastel.
func color(name string) string {
	if name == "" || strings.HasPrefix(name, "trap(") || strings.HasPrefix(name, "idle(") {
		return "#dddddd"
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return hslHex(float64(h.Sum32()%360), 0.6, 0.75)
}

// hslHex converts a hue (degrees), saturation and lightness to #rrggbb.
func hslHex(hue, s, l float64) string {
	c := (1 - abs(2*l-1)) * s
	hp := hue / 60
	x := c * (1 - abs(float64(int(hp)%2)+hp-float64(int(hp))-1))
	var r, g, b float64
	switch int(hp) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	return fmt.Sprintf("#%02x%02x%02x", int((r+m)*255), int((g+m)*255), int((b+m)*255))
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// WriteSVGs writes a sequence diagram per connection (tcp-A-B.svg) and
// the context-switch timeline (sched.svg) into dir, in place of an
// earlier run's, and returns their paths.
func WriteSVGs(dir string, events []Event) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "tcp-*.svg"))
	for _, f := range append(old, filepath.Join(dir, "sched.svg")) {
		os.Remove(f)
	}
	var files []string
	write := func(name string, b []byte) error {
		p := filepath.Join(dir, name)
		files = append(files, p)
		return os.WriteFile(p, b, 0o644)
	}
	for _, c := range Connections(events) {
		name := "tcp-" + strings.NewReplacer(" ", "-", ":", "_").Replace(c.Key) + ".svg"
		if err := write(name, SequenceSVG(c)); err != nil {
			return files, err
		}
	}
	if b := TimelineSVG(events); b != nil {
		if err := write("sched.svg", b); err != nil {
			return files, err
		}
	}
	return files, nil
}
