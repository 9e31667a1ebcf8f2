package virtionet

import (
	"runtime"

	"gomenuos/drivers/virtio"
	"gomenuos/net/buf"
	"gomenuos/net/link"
)

// maxGSOFrame is the largest coalesced frame: an IPv4 packet of 64 KiB.
const maxGSOFrame = ethHdrLen + 65535

// rxBatch is how many frames the receive goroutine takes off the used ring
// before refilling it (Linux: the NAPI budget).
const rxBatch = 64

// rxYieldBytes is the size of a burst after which the receive goroutine
// yields to the tasks it woke (receiveBatch).
const rxYieldBytes = 16 << 10

// receiveLoop is the bottom half: it sleeps on the interrupt, then drains
// the receive ring in batches with interrupts suppressed. It ends when the
// interrupt source reports an error. Frames that arrived between Probe and
// Attach raised an interrupt that the IRQ kept, so the first Wait returns.
// With MSI, an interrupt that finds a user task runs softirq on that task
// instead, and this goroutine is not woken.
//
// Linux: virtnet_poll (run from vring_interrupt's NAPI schedule)
func (d *Device) receiveLoop() {
	for d.irq.Wait() == nil {
		d.rxMu.Lock()
		d.Stats.Interrupts.Add(1)
		if !d.msix {
			// virtio 1.2 §4.1.4.5.1: reading the ISR de-asserts INTx.
			// Reading it before draining means anything used later raises
			// a fresh interrupt.
			d.v.ISR()
		}
		d.pokeTx()
		d.napiPoll(true)
		d.rxMu.Unlock()
	}
}

// softirq is the bottom half as a user task runs it (hw.SoftirqIRQ):
// the receive goroutine's work for one interrupt, without yielding (the
// task runs the readers it woke itself, or lets them run after). It
// reports whether it woke a transmitter waiting for ring space.
//
// Linux: net_rx_action → virtnet_poll, run from irq_exit's do_softirq
func (d *Device) softirq() (wokeOthers bool) {
	d.rxMu.Lock()
	defer d.rxMu.Unlock()
	d.Stats.Interrupts.Add(1)
	d.Stats.Softirqs.Add(1)
	wokeOthers = d.txWaiting.Load() > 0
	d.pokeTx()
	d.napiPoll(false)
	return wokeOthers
}

// napiPoll runs one poll; the frames the stack sends meanwhile (ACKs, a
// SYN-ACK, the data an ACK lets out) share one notification at its end
// instead of waking the kicker (Linux: xmit_more until the poll's last).
func (d *Device) napiPoll(yield bool) {
	d.setNAPI(true)
	d.poll(yield)
	d.setNAPI(false)
}

// setNAPI marks a poll running, or ended: then what it queued is notified.
func (d *Device) setNAPI(on bool) {
	d.txMu.Lock()
	d.napi = on
	if !on && d.unkicked > 0 {
		d.kickLocked()
	}
	d.txMu.Unlock()
}

// poll drains and refills the receive ring until it is empty with
// interrupts re-enabled; yield lets woken tasks run between bursts. Kept
// out of line: the gdb lab breaks on it (virtnet_poll).
//
//go:noinline
func (d *Device) poll(yield bool) {
	for {
		d.rxq.DisableInterrupts()
		for d.receiveBatch(yield) == rxBatch {
		}
		if !d.rxq.EnableInterrupts() {
			return
		}
	}
}

// receiveBatch takes up to rxBatch packets off the used ring, hands each
// good frame to the stack as one burst (link.BatchReceiver), gives back
// the driver's references to the frames it lent, and refills the ring.
//
// Linux: one virtnet_poll of budget rxBatch (NAPI's weight), ending in
// napi_complete's GRO flush
func (d *Device) receiveBatch(yield bool) int {
	b, batched := d.recv.(link.BatchReceiver)
	if batched {
		b.BeginBatch(d)
	}
	n, bytes := 0, 0
	for ; n < rxBatch; n++ {
		frame, ok := d.receiveOne()
		if !ok {
			break
		}
		if frame != nil {
			d.Stats.RxPackets.Add(1)
			d.Stats.RxBytes.Add(uint64(len(frame)))
			bytes += len(frame)
			d.recv.DeliverFrame(d, frame)
		}
	}
	if batched {
		b.EndBatch(d)
	}
	for i, s := range d.rxLent {
		d.rxPool.unref(s)
		d.rxLent[i] = 0
	}
	d.rxLent = d.rxLent[:0]
	d.fillRx()
	d.kick(d.rxq)
	if yield && bytes >= rxYieldBytes {
		// Let the tasks this burst woke run before the next one: the
		// reader takes the text it queued, so the window the next ACK
		// announces is open again (Linux: a NAPI poll runs in softirq
		// context for one budget, then the woken reader runs). A burst
		// of ACKs for our own sending does not yield: the sender and its
		// deferred notification (tx.go) then ran while QEMU was still
		// busy with the previous one, and each notification waited for
		// it (make profile, guest->host on tap: 1% -> 23% of the time).
		// What this poll queued goes out before the tasks run.
		d.setNAPI(false)
		runtime.Gosched()
		d.setNAPI(true)
	}
	return n
}

