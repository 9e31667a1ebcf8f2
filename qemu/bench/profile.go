package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"gomenuos/kernel/profcmd"
	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

// profileBytes is how much each profiled transfer moves.
const profileBytes = bulkBytes

// profileGuest (make profile) boots the guest on a tap (user networking
// without root), records a CPU profile of a host→guest and one of a
// guest→host bulk transfer and a heap profile with the guest's own
// runtime/pprof, and leaves them in dir with `go tool pprof` SVG call
// graphs and top lists.
func profileGuest(buildDir, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m, hostIP, listen, dial, cleanup, err := bootForProfile(buildDir)
	if err != nil {
		return err
	}
	defer cleanup()
	defer m.Kill()
	_, kernel, _ := harness.Image(buildDir)
	steps := []struct {
		name string
		load func() (float64, error)
	}{
		{"cpu-rx", func() (float64, error) { return hostToGuest(m, dial, profileBytes) }},
		{"cpu-tx", func() (float64, error) {
			l, err := listen()
			if err != nil {
				return 0, err
			}
			defer l.Close()
			return guestToHost(m, l, hostIP, profileBytes)
		}},
	}
	for _, s := range steps {
		if _, err := run(m, "pprof start"); err != nil {
			return err
		}
		rate, err := s.load()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("%s: %d MiB at %.1f MB/s\n", s.name, profileBytes>>20, rate)
		if err := saveProfile(m, "pprof stop", kernel, filepath.Join(dir, s.name)); err != nil {
			return err
		}
	}
	return saveProfile(m, "pprof heap", kernel, filepath.Join(dir, "heap"))
}

// bootForProfile boots the guest on a fresh namespace's tap when root,
// else on user networking, and returns how the host reaches it.
func bootForProfile(buildDir string) (m *harness.Machine, hostIP string,
	listen func() (net.Listener, error), dial func() (net.Conn, error), cleanup func(), err error) {
	if ns, err := relay.NewNetns("gmprof"); err == nil {
		m, err := bootInNetns(buildDir, ns, harness.TapNet(ns.Tap))
		if err != nil {
			ns.Close()
			return nil, "", nil, nil, nil, err
		}
		l, d := netnsEnds(ns)
		return m, relay.NetnsHostIP, l, d(sinkPort), func() { ns.Close() }, nil
	} else {
		fmt.Printf("profile over user networking (%v)\n", err)
	}
	fwd, err := harness.FreePort()
	if err != nil {
		return nil, "", nil, nil, nil, err
	}
	m, err = bootNet(harness.Config{BuildDir: buildDir,
		ExtraArgs: harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:%d", fwd, sinkPort))})
	if err != nil {
		return nil, "", nil, nil, nil, err
	}
	listen = func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
	dial = func() (net.Conn, error) {
		return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fwd), 10*time.Second)
	}
	return m, "10.0.2.2", listen, dial, func() {}, nil
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
