// Package link defines the network device interface the stack drives
// (Linux: struct net_device and its net_device_ops) and the devices that
// need no hardware: a loopback device and an in-memory point-to-point pipe
// with impairments for tests.
//
// A driver implements Device. Received frames go up through the Receiver
// the stack attaches (Linux: netif_receive_skb); transmitted frames come
// down through Device.Transmit (Linux: ndo_start_xmit via dev_queue_xmit).
// Drivers call DeliverFrame from their own receive goroutine, never from
// inside Transmit, so the stack is never re-entered from its own output path.
package link

import (
	"errors"

	"gomenuos/net/header"
)

// Features are the capability bits of a device (Linux: IFF_* and NETIF_F_*).
type Features uint32

const (
	// FeatureLoopback: frames never leave the host (IFF_LOOPBACK).
	FeatureLoopback Features = 1 << iota
	// FeatureNoARP: the device needs no neighbour resolution (IFF_NOARP).
	FeatureNoARP
	// FeatureRxChecksum: the transport checksums of the frames the device
	// delivers need no check (NETIF_F_RXCSUM): it verified them
	// (CHECKSUM_UNNECESSARY), or a frame that never crossed a wire keeps
	// the partial checksum field its sender left (CHECKSUM_PARTIAL: a
	// segment the host coalesced, say).
	FeatureRxChecksum
	// FeatureTxChecksum: the device fills in transport checksums (NETIF_F_HW_CSUM).
	FeatureTxChecksum
)

// Has reports whether every bit of want is set in f.
func (f Features) Has(want Features) bool { return f&want == want }

// Device is a network device as the stack sees it. Implementations must be
// safe for concurrent use: the stack may transmit from any goroutine.
type Device interface {
	// Name is the interface name ("lo", "eth0").
	Name() string
	// MTU is the largest network-layer packet (Ethernet payload) the
	// device carries.
	MTU() int
	// HardwareAddr is the device's Ethernet address (zero for loopback).
	HardwareAddr() header.MAC
	// Features reports the device's capability bits.
	Features() Features
	// Transmit sends one complete Ethernet frame (Linux: ndo_start_xmit).
	// Ownership of frame passes to the driver whether or not it returns an
	// error; the caller must not touch it again.
	Transmit(frame []byte) error
	// Attach sets the receiver that the driver hands every received frame
	// to. It is called once, before the device is used.
	Attach(r Receiver)
}

// Receiver takes frames a device received (Linux: netif_receive_skb). The
// frame belongs to the receiver from then on. DeliverFrame is called from
// the driver's receive goroutine and may block briefly while the stack
// processes the frame; it must not be called from inside Transmit.
type Receiver interface {
	DeliverFrame(dev Device, frame []byte)
}

// BatchReceiver is a Receiver that wants to know where a driver's burst
// of frames begins and ends (Linux: a NAPI poll, at whose end
// napi_complete flushes GRO): the stack merges in-order TCP segments of a
// burst (GRO) and TCP acknowledges once per burst what it would have
// acknowledged every second segment, as Linux does for the segments GRO
// merged. Drivers call BeginBatch before delivering a burst and EndBatch
// after it, from their receive goroutine; frames delivered in between may
// reach the stack only at EndBatch.
//
// A driver may deliver a burst's frames in its own receive buffers
// (net/buf's lent buffers): such a frame stays valid until EndBatch
// returns, and whatever keeps some of it longer takes a reference with
// buf.Hold and gives it back with buf.Release (TCP's receive queue does;
// UDP, ICMP and IP reassembly copy what they keep).
type BatchReceiver interface {
	Receiver
	BeginBatch(dev Device)
	EndBatch(dev Device)
}

// BacklogDevice is a device whose received frames wait in a backlog that
// a task leaving the network code may process itself (the loopback; Linux:
// the per-CPU backlog that do_softirq drains at local_bh_enable).
type BacklogDevice interface {
	Device
	ProcessBacklog()
}

// TxFlushDevice is a device that holds back the notification of frames
// it was given until their sender is done (virtio-net: see its
// kickOrDeferLocked). A task leaving the network code — after a call that
// sent, before it sleeps (Stack.DoSoftirq) — calls FlushTx, which sends
// what that device holds back for it (Linux: the doorbell a driver rings
// at the end of a dev_queue_xmit without xmit_more).
type TxFlushDevice interface {
	Device
	FlushTx()
}

// Errors returned by Transmit.
var (
	// ErrQueueFull: the device's transmit or backlog queue is full and the
	// frame was dropped (Linux: NET_XMIT_DROP, ENOBUFS).
	ErrQueueFull = errors.New("link: queue full")
	// ErrClosed: the device has been closed.
	ErrClosed = errors.New("link: device closed")
	// ErrTooBig: the frame exceeds the device MTU plus link header.
	ErrTooBig = errors.New("link: frame larger than MTU")
)

// FrameAllocator is a Device that lends the stack transmit buffers in its
// own DMA memory: a frame built in one (at least 12 bytes after its start,
// room for the device's own header) is sent from there by Transmit or
// TransmitGSO, without the copy into a device buffer (Linux: what mapping
// the skb's data for DMA achieves). Under TCG that copy and the
// allocation of a 64 KiB heap buffer per segment were a third of a bulk
// sender's time.
type FrameAllocator interface {
	Device
	// AllocFrame returns a buffer of n bytes, or nil when none is free or
	// n is too large: the caller then allocates its own.
	AllocFrame(n int) []byte
	// ReleaseFrame gives back a lent buffer whose frame will never be
	// transmitted (dropped on the way); buffers it did not lend are
	// ignored.
	ReleaseFrame(b []byte)
}

// GSODevice is a Device that cuts one large TCP frame into MSS-sized
// segments itself (Linux: NETIF_F_TSO, the device side of GSO). The frame's
// TCP checksum field holds the folded pseudo-header sum over the whole
// segment's length, as for a checksum-offload frame.
type GSODevice interface {
	Device
	// GSOMaxSize is the largest frame TransmitGSO takes; 0 when the
	// device cannot segment right now.
	GSOMaxSize() int
	// TransmitGSO sends frame as segments of mss payload bytes; the TCP
	// header starts at csumStart.
	TransmitGSO(frame []byte, csumStart, mss int) error
}
