package x86

// Legacy 8259A PIC pair, remapped to vectors 32-47, and the 8254 PIT.

const (
	pic1Cmd  = 0x20
	pic1Data = 0x21
	pic2Cmd  = 0xA0
	pic2Data = 0xA1
	picEOI   = 0x20
)

var picMask uint16 = 0xFFFF

// InitPIC remaps both PICs to VectorIRQBase and masks every line.
func InitPIC() {
	Outb(pic1Cmd, 0x11) // ICW1: init, ICW4 follows
	Outb(pic2Cmd, 0x11)
	Outb(pic1Data, VectorIRQBase)   // ICW2: vector offset
	Outb(pic2Data, VectorIRQBase+8) //
	Outb(pic1Data, 4)               // ICW3: slave on IRQ2
	Outb(pic2Data, 2)
	Outb(pic1Data, 1) // ICW4: 8086 mode
	Outb(pic2Data, 1)
	picMask = 0xFFFF &^ (1 << 2) // cascade line always open
	writePICMask()
}

func writePICMask() {
	Outb(pic1Data, uint8(picMask))
	Outb(pic2Data, uint8(picMask>>8))
}

// UnmaskIRQ enables legacy IRQ line irq.
func UnmaskIRQ(irq uint8) {
	picMask &^= 1 << irq
	writePICMask()
}

// MaskIRQ disables legacy IRQ line irq.
func MaskIRQ(irq uint8) {
	picMask |= 1 << irq
	writePICMask()
}

// EOI acknowledges legacy IRQ line irq.
func EOI(irq uint8) {
	if irq >= 8 {
		Outb(pic2Cmd, picEOI)
	}
	Outb(pic1Cmd, picEOI)
}

// PITHz is the frequency of the PIT's input clock.
const PITHz = 1193182

// InitPIT programs channel 0 as a rate generator at hz interrupts per second.
func InitPIT(hz int) {
	div := PITHz / hz
	Outb(0x43, 0x34) // channel 0, lobyte/hibyte, mode 2
	Outb(0x40, uint8(div))
	Outb(0x40, uint8(div>>8))
}
