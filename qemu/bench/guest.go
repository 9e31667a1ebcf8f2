package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"time"

	"gomenuos/kernel/netcmd"
	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// guest is one booted machine the network figures measure: ours, or the
// Linux peer (peer.go). The host drives both the same way, with the same
// code and the same clock; only the commands typed on their consoles
// differ (cmds).
type guest struct {
	name      string
	m         *harness.Machine
	cmds      guestCmds
	hostIP    string                                  // the host as the guest reaches it
	listen    func() (net.Listener, error)            // a host listener the guest can reach
	dial      func(port int) func() (net.Conn, error) // the host connecting to a guest port
	cleanup   func()
	ns        *relay.Netns // the namespace of its tap, if on one
	started   time.Time
	booted    time.Duration // QEMU start → prompt
	hiStarted bool          // the hi server runs (startHi)
}

// guestCmds are a guest's console commands for each measurement.
type guestCmds struct {
	newline string // what ends a typed line
	// run types line and waits for done; it returns the output up to it.
	run func(g *guest, line string, done *regexp.Regexp, timeout time.Duration) ([]string, error)
	// source sends size bytes to host:port and returns when the guest
	// says it is done; block is what it sends, over and over.
	source func(host string, port int, size int64) (line string, done *regexp.Regexp)
	block  []byte
	// sink accepts one connection on port and reads it to EOF; ready is
	// printed once it listens, done (group 1: bytes) when it finished.
	sink      func(port int) (line string, ready string, done *regexp.Regexp)
	sinkPort  int
	afterSink func(g *guest) error // e.g. wait for the prompt
	// hi starts a background server answering "hello" with "hi".
	hi func(port int) (line, ready string)
	// userHi starts user/tcpbulk's hi server, the same static program on
	// both kernels.
	userHi func(port int) (line, ready string)
	// loopback runs n in-guest connect/send/recv/close round trips and
	// returns the rate per second.
	loopback func(g *guest, n int) (float64, error)
}

// Ours: the shell's tcpsource/tcpsink/tcphi/netbench.
var oursCmds = guestCmds{
	newline: "\r",
	run: func(g *guest, line string, done *regexp.Regexp, timeout time.Duration) ([]string, error) {
		g.m.Send(line + "\r")
		_, sm, err := g.m.ExpectRegexp(done, timeout)
		if err == nil {
			_, err = g.m.Expect(prompt, 10*time.Second)
		}
		return sm, err
	},
	source: func(host string, port int, size int64) (string, *regexp.Regexp) {
		return fmt.Sprintf("tcpsource -n %s %d %d", host, port, size), sentRe
	},
	block: func() []byte {
		b := make([]byte, 64<<10)
		netcmd.NewBulkStream().Read(b)
		return b
	}(),
	sink: func(port int) (string, string, *regexp.Regexp) {
		return fmt.Sprintf("tcpsink -n %d", port), "tcpsink: listening", receivedRe
	},
	sinkPort:  sinkPort,
	afterSink: func(g *guest) error { _, err := g.m.Expect(prompt, 10*time.Second); return err },
	userHi: func(port int) (string, string) {
		return fmt.Sprintf("tcpbulk hi %d &", port), fmt.Sprintf("tcpbulk hi: listening on %d", port)
	},
	hi: func(port int) (string, string) {
		return fmt.Sprintf("tcphi %d &", port), fmt.Sprintf("tcphi: listening on port %d", port)
	},
	loopback: func(g *guest, n int) (float64, error) {
		sm, err := g.cmds.run(g, fmt.Sprintf("netbench %d", n), netbenchRe, time.Minute)
		if err != nil {
			return 0, err
		}
		if sm[3] != "0" {
			return 0, fmt.Errorf("netbench: %s errors", sm[3])
		}
		return atof(sm[2]), nil
	},
}

// bootOurs boots our image with netArgs (nil: no NIC), inside ns if set.
func bootOurs(dir string, ns *relay.Netns, cmdline string, netArgs []string) (*guest, error) {
	cfg := harness.Config{BuildDir: dir, Cmdline: cmdline, ExtraArgs: netArgs, Timeout: 30 * time.Minute}
	if ns != nil {
		cfg.Command = ns.Command(cfg.Args())
	}
	m, err := harness.Start(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := m.Expect(prompt, 60*time.Second); err != nil {
		m.Kill()
		return nil, err
	}
	return &guest{name: "gomenuos", m: m, cmds: oursCmds, booted: m.Since()}, nil
}

// oursOnTap boots our guest in a fresh namespace on its tap.
func oursOnTap(dir string) (*guest, error) {
	ns, err := relay.NewNetns("gmbench")
	if err != nil {
		return nil, err
	}
	g, err := bootOurs(dir, ns, "ip="+relay.NetnsGuestIP+"/24 gw="+relay.NetnsHostIP, harness.TapNet(ns.Tap))
	if err != nil {
		ns.Close()
		return nil, err
	}
	onNetns(g, ns)
	return g, nil
}

// oursOnUserNet boots our guest on QEMU user networking with the sink
// port forwarded from a free host port.
func oursOnUserNet(dir string) (*guest, error) {
	fwd, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	g, err := bootOurs(dir, nil, "", harness.UserNet(
		fmt.Sprintf("tcp:127.0.0.1:%d-:%d", fwd, sinkPort)))
	if err != nil {
		return nil, err
	}
	onUserNet(g, map[int]int{sinkPort: fwd})
	return g, nil
}

// onNetns makes g's host ends the namespace's side of its tap.
func onNetns(g *guest, ns *relay.Netns) {
	g.hostIP = relay.NetnsHostIP
	g.ns = ns
	g.listen, g.dial = netnsEnds(ns)
	g.cleanup = func() { ns.Close() }
}

// onUserNet makes g's host ends the loopback address and the forwards
// (guest port → host port).
func onUserNet(g *guest, fwd map[int]int) {
	g.hostIP = "10.0.2.2"
	g.listen = func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
	g.dial = func(port int) func() (net.Conn, error) {
		return func() (net.Conn, error) {
			return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fwd[port]), 10*time.Second)
		}
	}
	g.cleanup = func() {}
}

