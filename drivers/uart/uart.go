// Package uart drives the 16550 UART on COM1: polled output (usable from
// trap context and before the runtime starts) and interrupt-driven input.
// The interrupt's top half (TopHalf, trap context) moves received bytes
// into a ring; the console goroutine drains the ring (Read) and feeds the
// line discipline.
package uart

import (
	"sync/atomic"

	"gomenuos/arch/x86"
)

// COM1 is the first serial port.
const COM1 = 0x3F8

// IRQ is COM1's legacy interrupt line.
const IRQ = 4

const (
	regData = 0
	regIER  = 1
	regFCR  = 2
	regLCR  = 3
	regMCR  = 4
	regLSR  = 5

	lsrDataReady = 0x01
	lsrOverrun   = 0x02
	lsrTHREmpty  = 0x20
)

// Init programs 115200 baud, 8N1, FIFOs on, receive interrupts off.
func Init() {
	TopHalf() // keep type-ahead: switching the FIFO on below discards what the UART holds
	x86.Outb(COM1+regIER, 0)
	if x86.Inb(COM1+regLCR) != 0x03 { // firmware left it unset: 115200 8N1
		x86.Outb(COM1+regLCR, 0x80) // DLAB
		x86.Outb(COM1+0, 1)         // divisor 1 = 115200
		x86.Outb(COM1+1, 0)
		x86.Outb(COM1+regLCR, 0x03)
	}
	// Turning the FIFO on (when firmware left it off) discards what the
	// UART holds, so only write FCR if the FIFO is off, after draining.
	if x86.Inb(COM1+regFCR)&0xC0 != 0xC0 { // IIR reads at the FCR offset
		TopHalf()
		x86.Outb(COM1+regFCR, 0x01) // FIFO on, interrupt per byte
	}
	x86.Outb(COM1+regMCR, 0x0B) // DTR, RTS, OUT2 (IRQ gate)
}

// EnableRxInterrupt turns on the received-data interrupt.
func EnableRxInterrupt() { x86.Outb(COM1+regIER, 0x01) }

// PutByte writes one byte, waiting for the transmitter (polled).
func PutByte(b byte) {
	for x86.Inb(COM1+regLSR)&lsrTHREmpty == 0 {
	}
	x86.Outb(COM1+regData, b)
}

// Write writes p, turning "\n" into "\r\n" like a tty's ONLCR.
func Write(p []byte) {
	for _, b := range p {
		if b == '\n' {
			PutByte('\r')
		}
		PutByte(b)
	}
}

// WriteString is Write for strings (no allocation).
func WriteString(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			PutByte('\r')
		}
		PutByte(s[i])
	}
}

// Console is an io.Writer onto the serial port.
type Console struct{}

// Write implements io.Writer.
func (Console) Write(p []byte) (int, error) {
	Write(p)
	return len(p), nil
}

// rx is a single-producer (TopHalf) single-consumer (Read) byte ring.
var rx struct {
	buf        [4096]byte
	head, tail atomic.Uint32 // producer writes head, consumer tail
	dropped    atomic.Uint32
	overruns   atomic.Uint32
}

// TopHalf drains the UART's receive FIFO into the ring. Trap context.
func TopHalf() {
	for {
		lsr := x86.Inb(COM1 + regLSR)
		if lsr&lsrOverrun != 0 {
			rx.overruns.Add(1)
		}
		if lsr&lsrDataReady == 0 {
			return
		}
		b := x86.Inb(COM1 + regData)
		h := rx.head.Load()
		if h-rx.tail.Load() == uint32(len(rx.buf)) {
			rx.dropped.Add(1)
			continue
		}
		rx.buf[h%uint32(len(rx.buf))] = b
		rx.head.Store(h + 1)
	}
}

// Read moves buffered input into p and returns how many bytes it moved.
func Read(p []byte) int {
	n := 0
	t := rx.tail.Load()
	h := rx.head.Load()
	for t != h && n < len(p) {
		p[n] = rx.buf[t%uint32(len(rx.buf))]
		n++
		t++
	}
	rx.tail.Store(t)
	return n
}

// Dropped reports bytes lost because the ring was full, and FIFO overruns.
func Dropped() (ring, overruns uint32) { return rx.dropped.Load(), rx.overruns.Load() }

// Raw is an io.Writer onto the serial port without newline translation
// (the tty layer does ONLCR itself).
type Raw struct{}

// Write implements io.Writer.
func (Raw) Write(p []byte) (int, error) {
	for _, b := range p {
		PutByte(b)
	}
	return len(p), nil
}
