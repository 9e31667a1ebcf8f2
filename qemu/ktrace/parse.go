// Package ktrace is the host side of the kernel's tracer (docs/tracing.md):
// it boots the image with tracepoints on, places probes, runs a script of
// shell commands and reads the trace back (`make trace`), parses the
// trace's text, and draws it: a sequence diagram of each TCP connection
// and a timeline of context switches, as SVG.
package ktrace

import (
	"regexp"
	"strconv"
	"strings"
)

// Event is one line of the kernel's trace output.
type Event struct {
	US   int64  // microseconds since the trace's first event
	Comm string // task name
	ID   int64  // task id (goroutine)
	Line string

	// A probe hit: -> or <- with the call depth of its task.
	Probe  bool
	Return bool
	Depth  int
	Func   string // "__sys_socket [inet.(*Net).Socket]"

	// A tracepoint: its name and key=value fields; a segment's endpoints
	// are fields src and dst.
	Name   string
	Fields map[string]string
}

var lineRE = regexp.MustCompile(`^\s*(\d+) (.+?)\((\d+)\):(.*)$`)

// Parse reads the events in a console transcript; other lines are
// skipped.
func Parse(text string) []Event {
	var out []Event
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if e, ok := parseLine(l); ok {
			out = append(out, e)
		}
	}
	return out
}

func parseLine(l string) (Event, bool) {
	m := lineRE.FindStringSubmatch(l)
	if m == nil {
		return Event{}, false
	}
	us, _ := strconv.ParseInt(m[1], 10, 64)
	id, _ := strconv.ParseInt(m[3], 10, 64)
	e := Event{US: us, Comm: m[2], ID: id, Line: l}
	rest := m[4]
	trimmed := strings.TrimLeft(rest, " ")
	if strings.HasPrefix(trimmed, "-> ") || strings.HasPrefix(trimmed, "<- ") {
		e.Probe, e.Return = true, trimmed[0] == '<'
		e.Depth = len(rest) - len(trimmed) - 1
		e.Func = trimmed[3:]
		return e, true
	}
	name, fields, ok := strings.Cut(trimmed, ": ")
	if !ok || strings.ContainsAny(name, " =") {
		return Event{}, false
	}
	e.Name, e.Fields = name, map[string]string{}
	toks := strings.Fields(fields)
	for i, t := range toks {
		if k, v, ok := strings.Cut(t, "="); ok {
			e.Fields[k] = v
			continue
		}
		if t == ">" && i > 0 && i+1 < len(toks) {
			e.Fields["src"], e.Fields["dst"] = toks[i-1], toks[i+1]
		}
	}
	return e, true
}

// Uint reads a numeric field (decimal or 0x hex), 0 when absent.
func (e *Event) Uint(k string) uint64 {
	v, _ := strconv.ParseUint(e.Fields[k], 0, 64)
	return v
}

// Int reads a signed numeric field.
func (e *Event) Int(k string) int64 {
	v, _ := strconv.ParseInt(e.Fields[k], 0, 64)
	return v
}
