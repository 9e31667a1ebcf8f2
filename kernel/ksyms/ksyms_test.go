package ksyms

import (
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The table read from the pclntab must name the same functions at the
// same addresses as the ELF symbol table. `go test` binaries carry no
// symbol table, so the test builds testdata/dump (which prints its own
// table) with the symbols kept and compares the two.
func TestTableMatchesELF(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not found: %v", err)
	}
	exe := filepath.Join(t.TempDir(), "dump")
	if out, err := exec.Command(goBin, "build", "-o", exe, "./testdata/dump").CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/dump: %v\n%s", err, out)
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatalf("%s: %v", exe, err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("%s has no symbol table: %v", exe, err)
	}
	// Assembly functions and ABI wrappers are name.abi0 in the ELF, plain
	// in the pclntab (so a name can have two entries); a few generated
	// names spell the middle dot differently; runtime.text and
	// runtime.etext only mark where text starts and ends.
	elfFuncs := map[string][]uint64{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 && s.Name != "runtime.text" && s.Name != "runtime.etext" {
			n := strings.TrimSuffix(s.Name, ".abi0")
			elfFuncs[n] = append(elfFuncs[n], s.Value)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var text, etext uint64
	fmt.Sscanf(lines[0], "text %x %x", &text, &etext)
	// The table ends where the last function does; the linker rounds
	// runtime.etext up to the text alignment.
	if e := elfSym(syms, "runtime.etext"); text != elfSym(syms, "runtime.text") || etext > e || e-etext >= 32 {
		t.Errorf("text %#x-%#x, ELF runtime.text %#x runtime.etext %#x", text, etext,
			elfSym(syms, "runtime.text"), elfSym(syms, "runtime.etext"))
	}
	seen := map[string]bool{}
	prevEnd := text
	for _, l := range lines[1:] {
		var entry, end uint64
		var name string
		if n, _ := fmt.Sscanf(l, "%x %x %s", &entry, &end, &name); n != 3 {
			t.Fatalf("bad line %q", l)
		}
		name = strings.ReplaceAll(l[strings.Index(l, name):], "·", ".") // names may hold spaces (generic shapes)
		seen[name] = true
		if v, ok := elfFuncs[name]; ok && !slices.Contains(v, entry) {
			t.Errorf("%s: pclntab entry %#x, ELF %#x", name, entry, v)
		}
		if entry != prevEnd || end <= entry {
			t.Errorf("%s: %#x-%#x does not follow the previous function's end %#x", name, entry, end, prevEnd)
		}
		prevEnd = end
	}
	if prevEnd != etext {
		t.Errorf("the last function ends at %#x, etext is %#x", prevEnd, etext)
	}
	missing := 0
	for name := range elfFuncs {
		if !seen[name] {
			missing++
			t.Logf("ELF function %s is not in the table", name)
		}
	}
	if missing > 0 || len(seen) < 1000 {
		t.Errorf("%d of %d ELF functions missing from the table of %d", missing, len(elfFuncs), len(seen))
	}
}

func elfSym(syms []elf.Symbol, name string) uint64 {
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	return 0
}

// Files are named relative to the module root (ours) or GOROOT/src.
func TestFilesAndLookup(t *testing.T) {
	tab, err := Kernel()
	if err != nil {
		t.Fatal(err)
	}
	i, ok := tab.ByName("gomenuos/kernel/ksyms.anchor")
	if !ok {
		t.Fatal("anchor not in the table")
	}
	if got := tab.Syms[i].File; got != "kernel/ksyms/ksyms.go" {
		t.Errorf("anchor's file %q, want kernel/ksyms/ksyms.go", got)
	}
	if j, ok := tab.Lookup(tab.Syms[i].Entry + 1); !ok || j != i {
		t.Errorf("Lookup inside anchor: %d %v, want %d", j, ok, i)
	}
	j, ok := tab.ByName("runtime.mallocgc")
	if !ok || !strings.HasPrefix(tab.Syms[j].File, "runtime/") {
		t.Errorf("runtime.mallocgc: %v %+v", ok, tab.Syms[j])
	}
	pc, _, _, _ := runtime.Caller(0)
	if k, ok := tab.Lookup(pc); !ok || tab.Syms[k].Name != "gomenuos/kernel/ksyms.TestFilesAndLookup" {
		t.Errorf("Lookup(own pc) = %v %v", k, ok)
	}
}

func TestShort(t *testing.T) {
	for in, want := range map[string]string{
		"gomenuos/net/inet.(*Net).Socket":           "inet.(*Net).Socket",
		"runtime.mallocgc":                          "runtime.mallocgc",
		"gomenuos/kernel/menu.(*Shell).dispatch":    "menu.(*Shell).dispatch",
		"slices.Sort[go.shape.[]gomenuos/x.T]":      "slices.Sort[go.shape.[]gomenuos/x.T]",
		"sync/atomic.(*Pointer[go.shape.x/y]).Load": "atomic.(*Pointer[go.shape.x/y]).Load",
	} {
		if got := Short(in); got != want {
			t.Errorf("Short(%q) = %q, want %q", in, got, want)
		}
	}
}
