package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"time"

	"gomenuos/kernel/netcmd"
	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// Network figures, each the median of netRuns, next to what a Linux 6.1
// guest measured under the same QEMU (TCG) on these machines.
const (
	netRuns    = 5
	bulkBytes  = 10 << 20
	sinkPort   = 6000
	hiPort     = 5003
	connRounds = 300 // connections per connect/close measurement
)

// linuxRef is the Linux 6.1 guest's figure for each row.
var linuxRef = map[string]float64{
	"loopback connect/send/recv/close (/s)":       590,
	"user-net guest→host bulk TCP (MB/s)":         38,
	"user-net host→guest bulk TCP (MB/s)":         74,
	"tap guest→host bulk TCP (MB/s)":              260,
	"tap host→guest bulk TCP (MB/s)":              360,
	"tap host→guest connect/send/recv/close (/s)": 880,
}

var (
	// -n: the guest neither generates nor hashes the stream (under TCG
	// SHA-256 is about as slow as the network path); the host checks.
	sentRe     = regexp.MustCompile(`sent (\d+) bytes in \S+ \(([\d.]+) MB/s\)`)
	receivedRe = regexp.MustCompile(`received (\d+) bytes in \S+ \(([\d.]+) MB/s\)`)
	netbenchRe = regexp.MustCompile(`netbench: (\d+) round trips in \S+: (\d+)/s, (\d+) errors`)
)

// netFigures prints the network table; a root-only part (tap) is reported
// as skipped without root.
func netFigures(dir string) error {
	fmt.Printf("network (median of %d; Linux 6.1 guest under the same QEMU for reference):\n", netRuns)
	if err := loopbackFigure(dir); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := userNetFigures(dir); err != nil {
		return fmt.Errorf("user-net: %w", err)
	}
	if err := tapFigures(dir); err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	if err := impairedFigures(dir); err != nil {
		return fmt.Errorf("impaired: %w", err)
	}
	return nil
}

func report(name string, samples []float64) {
	slices.Sort(samples)
	med := samples[len(samples)/2]
	ref, ok := linuxRef[name]
	if !ok {
		fmt.Printf("  %-48s ours %8.1f  [min %.1f, max %.1f]\n", name, med, samples[0], samples[len(samples)-1])
		return
	}
	fmt.Printf("  %-48s ours %8.1f  Linux %6.0f  ratio %.2f  [min %.1f, max %.1f]\n",
		name, med, ref, med/ref, samples[0], samples[len(samples)-1])
}

func bootNet(cfg harness.Config) (*harness.Machine, error) {
	cfg.Timeout = 10 * time.Minute
	m, err := harness.Start(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := m.Expect(prompt, 30*time.Second); err != nil {
		m.Kill()
		return nil, err
	}
	return m, nil
}

func loopbackFigure(dir string) error {
	m, err := bootNet(harness.Config{BuildDir: dir})
	if err != nil {
		return err
	}
	defer m.Kill()
	var rates []float64
	for range netRuns {
		out, err := run(m, "netbench 2000")
		if err != nil {
			return err
		}
		sm := netbenchRe.FindStringSubmatch(out)
		if sm == nil || sm[3] != "0" {
			return fmt.Errorf("netbench printed %q", out)
		}
		rates = append(rates, atof(sm[2]))
	}
	report("loopback connect/send/recv/close (/s)", rates)
	return nil
}

func userNetFigures(dir string) error {
	fwd, err := harness.FreePort()
	if err != nil {
		return err
	}
	m, err := bootNet(harness.Config{BuildDir: dir,
		ExtraArgs: harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:%d", fwd, sinkPort))})
	if err != nil {
		return err
	}
	defer m.Kill()
	listen := func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
	dial := func() (net.Conn, error) {
		return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fwd), 10*time.Second)
	}
	return bulkFigures(m, "user-net", "10.0.2.2", listen, dial)
}

// bulkFigures measures netRuns transfers each way and reports the
// guest's rates.
func bulkFigures(m *harness.Machine, label, hostIP string, listen func() (net.Listener, error), dial func() (net.Conn, error)) error {
	var out, in []float64
	for range netRuns {
		l, err := listen()
		if err != nil {
			return err
		}
		r, err := guestToHost(m, l, hostIP)
		l.Close()
		if err != nil {
			return err
		}
		out = append(out, r)
		if r, err = hostToGuest(m, dial); err != nil {
			return err
		}
		in = append(in, r)
	}
	report(label+" guest→host bulk TCP (MB/s)", out)
	report(label+" host→guest bulk TCP (MB/s)", in)
	return nil
}

// guestToHost runs `tcpsource -n` in the guest against l; the host checks
// every byte is the stream's first 64 KiB repeated.
func guestToHost(m *harness.Machine, l net.Listener, hostIP string) (float64, error) {
	got := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Minute))
		got <- checkRepeated(c)
	}()
	m.Send(fmt.Sprintf("tcpsource -n %s %d %d\r", hostIP, l.Addr().(*net.TCPAddr).Port, bulkBytes))
	_, sm, err := m.ExpectRegexp(sentRe, 5*time.Minute)
	if err != nil {
		return 0, err
	}
	if err := <-got; err != nil {
		return 0, err
	}
	_, err = m.Expect(prompt, 10*time.Second)
	return atof(sm[2]), err
}

