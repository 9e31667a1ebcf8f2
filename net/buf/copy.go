// Package buf holds the packet-buffer helpers the data path shares from
// the NIC driver up to the socket: a copy that stays fast under QEMU's
// TCG, where the guest runs all of its instructions in software.
package buf

import "unsafe"

// chunk is the largest copy the runtime's memmove does with SSE moves;
// above it, it uses REP MOVSQ when source and destination are 8-byte
// aligned and REP MOVSB otherwise.
const chunk = 2048

// Copy is copy(dst, src) for packet data. Under TCG, REP MOVSB moves a
// byte per emulated iteration: measured in the guest, a 64 KiB copy with
// misaligned ends (a TCP payload 66 bytes into a frame, say) ran at
// 0.46 GB/s against 3.5 GB/s for REP MOVSQ and 1.8 GB/s for SSE moves.
// Copy aligns both ends when they are equally misaligned (REP MOVSQ for
// the rest) and otherwise copies in pieces of at most 2 KiB (SSE).
func Copy(dst, src []byte) int {
	n := min(len(dst), len(src))
	if n <= chunk {
		return copy(dst, src)
	}
	d := uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	s := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	if (d-s)&7 == 0 {
		head := int(-d & 7)
		copy(dst[:head], src[:head])
		copy(dst[head:n], src[head:n])
		return n
	}
	for i := 0; i < n; i += chunk {
		e := min(i+chunk, n)
		copy(dst[i:e], src[i:e])
	}
	return n
}

// Append is append(dst, src...) through Copy.
func Append(dst, src []byte) []byte {
	n := len(dst)
	if cap(dst)-n < len(src) {
		grown := make([]byte, n, max(2*cap(dst), n+len(src)))
		Copy(grown, dst)
		dst = grown
	}
	dst = dst[:n+len(src)]
	Copy(dst[n:], src)
	return dst
}
