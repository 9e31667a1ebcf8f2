package tcp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"time"
)

// secretKey is one 128-bit SipHash key.
type secretKey [16]byte

// secrets are the instance's keys, one per use, so that no output of one
// (a port, a TSval offset, a cookie, on the wire) says anything about
// another (Linux: net_secret, ts_secret, syncookie_secret, each drawn on
// its own).
type secrets struct {
	isn, ts, cookie, port secretKey
}

// newSecrets draws every key from the system's cryptographic generator,
// or, for reproducible tests, derives each from seed with SHA-256 and a
// label of its own.
func newSecrets(seed *[32]byte) secrets {
	var k secrets
	for i, key := range []*secretKey{&k.isn, &k.ts, &k.cookie, &k.port} {
		if seed == nil {
			_, _ = rand.Read(key[:])
			continue
		}
		h := sha256.Sum256(append([]byte{byte(i), 'k', 'e', 'y'}, seed[:]...))
		copy(key[:], h[:])
	}
	return k
}

// keyedHash is F() of RFC 6528 §3: a keyed hash of the connection-id
// with an extra word. Like Linux (secure_tcp_seq) it is SipHash-2-4.
func keyedHash(key *secretKey, t fourTuple, extra uint32) uint64 {
	var m [16]byte
	la, ra := t.laddr.As4(), t.raddr.As4()
	copy(m[0:], la[:])
	copy(m[4:], ra[:])
	binary.BigEndian.PutUint16(m[8:], t.lport)
	binary.BigEndian.PutUint16(m[10:], t.rport)
	binary.BigEndian.PutUint32(m[12:], extra)
	k0 := binary.LittleEndian.Uint64(key[0:])
	k1 := binary.LittleEndian.Uint64(key[8:])
	return siphash24(k0, k1, m[:])
}

// siphash24 is SipHash-2-4 (Aumasson and Bernstein, 2012).
func siphash24(k0, k1 uint64, m []byte) uint64 {
	v := [4]uint64{k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573}
	last := uint64(len(m)) << 56
	for ; len(m) >= 8; m = m[8:] {
		w := binary.LittleEndian.Uint64(m)
		v[3] ^= w
		sipRound(&v)
		sipRound(&v)
		v[0] ^= w
	}
	for i, c := range m {
		last |= uint64(c) << (8 * i)
	}
	v[3] ^= last
	sipRound(&v)
	sipRound(&v)
	v[0] ^= last
	v[2] ^= 0xff
	for range 4 {
		sipRound(&v)
	}
	return v[0] ^ v[1] ^ v[2] ^ v[3]
}

func sipRound(v *[4]uint64) {
	v[0] += v[1]
	v[1] = bits.RotateLeft64(v[1], 13) ^ v[0]
	v[0] = bits.RotateLeft64(v[0], 32)
	v[2] += v[3]
	v[3] = bits.RotateLeft64(v[3], 16) ^ v[2]
	v[0] += v[3]
	v[3] = bits.RotateLeft64(v[3], 21) ^ v[0]
	v[2] += v[1]
	v[1] = bits.RotateLeft64(v[1], 17) ^ v[2]
	v[2] = bits.RotateLeft64(v[2], 32)
}

// secureSeq returns an initial sequence number: ISN = M + F(localip,
// localport, remoteip, remoteport, secretkey), M a 4 µs clock (RFC 6528
// §3; Linux: secure_tcp_seq).
func (p *Proto) secureSeq(t fourTuple) seqnum {
	m := uint32(p.now().Sub(p.start) / (4 * time.Microsecond))
	return seqnum(m + uint32(keyedHash(&p.keys.isn, t, 0)))
}

// tsOffset randomises TSval per connection (Linux: secure_tcp_ts_off).
func (p *Proto) tsOffset(t fourTuple) uint32 { return uint32(keyedHash(&p.keys.ts, t, 0)) }

// portOffset is RFC 6056 §3.3.4's F(local address, remote address, remote
// port, secret) for choosing ephemeral ports (Linux:
// secure_ipv4_port_ephemeral).
func (p *Proto) portOffset(laddr, raddr netip.Addr, rport uint16) uint64 {
	return keyedHash(&p.keys.port, fourTuple{laddr: laddr, raddr: raddr, rport: rport}, 0)
}
