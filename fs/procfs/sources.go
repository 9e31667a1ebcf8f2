package procfs

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"gomenuos/fs"
)

// The kernel-wide files. Their data comes from hooks the kernel sets at
// boot (the fs packages stay portable); until then the defaults below
// describe the Go runtime the code runs on.

// MemInfo is what /proc/meminfo shows, in bytes.
type MemInfo struct {
	Total, Free, Available uint64
}

// IRQ is one line of /proc/interrupts.
type IRQ struct {
	Num   int
	Count uint64 // on CPU0, the only CPU
	Chip  string // "IO-APIC", "PIC"
	Name  string // the handler: "timer", "ttyS0", "virtio0"
}

// Thread is one line of /proc/threads (what ps prints).
type Thread struct {
	TID     int
	State   string // "running", "runnable", "sleeping"
	CPUTime time.Duration
	Name    string
}

// sources are the hooks. Lock contract: mu guards every field.
var sources = struct {
	mu         sync.Mutex
	meminfo    func() MemInfo
	uptime     func() (up, idle time.Duration)
	interrupts func() []IRQ
	threads    func() []Thread
}{
	meminfo: runtimeMemInfo,
	uptime:  func() (time.Duration, time.Duration) { return time.Since(loaded), 0 },
}

var loaded = time.Now()

// SetMemInfo sets where /proc/meminfo's numbers come from.
func SetMemInfo(f func() MemInfo) { sources.mu.Lock(); sources.meminfo = f; sources.mu.Unlock() }

// SetUptime sets where /proc/uptime's numbers come from.
func SetUptime(f func() (up, idle time.Duration)) {
	sources.mu.Lock()
	sources.uptime = f
	sources.mu.Unlock()
}

// SetInterrupts sets the interrupt counters /proc/interrupts shows.
func SetInterrupts(f func() []IRQ) { sources.mu.Lock(); sources.interrupts = f; sources.mu.Unlock() }

// SetThreads sets the thread table /proc/threads (and ps) shows.
func SetThreads(f func() []Thread) { sources.mu.Lock(); sources.threads = f; sources.mu.Unlock() }

func init() {
	for _, e := range []struct {
		path string
		show func(io.Writer)
	}{
		{"devices", func(w io.Writer) { fs.WriteChrdevs(w) }},
		{"meminfo", showMeminfo},
		{"uptime", showUptime},
		{"interrupts", showInterrupts},
		{"threads", showThreads},
		{"mounts", showMounts},
	} {
		if err := Register(e.path, e.show); err != nil {
			panic(err)
		}
	}
}

// runtimeMemInfo: memory the Go runtime holds from the system, and how
// much of it is not in use by the heap or stacks.
func runtimeMemInfo() MemInfo {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	free := ms.Sys - min(ms.Sys, ms.HeapInuse+ms.StackInuse)
	return MemInfo{Total: ms.Sys, Free: free, Available: free}
}

// showMeminfo writes Linux's layout: a 16-wide label, an 8-wide number of
// kB (Linux: meminfo_proc_show, show_val_kb).
func showMeminfo(w io.Writer) {
	sources.mu.Lock()
	f := sources.meminfo
	sources.mu.Unlock()
	m := f()
	for _, l := range []struct {
		label string
		bytes uint64
	}{{"MemTotal:", m.Total}, {"MemFree:", m.Free}, {"MemAvailable:", m.Available}} {
		fmt.Fprintf(w, "%-16s%8d kB\n", l.label, l.bytes>>10)
	}
}

// showUptime writes seconds up and seconds idle with two decimals
// (Linux: uptime_proc_show).
func showUptime(w io.Writer) {
	sources.mu.Lock()
	f := sources.uptime
	sources.mu.Unlock()
	up, idle := f()
	fmt.Fprintf(w, "%d.%02d %d.%02d\n", up/time.Second, up%time.Second/(10*time.Millisecond),
		idle/time.Second, idle%time.Second/(10*time.Millisecond))
}

// showInterrupts writes one CPU column (Linux: show_interrupts).
func showInterrupts(w io.Writer) {
	sources.mu.Lock()
	f := sources.interrupts
	sources.mu.Unlock()
	fmt.Fprintf(w, "%11sCPU%-8d\n", "", 0)
	if f == nil {
		return
	}
	for _, irq := range f() {
		fmt.Fprintf(w, "%3d: %10d  %8s  %s\n", irq.Num, irq.Count, irq.Chip, irq.Name)
	}
}

// showThreads writes the thread table with a header line.
func showThreads(w io.Writer) {
	sources.mu.Lock()
	f := sources.threads
	sources.mu.Unlock()
	fmt.Fprintf(w, "%5s %-9s %10s %s\n", "TID", "STATE", "TIME", "NAME")
	if f == nil {
		return
	}
	for _, t := range f() {
		fmt.Fprintf(w, "%5d %-9s %10s %s\n", t.TID, t.State, t.CPUTime.Truncate(time.Millisecond), t.Name)
	}
}

// Mounts is what /proc/mounts lists; the kernel sets it at boot.
var Mounts = []string{"rootfs / rootfs rw 0 0"}

// showMounts writes one line per mounted file system (Linux:
// show_vfsmnt): device, mount point, type, options, 0 0.
func showMounts(w io.Writer) {
	for _, m := range Mounts {
		fmt.Fprintln(w, m)
	}
}
