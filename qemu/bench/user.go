package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/linuxpeer"
)

// User-space figures: the same static program (user/ubench.c) on gomenuos
// and on the Linux peer, booted alternately in one run, each figure the
// median of the rounds with its spread. Nothing about Linux is a constant
// here: every Linux figure comes from the peer booted in this run.

// ubenchRuns are the programs and the line they print.
var ubenchRuns = []struct {
	name, args string
	unit       string
}{
	{"syscall round trip (getppid)", "syscall 200000", "ns"},
	{"pipe ping-pong per switch", "pipe 20000", "us"},
	{"fork+exec+wait of a static hello", "spawn 300 /bin/hello", "us"},
}

var ubenchLine = regexp.MustCompile(`ubench \w+: ([0-9.]+) `)

// userFigures boots each kernel rounds times, alternating, runs every
// ubench case on each boot, and prints ours, Linux's and the ratio.
func userFigures(dir string, rounds int) error {
	if err := linuxpeer.Build(dir); err != nil {
		return fmt.Errorf("linux peer: %w", err)
	}
	ours := make([][]float64, len(ubenchRuns))
	linux := make([][]float64, len(ubenchRuns))
	for r := 0; r < rounds; r++ {
		if err := ubenchOurs(dir, ours); err != nil {
			return err
		}
		if err := ubenchLinux(dir, linux); err != nil {
			return err
		}
	}
	fmt.Printf("user space, same static program on both kernels (median of %d alternating boots [min, max]):\n", rounds)
	for i, c := range ubenchRuns {
		o, l := median(ours[i]), median(linux[i])
		fmt.Printf("  %-34s gomenuos %9.2f %s [%.2f, %.2f]   Linux %9.2f %s [%.2f, %.2f]   ratio %.2f\n",
			c.name, o, c.unit, slices.Min(ours[i]), slices.Max(ours[i]), l, c.unit, slices.Min(linux[i]), slices.Max(linux[i]), o/l)
	}
	return nil
}

func ubenchOurs(dir string, into [][]float64) error {
	m, err := harness.Start(harness.Config{BuildDir: dir, Timeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer m.Kill()
	if _, err := m.Expect(prompt, time.Minute); err != nil {
		return err
	}
	for i, c := range ubenchRuns {
		m.Send("ubench " + c.args + "\r")
		out, err := m.Expect(prompt, 5*time.Minute)
		if err != nil {
			return err
		}
		v, err := ubenchValue(out)
		if err != nil {
			return fmt.Errorf("gomenuos ubench %s: %w", c.args, err)
		}
		into[i] = append(into[i], v)
	}
	return nil
}

func ubenchLinux(dir string, into [][]float64) error {
	m, err := linuxpeer.Start(linuxpeer.Config{Build: dir})
	if err != nil {
		return err
	}
	defer m.Kill()
	for i, c := range ubenchRuns {
		out, err := linuxpeer.Run(m, "ubench "+c.args, 5*time.Minute)
		if err != nil {
			return err
		}
		v, err := ubenchValue(out)
		if err != nil {
			return fmt.Errorf("linux ubench %s: %w", c.args, err)
		}
		into[i] = append(into[i], v)
	}
	return nil
}

func ubenchValue(out string) (float64, error) {
	m := ubenchLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no figure in %q", out)
	}
	return strconv.ParseFloat(m[1], 64)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
