package virtionet_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"gomenuos/net/checksum"
)

// tcpSegment builds a guest → host TCP/IPv4 frame; the checksum field holds
// the pseudo-header sum the device completes (NEEDS_CSUM).
func tcpSegment(dstMAC [6]byte, dport uint16, seq, ack uint32, flags uint8, payload []byte) []byte {
	f := make([]byte, 14+20+20+len(payload))
	copy(f[0:], dstMAC[:])
	copy(f[6:], nicMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	copy(ip, []byte{0x45, 0, 0, 0, 0, 2, 0x40, 0, 64, 6})
	binary.BigEndian.PutUint16(ip[2:], uint16(40+len(payload)))
	copy(ip[12:], tapGuestIP[:])
	copy(ip[16:], tapHostIP[:])
	binary.BigEndian.PutUint16(ip[10:], checksum.Checksum(ip, 0))
	tcp := f[34:]
	binary.BigEndian.PutUint16(tcp[0:], 40002)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12], tcp[13] = 5<<4, flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	copy(tcp[20:], payload)
	ph := checksum.PseudoHeaderIPv4(tapGuestIP, tapHostIP, 6, uint16(20+len(payload)))
	binary.BigEndian.PutUint16(tcp[16:], checksum.Fold(ph))
	return f
}

// TestQEMUTransmitGSOSegmentedForLinux hands the device one 30,000-byte TCP
// segment of a hand-made connection; Linux must read exactly those bytes,
// which only works if the device cut it into MSS-sized, correctly
// checksummed segments.
func TestQEMUTransmitGSOSegmentedForLinux(t *testing.T) {
	ns := tapNamespace(t)
	dev := tapNIC(t, ns)
	rx := attachChan(dev)
	if dev.GSOMaxSize() == 0 {
		t.Fatal("tap with vnet_hdr: HOST_TSO4 not negotiated")
	}
	var ln net.Listener
	var err error
	if e := <-inNamespace(ns, func() { ln, err = net.Listen("tcp", "10.0.3.1:6002") }); e != nil || err != nil {
		t.Fatal(e, err)
	}
	defer ln.Close()
	payload := randomBytes(30000, 5)
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, len(payload))
		n, _ := io.ReadFull(c, b)
		got <- b[:n]
	}()
	hostMAC := tapMAC(t, ns)
	const iss = 5000
	if err := dev.TransmitPartial(tcpSegment(hostMAC, 6002, iss, 0, 0x02, nil), 34, 16); err != nil {
		t.Fatal(err)
	}
	synAck := waitFrame(t, rx, "SYN-ACK", func(f []byte) bool {
		return len(f) >= 54 && f[23] == 6 && binary.BigEndian.Uint16(f[34:]) == 6002 && f[47]&0x12 == 0x12
	})
	hostSeq := binary.BigEndian.Uint32(synAck[38:]) + 1
	if err := dev.TransmitPartial(tcpSegment(hostMAC, 6002, iss+1, hostSeq, 0x10, nil), 34, 16); err != nil {
		t.Fatal(err)
	}
	if err := dev.TransmitGSO(tcpSegment(hostMAC, 6002, iss+1, hostSeq, 0x18, payload), 34, 1448); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, payload) {
			t.Fatalf("Linux read %d of %d bytes, equal=%v", len(b), len(payload), bytes.Equal(b, payload[:len(b)]))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Linux never got the data")
	}
}
