package integration

import (
	"debug/dwarf"
	"debug/elf"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/lab"
)

// The map's sections these tests read (docs/linux-map.md headings).
const (
	mapTCPSection = "## Sockets and TCP/IPv4"
	mapLabSection = "## The gdb TCP lab"
	mapE2ESection = "## Host↔guest end-to-end tests"
)

// designNames is docs/design.md's "Linux parallel" list: each must be in the
// map under its Go name (a Locked suffix or an exported spelling allowed).
var designNames = []string{"tcpV4Connect", "inetCskAccept", "tcpV4Rcv", "tcpV4DoRcv", "tcpRcvStateProcess",
	"tcpV4ConnRequest", "tcpCheckReq", "tcpV4SynRecvSock", "tcpChildProcess", "tcpRcvSynSentStateProcess",
	"tcpConnect", "tcpTransmitSkb", "tcpSendmsg", "sockAlloc", "sockMapFd", "inetCreate", "inetBind",
	"inetListen", "inetCskListenStart", "reqskQueueAdd", "switchTo", "waitEventInterruptible",
	"wakeUpInterruptible", "registerChrdev"}

// labLinux is issue 5's list plus the walkthrough's tcp_connect,
// tcp_transmit_skb and ip_queue_xmit: the gdb lab must break on each.
var labLinux = []string{"tcp_v4_connect", "inet_csk_accept", "tcp_v4_rcv", "tcp_v4_do_rcv",
	"tcp_rcv_state_process", "tcp_v4_conn_request", "tcp_check_req", "tcp_v4_syn_recv_sock",
	"tcp_child_process", "tcp_rcv_synsent_state_process", "tcp_connect", "tcp_transmit_skb", "ip_queue_xmit"}

// TestQEMULinuxMapSymbols keeps docs/linux-map.md true: every Go name
// in the "ours" column of its tables (the TCP section included), and
// every gdb symbol of its gdb lab section, exists in the built kernel's
// DWARF (what gdb resolves breakpoints against; inlined functions
// included). A name only declared in the source (nothing in the kernel
// calls it yet, so the linker left it out) is logged. It reads the image,
// so it carries the TestQEMU prefix that `make unit` skips.
func TestQEMULinuxMapSymbols(t *testing.T) {
	names := dwarfNames(t)
	sections := mapSections(t)
	if !slices.ContainsFunc(sections, func(s string) bool { return strings.HasPrefix(s, mapTCPSection) }) {
		t.Errorf("linux-map.md has no section %q", mapTCPSection)
	}
	for _, sec := range sections {
		// The lab section is checked below; the end-to-end section names
		// test code (the relay, raw-socket senders), not kernel code.
		if strings.HasPrefix(sec, mapLabSection) || strings.HasPrefix(sec, mapE2ESection) {
			continue
		}
		for _, r := range mapTable(t, sec) {
			checkMapRow(t, names, r)
		}
	}
	for sym, r := range gdbLabRows(t) {
		if !names[sym] {
			t.Errorf("gdb lab row %s: %s is not in the kernel ELF's DWARF", r.linux, sym)
		}
		if pkg := packagesOf(r.file); len(pkg) != 1 || !strings.HasPrefix(sym, pkg[0]+".") {
			t.Errorf("gdb lab row %s: %s is not in %s's package", r.linux, sym, r.file)
		}
	}
}

// checkMapRow resolves each `code span` of a row's "ours" cell in the
// packages of its file cell.
func checkMapRow(t *testing.T, names map[string]bool, r mapRow) {
	t.Helper()
	pkgs := packagesOf(r.cells[2])
	spans := backticked(r.cells[1])
	if len(spans) == 0 || len(pkgs) == 0 {
		t.Errorf("row %q: want `Go names` and a file", r.line)
		return
	}
	for _, s := range spans {
		switch {
		case resolves(names, pkgs, s):
		case resolves(declared(t, pkgs), pkgs, s):
			t.Logf("row %s: %s is declared in %s but not linked into the kernel", r.cells[0], s, strings.Join(pkgs, ", "))
		default:
			t.Errorf("row %s: %q is not a function, method, type or variable of %s (kernel ELF or source)",
				r.cells[0], s, strings.Join(pkgs, ", "))
		}
	}
}

