package netcmd

import "encoding/binary"

// BulkStream is the deterministic pseudo-random byte stream tcpsource
// sends (xorshift64*, fixed seed), so the host can check content as well
// as length: the same bytes come out of every NewBulkStream.
type BulkStream struct {
	x    uint64
	tail [8]byte // unread bytes of the last word
	n    int     // how many of tail are unread (from the end)
}

// bulkSeed seeds every stream.
const bulkSeed = 0x9e3779b97f4a7c15

// NewBulkStream returns a stream at its first byte.
func NewBulkStream() *BulkStream { return &BulkStream{x: bulkSeed} }

func (s *BulkStream) next() uint64 {
	s.x ^= s.x >> 12
	s.x ^= s.x << 25
	s.x ^= s.x >> 27
	return s.x * 0x2545f4914f6cdd1d
}

// Read fills b with the next len(b) bytes; it never fails.
func (s *BulkStream) Read(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && s.n > 0 {
		b[0] = s.tail[8-s.n]
		b, s.n = b[1:], s.n-1
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, s.next())
		b = b[8:]
	}
	if len(b) > 0 {
		binary.LittleEndian.PutUint64(s.tail[:], s.next())
		s.n = 8 - copy(b, s.tail[:])
	}
	return n, nil
}
