package stack

import (
	"net/netip"

	"gomenuos/net/link"
	"testing"
	"time"
)

// infoRecorder is a transport that keeps the PacketInfo flags it saw.
type infoRecorder struct{ got chan bool }

func (r infoRecorder) Protocol() uint8                                    { return protoTest }
func (r infoRecorder) Receive(p *PacketInfo)                              { r.got <- p.ChecksumVerified }
func (r infoRecorder) ReceiveICMPError(*PacketInfo, uint8, uint8, []byte) {}

// Loopback datagrams never leave the host, so their transport checksum is
// vouched for (Linux: loopback_xmit sets CHECKSUM_UNNECESSARY); frames from
// a device without RX checksum offload are not.
func TestChecksumVerifiedOnlyForLoopbackAndOffload(t *testing.T) {
	s, _ := newLoopbackStack(t)
	rec := infoRecorder{got: make(chan bool, 1)}
	s.AddTransport(rec)
	send(t, s, netip.MustParseAddr("127.0.0.1"), protoTest, "x")
	select {
	case v := <-rec.got:
		if !v {
			t.Fatal("loopback datagram not marked verified")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("nothing delivered over lo")
	}

	n := newTestNet(t, link.Impairment{})
	recB := infoRecorder{got: make(chan bool, 1)}
	n.b.AddTransport(recB)
	send(t, n.a, ipB, protoTest, "y") // queued behind ARP resolution
	for i := 0; i < 100; i++ {
		n.vc.Advance(time.Millisecond)
		select {
		case v := <-recB.got:
			if v {
				t.Fatal("datagram from a device without RX offload marked verified")
			}
			return
		default:
		}
	}
	t.Fatal("nothing delivered over the pipe")
}
