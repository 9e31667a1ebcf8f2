package harness

import (
	"errors"
	"slices"
	"time"
)

// rdtsc reads this (host) CPU's time-stamp counter (tsc_amd64.s).
func rdtsc() uint64

// HostTSCHz measures the host's TSC frequency against the monotonic clock:
// the median of several windows, each clock read bracketed by TSC reads
// so that a window in which this thread was preempted between the two is
// measured again. Under QEMU's TCG a guest's RDTSC reads the host's TSC,
// so this is the frequency a guest should calibrate.
func HostTSCHz() (uint64, error) {
	const windows, length = 7, 50 * time.Millisecond
	var rates []float64
	for tries := 0; len(rates) < windows && tries < 4*windows; tries++ {
		t0, c0, ok0 := stamp()
		time.Sleep(length)
		t1, c1, ok1 := stamp()
		if !ok0 || !ok1 {
			continue
		}
		rates = append(rates, float64(c1-c0)/t1.Sub(t0).Seconds())
	}
	if len(rates) < windows {
		return 0, errors.New("harness: host TSC: too many disturbed windows")
	}
	slices.Sort(rates)
	return uint64(rates[len(rates)/2]), nil
}

// stamp reads the monotonic clock between two TSC reads; ok is false when
// the reads were more than 20 µs apart at 1 GHz or more (a preemption).
func stamp() (t time.Time, tsc uint64, ok bool) {
	a := rdtsc()
	t = time.Now()
	b := rdtsc()
	return t, a + (b-a)/2, b-a < 20_000
}
