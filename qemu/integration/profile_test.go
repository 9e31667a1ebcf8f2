package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/kernel/profcmd"
	"gomenuos/qemu/harness"
)

var (
	netbenchTime = regexp.MustCompile(`netbench: \d+ round trips in ([0-9.]+)(ms|s):`)
	totalSamples = regexp.MustCompile(`Total samples = ([0-9.]+)(ms|s)`)
)

// The guest's runtime/pprof CPU profiler works: a profile taken around a
// CPU-bound loopback benchmark decodes on the host, holds about as much
// CPU time as the benchmark ran, and attributes it to the TCP code that
// did the work. That needs the kernel's SIGPROF timers (kernel/linux's
// timer_create/setitimer) to fire on CPU time and reach the right thread.
func TestQEMUCPUProfile(t *testing.T) {
	m := boot(t, harness.Config{})
	if out := run(t, m, "pprof start"); !strings.Contains(out, "pprof: CPU profile started") {
		t.Fatalf("pprof start printed %q", out)
	}
	m.Send("netbench 1500\r")
	out, sm, err := m.ExpectRegexp(netbenchTime, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ran := seconds(t, sm[1], sm[2])
	m.Expect(prompt, cmdTimeout)
	m.Send("pprof stop\r")
	out, err = m.Expect("-----END PPROF cpu-----", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	top := pprofTop(t, out, "cpu")
	sm = totalSamples.FindStringSubmatch(top)
	if sm == nil {
		t.Fatalf("no sample total in:\n%s", top)
	}
	// The loopback benchmark keeps the one CPU busy: at least half of its
	// run must show up (the profiler samples every 10 ms of CPU time).
	if got := seconds(t, sm[1], sm[2]); got < ran/2 {
		t.Errorf("profile holds %.2fs of samples for a %.2fs CPU-bound run:\n%s", got, ran, top)
	}
	if !strings.Contains(top, "gomenuos/net/tcp.") {
		t.Errorf("no TCP function in the profile of a TCP benchmark:\n%s", top)
	}
	m.Expect(prompt, cmdTimeout)
	m.Send("pprof heap\r")
	out, err = m.Expect("-----END PPROF heap-----", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if top := pprofTop(t, out, "heap"); !strings.Contains(top, "Type: inuse_space") {
		t.Errorf("heap profile reads as:\n%s", top)
	}
}

// pprofTop decodes the profile in console output and returns what `go
// tool pprof -top` says about it, symbolised with the kernel ELF.
func pprofTop(t *testing.T, out, want string) string {
	t.Helper()
	kind, data, err := profcmd.Decode(out)
	if err != nil || kind != want {
		t.Fatalf("decoding the %s profile: kind %q, %v", want, kind, err)
	}
	f := filepath.Join(t.TempDir(), kind+".pprof")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, kernel, _ := harness.Image(harness.BuildDir())
	top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=200", kernel, f).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, top)
	}
	return string(top)
}

func seconds(t *testing.T, v, unit string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatal(err)
	}
	if unit == "ms" {
		f /= 1000
	}
	return f
}
