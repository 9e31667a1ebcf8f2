package tracecmd

import (
	"path"
	"regexp"
	"strings"
)

// LinuxMap is docs/linux-map.md read as data: which of our functions plays
// each Linux function's role. The image carries the map as
// /boot/linux-map.md (the Makefile packs it into the initramfs), so the
// tracer and the document cannot drift apart.
type LinuxMap struct {
	ours  map[string][]string // Linux name → our functions, full runtime names
	linux map[string]string   // our function → the Linux name it is listed under first
	order []string            // Linux names in the map's order
}

// Ours returns the functions playing Linux function name's role.
func (m *LinuxMap) Ours(name string) []string { return m.ours[name] }

// Linux returns the Linux name of our function (full runtime name).
func (m *LinuxMap) Linux(goName string) (string, bool) {
	n, ok := m.linux[goName]
	return n, ok
}

// Names lists the Linux names in the map's order.
func (m *LinuxMap) Names() []string { return m.order }

var (
	linuxIdent = regexp.MustCompile(`^_*[a-z][a-z0-9_]*$`)
	qualPtr    = regexp.MustCompile(`^\(\*(\w+)\.(\w+)\)\.(\w+)$`) // (*sched.WaitQueue).WakeUp
	ptrMethod  = regexp.MustCompile(`^\(\*(\w+)\)\.(\w+)$`)        // (*Sock).tcpV4ConnectLocked
	dotted     = regexp.MustCompile(`^(\w+)\.(\w+)$`)              // Proto.Rcv, tcp.NewProto
	bare       = regexp.MustCompile(`^\w+$`)                       // tcpOfoDrainLocked
)

// Names is what the map's Go names are resolved against: the functions
// of the image.
type Names interface {
	// Has reports whether a full runtime name is a function.
	Has(name string) bool
	// Methods lists the methods called m of any type of package pkg:
	// pkg.(*T).m and pkg.T.m.
	Methods(pkg, m string) []string
}

// ParseLinuxMap reads the map's tables: | Linux | ours | file |. Each
// table row names one or more Linux functions (split by " / ", " → ",
// "+", ",") and one or more of ours in `code spans`, written relative to
// the packages of the file cell as the map does. Linux names pair with
// ours in order when both lists are as long; otherwise each Linux name
// maps to the row's first function of ours.
func ParseLinuxMap(text string, names Names) *LinuxMap {
	m := &LinuxMap{ours: map[string][]string{}, linux: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 || cells[0] == "Linux" {
			continue
		}
		linux := linuxNames(cells[0])
		ours := oursNames(cells[1], cells[2], names)
		first := -1
		for i, o := range ours {
			if len(o) > 0 {
				first = i
				break
			}
		}
		if len(linux) == 0 || first < 0 {
			continue
		}
		for i, l := range linux {
			if len(ours) == len(linux) {
				m.add(l, ours[i]) // possibly none: that one is not in this kernel
			} else {
				m.add(l, ours[first])
			}
		}
	}
	return m
}

func (m *LinuxMap) add(linux string, fns []string) {
	if len(fns) == 0 {
		return
	}
	if _, ok := m.ours[linux]; !ok {
		m.order = append(m.order, linux)
	}
	for _, f := range fns {
		if !contains(m.ours[linux], f) {
			m.ours[linux] = append(m.ours[linux], f)
		}
		if _, ok := m.linux[f]; !ok {
			m.linux[f] = linux
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// linuxNames picks the Linux function names out of a map cell: the
// items between " / ", " → ", " + " and ", " that are one C identifier
// (so "struct pt_regs" and "iretq path" are prose, not names).
func linuxNames(cell string) []string {
	cell = dropParens(strings.ReplaceAll(cell, "`", ""))
	var out []string
	for _, w := range strings.FieldsFunc(cell, func(r rune) bool {
		return r == '/' || r == '+' || r == ',' || r == '→'
	}) {
		w = strings.TrimSpace(w)
		if linuxIdent.MatchString(w) && !contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// dropParens removes parenthesised remarks: "tcp_poll (SACK room)".
func dropParens(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oursNames resolves the `code spans` of an "ours" cell, outside
// parenthesised remarks, to full runtime names: one list per span, empty
// for a span that names nothing in this kernel (inlined everywhere, or
// not a function), so that spans still pair with Linux names by
// position. A span may name a function in any of the file cell's
// packages. A bare name after a receiver-qualified one is a method of the
// same receiver (`(*fs.File).Read` / `Write`); otherwise a bare name is a
// function or a method of any type of those packages.
func oursNames(cell, files string, names Names) [][]string {
	pkgs := packagesOf(files)
	var out [][]string
	recv := ""
	for _, span := range spans(cell) {
		span = strings.Trim(span, "'")
		var fns []string
		switch {
		case strings.HasPrefix(span, "gomenuos/"):
			if names.Has(span) {
				fns = []string{span}
			}
		case qualPtr.MatchString(span):
			m := qualPtr.FindStringSubmatch(span)
			recv = "(*" + m[2] + ")"
			for _, p := range pkgs {
				if path.Base(p) == m[1] && names.Has(p+"."+recv+"."+m[3]) {
					fns = append(fns, p+"."+recv+"."+m[3])
				}
			}
		case ptrMethod.MatchString(span):
			recv = span[:strings.LastIndex(span, ".")]
			fns = existing(pkgs, span, names)
		case dotted.MatchString(span):
			m := dotted.FindStringSubmatch(span)
			fns = existing(pkgs, span, names)
			fns = append(fns, existing(pkgs, "(*"+m[1]+")."+m[2], names)...)
			for _, p := range pkgs {
				if path.Base(p) == m[1] && names.Has(p+"."+m[2]) {
					fns = append(fns, p+"."+m[2])
				}
			}
		case bare.MatchString(span):
			fns = existing(pkgs, span, names)
			if len(fns) == 0 && recv != "" {
				fns = existing(pkgs, recv+"."+span, names)
			}
			if len(fns) == 0 {
				for _, p := range pkgs {
					fns = append(fns, names.Methods(p, span)...)
				}
			}
		}
		out = append(out, fns)
	}
	return out
}

func existing(pkgs []string, name string, names Names) []string {
	var out []string
	for _, p := range pkgs {
		if names.Has(p + "." + name) {
			out = append(out, p+"."+name)
		}
	}
	return out
}

// spans returns a cell's `code spans` outside parentheses.
func spans(cell string) []string {
	var out []string
	parts := strings.Split(cell, "`")
	depth := 0
	for i, p := range parts {
		if i%2 == 1 {
			if depth == 0 {
				out = append(out, p)
			}
			continue
		}
		depth += strings.Count(p, "(") - strings.Count(p, ")")
		depth = max(depth, 0)
	}
	return out
}

// packagesOf turns a file cell ("net/tcp/cong.go, net/tcp/cubic.go") into
// the import paths of their packages.
func packagesOf(cell string) []string {
	var out []string
	for _, f := range strings.Split(cell, ",") {
		f = strings.TrimSpace(f)
		if !strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, ".s") {
			continue
		}
		p := "gomenuos/" + path.Dir(f)
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
