package tcp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"gomenuos/net/checksum"
	"gomenuos/net/clock"
	"gomenuos/net/header"
)

// The software fallback cuts an offloaded segment exactly as a device
// would: consecutive sequence numbers, FIN and PSH on the last piece
// only, every piece with a full, valid checksum.
func TestSoftwareSegmentMatchesDeviceCut(t *testing.T) {
	const mss = 100
	data := bytes.Repeat([]byte("0123456789"), 35) // 3.5 MSS
	f := header.TCPFields{SrcPort: 4000, DstPort: 80, Seq: 1000, Ack: 7, Flags: flagAck | flagPsh | flagFin, Window: 512}
	seg := make([]byte, header.TCPMinimumSize+len(data))
	n := header.EncodeTCP(seg, &f)
	copy(seg[n:], data)
	ph := checksum.PseudoHeaderIPv4(addrA.As4(), addrB.As4(), 6, uint16(len(seg)))
	binary.BigEndian.PutUint16(seg[16:], checksum.Fold(ph))

	pieces := softwareSegment(seg, addrA, addrB, mss)
	if len(pieces) != 4 {
		t.Fatalf("%d pieces, want 4", len(pieces))
	}
	var got []byte
	for i, buf := range pieces {
		p := buf[MaxHeaderRoom:]
		h, err := header.ParseTCP(p)
		if err != nil {
			t.Fatal(err)
		}
		if !h.ChecksumValid(checksum.PseudoHeaderIPv4(addrA.As4(), addrB.As4(), 6, uint16(len(p)))) {
			t.Errorf("piece %d: bad checksum", i)
		}
		if h.Seq() != uint32(1000+i*mss) {
			t.Errorf("piece %d: seq %d", i, h.Seq())
		}
		last := i == len(pieces)-1
		if (h.Flags()&flagFin != 0) != last || (h.Flags()&flagPsh != 0) != last || h.Flags()&flagAck == 0 {
			t.Errorf("piece %d: flags %#x", i, h.Flags())
		}
		got = append(got, h.Payload()...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("payload differs")
	}
}

// lendingIP is a fakeIP whose device segments (GSO) and lends transmit
// buffers; its GSO output can be made to fail, as when the neighbour went
// stale between routing and sending.
type lendingIP struct {
	*fakeIP
	gsoFails bool
	lent     [][]byte // buffers AllocTx lent
	released [][]byte // buffers given back with ReleaseTx
	gsoSent  int
}

func (l *lendingIP) RouteGSO(dst netip.Addr) int { return 60000 }
func (l *lendingIP) OutputIPv4GSO(src, dst netip.Addr, tos uint8, buf []byte, off, mss int) error {
	if l.gsoFails {
		return errors.New("neighbour stale")
	}
	l.gsoSent++
	return nil
}
func (l *lendingIP) AllocTx(dst netip.Addr, n int) []byte {
	b := make([]byte, n)
	l.lent = append(l.lent, b)
	return b
}
func (l *lendingIP) ReleaseTx(b []byte) { l.released = append(l.released, b) }

// Offloaded segments are built in buffers the device lends; one the
// device cannot take after all is cut in software and its buffer given
// back, so the device's pool never leaks.
func TestLentSegmentBufferReleasedOnFallback(t *testing.T) {
	v := clock.NewVirtual(epoch)
	ip := &lendingIP{fakeIP: &fakeIP{addr: addrA, mtu: 1500}}
	ip.proto = New(ip, v, testConfig())
	sc := &script{t: t, clock: v, ip: ip.fakeIP, p: ip.proto}
	s, iss := sc.established(&header.TCPOptions{HasMSS: true, MSS: 1000, HasWS: true, WS: 7})
	data := bytes.Repeat([]byte("x"), 9000)
	if _, err := s.Send(data); err != nil {
		t.Fatal(err)
	}
	if ip.gsoSent == 0 || len(ip.lent) < ip.gsoSent || len(ip.released) != 0 {
		t.Fatalf("%d offloaded segments, %d buffers lent, %d released; want lent buffers, none released",
			ip.gsoSent, len(ip.lent), len(ip.released))
	}
	ip.gsoFails = true
	ip.lent, ip.sent = nil, nil
	sc.inject(seg{dport: s.LocalAddr().Port(), seq: peerISS + 1, ack: iss + 1 + 9000, flags: flagAck, wnd: 1000})
	if _, err := s.Send(data); err != nil {
		t.Fatal(err)
	}
	if len(ip.lent) == 0 || len(ip.released) != len(ip.lent) {
		t.Fatalf("after failed offloads: %d lent, %d released", len(ip.lent), len(ip.released))
	}
	if len(ip.sent) == 0 {
		t.Fatal("the failed offload was not sent in software")
	}
}
