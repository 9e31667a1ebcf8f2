package linux

// klog: trap-safe console printing (polled UART, no allocation). Used
// before the runtime starts, by trap handlers and by the crash path.

import "gomenuos/drivers/uart"

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
