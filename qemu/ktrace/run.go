package ktrace

import (
	"fmt"
	"os"
	"strings"
	"time"

	"gomenuos/qemu/harness"
)

// Config is one `make trace` run.
type Config struct {
	BuildDir string
	Specs    []string // probe specs for the `trace` command
	Script   []string // shell commands to run under the probes
	// Events are the tracepoints switched on from boot (trace_event=) for
	// the pictures; nil means DefaultEvents.
	Events  []string
	Timeout time.Duration
}

// DefaultEvents are what the pictures are drawn from.
var DefaultEvents = []string{"tcp:tcp_send_segment", "tcp:tcp_rcv_segment", "sock:inet_sock_set_state",
	"sched:sched_switch"}

// Prompt is the MenuOS shell's.
const Prompt = "MenuOS>>"

// Result is what a run printed.
type Result struct {
	Console string  // the whole console
	Setup   string  // what `trace SPEC...` answered
	Trace   string  // what `trace` printed after the script
	Counts  string  // what `trace -c` printed
	Events  []Event // Trace, parsed
}

// Run boots the image with the tracepoints on, places the probes, runs
// the script (each command until the prompt is back), lets the
// connections close (`sleep 1` in the guest), and reads the trace.
func Run(cfg Config) (*Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Minute
	}
	if cfg.Events == nil {
		cfg.Events = DefaultEvents
	}
	if cfg.BuildDir == "" {
		cfg.BuildDir = harness.BuildDir()
	}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		return nil, err
	}
	cmdline := ""
	if len(cfg.Events) > 0 {
		cmdline = "trace_event=" + strings.Join(cfg.Events, ",")
	}
	m, err := harness.Start(harness.Config{BuildDir: cfg.BuildDir, Cmdline: cmdline, Timeout: cfg.Timeout})
	if err != nil {
		return nil, err
	}
	defer m.Kill()
	s := &session{m: m, deadline: time.Now().Add(cfg.Timeout)}
	res := &Result{}
	err = s.run(cfg, res)
	res.Console = m.Output()
	res.Events = Parse(res.Trace)
	return res, err
}

// session types commands at the shell of one machine.
type session struct {
	m        *harness.Machine
	deadline time.Time
}

// cmd types line and returns what it printed (without its echo and the
// next prompt). A background job's line (replyhi's server answering after
// hello's prompt) and the prompt the console redraws after it are skipped.
func (s *session) cmd(line string) (string, error) {
	out, err := s.m.Command(line, Prompt, max(time.Until(s.deadline), time.Second))
	if err != nil {
		return out, fmt.Errorf("ktrace: %q: %w", line, err)
	}
	return strings.ReplaceAll(out, "\r\n", "\n"), nil
}

func (s *session) run(cfg Config, res *Result) error {
	if _, err := s.m.Expect(Prompt, time.Until(s.deadline)); err != nil {
		return err
	}
	var err error
	if len(cfg.Specs) > 0 {
		if res.Setup, err = s.cmd("trace " + quoteSpecs(cfg.Specs)); err != nil {
			return err
		}
	}
	for _, c := range cfg.Script {
		if _, err := s.cmd(c); err != nil {
			return err
		}
	}
	if _, err := s.cmd("sleep 1"); err != nil {
		return err
	}
	if res.Trace, err = s.cmd("trace"); err != nil {
		return err
	}
	if len(cfg.Specs) > 0 {
		res.Counts, err = s.cmd("trace -c")
	}
	return err
}

// quoteSpecs quotes each spec for the shell (specs hold double quotes
// and parentheses).
func quoteSpecs(specs []string) string {
	var q []string
	for _, s := range specs {
		q = append(q, "'"+strings.ReplaceAll(s, "'", `'\''`)+"'")
	}
	return strings.Join(q, " ")
}

// ReadSpecs reads probe specs from a file: one a line, # comments and
// blank lines skipped; SystemTap probe lines are taken as they are.
func ReadSpecs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "//") {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}
