package integration

import (
	"fmt"
	"net"
	"testing"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// impairment is what the relay does to every frame in each direction.
var impairment = relay.Impair{Loss: 0.05, Reorder: 0.05, Dup: 0.05, Seed: 1}

// impairedGuest boots the guest in ns with its NIC on QEMU's datagram
// backend and relays its frames to and from ns's tap through the
// impairing relay.
func impairedGuest(t *testing.T, ns netns, imp relay.Impair) (*harness.Machine, *relay.Relay) {
	t.Helper()
	var udp *net.UDPConn
	var tap *relay.TapPort
	err := ns.Do(func() (err error) {
		if udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			return err
		}
		tap, err = relay.OpenTap(ns.Tap)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The guest's port: free in the namespace because nothing else runs
	// there; the relay's is the one the kernel just picked.
	const qemuPort = 40000
	relayPort := udp.LocalAddr().(*net.UDPAddr).Port
	r := relay.Start(&relay.UDPPort{Conn: udp, Peer: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: qemuPort}}, tap, imp)
	t.Cleanup(r.Close)
	m := ns.start(t, []string{
		"-netdev", fmt.Sprintf("dgram,id=%s,local.type=inet,local.host=127.0.0.1,local.port=%d,remote.type=inet,remote.host=127.0.0.1,remote.port=%d",
			harness.NetID, qemuPort, relayPort),
		"-device", "virtio-net-pci,netdev=" + harness.NetID + ",romfile="})
	return m, r
}

// logRelay logs what the relay did and the guest's TCP counters, the
// figures that explain a slow transfer (retransmissions, timeouts, SACK
// recoveries).
func logRelay(t *testing.T, m *harness.Machine, r *relay.Relay) {
	for _, f := range []string{"/proc/net/snmp", "/proc/net/netstat"} {
		m.Send("cat " + f + "\r")
		out, _ := m.Expect(prompt, cmdTimeout)
		t.Logf("guest %s:\n%s", f, out)
	}
	for _, d := range []struct {
		name string
		st   *relay.Stats
	}{{"guest → Linux", &r.AtoB}, {"Linux → guest", &r.BtoA}} {
		t.Logf("relay %s: %d frames, %d dropped, %d reordered, %d duplicated", d.name,
			d.st.Frames.Load(), d.st.Dropped.Load(), d.st.Reordered.Load(), d.st.Duplicated.Load())
	}
}

// 10 MB Linux → guest with 5% loss, reordering and duplication each way.
func TestQEMUE2EImpairedHostToGuest10MB(t *testing.T) {
	ns := newNetns(t)
	m, r := impairedGuest(t, ns, impairment)
	start := time.Now()
	mbs := hostToGuest(t, m, sinkPort, ns.dialer(fmt.Sprintf("%s:%d", nsGuestIP, sinkPort)), e2eBytes)
	t.Logf("Linux → guest through the impairing relay: %.2f MB/s (%v)", mbs, time.Since(start).Round(time.Millisecond))
	logRelay(t, m, r)
	if r.BtoA.Dropped.Load() == 0 || r.AtoB.Dropped.Load() == 0 {
		t.Fatal("the relay dropped nothing: the transfer did not go through it")
	}
}

// 10 MB guest → Linux through the same impairment.
func TestQEMUE2EImpairedGuestToHost10MB(t *testing.T) {
	ns := newNetns(t)
	m, r := impairedGuest(t, ns, impairment)
	start := time.Now()
	mbs := guestToHost(t, m, ns.listen(t), nsHostIP, e2eBytes)
	t.Logf("guest → Linux through the impairing relay: %.2f MB/s (%v)", mbs, time.Since(start).Round(time.Millisecond))
	logRelay(t, m, r)
	if r.BtoA.Dropped.Load() == 0 || r.AtoB.Dropped.Load() == 0 {
		t.Fatal("the relay dropped nothing: the transfer did not go through it")
	}
}
