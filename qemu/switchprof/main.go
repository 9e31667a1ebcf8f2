// Command switchprof boots our kernel or the Linux peer, runs one guest
// command line a number of times and, with -perf, records a host profile
// of the QEMU process (perf record) while it runs: where QEMU's wall clock
// goes for a guest workload, such as the pipe ping-pong of `ubench pipe`.
//
//	go run ./qemu/switchprof -side ours -cmd 'ubench pipe 20000' -n 5 -perf 'record -o /tmp/ours.data'
//	perf report -i /tmp/ours.data --no-children --sort sym
//
// With uprobes on QEMU's exported functions (perf probe -x
// /usr/bin/qemu-system-x86_64 tlb_set_page_full, ...), -perf 'stat -e
// probe_qemu:tlb_set_page_full,...' counts them per run.
//
// -extra adds QEMU arguments (for example "-icount shift=0,sleep=off").
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/linuxpeer"
)

func main() {
	side := flag.String("side", "ours", "ours or linux")
	build := flag.String("build", "build", "our build directory (the Linux peer lives in BUILD/linux)")
	line := flag.String("cmd", "ubench pipe 20000", "guest command lines, separated by ;;")
	n := flag.Int("n", 3, "times to run it (after one warm-up run)")
	perfArgs := flag.String("perf", "", "run perf with these arguments and -p QEMU's pid while the runs go (e.g. 'record -o FILE' or 'stat -e EVENTS')")
	extra := flag.String("extra", "", "more QEMU arguments")
	flag.Parse()
	if err := run(*side, *build, *line, *n, *perfArgs, strings.Fields(*extra)); err != nil {
		fmt.Fprintln(os.Stderr, "switchprof:", err)
		os.Exit(1)
	}
}

func run(side, build, line string, n int, perfArgs string, extra []string) error {
	build, _ = filepath.Abs(build)
	var m *harness.Machine
	var sh func(string) (string, error)
	switch side {
	case "ours":
		var err error
		m, err = harness.Start(harness.Config{BuildDir: build, Timeout: 30 * time.Minute, ExtraArgs: extra})
		if err != nil {
			return err
		}
		if _, err := m.Expect("MenuOS>>", time.Minute); err != nil {
			return err
		}
		sh = func(l string) (string, error) { return m.Command(l, "MenuOS>>", 10*time.Minute) }
	case "linux":
		if err := linuxpeer.Build(build); err != nil {
			return err
		}
		var err error
		m, err = linuxpeer.Start(linuxpeer.Config{Build: build, ExtraArgs: extra, Timeout: 30 * time.Minute})
		if err != nil {
			return err
		}
		sh = func(l string) (string, error) { return linuxpeer.Run(m, l, 10*time.Minute) }
	default:
		return fmt.Errorf("-side %q: ours or linux", side)
	}
	defer m.Kill()
	lines := strings.Split(line, ";;")
	runAll := func(what string) error {
		for _, l := range lines {
			out, err := sh(strings.TrimSpace(l))
			if err != nil {
				return err
			}
			fmt.Printf("%s: %s\n", what, strings.TrimSpace(out))
		}
		return nil
	}
	if err := runAll("warm-up"); err != nil {
		return err
	}
	var perf *exec.Cmd
	if perfArgs != "" {
		perf = exec.Command("perf", append(strings.Fields(perfArgs), "-p", fmt.Sprint(m.Pid()))...)
		perf.Stdout, perf.Stderr = os.Stdout, os.Stderr
		if err := perf.Start(); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if err := runAll(fmt.Sprintf("run %d", i)); err != nil {
			return err
		}
	}
	fmt.Printf("%d runs in %v\n", n, time.Since(t0).Round(time.Millisecond))
	if perf != nil {
		perf.Process.Signal(syscall.SIGINT)
		perf.Wait()
	}
	return nil
}
