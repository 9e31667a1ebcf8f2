package integration

import (
	"net"
	"os"
	"testing"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// Addresses on the namespace's /24: the host side of the tap (a real
// Linux TCP peer) and the guest.
const (
	nsHostIP  = relay.NetnsHostIP
	nsGuestIP = relay.NetnsGuestIP
)

// netns is a namespace this test created (relay.Netns), deleted when the
// test ends.
type netns struct{ *relay.Netns }

// requireRoot skips, saying why, when namespaces cannot be created.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and a tap (CI runs as root)")
	}
}

// newNetns creates a fresh namespace with lo up and a tap at 10.0.3.1/24.
func newNetns(t testing.TB) netns {
	t.Helper()
	requireRoot(t)
	ns, err := relay.NewNetns("gme2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return netns{ns}
}

// listen opens a TCP listener on the namespace's host address.
func (ns netns) listen(t testing.TB) net.Listener {
	t.Helper()
	var l net.Listener
	err := ns.Do(func() (err error) {
		l, err = net.Listen("tcp", nsHostIP+":0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// dialer dials addr from inside the namespace.
func (ns netns) dialer(addr string) func() (net.Conn, error) {
	return func() (c net.Conn, err error) {
		err = ns.Do(func() error {
			c, err = net.DialTimeout("tcp", addr, cmdTimeout)
			return err
		})
		return c, err
	}
}

// start boots QEMU inside the namespace (`ip netns exec`) with the guest
// at 10.0.3.2/24, gateway 10.0.3.1, and waits for the prompt.
func (ns netns) start(t testing.TB, netArgs []string) *harness.Machine {
	t.Helper()
	cfg := harness.Config{BuildDir: harness.BuildDir(), Timeout: 10 * time.Minute,
		Cmdline: "ip=" + nsGuestIP + "/24 gw=" + nsHostIP, ExtraArgs: netArgs}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		t.Fatal(err)
	}
	cfg.Command = ns.Command(cfg.Args())
	m := harness.StartT(t, cfg)
	if _, err := m.Expect(prompt, bootTimeout); err != nil {
		t.Fatalf("no prompt: %v", err)
	}
	return m
}
