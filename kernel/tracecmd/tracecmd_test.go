package tracecmd

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gomenuos/kernel/ksyms"
	"gomenuos/sched/trace"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		`kernel.function("*@net/socket.c")`:                                            {Pattern: "*@net/socket.c", Entry: true},
		`kernel.function("*@net/socket.c").return`:                                     {Pattern: "*@net/socket.c", Return: true},
		`probe kernel.function("tcp_v4_connect") { printf("%s\n", thread_indent(1)) }`: {Pattern: "tcp_v4_connect", Entry: true},
		`kernel.trace("sched:sched_switch")`:                                           {Tracepoint: "sched:sched_switch"},
		`tcp.(*Sock).tcpV4ConnectLocked`:                                               {Pattern: "tcp.(*Sock).tcpV4ConnectLocked", Entry: true, Return: true},
		`kernel.function('inet_*')`:                                                    {Pattern: "inet_*", Entry: true},
	} {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{``, `kernel.function("x").entry`, `kernel.function()`, `kernel.statement("x")`} {
		if s, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", bad, s)
		}
	}
}

func readMap(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/linux-map.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// srcNames is Names over the functions and methods declared in the
// repository's Go sources.
type srcNames map[string]bool

func (n srcNames) Has(name string) bool { return n[name] }

func (n srcNames) Methods(pkg, m string) []string {
	var out []string
	for name := range n {
		p, rest, ok := splitPackage(name)
		if ok && p == pkg && strings.HasSuffix(rest, "."+m) && strings.Count(rest, ".") == 1 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func declared(t *testing.T) srcNames {
	t.Helper()
	names := srcNames{}
	root := "../.."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "build" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := "gomenuos/" + filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if fd.Recv == nil {
				names[pkg+"."+fd.Name.Name] = true
				continue
			}
			typ := fd.Recv.List[0].Type
			if ix, ok := typ.(*ast.IndexExpr); ok {
				typ = ix.X
			}
			if star, ok := typ.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok {
					names[pkg+".(*"+id.Name+")."+fd.Name.Name] = true
				}
			} else if id, ok := typ.(*ast.Ident); ok {
				names[pkg+"."+id.Name+"."+fd.Name.Name] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// fixedNames is Names over a fixed list of the image's functions.
type fixedNames map[string]bool

func (n fixedNames) Has(name string) bool { return n[name] }

func (n fixedNames) Methods(pkg, m string) []string { return srcNames(n).Methods(pkg, m) }

// excerptNames are the functions testdata/linux-map-excerpt.md names.
func excerptNames() fixedNames {
	n := fixedNames{}
	for _, f := range []string{"gomenuos/sched.switchTo", "gomenuos/arch/x86.alltraps",
		"gomenuos/sched.(*WaitQueue).WakeUp", "gomenuos/sched.(*WaitQueue).WakeUpInterruptible",
		"gomenuos/fs.(*File).Read", "gomenuos/fs.(*File).Write", "gomenuos/fs.(*File).Put",
		"gomenuos/fs/sockfs.NewInode", "gomenuos/fs/sockfs.AllocFile", "gomenuos/fs/sockfs.MapFd",
		"gomenuos/net/inet.(*Net).Socket", "gomenuos/net/inet.(*Net).sockAlloc", "gomenuos/net/inet.(*Net).inetCreate",
		"gomenuos/net/inet.(*Socket).sockMapFd", "gomenuos/net/inet.(*Socket).Poll", "gomenuos/net/tcp.(*Sock).Poll",
		"gomenuos/net/tcp.(*Proto).tcpV4RcvLocked", "gomenuos/net/tcp.(*Proto).Rcv",
		"gomenuos/net/tcp.(*Sock).tcpV4ConnectLocked", "gomenuos/net/tcp.(*Sock).tcpConnectLocked",
		"gomenuos/net/inet.(*Socket).inetCskAccept"} {
		n[f] = true
	}
	return n
}

func readExcerpt(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/linux-map-excerpt.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The map pairs Linux names with ours as a reader of the table would:
// by position, a bare method after a receiver-qualified one keeps the
// receiver, a bare method name finds the type that has it, remarks in
// parentheses and prose do not count.
func TestLinuxMapParsing(t *testing.T) {
	names := excerptNames()
	m := ParseLinuxMap(readExcerpt(t), names)
	for linux, want := range map[string][]string{
		"__sys_socket":          {"gomenuos/net/inet.(*Net).Socket"},
		"sock_create":           {"gomenuos/net/inet.(*Net).Socket"},
		"sock_alloc":            {"gomenuos/fs/sockfs.NewInode", "gomenuos/net/inet.(*Net).sockAlloc"},
		"sock_map_fd":           {"gomenuos/fs/sockfs.MapFd", "gomenuos/net/inet.(*Socket).sockMapFd"},
		"tcp_v4_connect":        {"gomenuos/net/tcp.(*Sock).tcpV4ConnectLocked"},
		"tcp_v4_rcv":            {"gomenuos/net/tcp.(*Proto).tcpV4RcvLocked"},
		"sock_poll":             {"gomenuos/net/inet.(*Socket).Poll"},
		"tcp_poll":              {"gomenuos/net/tcp.(*Sock).Poll"},
		"vfs_write":             {"gomenuos/fs.(*File).Write"},
		"fput":                  {"gomenuos/fs.(*File).Put"},
		"wake_up_interruptible": {"gomenuos/sched.(*WaitQueue).WakeUpInterruptible"},
		"switch_to":             {"gomenuos/sched.switchTo"},
		"idtentry":              {"gomenuos/arch/x86.alltraps"},
		"inet_csk_accept":       {"gomenuos/net/inet.(*Socket).inetCskAccept"},
	} {
		if got := m.Ours(linux); !reflect.DeepEqual(got, want) {
			t.Errorf("%s -> %q, want %q", linux, got, want)
		}
	}
	if l, ok := m.Linux("gomenuos/net/inet.(*Net).Socket"); !ok || l != "__sys_socket" {
		t.Errorf("(*Net).Socket is %q in Linux, want __sys_socket (its row's first)", l)
	}
	for _, prose := range []string{"path", "struct", "pt_regs", "iretq", "wake_up_all"} { // prose, or not in the image
		if got := m.Ours(prose); got != nil {
			t.Errorf("%q maps to %q", prose, got)
		}
	}

	// A function missing from the image (inlined everywhere) leaves its
	// Linux name unmapped instead of shifting the pairs.
	delete(names, "gomenuos/net/inet.(*Socket).Poll")
	m = ParseLinuxMap(readExcerpt(t), names)
	if got := m.Ours("sock_poll"); got != nil {
		t.Errorf("sock_poll -> %q without (*Socket).Poll in the image", got)
	}
	if got := m.Ours("tcp_poll"); !reflect.DeepEqual(got, []string{"gomenuos/net/tcp.(*Sock).Poll"}) {
		t.Errorf("tcp_poll -> %q", got)
	}
}

// The real map parses: every row of its gdb lab section (full symbols)
// gives its Linux name the lab's function, when the source declares it.
func TestLinuxMapFromDocs(t *testing.T) {
	src := declared(t)
	text := readMap(t)
	m := ParseLinuxMap(text, src)
	if len(m.Names()) < 150 {
		t.Errorf("only %d Linux names in docs/linux-map.md", len(m.Names()))
	}
	_, lab, _ := strings.Cut(text, "## The gdb TCP lab")
	lab, _, _ = strings.Cut(lab, "\n## ")
	rows := 0
	for _, line := range strings.Split(lab, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 || !strings.HasPrefix(cells[1], "`'") {
			continue
		}
		linux, sym := strings.Trim(cells[0], "`"), strings.Trim(cells[1], "`'")
		rows++
		if src[sym] && !contains(m.Ours(linux), sym) {
			t.Errorf("%s -> %q, which lacks the lab's %s", linux, m.Ours(linux), sym)
		}
	}
	if rows < 10 {
		t.Errorf("read %d rows of the lab section", rows)
	}
}

func testResolver(t *testing.T) *Resolver {
	names := []struct{ name, file string }{
		{"gomenuos/fs/sockfs.AllocFile", "fs/sockfs/sockfs.go"},
		{"gomenuos/fs/sockfs.MapFd", "fs/sockfs/sockfs.go"},
		{"gomenuos/net/inet.(*Net).Socket", "net/inet/socket.go"},
		{"gomenuos/net/inet.(*Net).inetCreate", "net/inet/socket.go"},
		{"gomenuos/net/inet.(*Net).sockAlloc", "net/inet/socket.go"},
		{"gomenuos/net/inet.(*Socket).sockMapFd", "net/inet/socket.go"},
		{"gomenuos/net/inet.NewNet", "net/inet/stack.go"},
		{"gomenuos/net/tcp.(*Sock).tcpV4ConnectLocked", "net/tcp/connect.go"},
		{"gomenuos/net/tcp.(*Sock).tcpConnectLocked", "net/tcp/connect.go"},
		{"runtime.mallocgc", "runtime/malloc.go"},
	}
	var syms []ksyms.Sym
	for i, n := range names {
		syms = append(syms, ksyms.Sym{Name: n.name, File: n.file, Entry: uintptr(0x1000 + i*0x100), End: uintptr(0x1100 + i*0x100)})
	}
	tab := ksyms.NewTable(syms)
	return &Resolver{Tab: tab, Map: ParseLinuxMap(readExcerpt(t), newTableNames(tab))}
}

func TestResolve(t *testing.T) {
	r := testResolver(t)
	for pattern, want := range map[string][]string{
		"*@net/socket.c":       {"sockfs.AllocFile", "sockfs.MapFd", "inet.(*Net).Socket", "inet.(*Net).sockAlloc", "inet.(*Socket).sockMapFd"},
		"sock_a*@net/socket.c": {"sockfs.AllocFile", "inet.(*Net).sockAlloc"},
		"*@net/inet/*.go":      {"inet.(*Net).Socket", "inet.(*Net).inetCreate", "inet.(*Net).sockAlloc", "inet.(*Socket).sockMapFd", "inet.NewNet"},
		"*@socket.go":          {"inet.(*Net).Socket", "inet.(*Net).inetCreate", "inet.(*Net).sockAlloc", "inet.(*Socket).sockMapFd"},
		"tcp_v4_connect":       {"tcp.(*Sock).tcpV4ConnectLocked"},
		"tcp_*connect":         {"tcp.(*Sock).tcpV4ConnectLocked", "tcp.(*Sock).tcpConnectLocked"},
		"tcpV4ConnectLocked":   {"tcp.(*Sock).tcpV4ConnectLocked"},
		"tcp.(*Sock).*":        {"tcp.(*Sock).tcpV4ConnectLocked", "tcp.(*Sock).tcpConnectLocked"},
		"gomenuos/fs/*":        {"sockfs.AllocFile", "sockfs.MapFd"},
		"runtime.mallocgc":     {"runtime.mallocgc"},
		"inet_create":          {"inet.(*Net).inetCreate"},
	} {
		idx, err := r.Resolve(pattern)
		if err != nil {
			t.Errorf("%s: %v", pattern, err)
			continue
		}
		var got []string
		for _, i := range idx {
			got = append(got, ksyms.Short(r.Tab.Syms[i].Name))
		}
		if strings.Join(got, " ") != strings.Join(sortedByAddr(r, want), " ") {
			t.Errorf("%s -> %q, want %q", pattern, got, want)
		}
	}
	if _, err := r.Resolve("no_such_function"); err == nil {
		t.Error("a name of nothing resolved")
	}
}

// sortedByAddr orders short names as the table does.
func sortedByAddr(r *Resolver, names []string) []string {
	var out []string
	for _, s := range r.Tab.Syms {
		for _, n := range names {
			if ksyms.Short(s.Name) == n {
				out = append(out, n)
			}
		}
	}
	return out
}

func TestTracepointNames(t *testing.T) {
	for name, want := range map[string][]trace.Kind{
		"sched_switch":        {trace.KindSchedSwitch},
		"sched:sched_switch":  {trace.KindSchedSwitch},
		"sched:*":             {trace.KindSchedSwitch, trace.KindSchedWakeup},
		"tcp:*":               {trace.KindTCPProbe, trace.KindTCPSendSegment, trace.KindTCPRcvSegment},
		"inet_sock_set_state": {trace.KindInetSockSetState},
	} {
		got, err := Tracepoints(name)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s -> %v %v, want %v", name, got, err, want)
		}
	}
	if _, err := Tracepoints("tcp_nothing"); err == nil {
		t.Error("an unknown tracepoint resolved")
	}
}

// ev makes an event at time us (the printer runs with a 1 MHz TSC).
func ev(kind trace.Kind, us, goid uint64, fn int) trace.Event {
	e := trace.Event{Kind: kind, TSC: 1_000_000 + us, GoID: goid}
	e.Probe().Func = uint64(fn)
	return e
}

// Probe hits print as SystemTap's thread_indent: time since the first
// event, comm(id), one space per depth of that task, arrows, Linux name
// then ours; the depth of each task is its own.
func TestPrinterThreadIndent(t *testing.T) {
	r := testResolver(t)
	fn := func(short string) int {
		for i, s := range r.Tab.Syms {
			if ksyms.Short(s.Name) == short {
				return i
			}
		}
		t.Fatalf("no %s", short)
		return 0
	}
	sock, alloc, mapfd, file := fn("inet.(*Net).Socket"), fn("inet.(*Net).sockAlloc"), fn("inet.(*Socket).sockMapFd"), fn("sockfs.AllocFile")
	p := Printer{Tab: r.Tab, Map: r.Map, TSCHz: 1_000_000,
		Comm: func(id, _ uint64) (string, uint64, bool) {
			return map[uint64]string{7: "hello", 9: "replyhi"}[id], id, id == 7 || id == 9
		}}
	events := []trace.Event{
		ev(trace.KindProbeEntry, 0, 7, sock),
		ev(trace.KindProbeEntry, 40, 7, alloc),
		ev(trace.KindProbeEntry, 45, 9, sock), // another task: its own depth
		ev(trace.KindProbeReturn, 60, 7, alloc),
		ev(trace.KindProbeReturn, 70, 7, sock),
		ev(trace.KindProbeEntry, 100, 7, mapfd),
		ev(trace.KindProbeEntry, 110, 7, file),
		ev(trace.KindProbeReturn, 130, 7, mapfd), // AllocFile's return was never seen (a panic)
		ev(trace.KindProbeReturn, 140, 9, alloc), // a return whose entry came before the probe
	}
	var b strings.Builder
	for i := range events {
		p.Print(&b, &events[i])
	}
	want := `     0 hello(7): -> __sys_socket [inet.(*Net).Socket]
    40 hello(7):  -> sock_alloc [inet.(*Net).sockAlloc]
    45 replyhi(9): -> __sys_socket [inet.(*Net).Socket]
    60 hello(7):  <- sock_alloc [inet.(*Net).sockAlloc]
    70 hello(7): <- __sys_socket [inet.(*Net).Socket]
   100 hello(7): -> sock_map_fd [inet.(*Socket).sockMapFd]
   110 hello(7):  -> sock_alloc_file [sockfs.AllocFile]
   130 hello(7): <- sock_map_fd [inet.(*Socket).sockMapFd]
   140 replyhi(9):  <- sock_alloc [inet.(*Net).sockAlloc]
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSegmentText(t *testing.T) {
	g := trace.Segment{Sock: 0xabc, Saddr: [4]byte{127, 0, 0, 1}, Daddr: [4]byte{127, 0, 0, 1}, Sport: 33886, Dport: 5001,
		Flags: 0x12, Site: trace.SiteSendSynack, Opt: trace.OptMSS | trace.OptSACKOK | trace.OptTS | trace.OptWS,
		MSS: 65495, WS: 7, Seq: 100, Ack: 200, Win: 65535, TSVal: 5, TSEcr: 6, State: 10, NSACK: 1,
		SACK: [4][2]uint32{{300, 400}}}
	want := "sk=0xabc 127.0.0.1:33886 > 127.0.0.1:5001 flags=SYN,ACK seq=100 ack=200 win=65535 len=0 " +
		"opts=mss:65495,sackOK,TS:5:6,wscale:7,sack:300-400 state=LISTEN func=tcp_v4_send_synack"
	if got := SegmentText(&g); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A burst larger than the ring: trace prints every event that fit, then
// says how many were lost.
func TestPrintSaysHowManyWereLost(t *testing.T) {
	tr := NewTracer(1_000_000)
	var out strings.Builder
	if err := tr.Add(nil, &out, []Spec{{Tracepoint: "sched_wakeup"}}, false); err != nil {
		t.Fatal(err)
	}
	defer tr.Off(io.Discard)
	for i := 0; i < trace.RingSize+123; i++ {
		trace.SchedWakeup(int32(i), 0)
	}
	out.Reset()
	if err := tr.Print(nil, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if n := strings.Count(text, " sched_wakeup: tid="); n != trace.RingSize {
		t.Errorf("printed %d events, want the ring's %d", n, trace.RingSize)
	}
	if !strings.HasSuffix(text, fmt.Sprintf("trace: 123 events lost: the ring (%d events) was full\n", trace.RingSize)) {
		t.Errorf("the end of the output: %q", text[max(0, len(text)-200):])
	}
	if !strings.HasPrefix(text, "     0 trap(0): sched_wakeup: tid=0 g=idle(0)\n") {
		t.Errorf("the first event: %q", text[:min(len(text), 200)])
	}
}
