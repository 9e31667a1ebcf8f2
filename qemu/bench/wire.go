package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"gomenuos/qemu/relay"
)

// Where a host→guest connection's time goes, seen on the wire: with
// -wire DIR, each tap connection-rate round is captured on the tap (by
// tcpdump, in the guest's namespace) into DIR, and the capture is split
// into the four phases that follow each other on the critical path:
//
//	guest  SYN → SYN-ACK       the guest's handshake reply
//	host   SYN-ACK → "hello"   the host client's connect returning and its write
//	guest  "hello" → "hi"      accept, read and write on the guest
//	host   "hi" → next SYN     the host's read, close and next connect
//
// and, off the critical path, the guest's "hi" → its FIN. The medians of
// the four add up to about the time per connection.

// wireDir is the -wire flag.
var wireDir string

// capture is a tcpdump running in a namespace.
type capture struct {
	cmd  *exec.Cmd
	path string
}

// startCapture captures TCP to or from port on ns's tap into path.
func startCapture(ns *relay.Netns, path string, port int) (*capture, error) {
	argv := ns.Command([]string{"tcpdump", "-i", ns.Tap, "-n", "-U", "-s", "128",
		"--time-stamp-precision=nano", "-w", path, "tcp", "port", fmt.Sprint(port)})
	cmd := exec.Command(argv[0], argv[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("tcpdump: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- nil
				for sc.Scan() {
				}
				return
			}
		}
		ready <- fmt.Errorf("tcpdump ended before it listened")
	}()
	select {
	case err := <-ready:
		if err != nil {
			cmd.Wait()
			return nil, err
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("tcpdump did not start in 10 s")
	}
	return &capture{cmd: cmd, path: path}, nil
}

// stop ends the capture and waits until tcpdump has written its file.
func (c *capture) stop() error {
	c.cmd.Process.Signal(syscall.SIGINT)
	return c.cmd.Wait()
}

// connTimes are the moments one connection's segments crossed the tap.
type connTimes struct {
	syn, synAck, hello, hi, guestFin time.Time
}

// wirePhases are the per-connection phase durations of a capture.
type wirePhases struct {
	synAck, hello, hi, next, fin []time.Duration
}

// readConnTimes reads a capture of connections to the guest's port and
// returns them in the order their SYNs were seen.
func readConnTimes(path string, port int) ([]*connTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, err
	}
	byPort := map[layers.TCPPort]*connTimes{}
	var order []*connTimes
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.NoCopy)
		tl, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			continue
		}
		fromGuest := tl.SrcPort == layers.TCPPort(port)
		hostPort := tl.SrcPort
		if fromGuest {
			hostPort = tl.DstPort
		}
		c := byPort[hostPort]
		if tl.SYN && !tl.ACK && !fromGuest {
			c = &connTimes{syn: ci.Timestamp}
			byPort[hostPort] = c
			order = append(order, c)
			continue
		}
		if c == nil {
			continue
		}
		setFirst := func(t *time.Time) {
			if t.IsZero() {
				*t = ci.Timestamp
			}
		}
		switch {
		case fromGuest && tl.SYN:
			setFirst(&c.synAck)
		case !fromGuest && len(tl.Payload) > 0:
			setFirst(&c.hello)
		case fromGuest && len(tl.Payload) > 0:
			setFirst(&c.hi)
		}
		if fromGuest && tl.FIN {
			setFirst(&c.guestFin)
		}
	}
	return order, nil
}

// phases splits the connections' times into the phases above; a
// connection missing a segment is left out.
func phases(conns []*connTimes) wirePhases {
	var w wirePhases
	for i, c := range conns {
		if c.synAck.IsZero() || c.hello.IsZero() || c.hi.IsZero() {
			continue
		}
		w.synAck = append(w.synAck, c.synAck.Sub(c.syn))
		w.hello = append(w.hello, c.hello.Sub(c.synAck))
		w.hi = append(w.hi, c.hi.Sub(c.hello))
		if i+1 < len(conns) {
			w.next = append(w.next, conns[i+1].syn.Sub(c.hi))
		}
		if !c.guestFin.IsZero() {
			w.fin = append(w.fin, c.guestFin.Sub(c.hi))
		}
	}
	return w
}

func medianDuration(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func (w wirePhases) String() string {
	us := func(d []time.Duration) string { return fmt.Sprintf("%6.0f", float64(medianDuration(d))/1e3) }
	return fmt.Sprintf("guest SYN→SYN-ACK %s | host →hello %s | guest hello→hi %s | host hi→next SYN %s µs (guest hi→FIN %s; %d conns)",
		us(w.synAck), us(w.hello), us(w.hi), us(w.next), us(w.fin), len(w.synAck))
}

// wireSeq numbers the captures of a run.
var wireSeq int

// measureOnWire runs measure while capturing g's connections to port,
// then prints the capture's phases. Without -wire, or off a tap, it just
// runs measure.
func measureOnWire(g *guest, port int, label string, measure func() (float64, error)) (float64, error) {
	if wireDir == "" || g.ns == nil {
		return measure()
	}
	if err := os.MkdirAll(wireDir, 0o755); err != nil {
		return 0, err
	}
	wireSeq++
	path := filepath.Join(wireDir, fmt.Sprintf("%02d-%s-%s.pcap", wireSeq, strings.ReplaceAll(g.name, "/", "_"), label))
	c, err := startCapture(g.ns, path, port)
	if err != nil {
		return 0, err
	}
	v, err := measure()
	c.stop()
	if err != nil {
		return v, err
	}
	conns, rerr := readConnTimes(path, port)
	if rerr != nil {
		return v, rerr
	}
	fmt.Printf("  wire %-9s %-8s %6.0f/s: %v\n", g.name, label, v, phases(conns))
	return v, nil
}
