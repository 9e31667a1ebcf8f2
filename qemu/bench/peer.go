package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/linuxpeer"
	"gomenuos/qemu/relay"
)

// The Linux peer (qemu/linuxpeer): Debian's Linux 6.1 cloud kernel with
// busybox and our own static programs, under the same QEMU (TCG, same
// memory, virtio-net with the same options). Its side of every network
// figure is user/tcpbulk, a C program; the host side is the same Go code
// that measures ours, with the same clock, run by run in turn.

// peerImage is a built peer, in the build directory's linux/.
type peerImage struct{ build string }

// preparePeer builds the peer from the build directory's programs.
func preparePeer(build string) (*peerImage, error) {
	if err := linuxpeer.Build(build); err != nil {
		return nil, err
	}
	return &peerImage{build: build}, nil
}

// version names the peer's kernel.
func (p *peerImage) version() string {
	target, err := os.Readlink(filepath.Join(p.build, "linux", "vmlinuz"))
	if err != nil {
		return "Linux"
	}
	return "Linux " + strings.TrimPrefix(filepath.Base(target), "vmlinuz-")
}

// bootPeer boots the peer with kernel arguments append and netArgs,
// inside ns when set.
func bootPeer(p *peerImage, ns *relay.Netns, append string, netArgs []string) (*guest, error) {
	cfg := linuxpeer.Config{Build: p.build, Append: append, ExtraArgs: netArgs, Timeout: 30 * time.Minute}
	if ns != nil {
		cfg.Wrap = ns.Command
	}
	start := time.Now()
	m, err := linuxpeer.Start(cfg)
	if err != nil {
		return nil, err
	}
	return &guest{name: "Linux", m: m, cmds: peerCmds, booted: time.Since(start)}, nil
}

// peerOnTap boots the peer in a fresh namespace on its tap, at the same
// addresses as our guest in its own namespace.
func peerOnTap(p *peerImage) (*guest, error) {
	ns, err := relay.NewNetns("gmbench")
	if err != nil {
		return nil, err
	}
	g, err := bootPeer(p, ns, "peer.ip="+relay.NetnsGuestIP+"/24 peer.gw="+relay.NetnsHostIP, harness.TapNet(ns.Tap))
	if err != nil {
		ns.Close()
		return nil, err
	}
	onNetns(g, ns)
	return g, nil
}

// peerOnUserNet boots the peer on user networking (10.0.2.15) with the
// sink port forwarded.
func peerOnUserNet(p *peerImage) (*guest, error) {
	fwd, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	g, err := bootPeer(p, nil, "peer.ip=10.0.2.15/24 peer.gw=10.0.2.2",
		harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:%d", fwd, sinkPort)))
	if err != nil {
		return nil, err
	}
	onUserNet(g, map[int]int{sinkPort: fwd})
	return g, nil
}

// peerSh runs line in the peer's shell and returns the groups of done's
// first match in its output (nil done: nothing to match).
func peerSh(g *guest, line string, done *regexp.Regexp, timeout time.Duration) ([]string, error) {
	out, err := linuxpeer.Run(g.m, line, timeout+30*time.Second)
	if err != nil || done == nil {
		return nil, err
	}
	sm := done.FindStringSubmatch(out)
	if sm == nil {
		return nil, fmt.Errorf("peer: %q printed %q", line, tailOf(out))
	}
	return sm, nil
}

func tailOf(s string) string {
	if len(s) > 400 {
		s = s[len(s)-400:]
	}
	return s
}

var (
	peerSourceRe = regexp.MustCompile(`tcpbulk source: \d+ bytes`)
	peerSinkRe   = regexp.MustCompile(`tcpbulk sink: (\d+) bytes`)
	peerRRRe     = regexp.MustCompile(`tcpbulk rr: (\d+)/s, \d+ round trips, 0 failed`)
)

// Linux: user/tcpbulk in busybox sh.
var peerCmds = guestCmds{
	newline: "\n",
	run:     peerSh,
	source: func(host string, port int, size int64) (string, *regexp.Regexp) {
		return fmt.Sprintf("tcpbulk source %s %d %d", host, port, size), peerSourceRe
	},
	block: bytes.Repeat([]byte{'x'}, 64<<10), // what tcpbulk source writes
	sink: func(port int) (string, string, *regexp.Regexp) {
		return fmt.Sprintf("(tcpbulk sink %d &)", port), fmt.Sprintf("tcpbulk sink: listening on %d", port), peerSinkRe
	},
	sinkPort:  sinkPort,
	afterSink: func(*guest) error { return nil },
	hi: func(port int) (string, string) {
		return fmt.Sprintf("(tcpbulk hi %d &)", port), fmt.Sprintf("tcpbulk hi: listening on %d", port)
	},
	userHi: func(port int) (string, string) {
		return fmt.Sprintf("(tcpbulk hi %d &)", port), fmt.Sprintf("tcpbulk hi: listening on %d", port)
	},
	loopback: func(g *guest, n int) (float64, error) {
		if !g.hiStarted {
			if err := g.startHi(loopPort); err != nil {
				return 0, err
			}
			g.hiStarted = true
		}
		sm, err := peerSh(g, fmt.Sprintf("tcpbulk rr 127.0.0.1 %d %d", loopPort, n), peerRRRe, time.Minute)
		if err != nil {
			return 0, err
		}
		return atof(sm[1]), nil
	},
}

// loopPort is where the peer's in-guest loopback server listens.
const loopPort = 5004

// peerBootOnce times one boot of the peer to its shell.
func peerBootOnce(p *peerImage) (time.Duration, error) {
	g, err := bootPeer(p, nil, "", nil)
	if err != nil {
		return 0, err
	}
	defer g.close()
	return g.booted, nil
}
