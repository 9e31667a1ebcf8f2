package integration

import (
	"encoding/binary"
	"math/rand"
	"net"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// packetSock is an AF_PACKET socket on the namespace's tap: what it sends
// goes out of the tap into QEMU, i.e. to the guest, byte for byte; what
// it reads is every frame on the tap either way.
type packetSock struct {
	c   *packet.Conn
	mac net.HardwareAddr // the tap's own address (the Linux side)
}

// openPacket opens the socket inside ns (call from ns.Do): the socket
// belongs to the namespace it was made in.
func openPacket(ifname string) (*packetSock, error) {
	ifc, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	c, err := packet.Listen(ifc, packet.Raw, unix.ETH_P_ALL, nil)
	if err != nil {
		return nil, err
	}
	return &packetSock{c: c, mac: ifc.HardwareAddr}, nil
}

// send writes a whole Ethernet frame (its own header says where to).
func (p *packetSock) send(frame []byte) error {
	_, err := p.c.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[:6])})
	return err
}

// recv reads one frame, or fails after 100 ms without one.
func (p *packetSock) recv(buf []byte) (int, error) {
	if err := p.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		return 0, err
	}
	n, _, err := p.c.ReadFrom(buf)
	return n, err
}

func (p *packetSock) close() { p.c.Close() }

// Frame building: just enough IPv4/TCP/ICMP/ARP to aim at the guest.

func csum(b []byte, initial uint32) uint16 {
	s := initial
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func ether(dst, src net.HardwareAddr, typ uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], typ)
	return append(f, payload...)
}

// ipv4 wraps payload in a 20-byte header with a correct checksum.
func ipv4(src, dst net.IP, proto byte, id uint16, fragOff uint16, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	binary.BigEndian.PutUint16(h[6:], fragOff)
	copy(h[12:], src.To4())
	copy(h[16:], dst.To4())
	binary.BigEndian.PutUint16(h[10:], csum(h, 0))
	return append(h, payload...)
}

const (
	tcpFin = 0x01
	tcpSyn = 0x02
	tcpRst = 0x04
	tcpPsh = 0x08
	tcpAck = 0x10
)

// tcpSeg is a 20-byte TCP header plus data with a correct checksum.
func tcpSeg(src, dst net.IP, sport, dport uint16, seq, ack uint32, flags byte, win uint16, data []byte) []byte {
	t := make([]byte, 20, 20+len(data))
	binary.BigEndian.PutUint16(t[0:], sport)
	binary.BigEndian.PutUint16(t[2:], dport)
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint32(t[8:], ack)
	t[12], t[13] = 5<<4, flags
	binary.BigEndian.PutUint16(t[14:], win)
	t = append(t, data...)
	var pseudo uint32
	for _, ip := range []net.IP{src.To4(), dst.To4()} {
		pseudo += uint32(ip[0])<<8 | uint32(ip[1]) + uint32(ip[2])<<8 | uint32(ip[3])
	}
	pseudo += 6 + uint32(len(t))
	binary.BigEndian.PutUint16(t[16:], csum(t, pseudo))
	return t
}

func icmpEcho(id, seq uint16, data []byte) []byte {
	m := make([]byte, 8, 8+len(data))
	m[0] = 8
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	m = append(m, data...)
	binary.BigEndian.PutUint16(m[2:], csum(m, 0))
	return m
}

func arpRequest(srcMAC net.HardwareAddr, srcIP, dstIP net.IP) []byte {
	a := make([]byte, 28)
	binary.BigEndian.PutUint16(a[0:], 1)
	binary.BigEndian.PutUint16(a[2:], 0x0800)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 1)
	copy(a[8:], srcMAC)
	copy(a[14:], srcIP.To4())
	copy(a[24:], dstIP.To4())
	return a
}

// frameFuzzer makes a seeded stream of broken frames aimed at the guest:
// random bytes, truncations, bit flips of valid frames, bad checksums,
// bogus lengths and header sizes, fragments, ARP garbage.
type frameFuzzer struct {
	rng         *rand.Rand
	dst, src    net.HardwareAddr
	guest, host net.IP
}

func (f *frameFuzzer) valid() []byte {
	r := f.rng
	switch r.Intn(5) {
	case 0:
		return ether(f.dst, f.src, 0x0806, arpRequest(f.src, f.host, f.guest))
	case 1:
		return ether(f.dst, f.src, 0x0800, ipv4(f.host, f.guest, 1, uint16(r.Int()), 0, icmpEcho(uint16(r.Int()), 1, make([]byte, r.Intn(64)))))
	case 2:
		seg := tcpSeg(f.host, f.guest, uint16(1024+r.Intn(60000)), 5001, r.Uint32(), r.Uint32(), byte(r.Intn(64)), uint16(r.Int()), make([]byte, r.Intn(100)))
		return ether(f.dst, f.src, 0x0800, ipv4(f.host, f.guest, 6, uint16(r.Int()), 0, seg))
	case 3: // a fragment: MF set or a non-zero offset
		off := uint16(r.Intn(8192)) | uint16(r.Intn(2))<<13
		return ether(f.dst, f.src, 0x0800, ipv4(f.host, f.guest, byte(r.Intn(256)), uint16(r.Int()), off, make([]byte, 8*r.Intn(20))))
	default: // UDP-ish to a random port, unknown protocols
		return ether(f.dst, f.src, 0x0800, ipv4(f.host, f.guest, byte(r.Intn(256)), uint16(r.Int()), 0, make([]byte, r.Intn(200))))
	}
}

func (f *frameFuzzer) next() []byte {
	r := f.rng
	b := f.valid()
	switch r.Intn(8) {
	case 0: // random bytes behind a plausible Ethernet header
		b = append(b[:14], make([]byte, r.Intn(1500))...)
		r.Read(b[14:])
		if r.Intn(2) == 0 {
			binary.BigEndian.PutUint16(b[12:], uint16(r.Int()))
		}
	case 1: // truncated anywhere past the Ethernet header
		b = b[:14+r.Intn(len(b)-13)]
	case 2, 3: // a few flipped bytes (headers mostly): checksums go bad
		for range 1 + r.Intn(4) {
			i := 14 + r.Intn(min(len(b)-14, 60))
			b[i] ^= byte(1 + r.Intn(255))
		}
	case 4: // bogus IPv4 total length or IHL
		if len(b) > 34 && b[12] == 8 && b[13] == 0 {
			if r.Intn(2) == 0 {
				binary.BigEndian.PutUint16(b[16:], uint16(r.Int()))
			} else {
				b[14] = 0x40 | byte(r.Intn(16))
			}
		}
	case 5: // ARP with garbage sizes and opcodes
		a := arpRequest(f.src, f.host, f.guest)
		r.Read(a[:8])
		b = ether(f.dst, f.src, 0x0806, a[:r.Intn(29)])
	case 6: // broadcast
		copy(b, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	return b
}
