package main

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/linuxpeer"
)

// User-space figures: the same static program (user/ubench.c) on gomenuos
// and on the Linux peer, booted alternately in one run, each figure the
// median of the rounds with its spread. Nothing about Linux is a constant
// here: every Linux figure comes from the peer booted in this run.

// ubenchRuns are the programs and the line they print.
var ubenchRuns = []struct {
	name, args string
	unit       string
}{
	{"syscall round trip (getppid)", "syscall 200000", "ns"},
	{"pipe ping-pong per switch", "pipe 20000", "us"},
	{"fork+exec+wait of a static hello", "spawn 300 /bin/hello", "us"},
}

var ubenchLine = regexp.MustCompile(`ubench (?:syscall|pipe|spawn|loop): ([0-9.]+) `)

// userFigures boots each kernel rounds times, alternating, runs every
// ubench case on each boot, and prints ours, Linux's and the ratio.
// With -vs, the other side is our image in that directory (A/B).
func userFigures(dir string, rounds int) error {
	other, otherName := ubenchLinux, "Linux"
	if vsDir != "" {
		other = func(_ string, into [][]float64) error { return ubenchOurs(vsDir, into) }
		otherName = "vs"
	} else if err := linuxpeer.Build(dir); err != nil {
		return fmt.Errorf("linux peer: %w", err)
	}
	ours := make([][]float64, len(ubenchRuns))
	linux := make([][]float64, len(ubenchRuns))
	for r := 0; r < rounds; r++ {
		if err := ubenchOurs(dir, ours); err != nil {
			return err
		}
		if err := other(dir, linux); err != nil {
			return err
		}
	}
	fmt.Printf("user space, same static program on both kernels (median of %d alternating boots [min, max]):\n", rounds)
	for i, c := range ubenchRuns {
		o, l := median(ours[i]), median(linux[i])
		fmt.Printf("  %-34s gomenuos %9.2f %s [%.2f, %.2f]   %-5s %9.2f %s [%.2f, %.2f]   ratio %.2f\n",
			c.name, o, c.unit, slices.Min(ours[i]), slices.Max(ours[i]), otherName, l, c.unit, slices.Min(linux[i]), slices.Max(linux[i]), o/l)
	}
	return nil
}

