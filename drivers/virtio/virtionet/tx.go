package virtionet

import (
	"encoding/binary"
	"gomenuos/sched"
	"time"

	"gomenuos/drivers/virtio"
	"gomenuos/net/buf"
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
func (d *Device) Transmit(frame []byte) error {
	if len(frame) > d.mtu+maxLinkHeader {
		d.ReleaseFrame(frame)
		d.Stats.TxDropped.Add(1)
		return link.ErrTooBig
	}
	return d.transmit(frame, txHdr{}, d.txPool)
}

// TransmitPartial sends a frame whose transport checksum the device must
// complete (link.FeatureTxChecksum; Linux: CHECKSUM_PARTIAL): the 16-bit
// field at csumStart+csumOffset holds the folded pseudo-header sum, and the
// device stores the checksum of csumStart..end there. When the device did
// not offer VIRTIO_NET_F_CSUM the driver completes it in software instead.
func (d *Device) TransmitPartial(frame []byte, csumStart, csumOffset int) error {
	h := netHdr{csumStart: uint16(csumStart), csumOffset: uint16(csumOffset)}
	if csumStart < ethHdrLen || csumStart+csumOffset+2 > len(frame) {
		d.ReleaseFrame(frame)
		d.Stats.TxErrors.Add(1)
		return ErrCsumRange
	}
	if len(frame) > d.mtu+maxLinkHeader {
		d.ReleaseFrame(frame)
		d.Stats.TxDropped.Add(1)
		return link.ErrTooBig
	}
	if d.features&FeatureCsum == 0 {
		_ = completeCsum(frame, h) // range checked above
		return d.transmit(frame, txHdr{}, d.txPool)
	}
	return d.transmit(frame, txHdr{csumStart: h.csumStart, csumOffset: h.csumOffset}, d.txPool)
}

// GSOMaxSize returns the largest frame TransmitGSO takes, 0 when the device
// cannot segment (no VIRTIO_NET_F_HOST_TSO4).
func (d *Device) GSOMaxSize() int {
	if d.gsoPool == nil {
		return 0
	}
	return maxGSOFrame
}

// TransmitGSO sends one TCP/IPv4 frame of up to GSOMaxSize bytes that the
// device cuts into segments of mss payload bytes, completing each one's
// checksum: the checksum field holds the pseudo-header sum as for
// TransmitPartial (csumStart is where TCP starts). A stack with large
// segments hands the device one frame per 64 KiB instead of per MSS.
//
// Linux: start_xmit of a GSO skb (virtio_net_hdr_from_skb)
func (d *Device) TransmitGSO(frame []byte, csumStart, mss int) error {
	if d.gsoPool == nil {
		d.Stats.TxErrors.Add(1)
		return ErrNoTSO
	}
	h, err := gsoHdr(frame, csumStart, mss)
	if err != nil {
		d.ReleaseFrame(frame)
		d.Stats.TxErrors.Add(1)
		return err
	}
	pool := d.txPool
	if len(frame) > d.mtu+maxLinkHeader {
		pool = d.gsoPool
	}
	return d.transmit(frame, h, pool)
}

// gsoHdr validates a segmentation offload frame and builds its header.
func gsoHdr(frame []byte, csumStart, mss int) (txHdr, error) {
	const tcpCsumOffset = 16
	if len(frame) > maxGSOFrame || mss <= 0 || mss > 0xFFFF {
		return txHdr{}, link.ErrTooBig
	}
	if len(frame) < csumStart+20 || csumStart < ethHdrLen+20 ||
		binary.BigEndian.Uint16(frame[12:]) != etherTypeIPv4 || frame[ethHdrLen+9] != protoTCP {
		return txHdr{}, ErrNotTCPv4
	}
	tcpHdrLen := int(frame[csumStart+12]>>4) * 4
	if tcpHdrLen < 20 || csumStart+tcpHdrLen > len(frame) {
		return txHdr{}, ErrNotTCPv4
	}
	return txHdr{csumStart: uint16(csumStart), csumOffset: tcpCsumOffset, gsoType: hdrGSOTCPv4,
		hdrLen: uint16(csumStart + tcpHdrLen), gsoSize: uint16(mss)}, nil
}

// transmit copies frame behind h into a slot of pool and queues it; a
// frame built in a slot AllocFrame lent is queued where it is.
func (d *Device) transmit(frame []byte, h txHdr, pool *dmaPool) error {
	if len(frame) < ethHdrLen {
		d.ReleaseFrame(frame)
		d.Stats.TxErrors.Add(1)
		return ErrShortFrame
	}
	d.txMu.Lock()
	defer d.txMu.Unlock()
	if slot, off, ok := d.lentSlotLocked(frame); ok {
		return d.transmitInPlaceLocked(frame, h, slot, off)
	}
	slot, ok := d.txSlotLocked(pool)
	if !ok {
		d.Stats.TxDropped.Add(1)
		return link.ErrQueueFull
	}
	b := pool.buf(slot)
	h.put(b)
	n := hdrLen + buf.Copy(b[hdrLen:], frame)
	head, err := d.txq.Add([]virtio.Buf{{Phys: pool.slotPhys(slot), Len: uint32(n)}})
	if err != nil { // cannot happen: txSlotLocked saw a free descriptor
		pool.put(slot)
		d.Stats.TxDropped.Add(1)
		return link.ErrQueueFull
	}
	pool.slotOf[head] = slot
	d.txBig[head] = pool == d.gsoPool
	d.kickOrDeferLocked(n)
	d.Stats.TxPackets.Add(1)
	d.Stats.TxBytes.Add(uint64(len(frame)))
	return nil
}

// transmitInPlaceLocked queues a frame that lies in the lent gsoPool
// slot at offset off, its virtio_net_hdr written just in front of it: the
// device reads it where the stack built it, without a copy.
func (d *Device) transmitInPlaceLocked(frame []byte, h txHdr, slot, off int) error {
	pool := d.gsoPool
	if _, ok := d.txSlotLocked(nil); !ok {
		pool.put(slot)
		d.Stats.TxDropped.Add(1)
		return link.ErrQueueFull
	}
	h.put(pool.buf(slot)[off-hdrLen:])
	n := hdrLen + len(frame)
	head, err := d.txq.Add([]virtio.Buf{{Phys: pool.slotPhys(slot) + uint64(off-hdrLen), Len: uint32(n)}})
	if err != nil { // cannot happen: txSlotLocked saw a free descriptor
		pool.put(slot)
		d.Stats.TxDropped.Add(1)
		return link.ErrQueueFull
	}
	pool.slotOf[head] = slot
	d.txBig[head] = true
	d.kickOrDeferLocked(n)
	d.Stats.TxPackets.Add(1)
	d.Stats.TxInPlace.Add(1)
	d.Stats.TxBytes.Add(uint64(len(frame)))
	return nil
}

// AllocFrame implements link.FrameAllocator: it lends the stack a 64 KiB
// transmit slot to build a large frame in, or returns nil when n does not
// fit or none is free (the stack then allocates and Transmit copies).
//
// Linux: what dma_map_single of the skb's data achieves: no copy into a
// bounce buffer.
func (d *Device) AllocFrame(n int) []byte {
	if d.gsoPool == nil || n > gsoSlotSize {
		return nil
	}
	d.txMu.Lock()
	defer d.txMu.Unlock()
	d.reclaimTxLocked()
	slot, ok := d.gsoPool.get()
	if !ok {
		return nil
	}
	return d.gsoPool.buf(slot)[:n]
}

// ReleaseFrame implements link.FrameAllocator: a lent slot whose frame
// will never reach Transmit goes back to the pool; other buffers are
// ignored.
func (d *Device) ReleaseFrame(b []byte) {
	if d.gsoPool == nil {
		return
	}
	d.txMu.Lock()
	defer d.txMu.Unlock()
	if slot, _, ok := d.gsoPool.slotAt(b); ok {
		d.gsoPool.put(slot)
	}
}

// lentSlotLocked reports whether frame lies in a gsoPool slot with room
// for the virtio_net_hdr in front of it.
func (d *Device) lentSlotLocked(frame []byte) (slot, off int, ok bool) {
	if d.gsoPool == nil {
		return 0, 0, false
	}
	slot, off, ok = d.gsoPool.slotAt(frame)
	if ok && off < hdrLen {
		d.gsoPool.put(slot) // built without headroom: copied below instead
		return 0, 0, false
	}
	return slot, off, ok
}

// txSlotLocked returns a free buffer of pool (none when pool is nil) once
// a descriptor is free too, reclaiming completed transmissions and, when
// either is exhausted, waiting (with txMu released) for the device to
// finish some.
//
// Linux: free_old_xmit_skbs + netif_stop_queue/netif_wake_queue
func (d *Device) txSlotLocked(pool *dmaPool) (int, bool) {
	for step := 0; ; step++ {
		d.reclaimTxLocked()
		if d.txq.NumFree() > 0 {
			if pool == nil {
				return 0, true
			}
			if slot, ok := pool.get(); ok {
				return slot, true
			}
		}
		if step == txWaitSteps {
			return 0, false
		}
		if d.txq.EnableInterrupts() {
			d.txq.DisableInterrupts()
			continue
		}
		d.txMu.Unlock()
		d.txWaiting.Add(1)
		select {
		case <-d.txSpace:
		case <-time.After(txWaitStep):
		}
		d.txWaiting.Add(-1)
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
		pool := d.txPool
		if d.txBig[head] {
			pool = d.gsoPool
		}
		pool.put(pool.slotOf[head])
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

// kickBudget bounds the bytes queued behind one deferred notification.
//
// A notification is a write to the device's notify register. Under QEMU's
// TCG that write waits for the lock the I/O thread holds while it moves
// frames to and from the host (64 KiB ones under offload), so each one
// costs about as much as copying a frame: make profile put 17% of a
// receive's and 45% of a transmit's guest time there, most of it for
// frames queued one at a time (an ACK, a 64 KiB segment). So a frame never
// kicks by itself: the kicker goroutine does, once the goroutine that
// queued it blocks or yields, covering everything queued meanwhile — a
// NAPI poll's worth of ACKs, a sender's burst until its buffer fills
// (Linux reaches the same with xmit_more from the qdisc). Only past
// kickBudget bytes does a sender kick at once, so the device is never left
// idle behind a long burst. At 128 KiB a bulk sender on tap kicked every
// second 64 KiB segment (1,717 notifications per 4 x 64 MiB), and each
// waited for QEMU to finish the previous ones; at 512 KiB it kicks a third
// as often and waits about as long in all, but sends faster (A/B on tap,
// alternating, both orders: 1.07-1.67x guest→host).
const kickBudget = 512 << 10

// kickBudgetMSS is kickBudget for a device without segmentation offload
// (QEMU's user networking): a burst there is a window of MSS frames, 64
// KiB when the peer does not scale windows (slirp), so at 512 KiB it went
// out behind one notification after it was all built, and that
// notification waited about 425 µs for QEMU (a quarter of the guest's
// time). Kicking after every 8 KiB (five or six frames) lets QEMU's I/O
// thread start on the frames while the rest are built; the device
// suppresses notifications while it works (VIRTQ_USED_F_NO_NOTIFY) or
// takes them cheaply. make profile, user networking guest→host, 4 x 64
// MiB, the runs one after another: 512 KiB 32-41 MB/s, 16 KiB 44-47, 8
// KiB 44-53, 4 KiB 45-54 with 1.7 times the notifications of 8 KiB; A/B
// alternating, 16 KiB against 512 KiB 1.34x, 8 KiB against 16 KiB 1.18x.
const kickBudgetMSS = 8 << 10

// kickOrDeferLocked notifies the device of n bytes just queued: now past
// the budget; else when the sender is done. Who that is decides who
// notifies: a receive poll when it ends (napiPoll); a user task when it
// leaves the network code — at the end of its system call, or before it
// sleeps in one (FlushTx); a goroutine through the kicker, which runs
// when it sleeps, on the same P. A user task does not leave it to the
// kicker: its thread keeps the P through its return to user mode and the
// system calls after it, and a sleeping task may keep it too
// (sched/ksleep.go), so the kicker would wait for the P to be handed over
// — a user server's "hi" went out after its close, its next accept and
// that hand-over (hello→"hi" 430–580 µs on the wire, 360–420 when the
// task notified itself; docs/performance.md).
func (d *Device) kickOrDeferLocked(n int) {
	d.unkicked += n
	budget := kickBudget
	if d.gsoPool == nil {
		budget = kickBudgetMSS
	}
	if d.unkicked >= budget {
		d.kickLocked()
		return
	}
	switch {
	case d.napi:
		// the receive poll notifies when it ends
	case sched.OnUserTask():
		d.flushOwed.Store(true)
	default:
		sched.Kick(d.kickCh)
	}
}

// kicker sends the notifications deferred by kickOrDeferLocked.
func (d *Device) kicker() {
	for range d.kickCh {
		d.txMu.Lock()
		if d.unkicked > 0 {
			d.kickLocked()
		}
		d.txMu.Unlock()
	}
}

// kickLocked notifies the device of everything queued so far.
func (d *Device) kickLocked() {
	d.unkicked = 0
	d.flushOwed.Store(false)
	d.kick(d.txq)
}

// FlushTx implements link.TxFlushDevice: it sends the notification a user
// task's sending left for it.
func (d *Device) FlushTx() {
	if !d.flushOwed.Load() {
		return
	}
	d.txMu.Lock()
	if d.unkicked > 0 {
		d.kickLocked()
	}
	d.flushOwed.Store(false)
	d.txMu.Unlock()
}
