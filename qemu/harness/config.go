// Package harness boots the gomenuos image in QEMU and drives its serial
// console for tests: start with options, Expect output, Send input, Wait for
// the exit status. Every machine has a watchdog and is killed when its test
// ends; a failing test leaves the console transcript in a file.
//
// A test that needs the guest on a network (user-mode net with a host
// port forwarded to the guest's port 5001):
//
//	m := harness.StartT(t, harness.Config{ExtraArgs: []string{
//		"-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:15001-:5001",
//		"-device", "virtio-net-pci,netdev=n0,romfile="}})
//	if _, err := m.Expect("MenuOS>>", 30*time.Second); err != nil {
//		t.Fatal(err)
//	}
//	m.Send("replyhi\r")
//	out, err := m.Expect("MenuOS>>", 10*time.Second) // "replyhi\r\nPlease input hello...\r\nMenuOS>>"
//
// Integration test names start with TestQEMU: `make unit` skips them and
// `make integration` selects them.
package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BuildEnv names the environment variable the Makefile sets to the build
// directory holding boot.elf, kernel.elf and initramfs.cpio.
const BuildEnv = "GOMENUOS_BUILD"

// TranscriptEnv overrides where failing tests save console transcripts.
const TranscriptEnv = "GOMENUOS_TRANSCRIPTS"

// DefaultTimeout is the watchdog used when Config.Timeout is zero: a boot
// takes well under a second, so a minute means the guest hangs.
const DefaultTimeout = 60 * time.Second

// Config describes one QEMU run.
type Config struct {
	BuildDir  string        // image directory; "" means BuildDir()
	Cmdline   string        // kernel command line (-append)
	Memory    string        // -m; "" means 512M
	GDBPort   int           // >0: -gdb tcp:127.0.0.1:GDBPort
	WaitGDB   bool          // -S: the CPU waits for gdb's continue
	ExtraArgs []string      // appended verbatim (netdev, device, ...)
	Timeout   time.Duration // watchdog; 0 means DefaultTimeout

	// Command replaces QEMU entirely (argv[0] and arguments); the harness's
	// own tests use it to drive a fake console.
	Command []string
	Env     []string // extra environment for Command/QEMU
}

// BuildDir returns $GOMENUOS_BUILD, or ../build relative to the working
// directory (qemu/<pkg> under `go test` sits two levels below the root, so
// the fallback walks up until it finds a build directory).
func BuildDir() string {
	if d := os.Getenv(BuildEnv); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return "../build"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "build")
		}
		if filepath.Dir(dir) == dir {
			return "../build"
		}
	}
}

// Image lists the three files QEMU loads, in the order the command line
// names them: the multiboot stub, the Go kernel (module 0), the initramfs
// (module 1).
func Image(dir string) (boot, kernel, initramfs string) {
	return filepath.Join(dir, "boot.elf"), filepath.Join(dir, "kernel.elf"),
		filepath.Join(dir, "initramfs.cpio")
}

// CheckImage reports the first missing image file: integration tests fail
// (never skip) on it.
func CheckImage(dir string) error {
	boot, kernel, initramfs := Image(dir)
	for _, f := range []string{boot, kernel, initramfs} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("image not built (run `make image` or set %s): %w", BuildEnv, err)
		}
	}
	return nil
}

// Args returns the full QEMU argv for c (argv[0] included); qemu/run.sh
// builds the same line for `make run` and `make debug`.
func (c Config) Args() []string {
	if len(c.Command) > 0 {
		return append([]string(nil), c.Command...)
	}
	dir := c.BuildDir
	if dir == "" {
		dir = BuildDir()
	}
	mem := c.Memory
	if mem == "" {
		mem = "512M"
	}
	boot, kernel, initramfs := Image(dir)
	// -display none -vga none rather than -nographic: -nographic makes
	// SeaBIOS mirror its console on the serial port and read keys from it,
	// eating input typed during boot (measured: `printf 'help\nquit\n'`
	// piped in lost its first bytes 6 times out of 6). Without -nographic
	// SeaBIOS has no serial console, so no -fw_cfg etc/sercon-port=0 is
	// needed (QEMU warns about that name on every boot). -nic none drops the
	// default e1000, which we have no driver for, and its iPXE ROM, which
	// polls the serial port too; tests add virtio-net through ExtraArgs.
	args := []string{"qemu-system-x86_64", "-accel", "tcg", "-m", mem,
		"-display", "none", "-vga", "none", "-nic", "none", "-no-reboot",
		"-kernel", boot, "-initrd", kernel + "," + initramfs,
		"-append", c.Cmdline,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-serial", "stdio", "-monitor", "none"}
	if c.GDBPort > 0 {
		args = append(args, "-gdb", fmt.Sprintf("tcp:127.0.0.1:%d", c.GDBPort))
	}
	if c.WaitGDB {
		args = append(args, "-S")
	}
	return append(args, c.ExtraArgs...)
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c Config) String() string { return strings.Join(c.Args(), " ") }
