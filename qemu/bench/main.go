// Command bench prints the figures `make bench` reports that need a booted
// guest: host wall time from QEMU start to the first prompt (median of N
// boots), the kernel ELF's size, the output of the guest's own figure
// commands (any of -guest that `help` lists, e.g. a `stats` command that
// prints guest boot time, touched RAM, syscall counts and switch rates),
// and the network figures. With -peer, a Linux guest under the same QEMU
// is measured beside ours, alternating, and each row shows both and the
// ratio (peer.go).
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gomenuos/qemu/harness"
)

const prompt = "MenuOS>>"

func main() {
	boots := flag.Int("n", 5, "boots to time")
	guest := flag.String("guest", "stats", "comma-separated guest commands to run if help lists them")
	netFigs := flag.Bool("net", true, "measure the network figures (net.go)")
	flag.StringVar(&only, "only", "", "comma-separated sections to run (boot, size, guest, loopback, user, tap, impaired); all when empty")
	profileDir := flag.String("profile", "", "instead of benchmarking, profile bulk TCP with the guest's runtime/pprof into this directory (make profile)")
	flag.StringVar(&profileNet, "profilenet", "tap", "the network make profile measures: tap (root; else user) or user")
	flag.StringVar(&profileSteps, "profilesteps", "cpu-rx,cpu-tx", "with -profile: the bulk directions to profile (cpu-rx host→guest, cpu-tx guest→host)")
	flag.StringVar(&profileCmd, "profilecmd", "", "with -profile: profile this shell command line (e.g. '/bin/ubench pipe 20000') instead of bulk TCP")
	flag.StringVar(&vsDir, "vs", "", "instead of the Linux peer, measure our image in this build directory beside ours (A/B)")
	flag.StringVar(&wireDir, "wire", "", "capture the tap connection rounds into this directory and print where each connection's time goes (wire.go; needs tcpdump)")
	peerOn := flag.Bool("peer", true, "measure the Linux peer (qemu/linuxpeer) beside ours")
	userFigs := flag.Int("user", 5, "rounds of the user-space figures against the Linux peer (user.go); 0 skips them")
	flag.Parse()
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		fail(err)
	}
	var peer *peerImage
	if *peerOn && *profileDir == "" && vsDir == "" {
		var err error
		if peer, err = preparePeer(dir); err != nil {
			fail(fmt.Errorf("linux peer: %w", err))
		}
		fmt.Printf("peer: %s (Debian's cloud kernel, busybox and our static programs: qemu/linuxpeer)\n", peer.version())
	}
	if *profileDir != "" {
		if err := profileGuest(dir, *profileDir); err != nil {
			fail(err)
		}
		return
	}
	if want("boot") {
		if err := bootTimes(dir, peer, *boots); err != nil {
			fail(err)
		}
	}
	if want("size") {
		if err := elfSize(dir); err != nil {
			fail(err)
		}
	}
	if want("guest") {
		if err := guestFigures(dir, strings.Split(*guest, ",")); err != nil {
			fail(err)
		}
	}
	if *userFigs > 0 && want("ubench") {
		if err := userFigures(dir, *userFigs); err != nil {
			fail(err)
		}
		if err := ubenchNetFigures(dir, *userFigs); err != nil {
			fail(err)
		}
	}
	if *netFigs {
		if err := netFigures(dir, peer); err != nil {
			fail(err)
		}
	}
}

// only holds the -only flag: the sections to run.
var only string

// want reports whether -only selects section (every section when empty).
func want(section string) bool {
	return only == "" || slices.Contains(strings.Split(only, ","), section)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// bootTimes boots n times (alternating with the peer's) and prints host
// wall time from QEMU start to the prompt, in ms.
func bootTimes(dir string, peer *peerImage, n int) error {
	f := figure{name: fmt.Sprintf("boot to MenuOS>> (host wall ms, %d boots)", n), lowerBetter: true}
	for range n {
		d, err := bootOnce(dir)
		if err != nil {
			return err
		}
		f.ours = append(f.ours, float64(d.Milliseconds()))
		if peer != nil {
			if d, err = peerBootOnce(peer); err != nil {
				return fmt.Errorf("Linux peer: %w", err)
			}
			f.peer = append(f.peer, float64(d.Milliseconds()))
		}
	}
	printHeader(peer != nil)
	f.print()
	return nil
}

func bootOnce(dir string) (time.Duration, error) {
	m, err := harness.Start(harness.Config{BuildDir: dir, Timeout: time.Minute})
	if err != nil {
		return 0, err
	}
	defer m.Kill()
	if _, err := m.Expect(prompt, 30*time.Second); err != nil {
		return 0, err
	}
	d := m.Since()
	m.Send("quit\r")
	if status, err := m.Wait(10 * time.Second); err != nil || status != 0 {
		return 0, fmt.Errorf("quit: exit %d, %v", status, err)
	}
	return d, nil
}

// elfSize prints the kernel file size and what its segments load.
func elfSize(dir string) error {
	_, kernel, _ := harness.Image(dir)
	st, err := os.Stat(kernel)
	if err != nil {
		return err
	}
	f, err := elf.Open(kernel)
	if err != nil {
		return err
	}
	defer f.Close()
	var file, mem uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			file += p.Filesz
			mem += p.Memsz
		}
	}
	fmt.Printf("kernel.elf: %d KiB on disk, %d KiB loaded (%d KiB with bss)\n",
		st.Size()>>10, file>>10, mem>>10)
	return nil
}

// guestFigures boots once and runs each wanted command `help` lists.
func guestFigures(dir string, wanted []string) error {
	m, err := harness.Start(harness.Config{BuildDir: dir, Timeout: 2 * time.Minute})
	if err != nil {
		return err
	}
	defer m.Kill()
	if _, err := m.Expect(prompt, 30*time.Second); err != nil {
		return err
	}
	help, err := run(m, "help")
	if err != nil {
		return err
	}
	for _, cmd := range wanted {
		name := strings.Fields(cmd + " ")[0]
		if cmd == "" || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+` - `).MatchString(help) {
			fmt.Printf("guest command %q: not in help, skipped\n", name)
			continue
		}
		out, err := run(m, cmd)
		if err != nil {
			return err
		}
		fmt.Printf("guest `%s`:\n%s", cmd, out)
	}
	m.Send("quit\r")
	_, err = m.Wait(10 * time.Second)
	return err
}

// run types line and returns its output without the echo and the prompt.
func run(m *harness.Machine, line string) (string, error) {
	m.Send(line + "\r")
	out, err := m.Expect(prompt, 60*time.Second)
	if err != nil {
		return "", err
	}
	out = strings.ReplaceAll(strings.TrimSuffix(out, prompt), "\r\n", "\n")
	return strings.TrimPrefix(out, line+"\n"), nil
}
