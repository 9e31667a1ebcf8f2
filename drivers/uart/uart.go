// Package uart drives the 16550 UART on COM1: polled output (usable from
// trap context and before the runtime starts) and interrupt-driven input.
//
// Input is never lost, from power-on: Init switches the receive FIFO on as
// the kernel's first act, early boot unmasks the receive interrupt, and
// the interrupt's top half (TopHalf, trap context) moves received bytes
// into a ring from then on, while the runtime is still starting. The
// console goroutine drains the ring (Read) into the line discipline. When
// the ring is full the top half leaves the bytes in the UART and throttles
// (receive interrupt off, RTS dropped: the sender waits, as QEMU and a
// flow-controlled line do); Read unthrottles once it has made room.
// Linux: drivers/tty/serial/8250 (serial8250_rx_chars, uart_throttle).
//
// Rules: everything but Console.Write and Raw.Write runs in trap context
// or before the runtime: no allocation, no locks, atomics only.
package uart

import (
	"sync/atomic"

	"gomenuos/arch/x86"
)

// COM1 is the first serial port.
const COM1 = 0x3F8

// IRQ is COM1's legacy interrupt line.
const IRQ = 4

// Registers (offsets from COM1) and their bits.
const (
	regData = 0
	regIER  = 1
	regFCR  = 2 // written; read, the same offset is IIR
	regIIR  = 2
	regLCR  = 3
	regMCR  = 4
	regLSR  = 5

	ierRxData = 0x01

	fcrEnable   = 0x01
	fcrTrigger8 = 0x80 // interrupt at 8 bytes or after a pause (Linux's choice for a 16550A)
	iirFIFOs    = 0xC0 // both bits set: the FIFOs are on

	mcrDTR  = 0x01
	mcrRTS  = 0x02
	mcrOut2 = 0x08 // gates the interrupt line on PCs
	mcrLoop = 0x10

	lsrDataReady = 0x01
	lsrOverrun   = 0x02
	lsrTHREmpty  = 0x20
)

// Init switches the receive FIFO on and programs 115200 baud 8N1 with
// receive interrupts off. The kernel calls it first thing.
func Init() {
	x86.Outb(COM1+regIER, 0)
	if x86.Inb(COM1+regIIR)&iirFIFOs != iirFIFOs {
		// Loopback keeps the read in fifoOn from asking QEMU for the next
		// byte at once (its serial model skips that call in loopback).
		x86.Outb(COM1+regMCR, mcrLoop)
		if held := fifoOn(fcrEnable | fcrTrigger8); held&0x100 != 0 {
			put(byte(held))
		}
	}
	x86.Outb(COM1+regFCR, fcrEnable|fcrTrigger8) // firmware's FIFO: our trigger level
	if x86.Inb(COM1+regLCR) != 0x03 {            // firmware left it unset: 115200 8N1
		x86.Outb(COM1+regLCR, 0x80) // DLAB
		x86.Outb(COM1+0, 1)         // divisor 1 = 115200
		x86.Outb(COM1+1, 0)
		x86.Outb(COM1+regLCR, 0x03)
	}
	x86.Outb(COM1+regMCR, mcrDTR|mcrRTS|mcrOut2)
}

// fifoOn takes the byte a FIFO-less UART holds, if any, and writes fcr to
// switch the FIFO on, with no instruction between the read and the write
// that could be slow (fifo_amd64.s). The switch flushes the receiver; with
// the FIFO off the UART holds at most one byte, and QEMU hands over the
// next only after that one is read, so a byte can only be lost if it
// arrives between the read and the switch. It returns 0x100|byte when a
// byte was held, else 0.
func fifoOn(fcr uint8) (held uint16)

// EnableRxInterrupt turns on the received-data interrupt.
func EnableRxInterrupt() { x86.Outb(COM1+regIER, ierRxData) }

