package tracecmd

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"gomenuos/fs"
	"gomenuos/kernel/kprobes"
	"gomenuos/kernel/ksyms"
	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// MapPath is where the image carries docs/linux-map.md.
const MapPath = "/boot/linux-map.md"

// Tracer is the tracing session behind the `trace` command and
// /proc/tracing: the probes placed, the tracepoints on, and the printer
// that turns the ring's events into text.
//
// Lock contract: mu guards everything below it; kprobes and the ring have
// their own synchronisation.
type Tracer struct {
	TSCHz uint64

	mu        sync.Mutex
	res       *Resolver
	resErr    error
	printer   Printer
	specs     []Spec              // placed, in order, for kprobe_events
	tps       map[trace.Kind]bool // tracepoints switched on
	lost      uint64              // trace.Stats.Dropped when last printed
	recursion uint64              // kprobes.Stats.Recursion when last printed
	errorLog  string              // what the last write to /proc/tracing said
}

// NewTracer returns a session whose times use a TSC of tscHz.
func NewTracer(tscHz uint64) *Tracer {
	return &Tracer{TSCHz: tscHz, tps: map[trace.Kind]bool{}}
}

// resolverLocked loads the symbol table and the Linux map on first use.
func (t *Tracer) resolverLocked(task *sched.Task, w io.Writer) (*Resolver, error) {
	if t.res != nil || t.resErr != nil {
		return t.res, t.resErr
	}
	tab, err := ksyms.Kernel()
	if err != nil {
		t.resErr = err
		return nil, err
	}
	t.res = &Resolver{Tab: tab}
	text, err := readFile(task, MapPath)
	if err != nil {
		fmt.Fprintf(w, "trace: %s: %v (Linux names unavailable)\n", MapPath, err)
	} else {
		t.res.Map = ParseLinuxMap(text, newTableNames(tab))
	}
	t.printer = Printer{Tab: tab, Map: t.res.Map, TSCHz: t.TSCHz, Comm: trace.Comm}
	if missing := kprobes.MissingRoots(); len(missing) > 0 {
		fmt.Fprintf(w, "trace: warning: the refusal list misses %s\n", strings.Join(missing, ", "))
	}
	return t.res, nil
}

