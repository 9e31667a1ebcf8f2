package linux

// The kernel's random source for getrandom and AT_RANDOM: a ChaCha20
// keystream (RFC 8439 block function) keyed from RDSEED/RDRAND when the CPU
// has it and always mixed with TSC jitter. The key is replaced after every
// request (fast key erasure), so earlier outputs cannot be recovered.

import (
	"math/bits"

	"gomenuos/arch/x86"
)

var rng struct {
	key     [8]uint32
	counter uint32
	hwRand  bool
	seeded  bool
}

func quarter(a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	a += b
	d = bits.RotateLeft32(d^a, 16)
	c += d
	b = bits.RotateLeft32(b^c, 12)
	a += b
	d = bits.RotateLeft32(d^a, 8)
	c += d
	b = bits.RotateLeft32(b^c, 7)
	return a, b, c, d
}

// chachaBlock computes one 64-byte ChaCha20 block (nonce fixed at zero).
func chachaBlock(key *[8]uint32, counter uint32, out *[16]uint32) {
	var s [16]uint32
	s[0], s[1], s[2], s[3] = 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574
	copy(s[4:12], key[:])
	s[12] = counter
	x := s
	for i := 0; i < 10; i++ {
		x[0], x[4], x[8], x[12] = quarter(x[0], x[4], x[8], x[12])
		x[1], x[5], x[9], x[13] = quarter(x[1], x[5], x[9], x[13])
		x[2], x[6], x[10], x[14] = quarter(x[2], x[6], x[10], x[14])
		x[3], x[7], x[11], x[15] = quarter(x[3], x[7], x[11], x[15])
		x[0], x[5], x[10], x[15] = quarter(x[0], x[5], x[10], x[15])
		x[1], x[6], x[11], x[12] = quarter(x[1], x[6], x[11], x[12])
		x[2], x[7], x[8], x[13] = quarter(x[2], x[7], x[8], x[13])
		x[3], x[4], x[9], x[14] = quarter(x[3], x[4], x[9], x[14])
	}
	for i := range out {
		out[i] = x[i] + s[i]
	}
}

// jitter gathers entropy from the timing noise of port I/O: each sample's
// TSC delta low bits vary with emulator and host scheduling.
func jitter() uint64 {
	var h uint64 = 0xcbf29ce484222325
	for i := 0; i < 64; i++ {
		t0 := x86.Rdtsc()
		x86.Inb(0x80)
		d := x86.Rdtsc() - t0
		h = (h ^ d) * 0x100000001b3
		h = bits.RotateLeft64(h, 7) ^ t0
	}
	return h
}

func initRandom() {
	rng.hwRand = x86.HasRDRAND()
	reseed()
}

// reseed mixes fresh hardware randomness and jitter into the key.
func reseed() {
	for i := 0; i < 8; i += 2 {
		v := jitter()
		if rng.hwRand {
			if r, ok := x86.Rdrand(); ok {
				v ^= r
			}
		}
		rng.key[i] ^= uint32(v)
		rng.key[i+1] ^= uint32(v >> 32)
	}
	rng.seeded = true
}

// fillRandom writes n random bytes at addr.
func fillRandom(addr, n uintptr) {
	var blk [16]uint32
	for n > 0 {
		chachaBlock(&rng.key, rng.counter, &blk)
		rng.counter++
		for i := 0; i < 64 && n > 0; i++ {
			*(*byte)(ptr(addr)) = byte(blk[i/4] >> (8 * (i % 4)))
			addr++
			n--
		}
	}
	// Fast key erasure: the next key comes from a block never output.
	chachaBlock(&rng.key, rng.counter, &blk)
	rng.counter++
	copy(rng.key[:], blk[:8])
}