// PutByte writes one byte, waiting for the transmitter (polled).
func PutByte(b byte) {
	for x86.Inb(COM1+regLSR)&lsrTHREmpty == 0 {
	}
	x86.Outb(COM1+regData, b)
	counts.tx.Add(1)
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

// Raw is an io.Writer onto the serial port without newline translation
// (the tty layer does ONLCR itself).
type Raw struct{}

// Write implements io.Writer.
func (Raw) Write(p []byte) (int, error) {
	writeFIFO(p)
	return len(p), nil
}

// txBurst is how many bytes writeFIFO puts in the transmit FIFO (16 bytes
// on a 16550A, switched on by Init) each time it finds it empty: one less,
// so that a PutByte from trap context between the check and the burst
// (which itself waits for an empty FIFO) cannot overfill it.
const txBurst = 15

// writeFIFO writes p, reading the line status once per burst instead of
// once per byte: an empty transmit FIFO takes txBurst bytes. Under QEMU
// every port access is a trip through the device model under its big
// lock, so this halves the cost of console output. Linux:
// serial8250_tx_chars, which writes up to tx_loadsz bytes per THRE.
func writeFIFO(p []byte) {
	for len(p) > 0 {
		for x86.Inb(COM1+regLSR)&lsrTHREmpty == 0 {
		}
		n := min(len(p), txBurst)
		for _, b := range p[:n] {
			x86.Outb(COM1+regData, b)
		}
		counts.tx.Add(uint64(n))
		p = p[n:]
	}
}

// rx is a single-producer (TopHalf, Init) single-consumer (Read) byte ring.
var rx struct {
	buf        [4096]byte
	head, tail atomic.Uint32 // producer writes head, consumer tail
	throttled  atomic.Bool   // TopHalf found the ring full and stopped receiving
}

// counts are the line's statistics (Linux: struct uart_icount).
var counts struct {
	tx, rx, overruns, throttles atomic.Uint64
}

// put appends b to the ring; the caller checked there is room.
func put(b byte) {
	h := rx.head.Load()
	rx.buf[h%uint32(len(rx.buf))] = b
	rx.head.Store(h + 1)
	counts.rx.Add(1)
}

func ringFull() bool { return rx.head.Load()-rx.tail.Load() == uint32(len(rx.buf)) }

// TopHalf drains the UART's receive FIFO into the ring; with the ring
// full it throttles instead, leaving the bytes in the UART. Trap context.
// Linux: serial8250_rx_chars.
func TopHalf() {
	for {
		lsr := x86.Inb(COM1 + regLSR)
		if lsr&lsrOverrun != 0 {
			counts.overruns.Add(1)
		}
		if lsr&lsrDataReady == 0 {
			return
		}
		if ringFull() {
			throttle()
			return
		}
		put(x86.Inb(COM1 + regData))
	}
}

// throttle stops receiving: no receive interrupt, RTS down (Linux:
// uart_throttle). Trap context.
func throttle() {
	x86.Outb(COM1+regIER, 0)
	x86.Outb(COM1+regMCR, mcrDTR|mcrOut2)
	rx.throttled.Store(true)
	counts.throttles.Add(1)
}

// Read moves buffered input into p and returns how many bytes it moved;
// it receives again once the ring has room after a throttle. Goroutine
// context (the console's bottom half, the only reader).
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
	// The receive interrupt is off while throttled; should one that was
	// already pending run TopHalf here, it at worst throttles again and
	// the next Read undoes that. Linux: uart_unthrottle.
	if rx.throttled.Load() && !ringFull() {
		rx.throttled.Store(false)
		x86.Outb(COM1+regMCR, mcrDTR|mcrRTS|mcrOut2)
		EnableRxInterrupt() // the UART interrupts at once if bytes wait
	}
	return n
}

// Counts reports bytes sent and received, receiver overruns (bytes the
// UART itself lost) and how often the ring was full.
func Counts() (tx, rx, overruns, throttles uint64) {
	return counts.tx.Load(), counts.rx.Load(), counts.overruns.Load(), counts.throttles.Load()
}
