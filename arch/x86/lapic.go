package x86

import "sync/atomic"

// The local APIC, only as far as the legacy PIC needs it: firmware that
// leaves LINT0 masked (qboot does) would keep every 8259 interrupt from
// reaching the CPU. Linux: connect_bsp_APIC / setup_local_APIC's
// "virtual wire" mode.

const (
	lapicBase   = 0xFEE00000
	lapicSVR    = 0xF0
	lapicLINT0  = 0x350
	lapicLINT1  = 0x360
	apicBaseMSR = 0x1B
)

func lapicWrite(reg uintptr, v uint32) {
	atomic.StoreUint32((*uint32)(PhysPointer(lapicBase+reg)), v)
}

// InitVirtualWire enables the local APIC in virtual-wire mode: LINT0
// delivers the 8259's interrupts (ExtINT), LINT1 is NMI.
func InitVirtualWire() {
	if _, _, _, edx := Cpuid(1, 0); edx&(1<<9) == 0 {
		return // no local APIC: the PIC is wired straight to the CPU
	}
	Wrmsr(apicBaseMSR, Rdmsr(apicBaseMSR)|1<<11) // global enable
	lapicWrite(lapicSVR, 0x100|0xFF)             // software enable, spurious vector 255
	lapicWrite(lapicLINT0, 0x700)                // ExtINT, unmasked
	lapicWrite(lapicLINT1, 0x400)                // NMI
}

const lapicEOIReg = 0xB0

// LAPICEOI acknowledges the interrupt the local APIC delivered (MSI and
// other APIC-routed vectors; 8259 lines use EOI).
func LAPICEOI() { lapicWrite(lapicEOIReg, 0) }

// MSI message address for the boot CPU (local APIC ID 0, physical
// destination): a device writes the vector number there to interrupt.
const MSIAddress = lapicBase

// First vector handed out for message-signalled interrupts.
const (
	VectorMSIBase = VectorIRQBase + 16
	NumMSI        = 16
)
