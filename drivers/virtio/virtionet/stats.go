package virtionet

import (
	"fmt"
	"io"
	"sync/atomic"
)

// Stats are the device counters (Linux: struct rtnl_link_stats64 plus
// virtio-net's per-reason detail). All fields are atomic.
type Stats struct {
	RxPackets, RxBytes, RxDropped, RxErrors atomic.Uint64
	TxPackets, TxBytes, TxDropped, TxErrors atomic.Uint64
	// Receive errors by reason; each also counts in RxErrors.
	RxShort, RxOversize, RxBadHdr, RxMissingBufs, RxBadUsed, RxBadCsum atomic.Uint64
	// Partial checksums the driver completed (VIRTIO_NET_HDR_F_NEEDS_CSUM)
	// and frames the device had validated (VIRTIO_NET_HDR_F_DATA_VALID).
	RxCsumCompleted, RxCsumValid atomic.Uint64
	// Coalesced TCP segments larger than the MTU (VIRTIO_NET_F_GUEST_TSO4).
	RxGSO atomic.Uint64
	// Frames sent from the slot they were built in (AllocFrame), uncopied.
	TxInPlace atomic.Uint64
	// Frames handed to the stack in their receive buffers, uncopied.
	RxLent atomic.Uint64
	// Interrupts taken (Softirqs of them by a user task, not the
	// receive goroutine) and notifications sent (Kicks; RxKicks of them
	// for the receive queue's refills).
	Interrupts, Softirqs, Kicks, RxKicks atomic.Uint64
}

// rxError counts a malformed receive under its reason.
func (s *Stats) rxError(err error) {
	s.RxErrors.Add(1)
	switch err {
	case ErrShortFrame:
		s.RxShort.Add(1)
	case ErrOversize:
		s.RxOversize.Add(1)
	case ErrMissingBufs:
		s.RxMissingBufs.Add(1)
	case ErrBadCsum:
		s.RxBadCsum.Add(1)
	default:
		s.RxBadHdr.Add(1)
	}
}

// WriteTo writes the counters in ifconfig's layout.
func (s *Stats) WriteTo(w io.Writer) (int64, error) {
	n, err := fmt.Fprintf(w,
		"RX packets %d  bytes %d\n"+
			"RX errors %d  dropped %d  (short %d oversize %d header %d missing-bufs %d bad-used %d csum %d)\n"+
			"RX csum completed %d  device-validated %d  coalesced %d  lent in place %d\n"+
			"TX packets %d  bytes %d\n"+
			"TX errors %d  dropped %d  sent in place %d\n"+
			"interrupts %d (run on user tasks %d)  kicks %d (receive refills %d)\n",
		s.RxPackets.Load(), s.RxBytes.Load(),
		s.RxErrors.Load(), s.RxDropped.Load(), s.RxShort.Load(), s.RxOversize.Load(), s.RxBadHdr.Load(),
		s.RxMissingBufs.Load(), s.RxBadUsed.Load(), s.RxBadCsum.Load(),
		s.RxCsumCompleted.Load(), s.RxCsumValid.Load(), s.RxGSO.Load(), s.RxLent.Load(),
		s.TxPackets.Load(), s.TxBytes.Load(),
		s.TxErrors.Load(), s.TxDropped.Load(), s.TxInPlace.Load(),
		s.Interrupts.Load(), s.Softirqs.Load(), s.Kicks.Load(), s.RxKicks.Load())
	return int64(n), err
}
