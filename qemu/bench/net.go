package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// Network figures, each the median of netRuns with the spread. With a Linux
// peer (-peer), its guest runs beside ours and every measurement
// alternates between the two, round after round, in the same window, timed
// by the same host code: bulk rates on the host's clock, as the host's sink
// sees them from accept to EOF (guest→host) and as the host's source sees
// them from connect until the guest closed after reading everything
// (host→guest). No peer figure ever comes from a constant.
const (
	netRuns      = 5
	bulkBytes    = 64 << 20 // per run
	impairBytes  = 4 << 20  // per run through the impairing relay
	sinkPort     = 6000
	hiPort       = 5003
	userHiPort   = 5006 // user/tcpbulk hi, on both kernels
	connRounds   = 300  // connections per connect/close measurement
	loopRounds   = 2000
	guestTimeout = 5 * time.Minute
)

var (
	// -n: the guest neither generates nor hashes the stream (under TCG
	// SHA-256 is about as slow as the network path); the host checks.
	sentRe     = regexp.MustCompile(`sent (\d+) bytes in \S+ \(([\d.]+) MB/s\)`)
	receivedRe = regexp.MustCompile(`received (\d+) bytes in \S+ \(([\d.]+) MB/s\)`)
	netbenchRe = regexp.MustCompile(`netbench: (\d+) round trips in \S+: (\d+)/s, (\d+) errors`)
)

