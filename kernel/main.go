// Command kernel is gomenuos: the stock Go runtime hosted on bare metal by
// package linux, bringing up the console, filesystems, networking and the
// MenuOS shell.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"gomenuos/arch/x86"
	"gomenuos/drivers/char"
	"gomenuos/drivers/rtc"
	"gomenuos/drivers/tty"
	"gomenuos/drivers/uart"
	"gomenuos/fs"
	"gomenuos/kernel/linux"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/proc"
	"gomenuos/kernel/selftest"
	"gomenuos/sched"
)

func main() {
	mainTSC = x86.Rdtsc()
	tuneGC()
	con := tty.New(uart.Raw{})
	if err := startConsole(con); err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: console:", err)
		linux.Exit(1)
	}
	if bootParam("selftest") {
		// Boot parameter: run the self-tests, then leave QEMU with status
		// 0 (all passed, ACPI off) or 2·1+1.
		if selftest.Run(con, nil) {
			linux.PowerOff()
		}
		linux.Exit(1)
	}
	if err := bootFS(con); err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: filesystems:", err)
		linux.Exit(1)
	}
	sh := menu.New(con, linux.PowerOff, rtc.Now)
	sh.SetFallback(programCommand)
	registerCommands(sh)
	registerFSCommands(sh)
	registerTracing(sh)
	if _, err := bootNet(sh, con.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: network:", err)
		linux.Exit(1)
	}
	shell := sched.NewTask("shell")
	if err := openConsoleFDs(shell); err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: /dev/console:", err)
		linux.Exit(1)
	}
	proc.Console.OnTermios = char.SetConsoleMode
	proc.Strace.Store(bootParam("strace"))
	proc.RegisterProcfs()
	proc.SysinfoSource = func() (up, total, free uint64) {
		t, f, _ := linux.MemInfo()
		return uint64(linux.UptimeNS() / 1e9), t, f
	}
	if path := bootValue("init", ""); path != "" {
		runInit(con, shell, path)
	}
	proc.InitKernel("menu", fs.FilesOf(shell))
	markPrompt()
	if err := sh.Run(shell); err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: shell:", err)
		linux.Exit(1)
	}
	linux.PowerOff()
}

// startConsole wires COM1's receive interrupt to the line discipline: the
// IRQ's top half (trap context, receiving since early boot) moves bytes
// into the UART's ring and wakes the bottom half, this goroutine, through
// the runtime's netpoller. Its first Read takes what was typed during boot.
func startConsole(con *tty.TTY) error {
	irq, err := linux.OpenIRQ(uart.IRQ, uart.TopHalf)
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 256)
		for {
			if n := uart.Read(buf); n > 0 {
				con.Input(buf[:n])
				continue
			}
			if _, err := irq.Wait(); err != nil {
				fmt.Fprintln(os.Stderr, "gomenuos: console irq:", err)
				return
			}
		}
	}()
	return nil
}

// runInit starts the program init=PATH names as pid 1 instead of the Go
// shell (Linux: kernel_init → run_init_process), with the console as its
// descriptors 0-2 and Ctrl-C going to the terminal's foreground group. The
// machine powers off when init exits (Linux panics instead).
func runInit(con *tty.TTY, task *sched.Task, path string) {
	var stdio [3]*fs.File
	for i := range stdio {
		f, err := fs.FilesOf(task).Get(i)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gomenuos: init: console:", err)
			linux.Exit(1)
		}
		stdio[i] = f
	}
	p, err := proc.Spawn(task, path, proc.SpawnAttr{Argv: []string{path}, Env: programEnv, Stdio: stdio, AsInit: true})
	for _, f := range stdio {
		f.Put()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gomenuos: init=%s: %v\n", path, err)
		linux.Exit(1)
	}
	proc.Console.SetForeground(1)
	con.SetForeground(func() { proc.Console.Interrupt() })
	markPrompt()
	st, _ := p.Wait(nil)
	fmt.Fprintf(os.Stderr, "gomenuos: init (%s) exited with status %d: powering off\n", path, st>>8&0xff|st&0x7f)
	linux.PowerOff()
}

// bootParam reports whether the kernel command line has the word name.
func bootParam(name string) bool {
	for _, a := range os.Args[1:] {
		if a == name {
			return true
		}
	}
	return false
}

// gcPercent is the collector's GOGC: how far the heap may grow past what
// the last collection found live before the next one starts.
const gcPercent = 400

// tuneGC paces the collector for a kernel rather than a program. The
// runtime's default (GOGC=100, and a 4 MiB heap before the first
// collection) suits a process with a heap of its own; the kernel's live
// heap is a few MiB on a machine of hundreds, and every connection,
// system call and packet allocates, so the default collected every few
// hundred connections and spent ~40% of a loopback round trip's
// instructions marking, assisting and in write barriers. A higher
// GOGC collects a fifth as often; the memory limit, a quarter of RAM,
// makes the collector work harder again before the heap can crowd out
// user memory.
func tuneGC() {
	total, _, _ := linux.MemInfo()
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(int64(total / 4))
}
