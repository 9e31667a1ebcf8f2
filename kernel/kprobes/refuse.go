package kprobes

import (
	"strings"

	"gomenuos/kernel/ksyms"
)

// Which functions cannot carry a probe. A probe on a function the probe
// handler itself runs would fire inside the handler, and every trap of
// the exception class (the #BP the handler runs in included) shares one
// IST stack: a second INT3 there would overwrite the first one's frame.
// So refused are:
//   - the probe machinery: kernel/kprobes and sched/trace;
//   - the trap entry code (vector stubs, alltraps, the SYSCALL entry) and
//     everything the kernel's trap handler runs before and around a probe
//     hit: linux.trap and its callees, except the branches that serve
//     syscalls and interrupts (which run on other stacks and may be
//     probed) — that is the probe handler, the page-fault handler (a probe
//     handler may take a demand fault), the exception and signal paths.
// The callees are found from the machine code: every CALL and JMP to
// another function, followed to the end (indirect calls cannot be
// followed; the entry points they reach are roots of their own).
// Goroutine context.

// trapRoots are followed through their callees.
var trapRoots = []string{
	"gomenuos/kernel/linux.trap",
	"gomenuos/arch/x86.alltraps",
	"gomenuos/arch/x86.syscallEntry",
	"gomenuos/kernel/kprobes.trap",
}

// trapStops are callees of linux.trap not followed: they serve the
// runtime's syscalls, IRQs, MSIs and user-mode traps on the thread's
// kernel stack, and may be probed.
var trapStops = []string{
	"gomenuos/kernel/linux.doSyscall",
	"gomenuos/kernel/linux.irq",
	"gomenuos/kernel/linux.msi",
	"gomenuos/kernel/linux.userTrap",
}

// coldCallees are calls every Go function's code holds but trap context
// never makes: stack growth (trap context runs on a fake g whose stack
// guard is 0, so morestack is never called) and panics (a panic there is
// a kernel crash, whatever else happens). Following them would refuse
// most of the runtime.
var coldCallees = []string{"runtime.morestack", "runtime.panic", "runtime.goPanic", "runtime.gopanic",
	"runtime.throw", "runtime.fatal"}

func cold(name string) bool {
	for _, c := range coldCallees {
		if strings.HasPrefix(name, c) {
			return true
		}
	}
	return false
}

// machinery are the packages of the probe mechanism itself.
var machinery = []string{"gomenuos/kernel/kprobes.", "gomenuos/sched/trace."}

// refusals maps a function to why it cannot be probed.
type refusals map[int]string

func computeRefusals(t *ksyms.Table) (refusals, []string) {
	r := refusals{}
	var missing []string
	for i, s := range t.Syms {
		for _, m := range machinery {
			if strings.HasPrefix(s.Name, m) {
				r[i] = "it is part of the probe machinery (" + strings.TrimSuffix(m, ".") + ")"
			}
		}
	}
	stop := map[int]bool{}
	for _, n := range trapStops {
		if i, ok := t.ByName(n); ok {
			stop[i] = true
		}
	}
	parent := map[int]int{}
	var queue []int
	push := func(i, from int) {
		if _, seen := parent[i]; seen || stop[i] || from >= 0 && cold(t.Syms[i].Name) {
			return
		}
		parent[i] = from
		queue = append(queue, i)
	}
	for _, n := range trapRoots {
		i, ok := t.ByName(n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		push(i, -1)
	}
	for i, s := range t.Syms {
		if strings.HasPrefix(s.Name, "gomenuos/arch/x86.vector") {
			push(i, -1)
		}
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, c := range callees(t, f) {
			push(c, f)
		}
	}
	for i := range parent {
		if _, ok := r[i]; !ok {
			r[i] = "it runs in the trap path of a probe hit (" + chain(t, parent, i) + ")"
		}
	}
	return r, missing
}

// chain spells how root reaches i: a → b → i.
func chain(t *ksyms.Table, parent map[int]int, i int) string {
	var names []string
	for n := 0; i >= 0 && n < 8; n++ {
		names = append(names, ksyms.Short(t.Syms[i].Name))
		i = parent[i]
	}
	if i >= 0 {
		names = append(names, "…")
	}
	for l, r := 0, len(names)-1; l < r; l, r = l+1, r-1 {
		names[l], names[r] = names[r], names[l]
	}
	return strings.Join(names, " → ")
}

// callees lists the functions f calls or jumps to directly.
func callees(t *ksyms.Table, f int) []int {
	s := t.Syms[f]
	code := textPeek(s.Entry, int(s.End-s.Entry))
	var out []int
	for off := 0; off < len(code); {
		in, ok := decode(code[off:])
		if !ok {
			off++
			continue
		}
		switch in.flow() {
		case flowCall, flowJmp, flowJcc:
			dst := in.target(code[off:], s.Entry+uintptr(off))
			if dst < s.Entry || dst >= s.End {
				if c, ok := t.Lookup(dst); ok {
					out = append(out, c)
				}
			}
		}
		off += in.Len
	}
	return out
}
