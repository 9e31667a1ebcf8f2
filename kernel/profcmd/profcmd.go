// Package profcmd is the shell's window on the Go runtime's own profilers
// (runtime/pprof): `pprof start`, `pprof stop` and `pprof heap` print each
// profile on the console as base64 between marker lines, which `make
// profile` (qemu/profile) cuts out on the host and hands to `go tool pprof`.
// CPU profiling works because kernel/linux serves the runtime's
// setitimer(ITIMER_PROF) and per-thread timer_create SIGPROF timers.
package profcmd

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"

	"gomenuos/kernel/menu"
)

// Commands returns the pprof command.
func Commands() []menu.Command {
	return []menu.Command{{Name: "pprof",
		Desc: "pprof start|stop|heap: CPU profile from start to stop, or a heap profile, printed as base64 for go tool pprof (make profile)",
		Run:  run}}
}

var cpu struct {
	mu  sync.Mutex
	buf *bytes.Buffer // non-nil while a CPU profile runs
}

func run(c *menu.Ctx, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: pprof start|stop|heap")
	}
	switch args[0] {
	case "start":
		return startCPU(c)
	case "stop":
		return stopCPU(c)
	case "heap":
		var b bytes.Buffer
		runtime.GC() // the profile then shows live data as of now
		if err := pprof.WriteHeapProfile(&b); err != nil {
			return err
		}
		return Encode(c.Out, "heap", b.Bytes())
	}
	return fmt.Errorf("pprof: unknown %q", args[0])
}

func startCPU(c *menu.Ctx) error {
	cpu.mu.Lock()
	defer cpu.mu.Unlock()
	if cpu.buf != nil {
		return errors.New("pprof: a CPU profile is already running")
	}
	b := new(bytes.Buffer)
	if err := pprof.StartCPUProfile(b); err != nil {
		return err
	}
	cpu.buf = b
	c.Printf("pprof: CPU profile started\n")
	return nil
}

func stopCPU(c *menu.Ctx) error {
	cpu.mu.Lock()
	defer cpu.mu.Unlock()
	if cpu.buf == nil {
		return errors.New("pprof: no CPU profile running")
	}
	pprof.StopCPUProfile()
	b := cpu.buf
	cpu.buf = nil
	return Encode(c.Out, "cpu", b.Bytes())
}

// Marker lines around an encoded profile.
const (
	beginMark = "-----BEGIN PPROF %s %d-----"
	endMark   = "-----END PPROF %s-----"
)

// Encode writes data as `-----BEGIN PPROF kind len-----`, base64 in lines
// of 76 characters, `-----END PPROF kind-----`.
func Encode(w io.Writer, kind string, data []byte) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, beginMark+"\n", kind, len(data))
	s := base64.StdEncoding.EncodeToString(data)
	for len(s) > 0 {
		n := min(len(s), 76)
		bw.WriteString(s[:n])
		bw.WriteByte('\n')
		s = s[n:]
	}
	fmt.Fprintf(bw, endMark+"\n", kind)
	return bw.Flush()
}

var beginRe = regexp.MustCompile(`-----BEGIN PPROF (\w+) (\d+)-----`)

// Decode finds the first encoded profile in console output (CRs and all)
// and returns its kind and bytes, checking the length it announced.
func Decode(out string) (kind string, data []byte, err error) {
	m := beginRe.FindStringSubmatchIndex(out)
	if m == nil {
		return "", nil, errors.New("profcmd: no profile in the output")
	}
	kind = out[m[2]:m[3]]
	var size int
	fmt.Sscan(out[m[4]:m[5]], &size)
	rest := out[m[1]:]
	end := strings.Index(rest, fmt.Sprintf(endMark, kind))
	if end < 0 {
		return "", nil, fmt.Errorf("profcmd: %s profile not terminated", kind)
	}
	b64 := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, rest[:end])
	data, err = base64.StdEncoding.DecodeString(b64)
	if err == nil && len(data) != size {
		err = fmt.Errorf("profcmd: %s profile of %d bytes, announced %d", kind, len(data), size)
	}
	return kind, data, err
}