// checkRepeated reads r to EOF: bulkBytes of the block tcpsource -n sends.
func checkRepeated(r io.Reader) error {
	block := make([]byte, 64<<10)
	netcmd.NewBulkStream().Read(block)
	buf := make([]byte, len(block))
	var n int64
	for n < bulkBytes {
		k := min(int64(len(buf)), bulkBytes-n)
		if _, err := io.ReadFull(r, buf[:k]); err != nil {
			return fmt.Errorf("after %d bytes: %w", n, err)
		}
		if !bytes.Equal(buf[:k], block[:k]) {
			return fmt.Errorf("bytes %d..%d differ from what tcpsource -n sends", n, n+k)
		}
		n += k
	}
	if k, _ := r.Read(buf[:1]); k != 0 {
		return fmt.Errorf("more than %d bytes", bulkBytes)
	}
	return nil
}

// hostToGuest runs `tcpsink -n` in the guest and sends it the stream.
func hostToGuest(m *harness.Machine, dial func() (net.Conn, error)) (float64, error) {
	m.Send(fmt.Sprintf("tcpsink -n %d\r", sinkPort))
	if _, err := m.Expect("tcpsink: listening", 10*time.Second); err != nil {
		return 0, err
	}
	c, err := dial()
	if err != nil {
		return 0, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	_, err = io.CopyN(c, netcmd.NewBulkStream(), bulkBytes)
	c.Close()
	if err != nil {
		return 0, err
	}
	_, sm, err := m.ExpectRegexp(receivedRe, 5*time.Minute)
	if err != nil {
		return 0, err
	}
	if sm[1] != strconv.Itoa(bulkBytes) {
		return 0, fmt.Errorf("guest received %s bytes, want %d", sm[1], bulkBytes)
	}
	_, err = m.Expect(prompt, 10*time.Second)
	return atof(sm[2]), err
}

func tapFigures(dir string) error {
	ns, err := relay.NewNetns("gmbench")
	if err != nil {
		fmt.Printf("  tap figures skipped: %v\n", err)
		return nil
	}
	defer ns.Close()
	m, err := bootInNetns(dir, ns, harness.TapNet(ns.Tap))
	if err != nil {
		return err
	}
	defer m.Kill()
	listen, dialTo := netnsEnds(ns)
	if err := bulkFigures(m, "tap", relay.NetnsHostIP, listen, dialTo(sinkPort)); err != nil {
		return err
	}
	return connectFigure(m, dialTo(hiPort))
}

// impairedFigures measures bulk TCP through the relay with 5% loss,
// reordering and duplication each way: guest→host is our TCP sending to
// Linux's, host→guest Linux's sending to ours, in the same run.
func impairedFigures(dir string) error {
	ns, err := relay.NewNetns("gmbench")
	if err != nil {
		fmt.Printf("  impaired figures skipped: %v\n", err)
		return nil
	}
	defer ns.Close()
	var udp *net.UDPConn
	var tap *relay.TapPort
	err = ns.Do(func() (err error) {
		if udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			return err
		}
		tap, err = relay.OpenTap(ns.Tap)
		return err
	})
	if err != nil {
		return err
	}
	const qemuPort = 40000 // free: nothing else runs in the namespace
	imp := relay.Impair{Loss: 0.05, Reorder: 0.05, Dup: 0.05, Seed: 1}
	r := relay.Start(&relay.UDPPort{Conn: udp, Peer: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: qemuPort}}, tap, imp)
	defer r.Close()
	m, err := bootInNetns(dir, ns, []string{"-netdev", fmt.Sprintf(
		"dgram,id=%s,local.type=inet,local.host=127.0.0.1,local.port=%d,remote.type=inet,remote.host=127.0.0.1,remote.port=%d",
		harness.NetID, qemuPort, udp.LocalAddr().(*net.UDPAddr).Port),
		"-device", "virtio-net-pci,netdev=" + harness.NetID + ",romfile="})
	if err != nil {
		return err
	}
	defer m.Kill()
	listen, dialTo := netnsEnds(ns)
	return bulkFigures(m, "5% loss+reorder+dup", relay.NetnsHostIP, listen, dialTo(sinkPort))
}

