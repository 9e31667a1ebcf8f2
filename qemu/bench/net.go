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

// Network figures, each the median of netRuns with the spread. Bulk rates
// are timed on the host, as the Linux guest's measurement times them: the
// host's sink from accept to EOF (guest→host), the host's source from
// connect until the guest closed after reading everything (host→guest).
// No peer figure is printed from a constant: compare with a Linux guest
// measured alternately in the same window (docs/performance.md).
const (
	netRuns      = 5
	bulkBytes    = 64 << 20 // per run, as the Linux guest's measurement
	impairBytes  = 4 << 20  // per run through the impairing relay
	sinkPort     = 6000
	hiPort       = 5003
	connRounds   = 300 // connections per connect/close measurement
	guestTimeout = 5 * time.Minute
)

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
	fmt.Printf("network (median of %d runs; bulk: %d MiB per run, host-side clock):\n", netRuns, bulkBytes>>20)
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
	fmt.Printf("  %-52s %8.1f  [min %.1f, max %.1f]\n", name, med, samples[0], samples[len(samples)-1])
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
	return bulkFigures(m, "user-net", "10.0.2.2", bulkBytes, listen, dial)
}

// bulkFigures measures netRuns transfers of size bytes each way, guest→host
// and host→guest alternately, and reports the rates.
func bulkFigures(m *harness.Machine, label, hostIP string, size int64, listen func() (net.Listener, error), dial func() (net.Conn, error)) error {
	var out, in []float64
	for range netRuns {
		l, err := listen()
		if err != nil {
			return err
		}
		r, err := guestToHost(m, l, hostIP, size)
		l.Close()
		if err != nil {
			return err
		}
		out = append(out, r)
		if r, err = hostToGuest(m, dial, size); err != nil {
			return err
		}
		in = append(in, r)
	}
	report(label+" guest→host bulk TCP (MB/s)", out)
	report(label+" host→guest bulk TCP (MB/s)", in)
	return nil
}

// guestToHost runs `tcpsource -n` in the guest against l; the host checks
// every byte is the stream's first 64 KiB repeated and times from accept
// to EOF.
func guestToHost(m *harness.Machine, l net.Listener, hostIP string, size int64) (float64, error) {
	type result struct {
		d   time.Duration
		err error
	}
	got := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		start := time.Now()
		c.SetDeadline(start.Add(guestTimeout))
		err = checkRepeated(c, size)
		got <- result{time.Since(start), err}
	}()
	m.Send(fmt.Sprintf("tcpsource -n %s %d %d\r", hostIP, l.Addr().(*net.TCPAddr).Port, size))
	if _, _, err := m.ExpectRegexp(sentRe, guestTimeout); err != nil {
		return 0, err
	}
	r := <-got
	if r.err != nil {
		return 0, r.err
	}
	_, err := m.Expect(prompt, 10*time.Second)
	return float64(size) / r.d.Seconds() / 1e6, err
}

// checkRepeated reads r to EOF: size bytes of the block tcpsource -n sends.
func checkRepeated(r io.Reader, size int64) error {
	block := make([]byte, 64<<10)
	netcmd.NewBulkStream().Read(block)
	buf := make([]byte, len(block))
	var n int64
	for n < size {
		k := min(int64(len(buf)), size-n)
		if _, err := io.ReadFull(r, buf[:k]); err != nil {
			return fmt.Errorf("after %d bytes: %w", n, err)
		}
		if !bytes.Equal(buf[:k], block[:k]) {
			return fmt.Errorf("bytes %d..%d differ from what tcpsource -n sends", n, n+k)
		}
		n += k
	}
	if k, _ := r.Read(buf[:1]); k != 0 {
		return fmt.Errorf("more than %d bytes", size)
	}
	return nil
}

// hostToGuest runs `tcpsink -n` in the guest and sends it the stream,
// timing from connect until the guest, having read all, closes.
func hostToGuest(m *harness.Machine, dial func() (net.Conn, error), size int64) (float64, error) {
	m.Send(fmt.Sprintf("tcpsink -n %d\r", sinkPort))
	if _, err := m.Expect("tcpsink: listening", 10*time.Second); err != nil {
		return 0, err
	}
	start := time.Now()
	c, err := dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(start.Add(guestTimeout))
	if _, err = io.CopyN(c, netcmd.NewBulkStream(), size); err != nil {
		return 0, err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		return 0, err
	}
	d := time.Since(start)
	_, sm, err := m.ExpectRegexp(receivedRe, guestTimeout)
	if err != nil {
		return 0, err
	}
	if sm[1] != strconv.FormatInt(size, 10) {
		return 0, fmt.Errorf("guest received %s bytes, want %d", sm[1], size)
	}
	_, err = m.Expect(prompt, 10*time.Second)
	return float64(size) / d.Seconds() / 1e6, err
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
	if err := bulkFigures(m, "tap", relay.NetnsHostIP, bulkBytes, listen, dialTo(sinkPort)); err != nil {
		return err
	}
	return connectFigure(m, dialTo(hiPort))
}

// impairedFigures measures bulk TCP through the relay at each loss rate
// with the same seeded reordering and duplication, each way: guest→host
// is our TCP sending to Linux's, host→guest Linux's sending to ours, in
// the same run.
func impairedFigures(dir string) error {
	for _, loss := range []float64{0.005, 0.01, 0.05} {
		if err := impairedFigure(dir, loss); err != nil {
			return err
		}
	}
	return nil
}

func impairedFigure(dir string, loss float64) error {
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
	imp := relay.Impair{Loss: loss, Reorder: 0.05, Dup: 0.05, Seed: 1}
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
	label := fmt.Sprintf("%.1f%% loss, 5%% reorder+dup:", loss*100)
	return bulkFigures(m, label, relay.NetnsHostIP, impairBytes, listen, dialTo(sinkPort))
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
