package linux

import (
	"math/bits"

	"gomenuos/arch/x86"
	"gomenuos/drivers/rtc"
)

// HZ is the timer interrupt rate (Linux: CONFIG_HZ).
const HZ = 1000

var clock struct {
	tscBoot  uint64
	mult     uint64 // ns per TSC tick, as a 32.32 fixed-point number
	realBase int64  // Unix ns at tscBoot, from the RTC
	jiffies  uint64
}

func initClock(tscHz uint64) {
	if tscHz == 0 {
		tscHz = 1_000_000_000
	}
	clock.tscBoot = x86.Rdtsc()
	hi, lo := bits.Mul64(1_000_000_000, 1<<32)
	clock.mult, _ = bits.Div64(hi, lo, tscHz)
	clock.realBase = rtc.Seconds() * 1_000_000_000
}

// monotonicNS is the time since boot in nanoseconds, plus one second so
// that CLOCK_MONOTONIC is never zero (the runtime requires that).
func monotonicNS() int64 {
	d := x86.Rdtsc() - clock.tscBoot
	hi, lo := bits.Mul64(d, clock.mult)
	return int64(hi<<32|lo>>32) + 1_000_000_000
}

// UptimeNS is the time since boot (goroutine-safe).
func UptimeNS() int64 { return monotonicNS() - 1_000_000_000 }

func realtimeNS() int64 { return clock.realBase + monotonicNS() - 1_000_000_000 }

// Jiffies counts timer interrupts since boot.
func Jiffies() uint64 { return clock.jiffies }
