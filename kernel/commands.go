package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"syscall"

	"gomenuos/drivers/uart"
	"gomenuos/kernel/linux"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/profcmd"
	"gomenuos/kernel/selftest"
	"gomenuos/sched"
)

// registerCommands adds the kernel's own commands to the shell's table.
func registerCommands(sh *menu.Shell) {
	for _, c := range []menu.Command{
		{Name: "selftest", Desc: "Run runtime self-tests: " + selftest.Names(), Run: selftestCmd},
		{Name: "stats", Desc: "Benchmark figures: boot time, RAM touched, idle syscalls, thread switch rate", Run: statsCmd},
		{Name: "kstat", Desc: "Kernel counters: threads, switches, syscalls, faults, memory (kstat -gc: collect garbage first)", Run: kstatCmd},
		{Name: "crash", Desc: "Crash on purpose: crash nil|ud2|kernel (tests the fault path)", Run: crashCmd},
	} {
		if err := sh.Register(c); err != nil {
			panic(err)
		}
	}
	for _, c := range profcmd.Commands() {
		if err := sh.Register(c); err != nil {
			panic(err)
		}
	}
}

func selftestCmd(c *menu.Ctx, args []string) error {
	if !selftest.Run(c.Out, args) {
		return errors.New("selftest failed")
	}
	return nil
}

func kstatCmd(c *menu.Ctx, args []string) error {
	if len(args) == 1 && args[0] == "-gc" {
		debug.FreeOSMemory() // a full GC, and the freed pages back to the kernel
	} else if len(args) > 0 {
		return errors.New("usage: kstat [-gc]")
	}
	sw, pre, sig := linux.SchedStats()
	c.Printf("  TID STATE     WAIT   SWITCHES  CPU(ms)\n")
	for _, t := range linux.Threads() {
		c.Printf("%5d %-9s %-6s %8d %8d\n", t.TID, t.State, t.Wait, t.Switches, t.CPUTime/1_000_000)
	}
	faults, unmapped := linux.PageFaults()
	total, free, _ := linux.MemInfo()
	c.Printf("uptime %d ms, context switches %d, preemptions %d, signals %d\n",
		linux.UptimeNS()/1_000_000, sw, pre, sig)
	c.Printf("page faults %d, pages unmapped %d, RAM used %d KiB of %d KiB (peak %d KiB)\n",
		faults, unmapped, (total-free)>>10, total>>10, linux.PeakMemory()>>10)
	mms, invlpgs, flushes, groups := linux.MMSwitchStats()
	c.Printf("address-space switches %d: %d pages invalidated, %d full flushes, %d page-table groups read\n",
		mms, invlpgs, flushes, groups)
	raised, runs, fallbacks := sched.SoftirqStats()
	c.Printf("softirqs: %d interrupts handed to user tasks, %d bottom halves run by them, %d handed back to drivers\n",
		raised, runs, fallbacks)
	tx, rx, overruns, throttles := uart.Counts()
	c.Printf("console: %d bytes sent, %d received, %d overruns, ring full %d times\n", tx, rx, overruns, throttles)
	counts := linux.SyscallCounts()
	nrs := make([]int, 0, len(counts))
	for nr := range counts {
		nrs = append(nrs, nr)
	}
	sort.Ints(nrs)
	c.Printf("syscalls:")
	for _, nr := range nrs {
		c.Printf(" %d:%d", nr, counts[nr])
	}
	c.Printf("\n")
	return nil
}

// crashCmd triggers each kind of fault the kernel must report.
func crashCmd(c *menu.Ctx, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: crash nil|ud2|kernel")
	}
	switch args[0] {
	case "nil": // an unrecovered nil dereference: the runtime's fatal panic report
		done := make(chan struct{})
		go func() {
			defer close(done)
			var p *int
			c.Printf("%d\n", *p)
		}()
		<-done
	case "ud2": // an invalid opcode in a Go thread: register dump + traceback
		linux.InvalidOpcode()
	case "kernel": // a fault in trap context: register dump, exit non-zero
		syscall.Syscall(linux.SysCrash, 0, 0, 0)
	default:
		return fmt.Errorf("crash: unknown kind %q", args[0])
	}
	return nil
}
