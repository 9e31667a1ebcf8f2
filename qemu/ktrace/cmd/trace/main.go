// Command trace is `make trace`: it boots the image with the TCP and
// scheduler tracepoints on, places probes (SystemTap specs from -f FILE
// and -e SPEC), runs shell commands (-c "cmd; cmd" or -script FILE),
// prints the trace in thread_indent format with the calls per function,
// and draws a sequence diagram of each TCP connection it saw and a
// context-switch timeline as SVG files in -o DIR.
//
//	go run ./qemu/ktrace/cmd/trace [-build DIR] [-f probes.stp] [-e SPEC]... [-c "replyhi; hello"] [-o DIR]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/ktrace"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	build := flag.String("build", harness.BuildDir(), "image directory")
	file := flag.String("f", "", "probe specs, one a line (SystemTap probe lines work)")
	var specs list
	flag.Var(&specs, "e", "a probe spec (repeatable): kernel.function(\"PATTERN\")[.return], kernel.trace(\"NAME\"), PATTERN")
	script := flag.String("c", "menu; replyhi; hello; quit", "shell commands, separated by ; (default: the C MenuOS's replyhi and hello)")
	scriptFile := flag.String("script", "", "shell commands, one a line (instead of -c)")
	out := flag.String("o", "", "directory for the SVG pictures (none when empty)")
	events := flag.String("events", strings.Join(ktrace.DefaultEvents, ","), "tracepoints on from boot, for the pictures")
	timeout := flag.Duration("timeout", 3*time.Minute, "bound on the whole run")
	flag.Parse()
	if *file != "" {
		s, err := ktrace.ReadSpecs(*file)
		if err != nil {
			fail(err)
		}
		specs = append(s, specs...)
	}
	cmds := splitScript(*script, ";")
	if *scriptFile != "" {
		b, err := os.ReadFile(*scriptFile)
		if err != nil {
			fail(err)
		}
		cmds = splitScript(string(b), "\n")
	}
	var ev []string
	if *events != "" {
		ev = strings.Split(*events, ",")
	}
	fmt.Printf("trace: probes %q; running %q\n", []string(specs), cmds)
	res, err := ktrace.Run(ktrace.Config{BuildDir: *build, Specs: specs, Script: cmds, Events: ev, Timeout: *timeout})
	if res != nil {
		fmt.Print(res.Setup)
		fmt.Print(withoutSched(res.Trace))
		if res.Counts != "" {
			fmt.Print("\ncalls per function:\n" + res.Counts)
		}
	}
	if err != nil {
		if res != nil {
			fmt.Fprintf(os.Stderr, "console:\n%s\n", res.Console)
		}
		fail(err)
	}
	if *out != "" {
		files, err := ktrace.WriteSVGs(*out, res.Events)
		if err != nil {
			fail(err)
		}
		for _, f := range files {
			fmt.Println("wrote", f)
		}
	}
}

// withoutSched leaves the scheduler's events to the timeline picture:
// there are hundreds of them.
func withoutSched(trace string) string {
	var b strings.Builder
	n := 0
	for _, l := range strings.SplitAfter(trace, "\n") {
		if strings.Contains(l, "): sched_switch: ") || strings.Contains(l, "): sched_wakeup: ") {
			n++
			continue
		}
		b.WriteString(l)
	}
	if n > 0 {
		fmt.Fprintf(&b, "(%d scheduler events: see sched.svg)\n", n)
	}
	return b.String()
}

func splitScript(s, sep string) []string {
	var out []string
	for _, c := range strings.Split(s, sep) {
		if c = strings.TrimSpace(c); c != "" && !strings.HasPrefix(c, "#") {
			out = append(out, c)
		}
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "trace:", err)
	os.Exit(1)
}
