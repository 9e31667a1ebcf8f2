package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gomenuos/kernel/profcmd"
	"gomenuos/qemu/harness"
)

// profileNet is the -profilenet flag.
var profileNet string

// profileCmd is the -profilecmd flag: a shell command line to profile
// instead of bulk TCP.
var profileCmd string

// profileSteps is the -profilesteps flag: which bulk directions make
// profile records (cpu-rx, cpu-tx or both).
var profileSteps string

// profileRuns is how many 64 MiB transfers each CPU profile covers: at the
// profiler's 100 samples a second, enough for a few hundred samples.
const profileRuns = 4

// profileGuest (make profile) boots the guest on a tap (user networking
// without root), records a CPU profile of host→guest and one of
// guest→host bulk transfers and a heap profile with the guest's own
// runtime/pprof, and leaves them in dir with `go tool pprof` SVG call
// graphs and top lists.
func profileGuest(buildDir, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if profileCmd != "" {
		return profileCommand(buildDir, dir, profileCmd)
	}
	g, err := oursOnTap(buildDir)
	if profileNet == "user" || err != nil {
		if err != nil {
			fmt.Printf("profiling over user networking (tap: %v)\n", err)
		} else {
			g.close()
		}
		if g, err = oursOnUserNet(buildDir); err != nil {
			return err
		}
	}
	defer g.close()
	_, kernel, _ := harness.Image(buildDir)
	steps := []struct {
		name string
		load func(int64) (float64, error)
	}{{"cpu-rx", g.receiveBulk}, {"cpu-tx", g.sendBulk}}
	for _, s := range steps {
		if !slices.Contains(strings.Split(profileSteps, ","), s.name) {
			continue
		}
		if _, err := run(g.m, "pprof start"); err != nil {
			return err
		}
		for range profileRuns {
			rate, err := s.load(bulkBytes)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			fmt.Printf("%s: %d MiB at %.1f MB/s\n", s.name, bulkBytes>>20, rate)
		}
		if err := saveProfile(g.m, "pprof stop", kernel, filepath.Join(dir, s.name)); err != nil {
			return err
		}
		// The driver's and TCP's counters after the step (notifications,
		// interrupts, ACKs sent), cumulative over the steps.
		for _, c := range []string{"cat /proc/net/virtio_net", "cat /proc/net/snmp", "cat /proc/net/netstat"} {
			out, err := run(g.m, c)
			if err != nil {
				return err
			}
			fmt.Printf("%s after %s:\n%s\n", c, s.name, out)
		}
	}
	return saveProfile(g.m, "pprof heap", kernel, filepath.Join(dir, "heap"))
}

var pprofEndRe = regexp.MustCompile(`-----END PPROF \w+-----`)

// saveProfile runs cmd in the guest, decodes the profile it prints into
// base.pprof and renders base.svg and base.top with go tool pprof.
func saveProfile(m *harness.Machine, cmd, kernel, base string) error {
	m.Send(cmd + "\r")
	out, _, err := m.ExpectRegexp(pprofEndRe, 2*time.Minute)
	if err != nil {
		return err
	}
	if _, err := m.Expect(prompt, 10*time.Second); err != nil {
		return err
	}
	_, data, err := profcmd.Decode(out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".pprof", data, 0o644); err != nil {
		return err
	}
	top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=30", kernel, base+".pprof").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof -top: %v\n%s", err, top)
	}
	if err := os.WriteFile(base+".top", top, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s.pprof (%d bytes), %s.top:\n%s\n", base, len(data), base, top)
	if _, err := exec.LookPath("dot"); err != nil {
		fmt.Printf("no SVG for %s: graphviz (dot) is not installed\n", base)
		return nil
	}
	if out, err := exec.Command("go", "tool", "pprof", "-svg", "-output", base+".svg", kernel, base+".pprof").CombinedOutput(); err != nil {
		return fmt.Errorf("go tool pprof -svg: %v\n%s", err, out)
	}
	fmt.Printf("%s.svg\n", base)
	return nil
}

// profileCommand records a CPU profile of one shell command line (a user
// program such as `/bin/ubench pipe 20000`) into dir/cpu-cmd.
func profileCommand(buildDir, dir, line string) error {
	m, err := harness.Start(harness.Config{BuildDir: buildDir, Timeout: 30 * time.Minute})
	if err != nil {
		return err
	}
	defer m.Kill()
	if _, err := m.Expect(prompt, time.Minute); err != nil {
		return err
	}
	_, kernel, _ := harness.Image(buildDir)
	if _, err := run(m, "pprof start"); err != nil {
		return err
	}
	m.Send(line + "\r")
	out, err := m.Expect(prompt, 20*time.Minute)
	if err != nil {
		return err
	}
	fmt.Printf("%s", out)
	return saveProfile(m, "pprof stop", kernel, filepath.Join(dir, "cpu-cmd"))
}
