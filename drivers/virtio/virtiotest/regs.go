package virtiotest

import "encoding/binary"

const (
	kindCommon = iota
	kindISR
	kindConfig
	kindNotify
)

// window is one register window of the device, a hw.Regs.
type window struct {
	d    *Device
	kind int
}

func (w *window) Size() uintptr { return windowSize }

func (w *window) Read8(off uintptr) uint8   { return uint8(w.d.read(w.kind, off, 1)) }
func (w *window) Read16(off uintptr) uint16 { return uint16(w.d.read(w.kind, off, 2)) }
func (w *window) Read32(off uintptr) uint32 { return w.d.read(w.kind, off, 4) }

func (w *window) Write8(off uintptr, v uint8)   { w.d.write(w.kind, off, 1, uint32(v)) }
func (w *window) Write16(off uintptr, v uint16) { w.d.write(w.kind, off, 2, uint32(v)) }
func (w *window) Write32(off uintptr, v uint32) { w.d.write(w.kind, off, 4, v) }

func (d *Device) read(kind int, off uintptr, width int) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch kind {
	case kindISR:
		v := d.isr
		d.isr = 0 // read to clear
		return uint32(v)
	case kindConfig:
		var b [4]byte
		if int(off)+width <= len(d.config) {
			copy(b[:], d.config[off:int(off)+width])
		}
		return binary.LittleEndian.Uint32(b[:])
	case kindCommon:
		return d.readCommonLocked(off)
	}
	return 0
}

func (d *Device) selected() *vq {
	if int(d.queueSel) < len(d.queues) {
		return d.queues[d.queueSel]
	}
	return &vq{} // unavailable queue: size 0
}

func (d *Device) readCommonLocked(off uintptr) uint32 {
	q := d.selected()
	switch off {
	case 0x04:
		return uint32(d.Offered >> (32 * d.devFeatSel))
	case 0x0C:
		return uint32(d.Driver >> (32 * d.drvFeatSel))
	case 0x10:
		return uint32(d.configMSIX)
	case 0x12:
		return uint32(len(d.queues))
	case 0x14:
		return uint32(d.status)
	case 0x15:
		return uint32(d.configGen)
	case 0x18:
		if q.size == 0 {
			return uint32(q.maxSize)
		}
		return uint32(q.size)
	case 0x1A:
		return uint32(q.msix)
	case 0x1C:
		return uint32(q.enable)
	case 0x1E:
		return uint32(q.notifyOff)
	}
	return 0
}

func (d *Device) write(kind int, off uintptr, width int, v uint32) {
	if kind == kindNotify {
		select { // a test that does not watch notifications must not block the driver
		case d.notified <- uint16(v):
		default:
		}
		return
	}
	if kind != kindCommon {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writeCommonLocked(off, v)
}

func (d *Device) writeCommonLocked(off uintptr, v uint32) {
	q := d.selected()
	switch off {
	case 0x00:
		d.devFeatSel = v
	case 0x08:
		d.drvFeatSel = v
	case 0x0C:
		sh := 32 * d.drvFeatSel
		d.Driver = d.Driver&^(0xFFFFFFFF<<sh) | uint64(v)<<sh
	case 0x10:
		d.configMSIX = uint16(v)
	case 0x14:
		d.writeStatusLocked(uint8(v))
	case 0x16:
		d.queueSel = uint16(v)
	case 0x18:
		q.size = uint16(v)
	case 0x1A:
		q.msix = uint16(v)
	case 0x1C:
		q.enable = uint16(v)
	case 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34:
		setHalf(q.addrField(off), off, v)
	}
}

func setHalf(p *uint64, off uintptr, v uint32) {
	if p == nil {
		return
	}
	if off%8 == 0 {
		*p = *p&^0xFFFFFFFF | uint64(v)
	} else {
		*p = *p&0xFFFFFFFF | uint64(v)<<32
	}
}

func (d *Device) writeStatusLocked(s uint8) {
	d.statusLog = append(d.statusLog, s)
	if s == 0 {
		d.status, d.Driver = 0, 0
		for _, q := range d.queues {
			*q = vq{maxSize: q.maxSize, notifyOff: q.notifyOff, msix: 0xFFFF}
		}
		return
	}
	if s&statusFeatOK != 0 && d.status&statusFeatOK == 0 &&
		(d.RefuseFeatures || d.Driver&^d.Offered != 0) {
		s &^= statusFeatOK
	}
	d.status = s
}
