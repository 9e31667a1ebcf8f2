package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gomenuos/kernel/linux"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/tracecmd"
)

// registerTracing adds the `trace` command and /proc/tracing
// (docs/tracing.md), and switches on the tracepoints the boot parameter
// trace_event= names (as Linux's does: trace_event=tcp:*,sched:sched_switch),
// so that a trace can start before the first command.
func registerTracing(sh *menu.Shell) {
	hz, _ := linux.BootTimes()
	t := tracecmd.NewTracer(hz)
	if err := sh.Register(t.Command()); err != nil {
		panic(err)
	}
	if err := t.RegisterProc(); err != nil {
		panic(err)
	}
	if v := bootValue("trace_event", ""); v != "" {
		var specs []tracecmd.Spec
		for _, name := range strings.Split(v, ",") {
			specs = append(specs, tracecmd.Spec{Tracepoint: name})
		}
		if err := t.Add(nil, io.Discard, specs, false); err != nil {
			fmt.Fprintln(os.Stderr, "gomenuos: trace_event=:", err)
		}
	}
}
