package tracecmd

import (
	"errors"
	"fmt"

	"gomenuos/kernel/menu"
)

// Usage is the `trace` command's help.
const Usage = `trace [-c] SPEC...   probe functions (-c: only count calls), switch tracepoints on
trace                print what was recorded since the last print (thread_indent format)
trace -c             calls per probed function
trace -l             list probe points and tracepoints
trace -n SPEC...     show what SPECs name, and what would be refused, without probing
trace -d SPEC...     remove those probes and tracepoints (trace off: everything)
trace -b [N]         measure a probe hit's cost over N calls
SPEC: kernel.function("PATTERN"), kernel.function("PATTERN").return, kernel.trace("NAME"),
      or PATTERN for both probes. PATTERN: a Linux name (tcp_v4_connect, tcp_v4_*), a Linux
      file (*@net/socket.c), our file (*@net/inet/*.go) or a Go name (tcp.(*Sock).tcpV4*).
NAME: sched_switch, sched_wakeup, tcp_probe, inet_sock_set_state, tcp_send_segment,
      tcp_rcv_segment, or a glob (tcp:*).`

// Command returns the `trace` shell command.
func (t *Tracer) Command() menu.Command {
	return menu.Command{
		Name: "trace",
		Desc: "Dynamic tracing: trace [-c|-l|-n|-d] [SPEC...] (SystemTap-style; trace -h for help)",
		Run:  t.run,
	}
}

func (t *Tracer) run(c *menu.Ctx, args []string) error {
	if len(args) == 0 {
		return t.Print(c.Task, c.Out)
	}
	flag, rest := "", args
	if len(args[0]) > 1 && args[0][0] == '-' {
		flag, rest = args[0], args[1:]
	}
	switch {
	case flag == "" && len(rest) == 1 && rest[0] == "off":
		t.Off(c.Out)
		return nil
	case flag == "-h" || flag == "--help":
		fmt.Fprintln(c.Out, Usage)
		return nil
	case flag == "-c" && len(rest) == 0:
		return t.Counts(c.Task, c.Out)
	case flag == "-l":
		return t.List(c.Task, c.Out)
	case flag == "-b":
		n := 20000
		if len(rest) == 1 {
			if _, err := fmt.Sscan(rest[0], &n); err != nil || n < 1 {
				return fmt.Errorf("trace -b: bad count %q", rest[0])
			}
		}
		return t.Bench(c.Out, n)
	case flag == "-d" && len(rest) == 1 && rest[0] == "all":
		t.Off(c.Out)
		return nil
	}
	specs, err := parseSpecs(rest)
	if err != nil {
		return err
	}
	switch flag {
	case "":
		return t.Add(c.Task, c.Out, specs, false)
	case "-c":
		return t.Add(c.Task, c.Out, specs, true)
	case "-n":
		return t.DryRun(c.Task, c.Out, specs)
	case "-d":
		return t.Remove(c.Task, c.Out, specs)
	}
	return fmt.Errorf("unknown option %s\n%s", flag, Usage)
}

func parseSpecs(args []string) ([]Spec, error) {
	if len(args) == 0 {
		return nil, errors.New("no probe spec\n" + Usage)
	}
	var specs []Spec
	for _, a := range args {
		s, err := ParseSpec(a)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}
