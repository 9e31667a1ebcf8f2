// Command kernel is gomenuos: the stock Go runtime hosted on bare metal by
// package linux, bringing up the console, filesystems, networking and the
// MenuOS shell.
package main

import (
	"fmt"
	"os"

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
	proc.InitKernel("menu", fs.FilesOf(shell))
	proc.Console.OnTermios = char.SetConsoleMode
	proc.Strace.Store(bootParam("strace"))
	proc.RegisterProcfs()
	markPrompt()
	if err := sh.Run(shell); err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: shell:", err)
		linux.Exit(1)
	}
	linux.PowerOff()
}

// startConsole wires COM1's receive interrupt to the line discipline: the
// IRQ's top half (trap context) moves bytes into the UART's ring and wakes
// the bottom half, this goroutine, through the runtime's netpoller.
func startConsole(con *tty.TTY) error {
	irq, err := linux.OpenIRQ(uart.IRQ, uart.TopHalf)
	if err != nil {
		return err
	}
	uart.EnableRxInterrupt()
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

// bootParam reports whether the kernel command line has the word name.
func bootParam(name string) bool {
	for _, a := range os.Args[1:] {
		if a == name {
			return true
		}
	}
	return false
}
