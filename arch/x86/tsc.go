package x86

import (
	"math/bits"
	"sync/atomic"
)

// TSC calibration against the PIT, cross-checked against the HPET (Linux:
// arch/x86/kernel/tsc.c, pit_calibrate_tsc and pit_hpet_ptimer_calibrate_cpu).
//
// One PIT window can be wrong by a lot under emulation: QEMU's CPU is a
// host thread, and when the host preempts it between a clock event and
// the RDTSC that stamps it, the window gains milliseconds (a boot once
// calibrated 29% high that way). So:
//   - each clock event is bracketed by TSC reads, and a window whose start
//     or end bracket is wider than 0.1% of the window (the thread was
//     preempted there) is measured again;
//   - TSCWindows windows are kept, and those farther than 0.1% from their
//     median are rejected as outliers; the rate is the mean of the rest;
//   - the HPET, another clock, measures the same TSC over the whole
//     calibration; if the two disagree by more than 1% the whole
//     calibration is measured again, up to tscRounds rounds.
//
// Integers only, no allocation: this runs in early boot, before the
// runtime, with interrupts off.

const (
	// TSCWindows is how many PIT windows a calibration keeps.
	TSCWindows = 5
	// TSCWindowCount is a window's length in PIT ticks (3 ms).
	TSCWindowCount = PITHz * 3 / 1000

	tscTries   = 4 * TSCWindows // windows measured at most per round
	tscRounds  = 3
	bracketPPM = 1000 // 0.1% of a window (3 µs): the widest bracket
	outlierPPM = 1000 // 0.1%: the farthest from the median a window is kept
)

// TSCCalibration is what CalibrateTSC measured.
type TSCCalibration struct {
	Hz        uint64             // TSC ticks per second: the mean of the windows kept
	Windows   [TSCWindows]uint64 // each window's rate
	Kept      int                // windows within 0.1% of their median
	Tried     int                // windows measured in the last round, disturbed ones included
	Rounds    int                // rounds measured (more than one if the HPET disagreed)
	SpreadPPM uint64             // max−min of the windows kept, in millionths of Hz
	HPETHz    uint64             // the TSC rate against the HPET; 0 without an HPET
}

// CalibrateTSC measures the TSC rate. Polled; interrupts may be off.
func CalibrateTSC() TSCCalibration {
	var c TSCCalibration
	for c.Rounds < tscRounds {
		c.Rounds++
		calibrateRound(&c)
		if c.HPETHz == 0 || c.Hz != 0 && disagree(c.Hz, c.HPETHz) <= 10_000 {
			break
		}
	}
	if c.Hz == 0 { // no usable PIT window at all
		c.Hz = c.HPETHz
	}
	return c
}

// calibrateRound measures the windows (bracketed by two HPET stamps) and
// derives Hz, Kept, SpreadPPM and HPETHz.
func calibrateRound(c *TSCCalibration) {
	period := hpetStart()
	tsc0, hpet0, ok0 := hpetStamp(period)
	pitWindow(100) // warm-up: the first run of the code is slow under emulation
	n := 0
	for c.Tried = 0; n < TSCWindows && c.Tried < tscTries; c.Tried++ {
		if ticks, ok := pitWindow(TSCWindowCount); ok {
			c.Windows[n] = ticks * PITHz / TSCWindowCount
			n++
		}
	}
	tsc1, hpet1, ok1 := hpetStamp(period)
	hpetStop()
	c.Hz, c.Kept, c.SpreadPPM = keepNearMedian(c.Windows[:n])
	c.HPETHz = 0
	if ok0 && ok1 && hpet1 != hpet0 {
		// TSC ticks per second = tsc ticks * 1e15 fs/s / (hpet ticks * fs per hpet tick)
		hi, lo := bits.Mul64(tsc1-tsc0, 1e15)
		if d := uint64(hpet1-hpet0) * period; hi < d {
			c.HPETHz, _ = bits.Div64(hi, lo, d)
		}
	}
}