// TestQEMULinuxMapComplete checks that the map names every function of
// docs/design.md's Linux-parallel list, that its gdb lab section covers issue
// 5's list, and that it lists exactly the breakpoints of tcplab.py.
func TestQEMULinuxMapComplete(t *testing.T) {
	doc := strings.ToLower(string(readRepoFile(t, "docs/linux-map.md")))
	for _, n := range designNames {
		if !strings.Contains(doc, strings.ToLower(n)) {
			t.Errorf("linux-map.md does not name %s (docs/design.md's Linux parallel)", n)
		}
	}
	rows := gdbLabRows(t)
	byLinux := map[string]string{}
	for sym, r := range rows {
		byLinux[r.linux] = sym
	}
	for _, l := range labLinux {
		if byLinux[l] == "" {
			t.Errorf("the gdb lab section has no row for %s", l)
		}
	}
	script := labScriptRows(t)
	if len(script) != len(rows) {
		t.Errorf("%s has %d breakpoints, the map's gdb lab section %d rows", lab.ScriptPath, len(script), len(rows))
	}
	for sym, linux := range script {
		if r, ok := rows[sym]; !ok || r.linux != linux {
			t.Errorf("%s breaks on %s as %s; the map says %q", lab.ScriptPath, sym, linux, r.linux)
		}
	}
}

// mapRow is one table row of docs/linux-map.md.
type mapRow struct {
	line  string
	cells []string // Linux | ours | file
}

// mapSections lists the map's "## " headings.
func mapSections(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(readRepoFile(t, "docs/linux-map.md")), "\n") {
		if strings.HasPrefix(line, "## ") {
			out = append(out, line)
		}
	}
	return out
}

// mapTable returns the rows of the table under heading.
func mapTable(t *testing.T, heading string) []mapRow {
	t.Helper()
	var rows []mapRow
	in := false
	for _, line := range strings.Split(string(readRepoFile(t, "docs/linux-map.md")), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, heading)
			continue
		}
		if !in || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			t.Errorf("linux-map.md row %q: want 3 cells, got %d", line, len(cells))
			continue
		}
		if cells[0] == "Linux" {
			continue // the header
		}
		rows = append(rows, mapRow{line: line, cells: cells})
	}
	if len(rows) == 0 {
		t.Fatalf("linux-map.md has no table under %q", heading)
	}
	return rows
}

// labRow is one row of the map's gdb lab section.
type labRow struct{ linux, file string }

// gdbLabRows maps each gdb symbol of the map's gdb lab section to its
// Linux name and file. Rows read: | `linux` | `'gdb symbol'` | file |.
func gdbLabRows(t *testing.T) map[string]labRow {
	t.Helper()
	rows := map[string]labRow{}
	for _, r := range mapTable(t, mapLabSection) {
		l, s := backticked(r.cells[0]), backticked(r.cells[1])
		if len(l) != 1 || len(s) != 1 || !strings.HasPrefix(s[0], "'") || !strings.HasSuffix(s[0], "'") {
			t.Errorf("gdb lab row %q: want | `linux_name` | `'gomenuos/pkg.symbol'` | file |", r.line)
			continue
		}
		rows[strings.Trim(s[0], "'")] = labRow{linux: l[0], file: r.cells[2]}
	}
	return rows
}

