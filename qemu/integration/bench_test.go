package integration

import (
	"slices"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// BenchmarkBootToPrompt measures host wall time from starting QEMU to the
// first `MenuOS>>` (make bench: go test -run '^$' -bench BootToPrompt
// -benchtime 5x ./qemu/integration). It reports the median and the worst.
func BenchmarkBootToPrompt(b *testing.B) {
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	for b.Loop() {
		m := harness.StartT(b, harness.Config{BuildDir: dir})
		if _, err := m.Expect(banner+prompt, bootTimeout); err != nil {
			b.Fatal(err)
		}
		times = append(times, m.Since())
		m.Send("quit\r")
		if status, err := m.Wait(cmdTimeout); err != nil || status != 0 {
			b.Fatalf("quit: exit %d, %v", status, err)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-to-prompt-median")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "ms-to-prompt-max")
}