// keepNearMedian returns the mean of the rates within outlierPPM of their
// median, how many those are, and their spread in millionths.
func keepNearMedian(rates []uint64) (mean uint64, kept int, spreadPPM uint64) {
	if len(rates) == 0 {
		return 0, 0, 0
	}
	var sorted [TSCWindows]uint64
	s := sorted[:copy(sorted[:], rates)]
	for i := 1; i < len(s); i++ { // insertion sort: a handful of values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	median := s[len(s)/2]
	var sum, lo, hi uint64
	for _, r := range s {
		if disagree(r, median) > outlierPPM {
			continue
		}
		if kept == 0 {
			lo = r
		}
		hi = r
		sum += r
		kept++
	}
	mean = sum / uint64(kept)
	return mean, kept, (hi - lo) * 1_000_000 / mean
}

// disagree is |a−b| in millionths of b.
func disagree(a, b uint64) uint64 {
	d := a - b
	if b > a {
		d = b - a
	}
	return d * 1_000_000 / b
}

// pitWindow times count ticks of PIT channel 2 in mode 0 (one-shot: OUT2
// goes high at terminal count), polled through port 0x61. The count
// starts when its high byte is written. ok is false when a bracket is
// wider than bracketPPM of the window, or the PIT never fires.
func pitWindow(count uint16) (ticks uint64, ok bool) {
	gate := Inb(0x61)
	Outb(0x61, gate&^0x02|0x01) // speaker off, channel 2 gate on
	Outb(0x43, 0xB0)            // channel 2, lobyte/hibyte, mode 0
	Outb(0x42, uint8(count))
	a := Rdtsc()
	Outb(0x42, uint8(count>>8))
	b := Rdtsc()
	startGap, lowBefore := b-a, b
	for i := 0; i < 1<<24; i++ {
		before := Rdtsc()
		out := Inb(0x61) & 0x20
		after := Rdtsc()
		if out == 0 {
			lowBefore = before
			continue
		}
		// The count ran out after the last read that saw OUT2 low began
		// and before this one ended.
		Outb(0x61, gate)
		ticks = (lowBefore+after)/2 - (a+b)/2
		limit := ticks * bracketPPM / 1_000_000
		return ticks, startGap <= limit && after-lowBefore <= limit
	}
	Outb(0x61, gate)
	return 0, false
}

// The HPET (IA-PC HPET specification): a 64-bit counter at a fixed
// address whose period in femtoseconds is in its capabilities register.
const (
	hpetBase    = 0xFED00000
	hpetPeriod  = 0x04 // high half of GCAP_ID: femtoseconds per tick
	hpetConfig  = 0x10 // GEN_CONF; bit 0 runs the counter
	hpetCounter = 0xF0 // MAIN_COUNTER_VAL (its low 32 bits are enough here)
)

var hpetWasOn bool

func hpetRead(reg uintptr) uint32 { return atomic.LoadUint32((*uint32)(PhysPointer(hpetBase + reg))) }

func hpetWrite(reg uintptr, v uint32) { atomic.StoreUint32((*uint32)(PhysPointer(hpetBase+reg)), v) }

// hpetStart runs the HPET's counter and returns its period in
// femtoseconds, or 0 when there is no HPET (the specification caps the
// period at 100 ns; absent hardware reads as 0 or all ones).
func hpetStart() uint64 {
	p := hpetRead(hpetPeriod)
	if p == 0 || p > 100_000_000 {
		return 0
	}
	conf := hpetRead(hpetConfig)
	hpetWasOn = conf&1 != 0
	hpetWrite(hpetConfig, conf|1)
	return uint64(p)
}

// hpetStop leaves the counter as firmware had it.
func hpetStop() {
	if p := hpetRead(hpetPeriod); p != 0 && p <= 100_000_000 && !hpetWasOn {
		hpetWrite(hpetConfig, hpetRead(hpetConfig)&^1)
	}
}

// hpetStamp reads the HPET counter between two TSC reads, retrying while
// they are 20,000 ticks apart or more (10 µs at 2 GHz, a preemption; that
// is below 0.1% of a calibration's span) at most 10 times; ok is false
// without an HPET or when every try was disturbed.
func hpetStamp(period uint64) (tsc uint64, hpet uint32, ok bool) {
	if period == 0 {
		return 0, 0, false
	}
	for range 10 {
		a := Rdtsc()
		h := hpetRead(hpetCounter)
		b := Rdtsc()
		if b-a < 20_000 {
			return a + (b-a)/2, h, true
		}
	}
	return 0, 0, false
}
