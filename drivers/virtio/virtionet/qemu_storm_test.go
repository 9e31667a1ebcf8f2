package virtionet_test

import (
	"encoding/binary"
	"errors"
	"math/rand"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/mdlayher/packet"
)

// rawTap opens an AF_PACKET socket on tap0 of the current namespace.
func rawTap() (*packet.Conn, error) {
	ifc, err := net.InterfaceByName("tap0")
	if err != nil {
		return nil, err
	}
	return packet.Listen(ifc, packet.Raw, syscall.ETH_P_ALL, nil)
}

// stormFrame is a random frame or a mutated copy of a valid TCP one, addressed
// to the guest so the driver and the stack both have to look at it.
func stormFrame(rng *rand.Rand, valid []byte) []byte {
	var f []byte
	if rng.Intn(2) == 0 {
		f = make([]byte, 14+rng.Intn(1500))
		rng.Read(f)
	} else {
		f = append([]byte(nil), valid...)
		for k := rng.Intn(8) + 1; k > 0; k-- {
			f[14+rng.Intn(len(f)-14)] = byte(rng.Intn(256))
		}
		f = f[:14+rng.Intn(len(f)-13)]
	}
	copy(f, nicMAC[:])
	if rng.Intn(4) != 0 {
		binary.BigEndian.PutUint16(f[12:], 0x0800)
	}
	return f
}

// TestQEMUStackSurvivesFrameStorm sends 100,000 random and mutated frames
// from the host side of the tap to our stack on the driver, then checks it
// still echoes byte-exact.
func TestQEMUStackSurvivesFrameStorm(t *testing.T) {
	ns := tapNamespace(t)
	dev := tapNIC(t, ns)
	n := ourStack(t, dev)
	echoServer(t, n, "10.0.3.2:5001")
	valid := tcpFrame("storm")
	copy(valid[26:30], tapHostIP[:])
	copy(valid[30:34], tapGuestIP[:])
	rng := rand.New(rand.NewSource(7))
	var sendErr error
	<-inNamespace(ns, func() {
		c, err := rawTap()
		if err != nil {
			sendErr = err
			return
		}
		defer c.Close()
		to := &packet.Addr{HardwareAddr: nicMAC[:]}
		for i := 0; i < 100000 && sendErr == nil; i++ {
			f := stormFrame(rng, valid)
			for {
				if _, err := c.WriteTo(f, to); !errors.Is(err, syscall.ENOBUFS) {
					sendErr = err
					break
				}
			}
		}
	})
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	var res echoResult
	<-inNamespace(ns, func() { res = linuxEcho("10.0.3.2:5001", randomBytes(1e6, 4)) })
	if res.err != nil {
		t.Fatalf("after the storm: %v", res.err)
	}
	if string(res.got) != string(res.sent) {
		t.Fatalf("after the storm: echoed %d of %d bytes, differing", len(res.got), len(res.sent))
	}
	s := &dev.Stats
	var b strings.Builder
	s.WriteTo(&b)
	t.Logf("driver counters after the storm:\n%s", b.String())
	if s.RxPackets.Load()+s.RxErrors.Load() < 50000 {
		t.Fatalf("only %d frames reached the driver: the storm did not happen", s.RxPackets.Load()+s.RxErrors.Load())
	}
}
