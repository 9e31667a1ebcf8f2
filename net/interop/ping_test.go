package interop

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"gomenuos/net/checksum"
)

// hostPing sends one echo request from the host kernel (a raw ICMP socket
// in the namespace) and waits for the matching reply.
func (n *testNS) hostPing(id, seq uint16, payload []byte, timeout time.Duration) (time.Duration, error) {
	var rtt time.Duration
	err := n.inNS(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		msg := make([]byte, 8+len(payload))
		msg[0] = 8
		binary.BigEndian.PutUint16(msg[4:], id)
		binary.BigEndian.PutUint16(msg[6:], seq)
		copy(msg[8:], payload)
		binary.BigEndian.PutUint16(msg[2:], checksum.Checksum(msg, 0))
		start := time.Now()
		if err := unix.Sendto(fd, msg, 0, &unix.SockaddrInet4{Addr: ourAddr.As4()}); err != nil {
			return err
		}
		buf := make([]byte, 65536)
		for time.Since(start) < timeout {
			m, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				continue // timeout tick
			}
			ip := buf[:m]
			hl := int(ip[0]&0xf) * 4
			icmp := ip[hl:]
			if icmp[0] == 0 && binary.BigEndian.Uint16(icmp[4:]) == id && binary.BigEndian.Uint16(icmp[6:]) == seq {
				if string(icmp[8:]) != string(payload) {
					return fmt.Errorf("reply payload %q", icmp[8:])
				}
				rtt = time.Since(start)
				return nil
			}
		}
		return fmt.Errorf("no echo reply within %v", timeout)
	})
	return rtt, err
}

func TestHostPingsOurStack(t *testing.T) {
	n := setupNS(t)
	for seq := uint16(1); seq <= 3; seq++ {
		rtt, err := n.hostPing(0x4242, seq, []byte("gomenuos interop"), 3*time.Second)
		if err != nil {
			t.Fatalf("ping seq %d: %v", seq, err)
		}
		t.Logf("host → stack ping seq %d: %v", seq, rtt)
	}
	// A 3000-byte ping is fragmented by the host and reassembled by us,
	// and our reply is fragmented by us and reassembled by the host.
	big := []byte(strings.Repeat("0123456789", 300))
	if _, err := n.hostPing(0x4242, 4, big, 3*time.Second); err != nil {
		t.Fatalf("fragmented ping: %v", err)
	}
	checkHostNeighbour(t, n)
	checkCapturedARP(t, n)
	// FragCreates is counted before each fragment leaves (FragOKs only after
	// the last, which may be after the host already has the reply).
	if ip := n.stack.IPStats(); ip.ReasmOKs.Load() != 1 || ip.FragCreates.Load() != 3 {
		t.Fatalf("ReasmOKs %d FragCreates %d", ip.ReasmOKs.Load(), ip.FragCreates.Load())
	}
	t.Logf("our /proc/net/snmp:\n%s", n.stack.SNMPText())
}

// checkHostNeighbour: the host kernel resolved our address to our MAC.
func checkHostNeighbour(t *testing.T, n *testNS) {
	tap, err := n.nl.LinkByName(tapName)
	if err != nil {
		t.Fatal(err)
	}
	neighs, err := n.nl.NeighList(tap.Attrs().Index, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range neighs {
		if e.IP.Equal(net.IP(ourAddr.AsSlice())) && e.HardwareAddr.String() == ourMAC.String() {
			return
		}
	}
	t.Fatalf("host neighbour table %v lacks %v at %v", neighs, ourAddr, ourMAC)
}

// checkCapturedARP decodes the capture with gopacket: the host asked who
// has our address and we answered with our MAC.
func checkCapturedARP(t *testing.T, n *testNS) {
	var asked, answered bool
	for _, c := range n.cap.all() {
		p := gopacket.NewPacket(c.frame, layers.LayerTypeEthernet, gopacket.Default)
		a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok {
			continue
		}
		if !c.out && a.Operation == layers.ARPRequest && net.IP(a.DstProtAddress).Equal(net.IP(ourAddr.AsSlice())) {
			asked = true
		}
		if c.out && a.Operation == layers.ARPReply && net.HardwareAddr(a.SourceHwAddress).String() == ourMAC.String() &&
			net.IP(a.SourceProtAddress).Equal(net.IP(ourAddr.AsSlice())) {
			answered = true
		}
	}
	if !asked || !answered {
		t.Fatalf("ARP in capture: request seen %v, our reply seen %v", asked, answered)
	}
}

// TestHostPingBinary runs the host's ping(8) inside the namespace when the
// binary is installed, the way a person would check the stack.
func TestHostPingBinary(t *testing.T) {
	setupNS(t)
	path, err := exec.LookPath("ping")
	if err != nil {
		t.Skip("ping(8) not installed; TestHostPingsOurStack covers the same exchange with a raw socket")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", nsName, path, "-c", "3", "-i", "0.2", "-W", "2", ourAddr.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "3 packets transmitted, 3 received") {
		t.Fatalf("ping output:\n%s", out)
	}
	t.Logf("%s", out)
}

// TestStackPingsHost: our Ping API against the host kernel's ICMP.
func TestStackPingsHost(t *testing.T) {
	n := setupNS(t)
	r, err := n.stack.Ping(hostAddr, 7, 1, []byte("from gomenuos"), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.From != hostAddr || string(r.Payload) != "from gomenuos" {
		t.Fatalf("reply from %v payload %q", r.From, r.Payload)
	}
	t.Logf("stack → host ping: %v; our ARP table:\n%s", r.RTT, n.stack.ARPText())
	if !strings.Contains(n.stack.ARPText(), "10.99.78.1       0x1         0x2") {
		t.Fatalf("ARP table:\n%s", n.stack.ARPText())
	}
}

// TestHostSeesProtocolUnreachable: our stack has no UDP, so a datagram
// from the host earns ICMP protocol unreachable, and the host kernel —
// matching our quoted header to its socket — reports ENOPROTOOPT on the
// connected UDP socket (Linux: icmp_err_convert).
func TestHostSeesProtocolUnreachable(t *testing.T) {
	n := setupNS(t)
	var c net.Conn
	if err := n.inNS(func() (err error) {
		c, err = net.Dial("udp", "10.99.78.2:9")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var err error
	for i := 0; i < 3 && err == nil; i++ { // the first datagram may wait for ARP
		if _, err = c.Write([]byte("anyone?")); err == nil {
			_, err = c.Read(make([]byte, 16))
		}
	}
	if !errors.Is(err, unix.ENOPROTOOPT) {
		t.Fatalf("host UDP socket error %v, want ENOPROTOOPT", err)
	}
	if got := n.stack.ICMPStats().OutType[3].Load(); got == 0 {
		t.Fatal("no destination unreachable counted")
	}
}
