package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gomenuos/qemu/harness"
)

// Addresses on the namespace's /24: the host side of the tap (a real
// Linux TCP peer) and the guest.
const (
	nsHostIP  = "10.0.3.1"
	nsGuestIP = "10.0.3.2"
	nsPrefix  = "gme2e-"
)

// netns is a network namespace this test created, holding one tap.
type netns struct {
	name string
	tap  string
}

var nsSeq atomic.Int32

// requireRoot skips, saying why, when namespaces cannot be created.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and a tap (CI runs as root)")
	}
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// removeStaleNetns deletes namespaces named gme2e-PID-N whose PID is no
// longer running: left behind by a test binary that was killed.
func removeStaleNetns() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		rest, ok := strings.CutPrefix(name, nsPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			ipCmd("netns", "del", name)
		}
	}
}

// newNetns creates a fresh namespace with lo up and a tap at
// 10.0.3.1/24, deleted when the test ends.
func newNetns(t testing.TB) *netns {
	t.Helper()
	requireRoot(t)
	removeStaleNetns()
	ns := &netns{name: fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), nsSeq.Add(1)), tap: "gmtap0"}
	if err := ipCmd("netns", "add", ns.name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ipCmd("netns", "del", ns.name) })
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"tuntap", "add", "dev", ns.tap, "mode", "tap"},
		{"addr", "add", nsHostIP + "/24", "dev", ns.tap},
		{"link", "set", ns.tap, "up"},
	} {
		if err := ns.ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// ip runs `ip ARGS` inside the namespace.
func (ns *netns) ip(args ...string) error {
	return ipCmd(append([]string{"netns", "exec", ns.name, "ip"}, args...)...)
}

// do runs fn on an OS thread switched into the namespace: sockets fn
// creates belong to the namespace for good and work from any goroutine.
func (ns *netns) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: if switching back fails the thread dies with
		// the goroutine instead of serving others in the wrong namespace.
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		f, err := os.Open("/var/run/netns/" + ns.name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// listen opens a TCP listener on the namespace's host address.
func (ns *netns) listen(t testing.TB) net.Listener {
	t.Helper()
	var l net.Listener
	err := ns.do(func() (err error) {
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
func (ns *netns) dialer(addr string) func() (net.Conn, error) {
	return func() (c net.Conn, err error) {
		err = ns.do(func() error {
			c, err = net.DialTimeout("tcp", addr, cmdTimeout)
			return err
		})
		return c, err
	}
}

// start boots QEMU inside the namespace (`ip netns exec`) with the guest
// at 10.0.3.2/24, gateway 10.0.3.1, and waits for the prompt.
func (ns *netns) start(t testing.TB, netArgs []string) *harness.Machine {
	t.Helper()
	cfg := harness.Config{BuildDir: harness.BuildDir(), Timeout: 10 * time.Minute,
		Cmdline: "ip=" + nsGuestIP + "/24 gw=" + nsHostIP, ExtraArgs: netArgs}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		t.Fatal(err)
	}
	cfg.Command = append([]string{"ip", "netns", "exec", ns.name}, cfg.Args()...)
	m := harness.StartT(t, cfg)
	if _, err := m.Expect(prompt, bootTimeout); err != nil {
		t.Fatalf("no prompt: %v", err)
	}
	return m
}
