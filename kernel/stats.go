package main

import (
	"runtime"
	"sort"
	"syscall"
	"time"

	"gomenuos/arch/x86"
	"gomenuos/kernel/linux"
	"gomenuos/kernel/menu"
)

// mainTSC and promptTSC are the TSC when main started and when the shell
// was about to print its first prompt.
var mainTSC, promptTSC uint64

// statsCmd prints the figures make bench reports from inside the guest.
func statsCmd(c *menu.Ctx, _ []string) error {
	_, rt := linux.BootTimes()
	c.Printf("guest boot: kernel entry to runtime %.1f ms, to main %.1f ms, to first prompt %.1f ms\n",
		float64(linux.BootNS(rt))/1e6, float64(linux.BootNS(mainTSC))/1e6, float64(linux.BootNS(promptTSC))/1e6)
	tscCalibration(c)
	img, bss, pages, dma := linux.Touched()
	c.Printf("RAM in use: %d KiB (kernel text+data %d KiB + runtime pages and page tables %d KiB + DMA %d KiB); bss %d KiB reserved\n",
		(img+pages+dma)>>10, img>>10, pages>>10, dma>>10, bss>>10)
	idleSyscalls(c)
	syscallCost(c)
	threadPingPong(c)
	return nil
}

// idleSyscalls counts the syscalls the whole system makes in one second
// while this command sleeps (the runtime's timers, sysmon, the console).
func idleSyscalls(c *menu.Ctx) {
	before := linux.SyscallCounts()
	sw0, _, _ := linux.SchedStats()
	time.Sleep(time.Second)
	after := linux.SyscallCounts()
	sw1, _, _ := linux.SchedStats()
	total := uint64(0)
	var nrs []int
	for nr, n := range after {
		if d := n - before[nr]; d > 0 {
			total += d
			nrs = append(nrs, nr)
		}
	}
	sort.Ints(nrs)
	c.Printf("idle: %d syscalls/s, %d context switches/s; by number:", total, sw1-sw0)
	for _, nr := range nrs {
		c.Printf(" %d:%d", nr, after[nr]-before[nr])
	}
	c.Printf("\n")
}

// threadPingPong bounces a token between two goroutines locked to their
// own threads, so every hand-off is a futex wake and a kernel context
// switch, and reports the switch rate.
func threadPingPong(c *menu.Ctx) {
	const rounds = 5000
	ping, pong := make(chan int), make(chan int)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for v := range ping {
			pong <- v + 1
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sw0, _, _ := linux.SchedStats()
	t0 := time.Now()
	for i := 0; i < rounds; i++ {
		ping <- i
		<-pong
	}
	d := time.Since(t0)
	close(ping)
	sw1, _, _ := linux.SchedStats()
	// Per switch = round trip / 2, as Linux's pipe ping-pong reports it:
	// one hand-off each way. The kernel counts about twice as many
	// context switches (through the idle thread and the futex paths).
	c.Printf("thread ping-pong: %d round trips in %v: %.1f µs per switch (round trip / 2; %d kernel context switches)\n",
		rounds, d.Round(time.Millisecond), d.Seconds()*1e6/float64(2*rounds), sw1-sw0)
}

func markPrompt() { promptTSC = x86.Rdtsc() }

// tscCalibration prints how the boot measured the TSC: the PIT windows
// kept, their spread, and the HPET's figure beside it.
func tscCalibration(c *menu.Ctx) {
	t := linux.TSCCalibration()
	c.Printf("TSC %.3f MHz: %d of %d PIT windows of %.1f ms kept (%d measured, %d round(s)), spread %.3f%%",
		float64(t.Hz)/1e6, t.Kept, x86.TSCWindows, float64(x86.TSCWindowCount)*1e3/x86.PITHz, t.Tried, t.Rounds,
		float64(t.SpreadPPM)/1e4)
	if t.HPETHz == 0 {
		c.Printf("; no HPET\n")
		return
	}
	c.Printf("; HPET says %.3f MHz (%+.3f%%)\n", float64(t.HPETHz)/1e6, (float64(t.HPETHz)/float64(t.Hz)-1)*100)
}

// syscallCost times a trivial system call: the full trap path (SYSCALL,
// frame save with FXSAVE and FS switch, dispatch, IRETQ).
func syscallCost(c *menu.Ctx) {
	const n = 200000
	t0 := time.Now()
	for i := 0; i < n; i++ {
		syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	}
	d := time.Since(t0)
	c.Printf("syscall round trip (getpid): %.0f ns (%d calls in %v)\n", float64(d.Nanoseconds())/n, n, d.Round(time.Millisecond))
}
