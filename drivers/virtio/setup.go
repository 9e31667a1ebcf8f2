package virtio

import "gomenuos/drivers/hw"

// SetupQueue configures queue index with at most maxSize entries (rounded
// down to a power of two, as split rings require) and enables it. vector is
// its MSI-X vector, or NoVector for INTx.
//
// Linux: vp_modern_find_vqs / setup_vq
func (v *Device) SetupQueue(index, maxSize, vector uint16) (*Queue, error) {
	c := v.common
	c.Write16(commonQueueSelect, index)
	n := c.Read16(commonQueueSize)
	if n == 0 || c.Read16(commonQueueEnable) != 0 {
		return nil, ErrNoQueue
	}
	if maxSize < n {
		n = maxSize
	}
	n = floorPow2(n)
	q, phys, err := newQueue(v.mem, index, n)
	if err != nil {
		return nil, err
	}
	availOff, usedOff, _ := queueBytes(int(n))
	c.Write16(commonQueueSize, n)
	hw.Write64(c, commonQueueDesc, phys)
	hw.Write64(c, commonQueueDriver, phys+uint64(availOff))
	hw.Write64(c, commonQueueDevice, phys+uint64(usedOff))
	c.Write16(commonQueueMSIX, vector)
	// virtio 1.2 §4.1.4.3: a device out of vector resources reads back NO_VECTOR.
	if c.Read16(commonQueueMSIX) != vector {
		return nil, ErrNoVector
	}
	q.notify = v.notify
	q.notifyOff = uintptr(c.Read16(commonQueueNotifyOff)) * uintptr(v.notifyMu)
	if q.notifyOff+2 > v.notify.Size() {
		return nil, ErrBadCapability
	}
	c.Write16(commonQueueEnable, 1)
	return q, nil
}

// SetConfigVector routes configuration-change interrupts to an MSI-X vector
// (NoVector: none).
func (v *Device) SetConfigVector(vector uint16) error {
	v.common.Write16(commonConfigMSIX, vector)
	if v.common.Read16(commonConfigMSIX) != vector {
		return ErrNoVector
	}
	return nil
}

func floorPow2(n uint16) uint16 {
	p := uint16(1)
	for p*2 != 0 && p*2 <= n {
		p *= 2
	}
	return p
}
