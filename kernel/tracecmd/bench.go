package tracecmd

import (
	"fmt"
	"io"
	"time"

	"gomenuos/kernel/kprobes"
	"gomenuos/kernel/ksyms"
	"gomenuos/sched/trace"
)

// Bench measures what a probe hit costs (trace -b N): N calls of a small
// function without a probe, with a counting entry probe (the INT3, the
// handler, the emulated stack check), with entry and return probes that
// record events, and N calls of a leaf whose first instruction is stepped
// out of line (INT3 plus a #DB).
func (t *Tracer) Bench(w io.Writer, n int) error {
	tab, err := ksyms.Kernel()
	if err != nil {
		return err
	}
	framed, ok1 := tab.ByName("gomenuos/kernel/tracecmd.benchFramed")
	leaf, ok2 := tab.ByName("gomenuos/kernel/tracecmd.benchLeaf")
	if !ok1 || !ok2 {
		return fmt.Errorf("bench functions missing from the image")
	}
	run := func(f func(int) int) time.Duration {
		start := time.Now()
		s := 0
		for i := 0; i < n; i++ {
			s += f(i)
		}
		benchSink = s
		return time.Since(start)
	}
	base := run(benchFramed)
	line := func(what string, d time.Duration) {
		per := float64(d.Nanoseconds()) / float64(n)
		fmt.Fprintf(w, "%-44s %8.0f ns/call  (+%.0f ns)\n", what, per, per-float64(base.Nanoseconds())/float64(n))
	}
	fmt.Fprintf(w, "%-44s %8.0f ns/call\n", "no probe", float64(base.Nanoseconds())/float64(n))
	probe := func(fn int, entry, ret, count bool, f func(int) int) (time.Duration, error) {
		if _, errs := kprobes.Arm([]kprobes.Request{{Func: fn, Entry: entry, Returns: ret, CountOnly: count}}); len(errs) > 0 {
			return 0, errs[0]
		}
		defer kprobes.Disarm([]int{fn})
		d := run(f)
		trace.Discard()
		return d, nil
	}
	for _, c := range []struct {
		what       string
		fn         int
		entry, ret bool
		count      bool
		f          func(int) int
	}{
		{"entry probe, counting (emulated CMP)", framed, true, false, true, benchFramed},
		{"entry probe, recording", framed, true, false, false, benchFramed},
		{"entry + return probes, recording", framed, true, true, false, benchFramed},
		{"entry probe on a leaf, counting (stepped)", leaf, true, false, true, benchLeaf},
	} {
		d, err := probe(c.fn, c.entry, c.ret, c.count, c.f)
		if err != nil {
			return err
		}
		line(c.what, d)
	}
	t.benchTracepoint(w, n)
	return nil
}

// benchTracepoint measures a tracepoint call (sched_wakeup's) off and
// on; with it on, the ring is emptied every batch so that every event is
// written, not dropped, and the emptying is not timed.
func (t *Tracer) benchTracepoint(w io.Writer, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tps[trace.KindSchedWakeup] {
		return // on for a session: leave its events alone
	}
	timed := func() time.Duration {
		var d time.Duration
		for done := 0; done < n; {
			batch := min(n-done, trace.RingSize/2)
			start := time.Now()
			for i := 0; i < batch; i++ {
				trace.SchedWakeup(int32(i), 0)
			}
			d += time.Since(start)
			done += batch
			trace.Discard()
		}
		return d
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	off := timed()
	trace.Enable(trace.KindSchedWakeup, true)
	on := timed()
	trace.Enable(trace.KindSchedWakeup, false)
	fmt.Fprintf(w, "%-44s %8.1f ns/call\n", "tracepoint off (sched_wakeup's flag test)", per(off))
	fmt.Fprintf(w, "%-44s %8.1f ns/call\n", "tracepoint on (one event written)", per(on))
}

var benchSink int

// benchFramed has a frame and a stack check: its first instruction is
// emulated.
//
//go:noinline
func benchFramed(x int) int { return benchLeaf(x) + 1 }

// benchLeaf has no frame; its first instruction is not one the probe
// emulates, so it is single-stepped.
//
//go:noinline
func benchLeaf(x int) int { return x*7 + 3 }
