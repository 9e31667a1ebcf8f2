package relay

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Addresses on a Netns's /24: the namespace's side of the tap (a real
// Linux TCP peer) and the guest's.
const (
	NetnsHostIP  = "10.0.3.1"
	NetnsGuestIP = "10.0.3.2"
	NetnsTap     = "gmtap0"
)

// Netns is a network namespace created by a test or benchmark, named
// PREFIX-PID-N, holding a tap at 10.0.3.1/24 for the guest. Traffic in it
// never leaves it. Needs root.
type Netns struct {
	Name string
	Tap  string
}

var netnsSeq atomic.Int32

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// RemoveStaleNetns deletes namespaces named PREFIX-PID-N whose PID no
// longer runs: left behind by a killed test binary.
func RemoveStaleNetns(prefix string) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		rest, ok := strings.CutPrefix(name, prefix+"-")
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

// NewNetns removes stale namespaces with prefix and creates a fresh one
// with lo up and the tap at 10.0.3.1/24. Close deletes it.
func NewNetns(prefix string) (*Netns, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("network namespaces need root")
	}
	RemoveStaleNetns(prefix)
	ns := &Netns{Name: fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), netnsSeq.Add(1)), Tap: NetnsTap}
	if err := ipCmd("netns", "add", ns.Name); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"tuntap", "add", "dev", ns.Tap, "mode", "tap"},
		{"addr", "add", NetnsHostIP + "/24", "dev", ns.Tap},
		{"link", "set", ns.Tap, "up"},
	} {
		if err := ns.IP(args...); err != nil {
			ns.Close()
			return nil, err
		}
	}
	return ns, nil
}

// Close deletes the namespace and its tap.
func (ns *Netns) Close() error { return ipCmd("netns", "del", ns.Name) }

// IP runs `ip ARGS` inside the namespace.
func (ns *Netns) IP(args ...string) error {
	return ipCmd(append([]string{"netns", "exec", ns.Name, "ip"}, args...)...)
}

// Command prefixes argv so that it runs inside the namespace.
func (ns *Netns) Command(argv []string) []string {
	return append([]string{"ip", "netns", "exec", ns.Name}, argv...)
}

// Do runs fn on an OS thread switched into the namespace: sockets and taps
// fn opens belong to the namespace for good and work from any goroutine.
func (ns *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Unlocked only once back home: if switching back fails, the
		// thread dies with this goroutine instead of serving others in the
		// wrong namespace.
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		f, err := os.Open("/var/run/netns/" + ns.Name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
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
