// Package tracecmd is the user side of tracing: SystemTap-style probe
// specs resolved to the kernel's functions (by Go name, by our file, or by
// Linux name and Linux file through docs/linux-map.md), the `trace` shell
// command, the /proc/tracing files, and the printing of events in
// SystemTap's thread_indent format. Goroutine context.
package tracecmd

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gomenuos/kernel/ksyms"
	"gomenuos/sched/trace"
)

// Spec is one parsed probe spec.
type Spec struct {
	Pattern    string // function pattern (kernel.function's argument)
	Entry      bool
	Return     bool
	Tracepoint string // kernel.trace's argument, "" for function probes
}

// ParseSpec reads a probe spec as SystemTap writes it:
//
//	kernel.function("PATTERN")          entry probes
//	kernel.function("PATTERN").return   return probes
//	kernel.trace("NAME")                a tracepoint (sched_switch, tcp:tcp_probe, sched:*)
//	PATTERN                             both entry and return probes
//
// A leading "probe" and a trailing { handler } are accepted and ignored
// (the handler is always thread_indent's printf), so lines of a
// SystemTap script can be pasted.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, "probe "))
	if i := strings.Index(s, "{"); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	if s == "" {
		return Spec{}, fmt.Errorf("empty probe spec")
	}
	for _, kw := range []string{"kernel.function", "kernel.trace"} {
		if !strings.HasPrefix(s, kw+"(") {
			continue
		}
		rest := s[len(kw)+1:]
		arg, tail, ok := strings.Cut(rest, ")")
		arg = strings.Trim(arg, `"'`)
		if !ok || arg == "" {
			return Spec{}, fmt.Errorf("%q: want %s(\"PATTERN\")", s, kw)
		}
		if kw == "kernel.trace" {
			if tail != "" {
				return Spec{}, fmt.Errorf("%q: unexpected %q after kernel.trace(...)", s, tail)
			}
			return Spec{Tracepoint: arg}, nil
		}
		switch tail {
		case "", ".call":
			return Spec{Pattern: arg, Entry: true}, nil
		case ".return":
			return Spec{Pattern: arg, Return: true}, nil
		}
		return Spec{}, fmt.Errorf("%q: unknown probe point suffix %q (want .return or nothing)", s, tail)
	}
	if strings.ContainsAny(s, `"{}`) || strings.HasPrefix(s, "kernel.") {
		return Spec{}, fmt.Errorf("%q: not a probe spec (kernel.function(\"PATTERN\"), kernel.trace(\"NAME\") or PATTERN)", s)
	}
	return Spec{Pattern: s, Entry: true, Return: true}, nil
}

// String spells the spec back in SystemTap's syntax.
func (s Spec) String() string {
	switch {
	case s.Tracepoint != "":
		return fmt.Sprintf("kernel.trace(%q)", s.Tracepoint)
	case s.Entry && s.Return:
		return s.Pattern
	case s.Return:
		return fmt.Sprintf("kernel.function(%q).return", s.Pattern)
	}
	return fmt.Sprintf("kernel.function(%q)", s.Pattern)
}

