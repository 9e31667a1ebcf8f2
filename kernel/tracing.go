package main

import (
	"gomenuos/kernel/linux"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/tracecmd"
)

// registerTracing adds the `trace` command and /proc/tracing
// (docs/tracing.md).
func registerTracing(sh *menu.Shell) {
	hz, _ := linux.BootTimes()
	t := tracecmd.NewTracer(hz)
	if err := sh.Register(t.Command()); err != nil {
		panic(err)
	}
	if err := t.RegisterProc(); err != nil {
		panic(err)
	}
}
