package kprobes

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"gomenuos/kernel/ksyms"
)

// Placing and removing probes (Linux: register_kprobe, unregister_kprobe,
// register_kretprobe). Goroutine context.

// mu serialises the goroutine side: the point table's free slots, the
// index rebuild, text writes.
var mu sync.Mutex

// probed records which points each probed function owns.
var probed = map[int]*fnProbes{}

type fnProbes struct {
	entry     int   // point index, -1 when the entry is not probed
	returns   []int // point indexes of the RETs
	countOnly bool
}

var (
	refused     refusals
	missedRoots []string
)

// Kernel is the symbol table probes are placed by.
func Kernel() (*ksyms.Table, error) { return ksyms.Kernel() }

// Refused says why function fn cannot be probed, or "" if it can.
func Refused(fn int) string {
	mu.Lock()
	defer mu.Unlock()
	return refusedLocked(fn)
}

func refusedLocked(fn int) string {
	t, err := ksyms.Kernel()
	if err != nil {
		return err.Error()
	}
	if refused == nil {
		refused, missedRoots = computeRefusals(t)
	}
	return refused[fn]
}

// MissingRoots lists trap-path functions the refusal list starts from that
// this kernel does not have (renamed or inlined): the list may then be
// incomplete.
func MissingRoots() []string {
	mu.Lock()
	defer mu.Unlock()
	refusedLocked(0)
	return missedRoots
}

// Error is why a function cannot be probed.
type Error struct {
	Func   string
	Reason string
}

func (e *Error) Error() string { return "cannot probe " + e.Func + ": " + e.Reason }

// Request asks for probes on one function (an index into the ksyms
// table): on its entry, on its returns, or both; count-only probes count
// hits and record no events.
type Request struct {
	Func      int
	Entry     bool
	Returns   bool
	CountOnly bool
}

// Arm places the probes asked for and returns how many points it armed;
// a function already probed that way is skipped. A function that cannot
// be probed gets an *Error in errs and the others are armed all the same.
func Arm(reqs []Request) (n int, errs []error) {
	mu.Lock()
	defer mu.Unlock()
	t, err := ksyms.Kernel()
	if err != nil {
		return 0, []error{err}
	}
	var all []int
	for _, r := range reqs {
		idx, err := allocFunc(t, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, idx...)
	}
	armPoints(all)
	return len(all), errs
}

// allocFunc plans and fills the points of one request.
func allocFunc(t *ksyms.Table, r Request) ([]int, error) {
	s := t.Syms[r.Func]
	if why := refusedLocked(r.Func); why != "" {
		return nil, &Error{s.Name, why}
	}
	fp := probed[r.Func]
	if fp == nil {
		fp = &fnProbes{entry: -1, countOnly: r.CountOnly}
	}
	var plan []planned
	if r.Entry && fp.entry < 0 {
		p, err := planEntry(s)
		if err != nil {
			return nil, &Error{s.Name, err.Error()}
		}
		plan = append(plan, p)
	}
	if r.Returns && len(fp.returns) == 0 {
		rs, err := planReturns(s)
		if err != nil {
			return nil, &Error{s.Name, "no return probe: " + err.Error()}
		}
		plan = append(plan, rs...)
	}
	if len(plan) == 0 {
		return nil, nil
	}
	idx, err := allocPoints(r.Func, mergeSameAddr(plan), fp.countOnly)
	if err != nil {
		return nil, &Error{s.Name, err.Error()}
	}
	for _, i := range idx {
		if points[i].kind&kindEntry != 0 {
			fp.entry = i
		}
		if points[i].kind&kindReturn != 0 {
			fp.returns = append(fp.returns, i)
		}
	}
	probed[r.Func] = fp
	return idx, nil
}

// mergeSameAddr makes one point of an entry and a return at the same
// address (a function whose first instruction is RET).
func mergeSameAddr(plan []planned) []planned {
	var out []planned
	for _, p := range plan {
		if j := slices.IndexFunc(out, func(q planned) bool { return q.addr == p.addr }); j >= 0 {
			out[j].kind |= p.kind
			continue
		}
		out = append(out, p)
	}
	return out
}

