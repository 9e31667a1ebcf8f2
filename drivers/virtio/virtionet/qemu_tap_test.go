package virtionet_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"gomenuos/drivers/hw/qtest"
	"gomenuos/drivers/pci"
	"gomenuos/drivers/virtio"
	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/net/checksum"
)

// sysSetns is setns(2) on linux/amd64 (the syscall package lacks the name).
const sysSetns = 308

var (
	tapHostIP  = [4]byte{10, 0, 3, 1}
	tapGuestIP = [4]byte{10, 0, 3, 2}
)

// tapNamespace creates a network namespace holding tap0 (10.0.3.1/24) with
// a static neighbour entry for the guest, and removes it at cleanup.
func tapNamespace(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and a tap device")
	}
	removeStaleNamespaces()
	ns := fmt.Sprintf("gmo-vnet-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	in := []string{"ip", "netns", "exec", ns}
	run(append(in, "ip", "link", "set", "lo", "up")...)
	run(append(in, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap")...)
	run(append(in, "ip", "addr", "add", "10.0.3.1/24", "dev", "tap0")...)
	run(append(in, "ip", "link", "set", "tap0", "up")...)
	run(append(in, "ip", "neigh", "add", "10.0.3.2", "lladdr", nicMAC.String(), "dev", "tap0")...)
	return ns
}

// inNamespace runs f on an OS thread moved into ns, so sockets f creates
// live there; the returned channel closes when f returns.
func inNamespace(ns string, f func()) <-chan error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := syscall.Open("/var/run/netns/"+ns, syscall.O_RDONLY, 0)
		if err != nil {
			done <- err
			return
		}
		defer syscall.Close(fd)
		if _, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); e != 0 {
			done <- e
			return
		}
		f()
		done <- nil
	}()
	return done
}

// synFrame builds a SYN from the guest to the host; partial leaves the
// pseudo-header sum in the checksum field instead of the full checksum.
func synFrame(dstMAC [6]byte, dport uint16, partial bool) []byte {
	f := make([]byte, 14+20+20)
	copy(f[0:], dstMAC[:])
	copy(f[6:], nicMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	copy(ip, []byte{0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0})
	copy(ip[12:], tapGuestIP[:])
	copy(ip[16:], tapHostIP[:])
	binary.BigEndian.PutUint16(ip[10:], checksum.Checksum(ip, 0))
	tcp := f[34:]
	binary.BigEndian.PutUint16(tcp[0:], 40001)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], 1000)
	tcp[12], tcp[13] = 5<<4, 0x02
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	ph := checksum.PseudoHeaderIPv4(tapGuestIP, tapHostIP, 6, 20)
	if partial {
		binary.BigEndian.PutUint16(tcp[16:], checksum.Fold(ph))
	} else {
		binary.BigEndian.PutUint16(tcp[16:], checksum.Checksum(tcp, ph))
	}
	return f
}

func TestQEMUVirtioNetTapChecksumOffload(t *testing.T) {
	ns := tapNamespace(t)
	m, err := qtest.Start(qtest.Config{RAMBytes: 64 << 20, Wrapper: []string{"ip", "netns", "exec", ns}, Args: []string{
		"-device", "virtio-net-pci,netdev=n0,addr=3,mac=" + nicMAC.String() + ",romfile=",
		"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vnet_hdr=on",
	}})
	if err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	t.Cleanup(m.Close)
	cfg := pci.NewConfig(m)
	qtest.AssignResources(cfg)
	dev, err := virtionet.Probe(pci.Find(pci.Scan(cfg), virtio.PCIVendor, virtio.PCIDeviceNetLegacy),
		qtest.NewMemory(m), m, virtionet.Options{RxQueueSize: 64, TxQueueSize: 64})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	rx := make(chanReceiver, 256)
	dev.Attach(rx)
	offload := uint64(virtionet.FeatureCsum | virtionet.FeatureGuestCsum | virtionet.FeatureGuestTSO4)
	if f := dev.NegotiatedFeatures(); f&offload != offload {
		t.Fatalf("tap with vnet_hdr: negotiated %#x, want CSUM, GUEST_CSUM and GUEST_TSO4", f)
	}

	// Host → guest: Linux hands the tap a CHECKSUM_PARTIAL SYN, QEMU passes
	// it on with NEEDS_CSUM, the driver completes the checksum.
	dialed := inNamespace(ns, func() {
		if c, err := net.DialTimeout("tcp", "10.0.3.2:5001", time.Second); err == nil {
			c.Close() // nobody answers in the guest: the dial times out
		}
	})
	syn := waitFrame(t, rx, "SYN from the host", func(f []byte) bool {
		return len(f) >= 54 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 6 &&
			binary.BigEndian.Uint16(f[36:]) == 5001 && f[47]&0x02 != 0
	})
	if err := verifyTCP(syn); err != nil {
		t.Errorf("SYN after completion: %v", err)
	}
	if err := <-dialed; err != nil {
		t.Fatal(err)
	}
	if dev.Stats.RxCsumCompleted.Load() == 0 {
		t.Fatal("no partial checksum arrived: offload path not exercised")
	}

	// Guest → host: a SYN whose checksum the device completes, and a full
	// one sent without offload; the listening host answers both.
	hostMAC := tapMAC(t, ns)
	var ln net.Listener
	if err := <-inNamespace(ns, func() { ln, err = net.Listen("tcp", "10.0.3.1:6001") }); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := dev.TransmitPartial(synFrame(hostMAC, 6001, true), 34, 16); err != nil {
		t.Fatal(err)
	}
	waitFrame(t, rx, "SYN-ACK to the offloaded SYN", isSynAck)
	if err := dev.Transmit(synFrame(hostMAC, 6001, false)); err != nil {
		t.Fatal(err)
	}
	waitFrame(t, rx, "SYN-ACK to the plain SYN", isSynAck)
}

func isSynAck(f []byte) bool {
	return len(f) >= 54 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 6 &&
		binary.BigEndian.Uint16(f[34:]) == 6001 && f[47]&0x12 == 0x12
}

func tapMAC(t testing.TB, ns string) [6]byte {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/sys/class/net/tap0/address").Output()
	if err != nil {
		t.Fatal(err)
	}
	hw, err := net.ParseMAC(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return [6]byte(hw)
}

// removeStaleNamespaces deletes namespaces left by test processes that died
// before their cleanup ran (a timeout panics past t.Cleanup).
func removeStaleNamespaces() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		pid, ok := strings.CutPrefix(name, "gmo-vnet-")
		if !ok {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its test is still running
		}
		exec.Command("ip", "netns", "del", name).Run()
	}
}
