package linux

// klog: trap-safe console printing (polled UART, no allocation). Used
// before the runtime starts, by trap handlers and by the crash path.

import (
	"gomenuos/arch/x86"
	"gomenuos/drivers/uart"
)

func kputs(s string) { uart.WriteString(s) }

func kputHex(v uint64) {
	var b [18]byte
	b[0], b[1] = '0', 'x'
	for i := 17; i >= 2; i-- {
		b[i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	for _, c := range b {
		uart.PutByte(c)
	}
}

func kputDec(v int64) {
	if v < 0 {
		uart.PutByte('-')
		v = -v
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	for _, c := range b[i:] {
		uart.PutByte(c)
	}
}

// kputCString prints a NUL-terminated string from memory (bounded).
func kputCString(p uintptr, max int) {
	for i := 0; i < max; i++ {
		c := *(*byte)(ptr(p + uintptr(i)))
		if c == 0 {
			return
		}
		uart.PutByte(c)
	}
}

// kputFixed prints v/10^digits with digits decimals (v ≥ 0).
func kputFixed(v uint64, digits int) {
	div := uint64(1)
	for range digits {
		div *= 10
	}
	kputDec(int64(v / div))
	uart.PutByte('.')
	frac := v % div
	for div /= 10; div > 0; div /= 10 {
		uart.PutByte(byte('0' + frac/div%10))
	}
}

// logTSC prints the TSC calibration as a boot message, in the words of
// Linux's "tsc: Detected 2096.013 MHz processor":
//
//	tsc: Detected 2096.001 MHz TSC: 5 of 5 PIT windows (6 measured, spread 0.012%), HPET 2096.004 MHz
func logTSC(c *x86.TSCCalibration) {
	kputs("tsc: Detected ")
	kputFixed(c.Hz/1000, 3)
	kputs(" MHz TSC: ")
	kputDec(int64(c.Kept))
	kputs(" of ")
	kputDec(int64(x86.TSCWindows))
	kputs(" PIT windows (")
	kputDec(int64(c.Tried))
	kputs(" measured, spread ")
	kputFixed(c.SpreadPPM/10, 3)
	kputs("%)")
	if c.Rounds > 1 {
		kputs(", ")
		kputDec(int64(c.Rounds))
		kputs(" rounds")
	}
	if c.HPETHz == 0 {
		kputs(", no HPET\n")
		return
	}
	kputs(", HPET ")
	kputFixed(c.HPETHz/1000, 3)
	kputs(" MHz\n")
}