// allocPoints fills free points (and out-of-line slots) for plan.
func allocPoints(fn int, plan []planned, countOnly bool) ([]int, error) {
	var idx []int
	fail := func(err error) ([]int, error) {
		for _, i := range idx {
			freePoint(i)
		}
		return nil, err
	}
	for _, p := range plan {
		i := nextFreePoint()
		if i < 0 {
			return fail(fmt.Errorf("all %d probe points are in use", MaxPoints))
		}
		pt := point{addr: p.addr, fn: int32(fn), kind: p.kind, op: p.op, countOnly: countOnly,
			stackNext: p.stackNext, len: uint8(p.in.Len), disp: p.disp}
		copy(pt.orig[:], p.code)
		if p.op == opXOL {
			slot, err := xolAlloc(p.addr, p.code, p.in)
			if err != nil {
				return fail(err)
			}
			pt.xol = slot
		}
		points[i] = pt
		idx = append(idx, i)
	}
	return idx, nil
}

// freeHint is where the search for a free point starts.
var freeHint int

func nextFreePoint() int {
	for n := 0; n < MaxPoints; n++ {
		i := (freeHint + n) % MaxPoints
		if points[i].addr == 0 {
			freeHint = i + 1
			return i
		}
	}
	return -1
}

func freePoint(i int) {
	if points[i].xol != 0 {
		xolFree(points[i].xol)
	}
	points[i] = point{}
}

// armPoints publishes the points, then writes their INT3s. armed rises
// first so that Trap never sees an INT3 of ours while it thinks none is
// set.
func armPoints(idx []int) {
	if len(idx) == 0 {
		return
	}
	rebuildIndex()
	armed.Add(int32(len(idx)))
	for _, i := range idx {
		textPoke(points[i].addr, []byte{0xCC})
	}
}

// disarmPoints restores the original bytes, then unpublishes the points.
func disarmPoints(idx []int) {
	for _, i := range idx {
		textPoke(points[i].addr, points[i].orig[:1])
	}
	for _, i := range idx {
		freePoint(i)
	}
	rebuildIndex()
	armed.Add(-int32(len(idx)))
}

// rebuildIndex sorts the used points into the index not in use and makes
// it the live one.
func rebuildIndex() {
	next := 1 - live.Load()
	n := 0
	for i := range points {
		if points[i].addr != 0 {
			index[next][n] = indexEntry{points[i].addr, int32(i)}
			n++
		}
	}
	ix := index[next][:n]
	sort.Slice(ix, func(a, b int) bool { return ix[a].addr < ix[b].addr })
	indexLen[next] = n
	live.Store(next)
}

// Disarm removes every probe of the functions fns and reports how many
// had probes.
func Disarm(fns []int) int {
	mu.Lock()
	defer mu.Unlock()
	var idx []int
	n := 0
	for _, fn := range fns {
		fp := probed[fn]
		if fp == nil {
			continue
		}
		idx = append(idx, fp.returns...)
		if fp.entry >= 0 && !slices.Contains(fp.returns, fp.entry) {
			idx = append(idx, fp.entry)
		}
		delete(probed, fn)
		n++
	}
	if len(idx) > 0 {
		disarmPoints(idx)
	}
	return n
}

// DisarmAll removes every probe.
func DisarmAll() int {
	var fns []int
	mu.Lock()
	for fn := range probed {
		fns = append(fns, fn)
	}
	mu.Unlock()
	return Disarm(fns)
}

// PointInfo describes an armed point for listings.
type PointInfo struct {
	Func      int
	Addr      uintptr
	Entry     bool
	Return    bool
	Emulated  bool // false: single-stepped out of line
	CountOnly bool
	Hits      uint64
	Missed    uint64
	Restarts  uint64
}

// Points lists the armed points in address order.
func Points() []PointInfo {
	mu.Lock()
	defer mu.Unlock()
	var out []PointInfo
	for i := range points {
		p := &points[i]
		if p.addr == 0 {
			continue
		}
		out = append(out, PointInfo{Func: int(p.fn), Addr: p.addr, Entry: p.kind&kindEntry != 0,
			Return: p.kind&kindReturn != 0, Emulated: p.op != opXOL, CountOnly: p.countOnly,
			Hits: p.hits, Missed: p.missed, Restarts: p.restarts})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Addr < out[b].Addr })
	return out
}

// Probed reports whether fn has probes, and which.
func Probed(fn int) (entry, returns bool) {
	mu.Lock()
	defer mu.Unlock()
	fp := probed[fn]
	if fp == nil {
		return false, false
	}
	return fp.entry >= 0, len(fp.returns) > 0
}

// Armed is how many points are set.
func Armed() int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for i := range points {
		if points[i].addr != 0 {
			n++
		}
	}
	return n
}

// TextBytes returns the kernel's text as it is now, for checks that
// removed probes left nothing behind.
func TextBytes() (start uintptr, b []byte, err error) {
	t, err := ksyms.Kernel()
	if err != nil {
		return 0, nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	return t.TextStart, textPeek(t.TextStart, int(t.TextEnd-t.TextStart)), nil
}
