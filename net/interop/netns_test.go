package interop

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"gomenuos/net/header"
	"gomenuos/net/link"
	"gomenuos/net/stack"
)

// The test network: the host side of the tap is 10.99.78.1 inside the
// namespace; our stack is 10.99.78.2 behind it.
// The namespace name carries our PID so concurrent test runs (two
// developers' go test ./... on one machine) never share one.
const (
	nsPrefix = "gomenuos-interop-"
	tapName  = "gmtap0"
)

var nsName = fmt.Sprintf("%s%d", nsPrefix, os.Getpid())

var (
	hostAddr = netip.MustParseAddr("10.99.78.1")
	ourAddr  = netip.MustParseAddr("10.99.78.2")
	ourMAC   = header.MAC{0x02, 0x00, 0x00, 0x99, 0x78, 0x02}
)

// testNS is one namespace with a tap whose far end is our Stack.
type testNS struct {
	t     *testing.T
	ns    netns.NsHandle
	nl    *netlink.Handle
	tap   *tapDev
	cap   *capture
	stack *stack.Stack
	lo    *link.Loopback
}

// setupNS creates the namespace and tap, configures the host side and
// starts our stack on the tap. Everything is torn down by t.Cleanup, and a
// namespace left behind by a crashed run is removed first.
func setupNS(t *testing.T) *testNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip(errNotRoot.Error())
	}
	removeStaleNamespaces()
	n := &testNS{t: t, cap: &capture{}}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	n.ns, err = netns.NewNamed(nsName) // also moves this thread into it
	if err == nil {
		n.tap, err = openTap(tapName, ourMAC, n.cap)
	}
	if err == nil {
		// Keep the host's IPv6 autoconfiguration chatter off the tap; a
		// kernel without IPv6 has no such file, which is fine too.
		_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+tapName+"/disable_ipv6", []byte("1"), 0)
	}
	netns.Set(orig)
	orig.Close()
	runtime.UnlockOSThread()
	t.Cleanup(n.teardown)
	if err != nil {
		t.Fatalf("namespace and tap: %v", err)
	}
	if n.nl, err = netlink.NewHandleAt(n.ns); err != nil {
		t.Fatal(err)
	}
	n.configureHostSide()
	n.startStack()
	return n
}

func (n *testNS) configureHostSide() {
	t := n.t
	lo, err := n.nl.LinkByName("lo")
	if err == nil {
		err = n.nl.LinkSetUp(lo)
	}
	tap, err2 := n.nl.LinkByName(tapName)
	if err == nil {
		err = err2
	}
	if err == nil {
		err = n.nl.AddrAdd(tap, &netlink.Addr{IPNet: netlink.NewIPNet(hostAddr.AsSlice())})
	}
	if err == nil {
		// NewIPNet gives a /32; replace it with the /24 the test network uses.
		n.nl.AddrDel(tap, &netlink.Addr{IPNet: netlink.NewIPNet(hostAddr.AsSlice())})
		addr, _ := netlink.ParseAddr(hostAddr.String() + "/24")
		err = n.nl.AddrAdd(tap, addr)
	}
	if err == nil {
		err = n.nl.LinkSetUp(tap)
	}
	if err != nil {
		t.Fatalf("configure %s in %s: %v", tapName, nsName, err)
	}
}

func (n *testNS) startStack() {
	n.stack = stack.New(stack.Options{})
	n.lo = link.NewLoopback()
	if _, err := n.stack.AddInterface(n.lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		n.t.Fatal(err)
	}
	if _, err := n.stack.AddInterface(n.tap, netip.PrefixFrom(ourAddr, 24)); err != nil {
		n.t.Fatal(err)
	}
}

func (n *testNS) teardown() {
	if n.t.Failed() {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%s.pcap", nsName, strings.ReplaceAll(n.t.Name(), "/", "_")))
		if err := n.cap.writePcap(path); err == nil {
			n.t.Logf("frames crossing %s saved to %s", tapName, path)
		}
	}
	if n.tap != nil {
		n.tap.Close()
	}
	if n.lo != nil {
		n.lo.Close()
	}
	if n.nl != nil {
		n.nl.Close()
	}
	n.ns.Close()
	if err := netns.DeleteNamed(nsName); err != nil {
		n.t.Logf("delete namespace %s: %v", nsName, err)
	}
}

// inNS runs f on an OS thread that has entered the namespace: sockets it
// creates belong to the namespace for their whole life.
func (n *testNS) inNS(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked and so discarded when this goroutine
		// ends, rather than returned to the pool still inside the namespace.
		if err := netns.Set(n.ns); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// removeStaleNamespaces deletes namespaces left by test processes that
// died before their cleanup ran.
func removeStaleNamespaces() {
	names, _ := filepath.Glob("/run/netns/" + nsPrefix + "*")
	for _, p := range names {
		name := filepath.Base(p)
		pid, err := strconv.Atoi(strings.TrimPrefix(name, nsPrefix))
		if err != nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); pid == os.Getpid() || os.IsNotExist(err) {
			netns.DeleteNamed(name)
		}
	}
}
