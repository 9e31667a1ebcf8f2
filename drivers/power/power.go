// Package power turns the QEMU machine off: ACPI soft-off (QEMU exits with
// status 0) or QEMU's isa-debug-exit device (status 2·code+1, for tests
// and crashes).
package power

import "gomenuos/arch/x86"

// debugExitPort is where qemu/run.sh puts isa-debug-exit (iobase=0xf4).
const debugExitPort = 0xf4

// piix4PM1aCnt is the ACPI PM1a control register of QEMU's i440FX/PIIX4
// machine (PM base 0x600); SLP_TYPa=0 | SLP_EN powers off.
const piix4PM1aCnt = 0x604

// Off powers the machine off through ACPI; QEMU exits with status 0.
func Off() {
	x86.Outw(piix4PM1aCnt, 0x2000)
	x86.Outw(0xB004, 0x2000) // older QEMU / Bochs
	halt()
}

// Exit leaves QEMU through isa-debug-exit: its exit status becomes
// 2·code+1, so any code gives a non-zero status.
func Exit(code uint8) {
	x86.Outb(debugExitPort, code)
	Off() // no debug-exit device: at least stop
}

func halt() {
	for {
		x86.Cli()
		x86.Hlt()
	}
}