// bootInNetns boots the guest inside ns at 10.0.3.2/24 with netArgs.
func bootInNetns(dir string, ns *relay.Netns, netArgs []string) (*harness.Machine, error) {
	cfg := harness.Config{BuildDir: dir, Cmdline: "ip=" + relay.NetnsGuestIP + "/24 gw=" + relay.NetnsHostIP,
		ExtraArgs: netArgs}
	cfg.Command = ns.Command(cfg.Args())
	return bootNet(cfg)
}

// netnsEnds returns the host's listen and dial functions inside ns.
func netnsEnds(ns *relay.Netns) (func() (net.Listener, error), func(port int) func() (net.Conn, error)) {
	listen := func() (l net.Listener, err error) {
		err = ns.Do(func() error { l, err = net.Listen("tcp", relay.NetnsHostIP+":0"); return err })
		return l, err
	}
	dialTo := func(port int) func() (net.Conn, error) {
		return func() (c net.Conn, err error) {
			err = ns.Do(func() error {
				c, err = net.DialTimeout("tcp", fmt.Sprintf("%s:%d", relay.NetnsGuestIP, port), 10*time.Second)
				return err
			})
			return c, err
		}
	}
	return listen, dialTo
}

// connectFigure starts `tcphi` in the guest and times connRounds
// sequential connect/send/recv/close from the host, netRuns times.
func connectFigure(m *harness.Machine, dial func() (net.Conn, error)) error {
	m.Send(fmt.Sprintf("tcphi %d &\r", hiPort))
	if _, err := m.Expect(fmt.Sprintf("tcphi: listening on port %d", hiPort), 10*time.Second); err != nil {
		return err
	}
	var rates []float64
	buf := make([]byte, 16)
	for range netRuns {
		start := time.Now()
		for i := range connRounds {
			c, err := dial()
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = c.Write([]byte("hello"))
			var n int
			if err == nil {
				n, err = io.ReadFull(c, buf[:2])
			}
			c.Close()
			if err != nil || string(buf[:n]) != "hi" {
				return fmt.Errorf("connection %d: %q %v", i, buf[:n], err)
			}
		}
		rates = append(rates, connRounds/time.Since(start).Seconds())
	}
	report("tap host→guest connect/send/recv/close (/s)", rates)
	return nil
}

func atof(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(errors.New("bench: not a number: " + s))
	}
	return f
}
