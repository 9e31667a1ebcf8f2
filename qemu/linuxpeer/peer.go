// Package linuxpeer boots the Linux peer that benchmarks compare gomenuos
// with: Debian's Linux 6.1 cloud kernel under the same QEMU (TCG, same
// memory, same NIC model), with an initramfs holding busybox and the same
// static programs from user/ that gomenuos runs (build.sh makes it). The
// peer's console is a busybox shell; Run sends one command and returns its
// output.
package linuxpeer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gomenuos/qemu/harness"
)

// Build makes BUILD/linux from BUILD/rootfs (the programs must be built).
func Build(build string) error {
	here, err := sourceDir()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(here, "build.sh"), build)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// sourceDir finds qemu/linuxpeer from the working directory (the repo
// root for `go run`, or a package directory for `go test`).
func sourceDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "qemu", "linuxpeer", "build.sh")
		if _, err := os.Stat(p); err == nil {
			return filepath.Dir(p), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("linuxpeer: qemu/linuxpeer/build.sh not found above the working directory")
		}
		dir = parent
	}
}

// Config is how to boot the peer.
type Config struct {
	Build     string   // gomenuos's build directory (BUILD/linux inside it)
	Memory    string   // -m, "" for 512M as gomenuos
	Append    string   // more kernel command line (peer.ip=..., peer.gw=...)
	ExtraArgs []string // NIC and the like, as for gomenuos
	Timeout   time.Duration
	// Wrap, if set, rewrites the QEMU command line, e.g. to run it inside
	// a network namespace (relay.Netns.Command).
	Wrap func(argv []string) []string
}

// Start boots the peer and waits for its shell.
func Start(cfg Config) (*harness.Machine, error) {
	mem := cfg.Memory
	if mem == "" {
		mem = "512M"
	}
	dir := filepath.Join(cfg.Build, "linux")
	args := []string{"qemu-system-x86_64", "-accel", "tcg", "-m", mem,
		"-display", "none", "-vga", "none", "-nic", "none", "-no-reboot",
		"-kernel", filepath.Join(dir, "vmlinuz"), "-initrd", filepath.Join(dir, "initramfs.cpio.gz"),
		"-append", strings.TrimSpace("console=ttyS0 quiet " + cfg.Append),
		"-serial", "stdio", "-monitor", "none"}
	args = append(args, cfg.ExtraArgs...)
	if cfg.Wrap != nil {
		args = cfg.Wrap(args)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	m, err := harness.Start(harness.Config{Command: args, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	if _, err := m.Expect("linuxpeer: ready", 2*time.Minute); err != nil {
		m.Kill()
		return nil, fmt.Errorf("linuxpeer: no shell: %v", err)
	}
	if _, err := Run(m, "stty -echo", 30*time.Second); err != nil {
		m.Kill()
		return nil, err
	}
	return m, nil
}

var seq int

// Run types cmd into the peer's shell and returns what it printed, up to
// an end marker the shell prints after it.
func Run(m *harness.Machine, cmd string, timeout time.Duration) (string, error) {
	seq++
	marker := fmt.Sprintf("::done %d::", seq)
	if err := m.Send(cmd + "; echo '" + marker + "'\n"); err != nil {
		return "", err
	}
	out, err := m.Expect(marker+"\r\n", timeout)
	if err != nil {
		return "", err
	}
	out = strings.TrimSuffix(out, marker+"\r\n")
	if i := strings.Index(out, "\r\n"); i >= 0 && strings.Contains(out[:i], marker) {
		out = out[i+2:] // the echoed command line, if the tty still echoed it
	}
	return out, nil
}