// rxUsed is one used receive buffer: its pool buffer and the bytes the
// device wrote.
type rxUsed struct{ slot, n int }

// receiveOne collects one packet (all its buffers) and returns its frame,
// or nil when the packet was malformed and dropped. ok is false when the
// used ring is empty. The frame is the receive buffers themselves when
// they lie one after the other and the stack takes bursts (the driver then
// holds a reference until the burst ends), else a copy.
//
// Linux: receive_buf / receive_mergeable
func (d *Device) receiveOne() (frame []byte, ok bool) {
	first, ok := d.nextUsed()
	if !ok {
		return nil, false
	}
	if first.slot < 0 {
		return nil, true
	}
	bufs := append(d.rxBufs[:0], first)
	defer func() {
		for _, u := range bufs {
			d.rxPool.put(u.slot)
		}
		d.rxBufs = bufs[:0]
	}()
	h, err := parseNetHdr(d.rxPool.buf(first.slot)[:first.n], d.rxParams)
	if err != nil {
		d.Stats.rxError(err)
		return nil, true
	}
	for i := 1; i < int(h.numBuffers); i++ {
		u, ok := d.nextUsed()
		if !ok || u.slot < 0 {
			d.Stats.rxError(ErrMissingBufs)
			return nil, true
		}
		bufs = append(bufs, u)
	}
	lend := d.lending && d.rxPool.canLend(first.slot, len(bufs))
	for i, u := range bufs {
		if u.slot != first.slot+i || (i < len(bufs)-1 && u.n != rxBufSize) {
			lend = false
		}
	}
	if lend {
		start := d.rxPool.off(first.slot)
		frame = d.rxPool.mem[start+hdrLen : start+(len(bufs)-1)*rxBufSize+bufs[len(bufs)-1].n]
	} else {
		frame = d.gather(bufs)
	}
	if err := d.checkFrame(frame, h); err != nil {
		d.Stats.rxError(err)
		return nil, true
	}
	if lend {
		d.rxPool.lend(first.slot, len(bufs))
		d.rxLent = append(d.rxLent, first.slot)
		d.Stats.RxLent.Add(1)
		bufs = bufs[:0] // the stack's now, until the last reference goes
	}
	return frame, true
}

// nextUsed pops one used receive buffer. Its slot is -1 for a bad used
// entry, which is counted.
func (d *Device) nextUsed() (u rxUsed, ok bool) {
	head, written, ok, err := d.rxq.Used()
	if !ok {
		return rxUsed{}, false
	}
	if err != nil {
		d.Stats.RxBadUsed.Add(1)
		d.Stats.RxErrors.Add(1)
		return rxUsed{slot: -1}, true
	}
	if written > rxBufSize {
		written = rxBufSize // the device claims more than the buffer holds
	}
	return rxUsed{d.rxPool.slotOf[head], int(written)}, true
}

// gather copies the packet's payload (the first buffer's after the
// virtio_net_hdr, then each continuation buffer's) into one new frame.
func (d *Device) gather(bufs []rxUsed) []byte {
	n := -hdrLen
	for _, u := range bufs {
		n += u.n
	}
	frame := make([]byte, 0, max(n, 0))
	for i, u := range bufs {
		b := d.rxPool.buf(u.slot)[:u.n]
		if i == 0 {
			b = b[hdrLen:]
		}
		frame = buf.Append(frame, b)
	}
	return frame
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

// fillRx posts free receive buffers to the device until the ring is full,
// in the pool's cyclic order.
//
// Linux: try_fill_recv
func (d *Device) fillRx() {
	for d.rxq.NumFree() > 0 {
		slot, ok := d.rxPool.get()
		if !ok {
			return
		}
		head, err := d.rxq.Add([]virtio.Buf{{Phys: d.rxPool.slotPhys(slot), Len: rxBufSize, Writable: true}})
		if err != nil {
			d.rxPool.put(slot)
			return
		}
		d.rxPool.slotOf[head] = slot
	}
}
