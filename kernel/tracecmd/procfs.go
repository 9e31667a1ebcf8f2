package tracecmd

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	"gomenuos/fs"
	"gomenuos/fs/procfs"
	"gomenuos/kernel/kprobes"
	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// The files of /proc/tracing, after Linux's tracefs (/sys/kernel/tracing):
//
//	kprobe_events     probe specs placed; write specs to add (> replaces,
//	                  >> adds), -SPEC to remove
//	set_event         tracepoints on; write names to switch on, !NAME off
//	available_events  every tracepoint
//	trace_pipe        the events recorded since the last read (consumed)
//	kprobe_profile    calls and returns per probed function
//	error_log         why the last specs written were refused
func (t *Tracer) RegisterProc() error {
	files := map[string]procfs.Writable{
		"tracing/kprobe_events": {Show: t.showSpecs, Truncate: t.clearProbes, Store: t.storeSpecs},
		"tracing/set_event":     {Show: t.showEvents, Truncate: t.clearEvents, Store: t.storeEvents},
	}
	for path, w := range files {
		if err := procfs.RegisterWritable(path, w); err != nil {
			return err
		}
	}
	for path, show := range map[string]func(io.Writer){
		"tracing/available_events": showAvailable,
		"tracing/trace_pipe":       func(w io.Writer) { t.Print(nil, w) },
		"tracing/kprobe_profile":   func(w io.Writer) { t.Counts(nil, w) },
		"tracing/error_log":        t.showErrors,
		"tracing/text_sha256":      showTextHash,
	} {
		if err := procfs.Register(path, show); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tracer) showSpecs(w io.Writer) {
	for _, s := range t.Specs() {
		if s.Tracepoint == "" {
			fmt.Fprintln(w, s)
		}
	}
}

func (t *Tracer) clearProbes() {
	var specs []Spec
	for _, s := range t.Specs() {
		if s.Tracepoint == "" {
			specs = append(specs, s)
		}
	}
	if len(specs) > 0 {
		t.Remove(nil, io.Discard, specs)
	}
}

// storeSpecs adds (or, with a leading -, removes) one spec per line.
func (t *Tracer) storeSpecs(task *sched.Task, p []byte) error {
	var log bytes.Buffer
	defer t.setErrors(&log)
	for _, line := range strings.Split(string(p), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		remove := strings.HasPrefix(line, "-")
		s, err := ParseSpec(strings.TrimPrefix(line, "-"))
		if err == nil && remove {
			err = t.Remove(task, &log, []Spec{s})
		} else if err == nil {
			err = t.Add(task, &log, []Spec{s}, false)
		}
		if err != nil {
			fmt.Fprintln(&log, err)
			return fs.EINVAL
		}
	}
	return nil
}

func (t *Tracer) showEvents(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tp := range trace.Tracepoints {
		if t.tps[tp.Kind] {
			fmt.Fprintf(w, "%s:%s\n", tp.System, tp.Name)
		}
	}
}

func (t *Tracer) clearEvents() {
	t.Remove(nil, io.Discard, []Spec{{Tracepoint: "*"}})
}

// storeEvents switches tracepoints on (NAME) or off (!NAME), one per
// line or word.
func (t *Tracer) storeEvents(task *sched.Task, p []byte) error {
	var log bytes.Buffer
	defer t.setErrors(&log)
	for _, name := range strings.Fields(string(p)) {
		var err error
		if off, ok := strings.CutPrefix(name, "!"); ok {
			err = t.Remove(task, &log, []Spec{{Tracepoint: off}})
		} else {
			err = t.Add(task, &log, []Spec{{Tracepoint: name}}, false)
		}
		if err != nil {
			fmt.Fprintln(&log, err)
			return fs.EINVAL
		}
	}
	return nil
}

// showTextHash prints the kernel text's extent and SHA-256, to check that
// removed probes left every byte as the ELF has it.
func showTextHash(w io.Writer) {
	start, b, err := kprobes.TextBytes()
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	fmt.Fprintf(w, "%#x %#x %x\n", start, start+uintptr(len(b)), sha256.Sum256(b))
}

func showAvailable(w io.Writer) {
	for _, tp := range trace.Tracepoints {
		fmt.Fprintf(w, "%s:%s\n", tp.System, tp.Name)
	}
}

func (t *Tracer) setErrors(log *bytes.Buffer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errorLog = log.String()
}

func (t *Tracer) showErrors(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(w, t.errorLog)
}