// labScriptRows reads tcplab.py's LAB table: gdb symbol → Linux name.
func labScriptRows(t *testing.T) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*\("([^"]+)", "([^"]+)", (True|False)\),$`)
	rows := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(readRepoFile(t, lab.ScriptPath)), -1) {
		rows[m[2]] = m[1]
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no LAB rows", lab.ScriptPath)
	}
	return rows
}

// backticked returns the `code spans` of a cell.
func backticked(cell string) []string {
	var out []string
	parts := strings.Split(cell, "`")
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

// packagesOf turns a file cell ("net/tcp/cong.go, net/tcp/cubic.go") into
// the import paths of their packages.
func packagesOf(cell string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range strings.Split(cell, ",") {
		f = strings.TrimSpace(f)
		if !strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, ".s") {
			continue
		}
		p := "gomenuos/" + filepath.Dir(f)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

var (
	qualPtr   = regexp.MustCompile(`^\(\*(\w+)\.(\w+)\)\.(\w+)$`) // (*sched.WaitQueue).WakeUp
	ptrMethod = regexp.MustCompile(`^\(\*(\w+)\)\.(\w+)$`)        // (*Sock).tcpV4ConnectLocked
	dotted    = regexp.MustCompile(`^(\w+)\.(\w+)$`)              // Proto.Rcv or tcp.NewProto
	bare      = regexp.MustCompile(`^\w+$`)                       // tcpOfoDrainLocked
)

// resolves reports whether the Go name s, written relative to one of
// pkgs as the map does, names something in the ELF.
func resolves(names map[string]bool, pkgs []string, s string) bool {
	if q := strings.Trim(s, "'"); len(q) == len(s)-2 {
		return names[q] // a full symbol as gdb takes it: 'gomenuos/pkg.(*T).m'
	}
	for _, p := range pkgs {
		base := p[strings.LastIndex(p, "/")+1:]
		switch {
		case qualPtr.MatchString(s):
			m := qualPtr.FindStringSubmatch(s)
			if m[1] == base && names[p+".(*"+m[2]+")."+m[3]] {
				return true
			}
		case ptrMethod.MatchString(s):
			if names[p+"."+s] {
				return true
			}
		case dotted.MatchString(s):
			m := dotted.FindStringSubmatch(s)
			if names[p+"."+s] || names[p+".(*"+m[1]+")."+m[2]] || (m[1] == base && names[p+"."+m[2]]) {
				return true
			}
		case bare.MatchString(s):
			if names[p+"."+s] || hasMethod(names, p, s) {
				return true
			}
		}
	}
	return false
}

// hasMethod reports whether some type of package p has a method m (the
// map's shorthand: `(*Sock).a` / `b` for two methods of Sock).
func hasMethod(names map[string]bool, p, m string) bool {
	for n := range names {
		if strings.HasPrefix(n, p+".") && strings.HasSuffix(n, "."+m) &&
			strings.Count(n[len(p)+1:], ".") == 1 {
			return true
		}
	}
	return false
}

// dwarfNames returns every qualified name (functions, inlined ones too,
// types, variables) in the kernel ELF's DWARF: what gdb can break on.
func dwarfNames(t *testing.T) map[string]bool {
	t.Helper()
	if err := harness.CheckImage(harness.BuildDir()); err != nil {
		t.Fatal(err)
	}
	_, kernel, _ := harness.Image(harness.BuildDir())
	f, err := elf.Open(kernel)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if n, ok := e.Val(dwarf.AttrName).(string); ok && strings.HasPrefix(n, "gomenuos/") {
			names[n] = true
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: no gomenuos names in DWARF", kernel)
	}
	return names
}

// declared returns the qualified names of the functions, methods and
// types declared in the packages' non-test sources, spelled as in DWARF.
func declared(t *testing.T, pkgs []string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, p := range pkgs {
		dir := strings.TrimPrefix(p, "gomenuos/")
		ents, err := os.ReadDir(filepath.Join(repoRoot(t), dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot(t), dir, e.Name()), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				for _, n := range declNames(d) {
					names[p+"."+n] = true
				}
			}
		}
	}
	return names
}

// declNames spells a declaration as DWARF does: f, T, (*T).m, T.m.
func declNames(d ast.Decl) []string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil || len(d.Recv.List) == 0 {
			return []string{d.Name.Name}
		}
		typ := d.Recv.List[0].Type
		if ix, ok := typ.(*ast.IndexExpr); ok {
			typ = ix.X
		}
		if star, ok := typ.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok {
				return []string{"(*" + id.Name + ")." + d.Name.Name}
			}
		}
		if id, ok := typ.(*ast.Ident); ok {
			return []string{id.Name + "." + d.Name.Name}
		}
	case *ast.GenDecl:
		var out []string
		for _, s := range d.Specs {
			ts, ok := s.(*ast.TypeSpec)
			if !ok {
				continue
			}
			out = append(out, ts.Name.Name)
			if it, ok := ts.Type.(*ast.InterfaceType); ok {
				for _, m := range it.Methods.List {
					for _, n := range m.Names {
						out = append(out, ts.Name.Name+"."+n.Name)
					}
				}
			}
		}
		return out
	}
	return nil
}

// readRepoFile reads a file relative to the repository root.
func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// repoRoot is the directory holding go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod above the working directory")
		}
	}
}
