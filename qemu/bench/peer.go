package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// The Linux peer: Debian's Linux 6.1 cloud kernel with a busybox
// initramfs, a C MenuOS (the same MenuOS>> prompt) and a C benchmark tool,
// nbench, under the same QEMU (TCG, virtio-net). Its folder (-peer) holds
// build.sh, which builds build/vmlinuz and build/initramfs.cpio.gz from
// Debian packages and the C sources in src/. The bench copies the folder
// into the build directory, builds it there, and boots it with the same
// networks as our guest, so both are measured by the same host code, one
// after the other, in the same window.

// peerImage is a built peer: kernel and initramfs.
type peerImage struct {
	kernel, initrd string
}

// preparePeer copies the peer folder src into dst (once) and builds it.
func preparePeer(src, dst string) (*peerImage, error) {
	img := &peerImage{kernel: filepath.Join(dst, "build", "vmlinuz"),
		initrd: filepath.Join(dst, "build", "initramfs.cpio.gz")}
	if _, err := os.Stat(filepath.Join(src, "build.sh")); err != nil {
		return nil, fmt.Errorf("no Linux peer in %s: %w", src, err)
	}
	if _, err := os.Stat(img.initrd); err == nil {
		return img, nil
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	// Only the sources: a build/ or results/ left in src is not ours.
	for _, name := range []string{"build.sh", "run.sh", "lib.sh", "netns.sh", "src"} {
		if out, err := exec.Command("cp", "-a", filepath.Join(src, name), dst).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("copying the peer: %v: %s", err, out)
		}
	}
	cmd := exec.Command("./build.sh")
	cmd.Dir = dst
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the peer: %v\n%s", err, out)
	}
	return img, nil
}

// peerArgs is the peer's QEMU command line: the same machine as ours
// (TCG, one CPU, virtio-net without option ROM, serial console), its own
// kernel, initramfs and memory size (its measure script's 256M).
func (p *peerImage) args(cmdline string, netArgs []string) []string {
	args := []string{"qemu-system-x86_64", "-accel", "tcg", "-smp", "1", "-m", "256M",
		"-display", "none", "-vga", "none", "-nic", "none", "-no-reboot",
		"-kernel", p.kernel, "-initrd", p.initrd,
		"-append", "console=ttyS0 quiet " + cmdline,
		"-serial", "stdio", "-monitor", "none"}
	return append(args, netArgs...)
}

// bootPeer boots the peer, waits for MenuOS>> and enters busybox sh,
// where nbench runs.
func bootPeer(p *peerImage, ns *relay.Netns, cmdline string, netArgs []string) (*guest, error) {
	argv := p.args(cmdline, netArgs)
	if ns != nil {
		argv = ns.Command(argv)
	}
	m, err := harness.Start(harness.Config{Command: argv, Timeout: 30 * time.Minute})
	if err != nil {
		return nil, err
	}
	if _, err := m.Expect(prompt, 2*time.Minute); err != nil {
		m.Kill()
		return nil, err
	}
	g := &guest{name: "Linux", m: m, cmds: peerCmds, booted: m.Since()}
	g.m.Send("sh\n")
	if _, err := peerSh(g, "true", nil, 0); err != nil {
		m.Kill()
		return nil, err
	}
	return g, nil
}

// peerOnTap boots the peer in a fresh namespace on its tap, at the same
// addresses as our guest in its own namespace.
func peerOnTap(p *peerImage) (*guest, error) {
	ns, err := relay.NewNetns("gmbench")
	if err != nil {
		return nil, err
	}
	g, err := bootPeer(p, ns, "menuos.ip="+relay.NetnsGuestIP+"/24 menuos.gw=", harness.TapNet(ns.Tap))
	if err != nil {
		ns.Close()
		return nil, err
	}
	onNetns(g, ns)
	return g, nil
}

// peerOnUserNet boots the peer on user networking (10.0.2.15) with the
// sink and hi ports forwarded.
func peerOnUserNet(p *peerImage) (*guest, error) {
	fwd, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	g, err := bootPeer(p, nil, "", harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:%d", fwd, peerSinkPort)))
	if err != nil {
		return nil, err
	}
	onUserNet(g, map[int]int{peerSinkPort: fwd})
	return g, nil
}

const peerSinkPort = 5002

var peerMark atomic.Int32

// peerSh runs line in the peer's sh and returns the groups of done (the
// first match after the line started; nil: nothing to match), waiting for
// the line to finish: an echo of a marker whose typed form differs from
// its output.
func peerSh(g *guest, line string, done *regexp.Regexp, timeout time.Duration) ([]string, error) {
	n := peerMark.Add(1)
	g.m.Send(fmt.Sprintf("%s; echo __M''ARK%d__\n", line, n))
	out, err := g.m.Expect(fmt.Sprintf("__MARK%d__", n), timeout+30*time.Second)
	if err != nil {
		return nil, err
	}
	if done == nil {
		return nil, nil
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
	peerSourceRe = regexp.MustCompile(`source: bytes=\d+ .* OK`)
	peerSinkRe   = regexp.MustCompile(`sink: conn=\d+ bytes=(\d+) usec=`)
	peerRRRe     = regexp.MustCompile(`rr: n=\d+ fails=0 total_ms=\S+ rate_per_s=([\d.]+)`)
)

// Linux: nbench in busybox sh.
var peerCmds = guestCmds{
	newline: "\n",
	run:     peerSh,
	source: func(host string, port int, size int64) (string, *regexp.Regexp) {
		return fmt.Sprintf("nbench source %s %d %d", host, port, size), peerSourceRe
	},
	block:   bytes.Repeat([]byte{'x'}, 64<<10), // nbench source's buffer
	okReply: true,
	sink: func(port int) (string, string, *regexp.Regexp) {
		return fmt.Sprintf("nbench sink %d 1 &", port), fmt.Sprintf("sink: listening on %d", port), peerSinkRe
	},
	sinkPort:  peerSinkPort,
	afterSink: func(*guest) error { return nil },
	hi: func(port int) (string, string) {
		return fmt.Sprintf("nbench srv %d 100000000 &", port), fmt.Sprintf("srv: listening on %d", port)
	},
	loopback: func(g *guest, n int) (float64, error) {
		if _, err := peerSh(g, fmt.Sprintf("nbench srv %d %d >/dev/null & sleep 0.3", loopPort, n), nil, 0); err != nil {
			return 0, err
		}
		sm, err := peerSh(g, fmt.Sprintf("nbench rr 127.0.0.1 %d %d", loopPort, n), peerRRRe, time.Minute)
		if err != nil {
			return 0, err
		}
		return atof(sm[1]), nil
	},
}

// loopPort is where the peer's in-guest loopback server listens.
const loopPort = 5004

// peerBootOnce times one boot of the peer to its prompt (no NIC needed
// beyond user networking, as our boot figure).
func peerBootOnce(p *peerImage) (time.Duration, error) {
	argv := p.args("", harness.UserNet())
	m, err := harness.Start(harness.Config{Command: argv, Timeout: 3 * time.Minute})
	if err != nil {
		return 0, err
	}
	defer m.Kill()
	if _, err := m.Expect(prompt, 2*time.Minute); err != nil {
		return 0, err
	}
	return m.Since(), nil
}

// peerVersion names the peer's kernel from its build (build/KVER).
func peerVersion(dst string) string {
	b, err := os.ReadFile(filepath.Join(dst, "build", "KVER"))
	if err != nil {
		return "Linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}