func readFile(task *sched.Task, path string) (string, error) {
	ns := fs.Root()
	if ns == nil {
		return "", errors.New("no root file system")
	}
	f, err := ns.Open(task, path, fs.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Put()
	var b strings.Builder
	buf := make([]byte, 8192)
	for {
		n, err := f.Read(task, buf)
		b.Write(buf[:n])
		if err != nil {
			return "", err
		}
		if n == 0 {
			return b.String(), nil
		}
	}
}

// activeLocked reports whether any probe or tracepoint is on.
func (t *Tracer) activeLocked() bool {
	return kprobes.Armed() > 0 || len(t.tps) > 0
}

// Add places the probes and switches on the tracepoints of specs.
// countOnly probes count calls and record nothing (trace -c). What could
// not be probed is reported on w; the error is for specs that name
// nothing at all.
func (t *Tracer) Add(task *sched.Task, w io.Writer, specs []Spec, countOnly bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, err := t.resolverLocked(task, w)
	if err != nil {
		return err
	}
	if !t.activeLocked() {
		t.startSessionLocked()
	}
	var reqs []kprobes.Request
	var kinds []trace.Kind
	for _, s := range specs {
		if s.Tracepoint != "" {
			k, err := Tracepoints(s.Tracepoint)
			if err != nil {
				return err
			}
			kinds = append(kinds, k...)
			continue
		}
		fns, err := r.Resolve(s.Pattern)
		if err != nil {
			return err
		}
		for _, fn := range fns {
			reqs = append(reqs, kprobes.Request{Func: fn, Entry: s.Entry, Returns: s.Return, CountOnly: countOnly})
		}
	}
	reqs = mergeRequests(reqs)
	points, errs := kprobes.Arm(reqs)
	reportRefusals(w, errs)
	if len(reqs) > 0 {
		fmt.Fprintf(w, "trace: %d functions probed at %d points", len(reqs)-len(errs), points)
		if countOnly {
			fmt.Fprint(w, " (counting only)")
		}
		fmt.Fprintln(w)
	}
	for _, k := range kinds {
		trace.Enable(k, true)
		t.tps[k] = true
	}
	if len(kinds) > 0 {
		fmt.Fprintf(w, "trace: tracepoints on: %s\n", t.tracepointsLocked())
	}
	t.specs = append(t.specs, specs...)
	return nil
}

// startSessionLocked forgets what an earlier session left in the ring.
func (t *Tracer) startSessionLocked() {
	trace.Discard()
	t.printer.Reset()
	t.lost = trace.Stats.Dropped.Load()
	t.recursion = kprobes.Stats.Recursion
}

// mergeRequests folds requests for the same function into one.
func mergeRequests(reqs []kprobes.Request) []kprobes.Request {
	by := map[int]int{}
	var out []kprobes.Request
	for _, r := range reqs {
		if i, ok := by[r.Func]; ok {
			out[i].Entry = out[i].Entry || r.Entry
			out[i].Returns = out[i].Returns || r.Returns
			continue
		}
		by[r.Func] = len(out)
		out = append(out, r)
	}
	return out
}

// reportRefusals prints why functions were not probed, the first few in
// full.
func reportRefusals(w io.Writer, errs []error) {
	const show = 8
	for i, err := range errs {
		if i == show {
			fmt.Fprintf(w, "trace: ... and %d more not probed (trace -n lists them all)\n", len(errs)-show)
			break
		}
		fmt.Fprintf(w, "trace: %v\n", err)
	}
}

// DryRun prints what specs resolve to and which of those functions would
// be refused, without placing anything (trace -n).
func (t *Tracer) DryRun(task *sched.Task, w io.Writer, specs []Spec) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, err := t.resolverLocked(task, w)
	if err != nil {
		return err
	}
	for _, s := range specs {
		if s.Tracepoint != "" {
			k, err := Tracepoints(s.Tracepoint)
			if err != nil {
				return err
			}
			for _, k := range k {
				fmt.Fprintf(w, "%s: tracepoint %s\n", s, tracepointName(k))
			}
			continue
		}
		fns, err := r.Resolve(s.Pattern)
		if err != nil {
			return err
		}
		for _, fn := range fns {
			sym := r.Tab.Syms[fn]
			line := fmt.Sprintf("%s: %s %s", s, t.printer.FuncName(fn), sym.File)
			if why := kprobes.Refused(fn); why != "" {
				line += " -- refused: " + why
			}
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

// Remove takes the probes of specs away and switches their tracepoints
// off; "all" removes everything.
func (t *Tracer) Remove(task *sched.Task, w io.Writer, specs []Spec) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, err := t.resolverLocked(task, w)
	if err != nil {
		return err
	}
	var fns []int
	for _, s := range specs {
		if s.Tracepoint != "" {
			kinds, err := Tracepoints(s.Tracepoint)
			if err != nil {
				return err
			}
			for _, k := range kinds {
				trace.Enable(k, false)
				delete(t.tps, k)
			}
			continue
		}
		f, err := r.Resolve(s.Pattern)
		if err != nil {
			return err
		}
		fns = append(fns, f...)
	}
	n := kprobes.Disarm(fns)
	fmt.Fprintf(w, "trace: %d functions unprobed, %d probe points left\n", n, kprobes.Armed())
	t.specs = slicesDeleteSpecs(t.specs, specs)
	return nil
}

func slicesDeleteSpecs(have, gone []Spec) []Spec {
	var out []Spec
	for _, s := range have {
		keep := true
		for _, g := range gone {
			if g.Pattern == s.Pattern && g.Tracepoint == s.Tracepoint {
				keep = false
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// Off removes every probe and switches every tracepoint off; the events
// recorded stay readable.
func (t *Tracer) Off(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := kprobes.DisarmAll()
	for k := range t.tps {
		trace.Enable(k, false)
	}
	t.tps = map[trace.Kind]bool{}
	t.specs = nil
	fmt.Fprintf(w, "trace: off (%d functions unprobed)\n", n)
}

// Print writes the events recorded since the last Print, and how many
// were lost (the ring was full) or not recorded (a probe fired inside the
// probe handler).
func (t *Tracer) Print(task *sched.Task, w io.Writer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.resolverLocked(task, w); err != nil {
		return err
	}
	buf := make([]trace.Event, 256)
	mark := trace.Mark() // what printing makes (probes on it) waits for the next print
	for {
		n := trace.ReadBefore(buf, mark)
		for i := range buf[:n] {
			t.printer.Print(w, &buf[i])
		}
		if n < len(buf) {
			break
		}
	}
	if d := trace.Stats.Dropped.Load(); d != t.lost {
		fmt.Fprintf(w, "trace: %d events lost: the ring (%d events) was full\n", d-t.lost, trace.RingSize)
		t.lost = d
	}
	if r := kprobes.Stats.Recursion; r != t.recursion {
		fmt.Fprintf(w, "trace: %d probe hits not recorded: they fired while the handler was recording another\n", r-t.recursion)
		t.recursion = r
	}
	return nil
}

// Counts writes the calls of each probed function (trace -c): entries,
// or returns for functions with return probes only.
func (t *Tracer) Counts(task *sched.Task, w io.Writer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.resolverLocked(task, w); err != nil {
		return err
	}
	type count struct{ calls, returns uint64 }
	by := map[int]*count{}
	var order []int
	for _, p := range kprobes.Points() {
		c := by[p.Func]
		if c == nil {
			c = &count{}
			by[p.Func] = c
			order = append(order, p.Func)
		}
		if p.Entry {
			c.calls += p.Hits
		}
		if p.Return {
			c.returns += p.Hits
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		ca, cb := by[order[a]], by[order[b]]
		return max(ca.calls, ca.returns) > max(cb.calls, cb.returns)
	})
	fmt.Fprintf(w, "%8s %8s  %s\n", "calls", "returns", "function")
	idle := 0
	for _, fn := range order {
		c := by[fn]
		if c.calls == 0 && c.returns == 0 && len(order) > 20 {
			idle++ // a long list of nothing helps nobody
			continue
		}
		entry, ret := kprobes.Probed(fn)
		fmt.Fprintf(w, "%8s %8s  %s\n", countText(c.calls, entry), countText(c.returns, ret), t.printer.FuncName(fn))
	}
	if idle > 0 {
		fmt.Fprintf(w, "(%d more probed functions were not called)\n", idle)
	}
	return nil
}

func countText(n uint64, probed bool) string {
	if !probed {
		return "-"
	}
	return fmt.Sprint(n)
}

// List writes the probe points (Linux: /sys/kernel/debug/kprobes/list)
// and the tracepoints that are on.
func (t *Tracer) List(task *sched.Task, w io.Writer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.resolverLocked(task, w); err != nil {
		return err
	}
	pts := kprobes.Points()
	for _, p := range pts {
		kind := "entry "
		switch {
		case p.Entry && p.Return:
			kind = "e+ret "
		case p.Return:
			kind = "return"
		}
		how := "emulated"
		if !p.Emulated {
			how = "stepped "
		}
		sym := t.printer.Tab.Syms[p.Func]
		fmt.Fprintf(w, "%#x %s %s hits=%d missed=%d restarts=%d  %s+%#x\n", p.Addr, kind, how, p.Hits, p.Missed,
			p.Restarts, t.printer.FuncName(p.Func), p.Addr-sym.Entry)
	}
	fmt.Fprintf(w, "trace: %d probe points; tracepoints on: %s; ring %d/%d events, %d lost\n", len(pts),
		t.tracepointsLocked(), trace.Pending(), trace.RingSize, trace.Stats.Dropped.Load())
	return nil
}

func (t *Tracer) tracepointsLocked() string {
	var n []string
	for _, tp := range trace.Tracepoints {
		if t.tps[tp.Kind] {
			n = append(n, tp.System+":"+tp.Name)
		}
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, " ")
}

func tracepointName(k trace.Kind) string {
	for _, tp := range trace.Tracepoints {
		if tp.Kind == k {
			return tp.System + ":" + tp.Name
		}
	}
	return "?"
}

// Specs returns the specs placed, in order.
func (t *Tracer) Specs() []Spec {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Spec(nil), t.specs...)
}