// netFigures prints the network table; root-only parts (tap, the relay)
// are reported as skipped without root.
func netFigures(dir string, peer *peerImage) error {
	fmt.Printf("network (median of %d runs [min, max]; bulk: %d MiB per run, host-side clock", netRuns, bulkBytes>>20)
	if peer != nil {
		fmt.Printf("; each run alternating gomenuos and the Linux peer")
	}
	fmt.Printf("):\n")
	printHeader(peer != nil)
	for _, s := range []struct {
		name string
		fn   func(string, *peerImage) error
	}{{"loopback", loopbackFigure}, {"user", userNetFigures}, {"tap", tapFigures}} {
		if !want(s.name) {
			continue
		}
		if err := s.fn(dir, peer); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if want("impaired") {
		if err := impairedFigures(dir); err != nil {
			return fmt.Errorf("impaired: %w", err)
		}
	}
	return nil
}

// figure is one row: our samples and the peer's (nil without a peer).
// The ratio is ours over the peer's: above 1 we are faster, except for
// times (lowerBetter), where it is the peer's over ours.
type figure struct {
	name        string
	ours, peer  []float64
	lowerBetter bool
}

func spread(s []float64) (med, lo, hi float64) {
	s = slices.Clone(s)
	slices.Sort(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}

func printHeader(peer bool) {
	if peer {
		fmt.Printf("  %-46s %-24s %-24s %s\n", "", "gomenuos", "Linux peer", "speed ratio")
	}
}

func (f figure) print() {
	m, lo, hi := spread(f.ours)
	fmt.Printf("  %-46s %-24s", f.name, fmt.Sprintf("%8.1f [%.1f, %.1f]", m, lo, hi))
	if len(f.peer) > 0 {
		pm, plo, phi := spread(f.peer)
		r := m / pm
		if f.lowerBetter {
			r = pm / m
		}
		fmt.Printf(" %-24s %.2f×", fmt.Sprintf("%8.1f [%.1f, %.1f]", pm, plo, phi), r)
	}
	fmt.Println()
}

// alternate boots ours (and the peer's, when there is one) with the
// bootX functions, then runs each measurement on ours and on the peer in
// turn, netRuns rounds, and prints one row per measurement.
func alternate(ours func() (*guest, error), peer func() (*guest, error), names []string,
	measures func(g *guest) []func() (float64, error)) error {
	o, err := ours()
	if err != nil {
		return err
	}
	defer o.close()
	gs := []*guest{o}
	if peer != nil {
		p, err := peer()
		if err != nil {
			return fmt.Errorf("Linux peer: %w", err)
		}
		defer p.close()
		gs = append(gs, p)
	}
	rows := make([]figure, len(names))
	ms := make([][]func() (float64, error), len(gs))
	for i, g := range gs {
		ms[i] = measures(g)
	}
	for range netRuns {
		for j := range names {
			for i, g := range gs {
				v, err := ms[i][j]()
				if err != nil {
					return fmt.Errorf("%s, %s: %w", g.name, names[j], err)
				}
				if i == 0 {
					rows[j].ours = append(rows[j].ours, v)
				} else {
					rows[j].peer = append(rows[j].peer, v)
				}
			}
		}
	}
	for j, r := range rows {
		r.name = names[j]
		r.print()
	}
	return nil
}

// vsDir is the -vs flag: another build of ours to measure in the peer's
// place (an A/B comparison of two builds, alternating like the peer).
var vsDir string

// pick returns the second machine's boot function: our other build with
// -vs, else the Linux peer's, else nil.
func pick(p *peerImage, linux func(*peerImage) (*guest, error), ours func(string) (*guest, error)) func() (*guest, error) {
	if vsDir != "" {
		return func() (*guest, error) {
			g, err := ours(vsDir)
			if g != nil {
				g.name = "gomenuos@" + vsDir
			}
			return g, err
		}
	}
	return peerBoot(p, linux)
}

// peerBoot returns the peer's boot function, nil without a peer.
func peerBoot(p *peerImage, boot func(*peerImage) (*guest, error)) func() (*guest, error) {
	if p == nil {
		return nil
	}
	return func() (*guest, error) { return boot(p) }
}

func loopbackFigure(dir string, peer *peerImage) error {
	ours := func() (*guest, error) { return bootOurs(dir, nil, "", nil) }
	return alternate(ours, pick(peer, peerOnUserNet, func(d string) (*guest, error) { return bootOurs(d, nil, "", nil) }),
		[]string{"loopback connect/send/recv/close (/s)"},
		func(g *guest) []func() (float64, error) {
			return []func() (float64, error){func() (float64, error) { return g.cmds.loopback(g, loopRounds) }}
		})
}

func bulkMeasures(g *guest) []func() (float64, error) {
	return []func() (float64, error){
		func() (float64, error) { return g.sendBulk(bulkBytes) },
		func() (float64, error) { return g.receiveBulk(bulkBytes) },
	}
}

func userNetFigures(dir string, peer *peerImage) error {
	return alternate(func() (*guest, error) { return oursOnUserNet(dir) }, pick(peer, peerOnUserNet, oursOnUserNet),
		[]string{"user-net guest→host bulk TCP (MB/s)", "user-net host→guest bulk TCP (MB/s)"}, bulkMeasures)
}

func tapFigures(dir string, peer *peerImage) error {
	if os.Geteuid() != 0 {
		fmt.Printf("  tap figures skipped: network namespaces need root\n")
		return nil
	}
	return alternate(func() (*guest, error) { return oursOnTap(dir) }, pick(peer, peerOnTap, oursOnTap),
		[]string{"tap guest→host bulk TCP (MB/s)", "tap host→guest bulk TCP (MB/s)",
			"tap host→guest connect/send/recv/close (/s)",
			"  the same, served by user/tcpbulk hi on both (/s)"},
		func(g *guest) []func() (float64, error) {
			return append(bulkMeasures(g), connectMeasure(g, g.startHi, hiPort, "hi"),
				connectMeasure(g, g.startUserHi, userHiPort, "user-hi"))
		})
}

// connectMeasure measures g's connection rate on port, served by the
// server start runs on the first round (label names it for -wire).
func connectMeasure(g *guest, start func(port int) error, port int, label string) func() (float64, error) {
	started := false
	return func() (float64, error) {
		if !started {
			if err := start(port); err != nil {
				return 0, err
			}
			started = true
		}
		return measureOnWire(g, port, label, func() (float64, error) { return g.connectRate(port, connRounds) })
	}
}

// impairedFigures measures bulk TCP through the relay at each loss rate
// with the same seeded reordering and duplication, each way: guest→host
// is our TCP sending to the host's Linux TCP, host→guest the host's Linux
// TCP sending to ours, in the same run. The host's sender uses CUBIC like
// ours, and also the namespace's default congestion control when that is
// another one.
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
		ns.Close()
		return err
	}
	const qemuPort = 40000 // free: nothing else runs in the namespace
	imp := relay.Impair{Loss: loss, Reorder: 0.05, Dup: 0.05, Seed: 1}
	r := relay.Start(&relay.UDPPort{Conn: udp, Peer: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: qemuPort}}, tap, imp)
	defer r.Close()
	g, err := bootOurs(dir, ns, "ip="+relay.NetnsGuestIP+"/24 gw="+relay.NetnsHostIP, []string{"-netdev", fmt.Sprintf(
		"dgram,id=%s,local.type=inet,local.host=127.0.0.1,local.port=%d,remote.type=inet,remote.host=127.0.0.1,remote.port=%d",
		harness.NetID, qemuPort, udp.LocalAddr().(*net.UDPAddr).Port),
		"-device", "virtio-net-pci,netdev=" + harness.NetID + ",romfile="})
	if err != nil {
		ns.Close()
		return err
	}
	onNetns(g, ns)
	defer g.close()
	// The host's sender runs CUBIC, as ours does, so the two directions
	// compare TCP implementations and not congestion controls; the
	// namespace's default (BBR on some hosts, which does not take random
	// loss for congestion) is measured beside it when it differs.
	def, err := netnsDefaultCC(ns)
	if err != nil {
		return err
	}
	ccs := []string{"cubic"}
	if def != "cubic" {
		ccs = append(ccs, def)
	}
	label := fmt.Sprintf("%.1f%% loss, 5%% reorder+dup:", loss*100)
	out, in := []float64(nil), make([][]float64, len(ccs))
	for range netRuns {
		v, err := g.sendBulk(impairBytes)
		if err != nil {
			return err
		}
		out = append(out, v)
		for i, cc := range ccs {
			g.dial = netnsDialer(ns, cc)
			if v, err = g.receiveBulk(impairBytes); err != nil {
				return err
			}
			in[i] = append(in[i], v)
		}
	}
	figure{name: label + " gomenuos → Linux (MB/s)", ours: out}.print()
	for i, cc := range ccs {
		name := label + " Linux " + cc
		if cc == def {
			name += " (netns default)"
		}
		figure{name: name + " → gomenuos (MB/s)", ours: in[i]}.print()
	}
	return nil
}

