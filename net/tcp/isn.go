package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// keyedHash is F() of RFC 6528 §3: a hash of the connection-id and a
// secret key, with an extra word for SYN cookies and TS offsets.
func (p *Proto) keyedHash(t fourTuple, extra uint32) uint32 {
	var b [32 + 4 + 4 + 4 + 4 + 4]byte
	copy(b[:32], p.secret[:])
	la, ra := t.laddr.As4(), t.raddr.As4()
	copy(b[32:], la[:])
	copy(b[36:], ra[:])
	binary.BigEndian.PutUint16(b[40:], t.lport)
	binary.BigEndian.PutUint16(b[42:], t.rport)
	binary.BigEndian.PutUint32(b[44:], extra)
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint32(sum[:4])
}

// secureSeq returns an initial sequence number: ISN = M + F(localip,
// localport, remoteip, remoteport, secretkey), M a 4 µs clock (RFC 6528
// §3; Linux: secure_tcp_seq).
func (p *Proto) secureSeq(t fourTuple) seqnum {
	m := uint32(p.now().Sub(p.start) / (4 * time.Microsecond))
	return seqnum(m + p.keyedHash(t, 0))
}

// tsOffset randomises TSval per connection (Linux: secure_tcp_ts_off).
func (p *Proto) tsOffset(t fourTuple) uint32 { return p.keyedHash(t, 1) }