func ubenchOurs(dir string, into [][]float64) error {
	m, err := harness.Start(harness.Config{BuildDir: dir, Timeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer m.Kill()
	if _, err := m.Expect(prompt, time.Minute); err != nil {
		return err
	}
	for i, c := range ubenchRuns {
		m.Send("ubench " + c.args + "\r")
		out, err := m.Expect(prompt, 5*time.Minute)
		if err != nil {
			return err
		}
		v, err := ubenchValue(out)
		if err != nil {
			return fmt.Errorf("gomenuos ubench %s: %w", c.args, err)
		}
		into[i] = append(into[i], v)
	}
	return nil
}

func ubenchLinux(dir string, into [][]float64) error {
	m, err := linuxpeer.Start(linuxpeer.Config{Build: dir})
	if err != nil {
		return err
	}
	defer m.Kill()
	for i, c := range ubenchRuns {
		out, err := linuxpeer.Run(m, "ubench "+c.args, 5*time.Minute)
		if err != nil {
			return err
		}
		v, err := ubenchValue(out)
		if err != nil {
			return fmt.Errorf("linux ubench %s: %w", c.args, err)
		}
		into[i] = append(into[i], v)
	}
	return nil
}

func ubenchValue(out string) (float64, error) {
	m := ubenchLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no figure in %q", out)
	}
	return strconv.ParseFloat(m[1], 64)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// Network figures from user space: the same ubench on both kernels over
// QEMU user networking (the host is 10.0.2.2 inside; ports forwarded in),
// loopback inside each guest, each guest booted once per round,
// alternating. Bulk rates are timed on the host: from accepting (or
// connecting) to the end of 64 MiB.
const ubenchBulk = 64 << 20

var ubenchNetRuns = []string{"loopback round trips, silent server", "loopback round trips, printing server",
	"bulk guest→host (user net)", "bulk host→guest (user net)", "host→guest connect/close (user net)"}

// guestShell runs a line on either kernel's shell and returns its output.
type guestShell func(line string, timeout time.Duration) (string, error)

// startLine types a command without waiting for it; endLine waits for
// the shell to be back.
type guestSide struct {
	run   guestShell
	start func(line string)
	end   func(timeout time.Duration) error
}

func ubenchNetFigures(dir string, rounds int) error {
	ours := make([][]float64, len(ubenchNetRuns))
	linux := make([][]float64, len(ubenchNetRuns))
	for r := 0; r < rounds; r++ {
		for _, side := range []struct {
			into [][]float64
			boot func(fwd []string) (*harness.Machine, guestSide, error)
		}{{ours, bootOursNet(dir)}, {linux, otherNet(dir)}} {
			if err := netRound(side.boot, side.into); err != nil {
				return err
			}
		}
	}
	fmt.Printf("network from user space, same static program on both kernels (median of %d alternating boots [min, max]):\n", rounds)
	units := []string{"/s", "/s", "MB/s", "MB/s", "/s"}
	otherName := "Linux"
	if vsDir != "" {
		otherName = "vs"
	}
	for i, name := range ubenchNetRuns {
		o, l := median(ours[i]), median(linux[i])
		fmt.Printf("  %-38s gomenuos %8.1f %s [%.1f, %.1f]   %-5s %8.1f %s [%.1f, %.1f]   ratio %.2f\n",
			name, o, units[i], slices.Min(ours[i]), slices.Max(ours[i]), otherName, l, units[i], slices.Min(linux[i]), slices.Max(linux[i]), o/l)
	}
	return nil
}

// otherNet boots the other side of the network figures: the Linux peer,
// or with -vs our image in that directory.
func otherNet(dir string) func(fwd []string) (*harness.Machine, guestSide, error) {
	if vsDir != "" {
		return bootOursNet(vsDir)
	}
	return bootLinuxNet(dir)
}

func bootOursNet(dir string) func(fwd []string) (*harness.Machine, guestSide, error) {
	return func(fwd []string) (*harness.Machine, guestSide, error) {
		m, err := harness.Start(harness.Config{BuildDir: dir, Timeout: 15 * time.Minute, ExtraArgs: harness.UserNet(fwd...)})
		if err != nil {
			return nil, guestSide{}, err
		}
		if _, err := m.Expect(prompt, time.Minute); err != nil {
			m.Kill()
			return nil, guestSide{}, err
		}
		return m, guestSide{
			run: func(line string, timeout time.Duration) (string, error) {
				m.Send(line + "\r")
				return m.Expect(prompt, timeout)
			},
			start: func(line string) { m.Send(line + "\r") },
			end: func(timeout time.Duration) error {
				_, err := m.Expect(prompt, timeout)
				return err
			},
		}, nil
	}
}

func bootLinuxNet(dir string) func(fwd []string) (*harness.Machine, guestSide, error) {
	return func(fwd []string) (*harness.Machine, guestSide, error) {
		m, err := linuxpeer.Start(linuxpeer.Config{Build: dir, Append: "peer.ip=10.0.2.15/24 peer.gw=10.0.2.2",
			ExtraArgs: harness.UserNet(fwd...), Timeout: 15 * time.Minute})
		if err != nil {
			return nil, guestSide{}, err
		}
		const mark = "::foreground done::"
		return m, guestSide{
			run:   func(line string, timeout time.Duration) (string, error) { return linuxpeer.Run(m, line, timeout) },
			start: func(line string) { m.Send(line + "; echo '" + mark + "'\n") },
			end: func(timeout time.Duration) error {
				_, err := m.Expect(mark+"\r\n", timeout)
				return err
			},
		}, nil
	}
}

// netRound boots one kernel and measures every network figure once.
func netRound(boot func([]string) (*harness.Machine, guestSide, error), into [][]float64) error {
	sinkPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	ports := make([]int, 2)
	for i := range ports {
		if ports[i], err = harness.FreePort(); err != nil {
			return err
		}
	}
	m, g, err := boot([]string{fmt.Sprintf("tcp:127.0.0.1:%d-:5002", ports[0]), fmt.Sprintf("tcp:127.0.0.1:%d-:5003", ports[1])})
	if err != nil {
		return err
	}
	defer m.Kill()
	for i, args := range []string{"loop 300", "loop 300 print"} {
		out, err := g.run("ubench "+args, 5*time.Minute)
		if err != nil {
			return err
		}
		v, err := ubenchValue(out)
		if err != nil {
			return err
		}
		into[i] = append(into[i], v)
	}
	rate, err := guestToHostRate(g.run, sinkPort)
	if err != nil {
		return err
	}
	into[2] = append(into[2], rate)
	if rate, err = hostToGuestRate(m, g, ports[0]); err != nil {
		return err
	}
	into[3] = append(into[3], rate)
	conns, err := hostConnectRate(m, g, ports[1], 200)
	if err != nil {
		return err
	}
	into[4] = append(into[4], conns)
	return nil
}

// guestToHostRate: the guest's ubench sends 64 MiB to a host listener,
// which times it.
func guestToHostRate(sh guestShell, port int) (float64, error) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	res := make(chan float64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			res <- 0
			return
		}
		defer c.Close()
		start := time.Now()
		n, _ := io.Copy(io.Discard, c)
		if n != ubenchBulk {
			res <- 0
			return
		}
		res <- float64(n) / time.Since(start).Seconds() / 1e6
	}()
	if _, err := sh(fmt.Sprintf("ubench send 10.0.2.2 %d %d", port, ubenchBulk), 10*time.Minute); err != nil {
		return 0, err
	}
	if r := <-res; r > 0 {
		return r, nil
	}
	return 0, fmt.Errorf("guest→host transfer incomplete")
}

// hostToGuestRate: the host sends 64 MiB to the guest's ubench recv
// through the forwarded port, timed from connecting to the guest's count.
func hostToGuestRate(m *harness.Machine, g guestSide, port int) (float64, error) {
	g.start("ubench recv 5002")
	if _, err := m.Expect("ubench recv: listening", time.Minute); err != nil {
		return 0, err
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	buf := make([]byte, 1<<16)
	for sent := 0; sent < ubenchBulk; sent += len(buf) {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			return 0, err
		}
	}
	c.(*net.TCPConn).CloseWrite()
	if _, err := m.Expect(fmt.Sprintf("ubench recv: %d bytes", ubenchBulk), 10*time.Minute); err != nil {
		c.Close()
		return 0, err
	}
	d := time.Since(start)
	c.Close()
	return ubenchBulk / d.Seconds() / 1e6, g.end(time.Minute)
}

// hostConnectRate: the host connects and closes n times to the guest's
// ubench accept, timed on the host.
func hostConnectRate(m *harness.Machine, g guestSide, port, n int) (float64, error) {
	g.start(fmt.Sprintf("ubench accept 5003 %d", n))
	if _, err := m.Expect("ubench accept: listening", time.Minute); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		if err != nil {
			return 0, err
		}
		c.Close()
	}
	if _, err := m.Expect(fmt.Sprintf("ubench accept: %d connections", n), 5*time.Minute); err != nil {
		return 0, err
	}
	d := time.Since(start)
	return float64(n) / d.Seconds(), g.end(time.Minute)
}
