package virtionet

import (
	"time"

	"gomenuos/drivers/virtio"
	"gomenuos/net/link"
)

// txWait bounds how long Transmit waits for a full ring to drain before
// dropping the frame.
const (
	txWaitStep  = 10 * time.Millisecond
	txWaitSteps = 100
)

// Transmit implements link.Device: the frame is copied once into a DMA
// buffer behind a virtio_net_hdr and handed to the device.
//
// Linux: start_xmit
func (d *Device) Transmit(frame []byte) error { return d.transmit(frame, 0, 0) }

// TransmitPartial sends a frame whose transport checksum the device must
// complete (link.FeatureTxChecksum; Linux: CHECKSUM_PARTIAL): the 16-bit
// field at csumStart+csumOffset holds the folded pseudo-header sum, and the
// device stores the checksum of csumStart..end there. When the device did
// not offer VIRTIO_NET_F_CSUM the driver completes it in software instead.
func (d *Device) TransmitPartial(frame []byte, csumStart, csumOffset int) error {
	h := netHdr{csumStart: uint16(csumStart), csumOffset: uint16(csumOffset)}
	if csumStart < ethHdrLen || csumStart+csumOffset+2 > len(frame) {
		d.Stats.TxErrors.Add(1)
		return ErrCsumRange
	}
	if d.features&FeatureCsum == 0 {
		_ = completeCsum(frame, h) // range checked above
		return d.transmit(frame, 0, 0)
	}
	return d.transmit(frame, h.csumStart, h.csumOffset)
}

func (d *Device) transmit(frame []byte, csumStart, csumOffset uint16) error {
	if len(frame) > d.mtu+maxLinkHeader {
		d.Stats.TxDropped.Add(1)
		return link.ErrTooBig
	}
	if len(frame) < ethHdrLen {
		d.Stats.TxErrors.Add(1)
		return ErrShortFrame
	}
	d.txMu.Lock()
	defer d.txMu.Unlock()
	slot, ok := d.txSlotLocked()
	if !ok {
		d.Stats.TxDropped.Add(1)
		return link.ErrQueueFull
	}
	buf := d.txPool.buf(slot)
	putTxHdr(buf, csumStart, csumOffset)
	n := hdrLen + copy(buf[hdrLen:], frame)
	head, err := d.txq.Add([]virtio.Buf{{Phys: d.txPool.slotPhys(slot), Len: uint32(n)}})
	if err != nil { // cannot happen: pool and ring have the same size
		d.txPool.put(slot)
		d.Stats.TxDropped.Add(1)
		return link.ErrQueueFull
	}
	d.txPool.slotOf[head] = slot
	d.kickOrDeferLocked()
	d.Stats.TxPackets.Add(1)
	d.Stats.TxBytes.Add(uint64(len(frame)))
	return nil
}

// txSlotLocked returns a free transmit buffer, reclaiming completed ones
// and, when the ring is full, waiting (with txMu released) for the device
// to finish some.
//
// Linux: free_old_xmit_skbs + netif_stop_queue/netif_wake_queue
func (d *Device) txSlotLocked() (int, bool) {
	for step := 0; ; step++ {
		d.reclaimTxLocked()
		if slot, ok := d.txPool.get(); ok {
			return slot, true
		}
		if step == txWaitSteps {
			return 0, false
		}
		if d.txq.EnableInterrupts() {
			d.txq.DisableInterrupts()
			continue
		}
		d.txMu.Unlock()
		select {
		case <-d.txSpace:
		case <-time.After(txWaitStep):
		}
		d.txMu.Lock()
		d.txq.DisableInterrupts()
	}
}

// reclaimTxLocked returns the buffers of completed transmissions.
func (d *Device) reclaimTxLocked() {
	for {
		head, _, ok, err := d.txq.Used()
		if !ok {
			return
		}
		if err != nil {
			d.Stats.TxErrors.Add(1)
			continue
		}
		d.txPool.put(d.txPool.slotOf[head])
	}
}

// pokeTx wakes a transmitter waiting for ring space; called on every
// interrupt because transmit and receive share it.
func (d *Device) pokeTx() {
	select {
	case d.txSpace <- struct{}{}:
	default:
	}
}

// burstGap: a frame that follows the previous one this closely is part of
// a burst. Under emulation the device drains each frame before the next is
// queued, so kicking per frame costs one exit each; instead the first frame
// of a burst kicks at once (latency) and the rest leave the kick to the
// kicker goroutine, which runs when the sender yields and covers every frame
// queued meanwhile (Linux reaches the same with xmit_more from the qdisc).
const burstGap = 200 * time.Microsecond

// kickOrDeferLocked notifies the device of a frame just queued, now or via
// the kicker.
func (d *Device) kickOrDeferLocked() {
	now := d.clock.Now()
	burst := now.Sub(d.lastTx) < burstGap
	d.lastTx = now
	if !burst {
		d.kick(d.txq)
		return
	}
	d.unkicked = true
	select {
	case d.kickCh <- struct{}{}:
	default:
	}
}

// kicker sends the notifications deferred by kickOrDeferLocked.
func (d *Device) kicker() {
	for range d.kickCh {
		d.txMu.Lock()
		if d.unkicked {
			d.unkicked = false
			d.kick(d.txq)
		}
		d.txMu.Unlock()
	}
}