// Tracepoints resolves a kernel.trace name ("sched_switch",
// "sched:sched_switch", "tcp:*", "*") to tracepoint kinds.
func Tracepoints(name string) ([]trace.Kind, error) {
	var out []trace.Kind
	for _, tp := range trace.Tracepoints {
		full := tp.System + ":" + tp.Name
		if globMatch(name, tp.Name) || globMatch(name, full) {
			out = append(out, tp.Kind)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tracepoint %q (there are %s)", name, tracepointNames())
	}
	return out, nil
}

func tracepointNames() string {
	var n []string
	for _, tp := range trace.Tracepoints {
		n = append(n, tp.System+":"+tp.Name)
	}
	return strings.Join(n, ", ")
}

// Resolver finds the functions a pattern names.
type Resolver struct {
	Tab *ksyms.Table
	Map *LinuxMap
}

// Resolve returns the functions (ksyms indexes, in address order) that a
// pattern names:
//
//	FUNC@FILE.c   Linux functions of a Linux source file (globs allowed:
//	              *@net/socket.c, tcp_*@net/ipv4/tcp_*.c), through the map
//	FUNC@FILE.go  our functions in our files (*@net/inet/*.go)
//	NAME          a Linux name of the map (tcp_v4_connect, tcp_v4_*), else a
//	              Go name: full, package-relative or just the function or
//	              method name (tcp.(*Sock).tcpV4ConnectLocked, tcpV4Connect*)
func (r *Resolver) Resolve(pattern string) ([]int, error) {
	fn, file, hasFile := strings.Cut(pattern, "@")
	if fn == "" {
		fn = "*"
	}
	var out []int
	switch {
	case hasFile && isLinuxFile(file):
		out = r.linuxFile(fn, file)
	case hasFile:
		for i, s := range r.Tab.Syms {
			if fileMatch(file, s.File) && goNameMatch(fn, s.Name) {
				out = append(out, i)
			}
		}
	default:
		if out = r.linuxNames(fn); len(out) == 0 {
			for i, s := range r.Tab.Syms {
				if goNameMatch(fn, s.Name) {
					out = append(out, i)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no function of this kernel matches %q", pattern)
	}
	sort.Ints(out)
	return dedup(out), nil
}

func isLinuxFile(f string) bool {
	return strings.HasSuffix(f, ".c") || strings.HasSuffix(f, ".h") || strings.HasSuffix(f, ".S")
}

// linuxFile resolves FUNC@FILE for Linux files through linuxFiles.
func (r *Resolver) linuxFile(fn, file string) []int {
	var out []int
	for lf, names := range linuxFiles {
		if !fileMatch(file, lf) {
			continue
		}
		for _, n := range names {
			if globMatch(fn, n) {
				out = append(out, r.ours(n)...)
			}
		}
	}
	return out
}

// linuxNames resolves a Linux name or glob through the map.
func (r *Resolver) linuxNames(fn string) []int {
	if r.Map == nil || strings.ContainsAny(fn, "./()") {
		return nil
	}
	var out []int
	for _, n := range r.Map.Names() {
		if globMatch(fn, n) {
			out = append(out, r.ours(n)...)
		}
	}
	return out
}

func (r *Resolver) ours(linux string) []int {
	if r.Map == nil {
		return nil
	}
	var out []int
	for _, g := range r.Map.Ours(linux) {
		if i, ok := r.Tab.ByName(g); ok {
			out = append(out, i)
		}
	}
	return out
}

// fileMatch matches a file glob against a source file: the whole path,
// or the base name for a glob without a slash.
func fileMatch(glob, file string) bool {
	if ok, _ := path.Match(glob, file); ok {
		return true
	}
	if !strings.Contains(glob, "/") {
		ok, _ := path.Match(glob, path.Base(file))
		return ok
	}
	return false
}

// goNameMatch matches a glob against a Go function's full name, its name
// without the package directory, or its last element.
func goNameMatch(glob, name string) bool {
	short := ksyms.Short(name)
	last := short[strings.LastIndex(short, ".")+1:]
	return globMatch(glob, name) || globMatch(glob, short) || globMatch(glob, last)
}

var globCache struct {
	sync.Mutex
	re map[string]*regexp.Regexp
}

// globMatch matches a shell glob in which * and ? match any character,
// slashes and dots included.
func globMatch(glob, s string) bool {
	if !strings.ContainsAny(glob, "*?[") {
		return glob == s
	}
	globCache.Lock()
	defer globCache.Unlock()
	re, ok := globCache.re[glob]
	if !ok {
		var b strings.Builder
		b.WriteString("^")
		for _, r := range glob {
			switch r {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString("$")
		re = regexp.MustCompile(b.String())
		if globCache.re == nil {
			globCache.re = map[string]*regexp.Regexp{}
		}
		globCache.re[glob] = re
	}
	return re.MatchString(s)
}

func dedup(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
