package virtionet

import (
	"gomenuos/drivers/virtio"
	"gomenuos/net/buf"
	"gomenuos/net/link"
)

// maxGSOFrame is the largest coalesced frame: an IPv4 packet of 64 KiB.
const maxGSOFrame = ethHdrLen + 65535

// rxBatch is how many frames the receive goroutine takes off the used ring
// before refilling it (Linux: the NAPI budget).
const rxBatch = 64

// receiveLoop is the bottom half: it sleeps on the interrupt, then drains
// the receive ring in batches with interrupts suppressed. It ends when the
// interrupt source reports an error. Frames that arrived between Probe and
// Attach raised an interrupt that the IRQ kept, so the first Wait returns.
//
// Linux: virtnet_poll (run from vring_interrupt's NAPI schedule)
func (d *Device) receiveLoop() {
	for d.irq.Wait() == nil {
		d.Stats.Interrupts.Add(1)
		if !d.msix {
			// virtio 1.2 §4.1.4.5.1: reading the ISR de-asserts INTx.
			// Reading it before draining means anything used later raises
			// a fresh interrupt.
			d.v.ISR()
		}
		d.pokeTx()
		d.poll()
	}
}

// poll drains and refills the receive ring until it is empty with
// interrupts re-enabled.
func (d *Device) poll() {
	if b, ok := d.recv.(link.BatchReceiver); ok {
		b.BeginBatch(d)
		defer b.EndBatch(d)
	}
	for {
		d.rxq.DisableInterrupts()
		for d.receiveBatch() == rxBatch {
		}
		if !d.rxq.EnableInterrupts() {
			return
		}
	}
}

// receiveBatch takes up to rxBatch packets off the used ring, hands each
// good frame to the stack, and refills the ring.
func (d *Device) receiveBatch() int {
	n := 0
	for ; n < rxBatch; n++ {
		frame, ok := d.receiveOne()
		if !ok {
			break
		}
		if frame != nil {
			d.Stats.RxPackets.Add(1)
			d.Stats.RxBytes.Add(uint64(len(frame)))
			d.recv.DeliverFrame(d, frame)
		}
	}
	d.fillRx()
	d.kick(d.rxq)
	return n
}

// receiveOne collects one packet (all its buffers) and returns its frame,
// or nil when the packet was malformed and dropped. ok is false when the
// used ring is empty.
//
// Linux: receive_buf / receive_mergeable
func (d *Device) receiveOne() (frame []byte, ok bool) {
	first, ok := d.nextUsed()
	if !ok {
		return nil, false
	}
	if first == nil {
		return nil, true
	}
	h, err := parseNetHdr(first, d.rxParams)
	if err != nil {
		d.Stats.rxError(err)
		return nil, true
	}
	frame, err = d.gather(first[hdrLen:], int(h.numBuffers)-1)
	if err == nil {
		err = d.checkFrame(frame, h)
	}
	if err != nil {
		d.Stats.rxError(err)
		return nil, true
	}
	return frame, true
}

// nextUsed pops one used receive buffer and returns the bytes the device
// wrote, its slot already back in the pool (the bytes stay valid until the
// next fillRx). buf is nil for a bad used entry, which is counted.
func (d *Device) nextUsed() (buf []byte, ok bool) {
	head, written, ok, err := d.rxq.Used()
	if !ok {
		return nil, false
	}
	if err != nil {
		d.Stats.RxBadUsed.Add(1)
		d.Stats.RxErrors.Add(1)
		return nil, true
	}
	slot := d.rxPool.slotOf[head]
	d.rxPool.put(slot)
	if written > slotSize {
		written = slotSize // the device claims more than the buffer holds
	}
	return d.rxPool.buf(slot)[:written], true
}

// gather copies the first buffer's payload and the payloads of more
// continuation buffers (VIRTIO_NET_F_MRG_RXBUF) into one new frame, the
// single copy out of DMA memory.
func (d *Device) gather(first []byte, more int) ([]byte, error) {
	if more == 0 {
		return buf.Append(nil, first), nil
	}
	frame := buf.Append(make([]byte, 0, len(first)+more*slotSize), first)
	for i := 0; i < more; i++ {
		b, ok := d.nextUsed()
		if !ok || b == nil {
			return nil, ErrMissingBufs
		}
		frame = buf.Append(frame, b)
	}
	return frame, nil
}

// checkFrame enforces size limits and the checksum contract of
// link.FeatureRxChecksum.
func (d *Device) checkFrame(frame []byte, h netHdr) error {
	switch {
	case len(frame) < ethHdrLen:
		return ErrShortFrame
	case len(frame) > d.mtu+maxLinkHeader && h.gsoType == hdrGSONone:
		return ErrOversize
	case len(frame) > maxGSOFrame:
		return ErrOversize
	case d.features&FeatureGuestCsum == 0:
		return nil
	case h.flags&hdrFDataValid != 0:
		d.Stats.RxCsumValid.Add(1)
		return nil
	case h.flags&hdrFNeedsCsum != 0 && h.gsoType != hdrGSONone:
		// A coalesced segment comes from the host's memory, never a
		// wire: nothing to verify, and summing its 64 KiB cost 9% of a
		// receive. It keeps its partial checksum field, as Linux keeps
		// CHECKSUM_PARTIAL (link.FeatureRxChecksum).
		d.Stats.RxGSO.Add(1)
		return checkCsumRange(frame, h)
	case h.flags&hdrFNeedsCsum != 0:
		d.Stats.RxCsumCompleted.Add(1)
		return completeCsum(frame, h)
	}
	return verifyCsum(frame)
}

// fillRx posts every free receive slot to the device.
//
// Linux: try_fill_recv
func (d *Device) fillRx() {
	for d.rxq.NumFree() > 0 {
		slot, ok := d.rxPool.get()
		if !ok {
			return
		}
		head, err := d.rxq.Add([]virtio.Buf{{Phys: d.rxPool.slotPhys(slot), Len: slotSize, Writable: true}})
		if err != nil {
			d.rxPool.put(slot)
			return
		}
		d.rxPool.slotOf[head] = slot
	}
}