// netnsEnds returns the host's listen and dial functions inside ns.
func netnsEnds(ns *relay.Netns) (func() (net.Listener, error), func(port int) func() (net.Conn, error)) {
	listen := func() (l net.Listener, err error) {
		err = ns.Do(func() error { l, err = net.Listen("tcp", relay.NetnsHostIP+":0"); return err })
		return l, err
	}
	return listen, netnsDialer(ns, "")
}

// netnsDialer dials the guest from inside ns; with cc set, the host's
// socket uses that congestion control (TCP_CONGESTION, checked after the
// connection is up) instead of the namespace's default.
func netnsDialer(ns *relay.Netns, cc string) func(port int) func() (net.Conn, error) {
	return func(port int) func() (net.Conn, error) {
		return func() (c net.Conn, err error) {
			d := net.Dialer{Timeout: 10 * time.Second}
			if cc != "" {
				d.Control = func(_, _ string, rc syscall.RawConn) error {
					var serr error
					if err := rc.Control(func(fd uintptr) {
						serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)
					}); err != nil {
						return err
					}
					return serr
				}
			}
			err = ns.Do(func() error {
				c, err = d.Dial("tcp", net.JoinHostPort(relay.NetnsGuestIP, strconv.Itoa(port)))
				return err
			})
			if err == nil && cc != "" {
				if got, gerr := tcpCongestion(c); gerr != nil || got != cc {
					c.Close()
					return nil, fmt.Errorf("host socket's congestion control is %q (%v), want %q", got, gerr, cc)
				}
			}
			return c, err
		}
	}
}

// tcpCongestion reads a connection's TCP_CONGESTION.
func tcpCongestion(c net.Conn) (cc string, err error) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return "", err
	}
	if cerr := rc.Control(func(fd uintptr) { cc, err = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION) }); cerr != nil {
		return "", cerr
	}
	return strings.TrimRight(cc, "\x00"), err
}

// netnsDefaultCC is the congestion control new TCP sockets in ns get.
func netnsDefaultCC(ns *relay.Netns) (cc string, err error) {
	err = ns.Do(func() error {
		b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
		cc = strings.TrimSpace(string(b))
		return err
	})
	return cc, err
}

func atof(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(errors.New("bench: not a number: " + s))
	}
	return f
}