// close stops the guest and removes what it was attached to.
func (g *guest) close() {
	g.m.Kill()
	if g.cleanup != nil {
		g.cleanup()
	}
}

// sendBulk has the guest send size bytes to a host sink and returns the
// host-side rate: MB/s from accept to EOF, every byte checked.
func (g *guest) sendBulk(size int64) (float64, error) {
	l, err := g.listen()
	if err != nil {
		return 0, err
	}
	defer l.Close()
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
		err = checkRepeated(c, g.cmds.block, size)
		d := time.Since(start)
		got <- result{d, err}
	}()
	line, done := g.cmds.source(g.hostIP, l.Addr().(*net.TCPAddr).Port, size)
	if _, err := g.cmds.run(g, line, done, guestTimeout); err != nil {
		return 0, err
	}
	r := <-got
	if r.err != nil {
		return 0, r.err
	}
	return float64(size) / r.d.Seconds() / 1e6, nil
}

// receiveBulk has the host send size bytes to a sink in the guest and
// returns the host-side rate: MB/s from connect until the guest, having
// read everything, closed.
func (g *guest) receiveBulk(size int64) (float64, error) {
	line, ready, done := g.cmds.sink(g.cmds.sinkPort)
	g.m.Send(line + g.cmds.newline)
	if _, err := g.m.Expect(ready, 10*time.Second); err != nil {
		return 0, err
	}
	start := time.Now()
	c, err := g.dial(g.cmds.sinkPort)()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(start.Add(guestTimeout))
	if _, err = copyBlock(c, g.cmds.block, size); err != nil {
		return 0, err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		return 0, err
	}
	d := time.Since(start)
	_, sm, err := g.m.ExpectRegexp(done, guestTimeout)
	if err != nil {
		return 0, err
	}
	if sm[1] != strconv.FormatInt(size, 10) {
		return 0, fmt.Errorf("%s received %s bytes, want %d; console: %q", g.name, sm[1], size, tailOf(g.m.Output()))
	}
	if err := g.cmds.afterSink(g); err != nil {
		return 0, err
	}
	return float64(size) / d.Seconds() / 1e6, nil
}

// copyBlock writes block over and over, size bytes in all.
func copyBlock(c net.Conn, block []byte, size int64) (int64, error) {
	var n int64
	for n < size {
		k, err := c.Write(block[:min(int64(len(block)), size-n)])
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// checkRepeated reads c to EOF: size bytes of block over and over.
func checkRepeated(c net.Conn, block []byte, size int64) error {
	buf := make([]byte, len(block))
	var n int64
	for n < size {
		k := min(int64(len(buf)), size-n)
		if _, err := io.ReadFull(c, buf[:k]); err != nil {
			return fmt.Errorf("after %d bytes: %w", n, err)
		}
		if !bytes.Equal(buf[:k], block[:k]) {
			return fmt.Errorf("bytes %d..%d differ from what the guest sends", n, n+k)
		}
		n += k
	}
	if k, _ := c.Read(buf[:1]); k != 0 {
		return fmt.Errorf("more than %d bytes", size)
	}
	return nil
}

// connectRate starts the guest's hi server and times rounds sequential
// host→guest connect/send "hello"/recv "hi"/close.
func (g *guest) connectRate(port, rounds int) (float64, error) {
	buf := make([]byte, 16)
	dial := g.dial(port)
	start := time.Now()
	for i := range rounds {
		c, err := dial()
		if err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte("hello"))
		var n int
		if err == nil {
			n, err = io.ReadFull(c, buf[:2])
		}
		c.Close()
		if err != nil || string(buf[:n]) != "hi" {
			return 0, fmt.Errorf("connection %d: %q %v", i, buf[:n], err)
		}
	}
	return float64(rounds) / time.Since(start).Seconds(), nil
}

// startHi starts the guest's background hi server on port.
func (g *guest) startHi(port int) error { return g.start(g.cmds.hi(port)) }

// startUserHi starts user/tcpbulk's hi server on port.
func (g *guest) startUserHi(port int) error { return g.start(g.cmds.userHi(port)) }

func (g *guest) start(line, ready string) error {
	g.m.Send(line + g.cmds.newline)
	_, err := g.m.Expect(ready, 10*time.Second)
	return err
}
