// Package ksyms is the kernel's symbol table (Linux: kallsyms): every
// function of the running image with its entry, end and source file, read
// from the Go runtime's own function table (the pclntab, which is loaded
// with the image) rather than from the ELF's .symtab (which is not).
//
// The walk relies on the pclntab layout of Go 1.20 and later (magic
// 0xfffffff1): a pcHeader, then the function table of (entry offset,
// _func offset) pairs ending with the end of text, each _func starting
// with its entry offset and name offset. TestTableMatchesELF compares the
// result with the ELF symbol table of the test binary, so a Go upgrade
// that changes the layout fails there first. Goroutine context only.
package ksyms

import (
	"errors"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// Sym is one function of the image.
type Sym struct {
	Name  string  // as the runtime spells it: gomenuos/net/inet.(*Net).Socket
	Entry uintptr // first instruction
	End   uintptr // the next function's entry (the padding after the body included)
	File  string  // source file: net/inet/socket.go for ours, runtime/proc.go for Go's
}

// Table is the image's functions in address order.
type Table struct {
	Syms      []Sym
	TextStart uintptr // runtime.text
	TextEnd   uintptr // runtime.etext
	byName    map[string]int
}

var (
	loadOnce sync.Once
	table    *Table
	loadErr  error
)

// Kernel returns the running image's table, built on first use.
func Kernel() (*Table, error) {
	loadOnce.Do(func() { table, loadErr = load() })
	return table, loadErr
}

const pclntabMagic = 0xfffffff1

// pcHeader mirrors the start of the runtime's pcHeader (runtime/symtab.go).
type pcHeader struct {
	magic          uint32
	pad1, pad2     uint8
	minLC, ptrSize uint8
	nfunc          int
	nfiles         uint
	_              uintptr
	funcnameOffset uintptr
	cuOffset       uintptr
	filetabOffset  uintptr
	pctabOffset    uintptr
	pclnOffset     uintptr
}

type functab struct{ entryoff, funcoff uint32 }

// funcHead is the start of the runtime's _func.
type funcHead struct {
	entryOff uint32
	nameOff  int32
}

// anchor is a function known to be in the table: ours, not inlined.
//
//go:noinline
func anchor() int { return 1 }

func load() (*Table, error) {
	pc := funcPC(anchor)
	f := runtime.FuncForPC(pc)
	if f == nil || f.Entry() != pc {
		return nil, errors.New("ksyms: the runtime does not know its own function")
	}
	fn := uintptr(unsafe.Pointer(f)) // the anchor's _func inside the pclntab
	h, ftab := findHeader(fn)
	if h == nil {
		return nil, errors.New("ksyms: no Go 1.20+ pclntab header found")
	}
	text := pc - uintptr((*funcHead)(at(fn)).entryOff)
	names := uintptr(unsafe.Pointer(h)) + h.funcnameOffset
	t := &Table{byName: make(map[string]int, h.nfunc), TextStart: text,
		TextEnd: text + uintptr(ftab[h.nfunc].entryoff)}
	root := moduleRoot()
	for i := 0; i < h.nfunc; i++ {
		fh := (*funcHead)(at(uintptr(unsafe.Pointer(&ftab[0])) + uintptr(ftab[i].funcoff)))
		s := Sym{Name: cstring(names + uintptr(fh.nameOff)), Entry: text + uintptr(ftab[i].entryoff),
			End: text + uintptr(ftab[i+1].entryoff)}
		s.File = relFile(fileOf(s), root)
		t.byName[s.Name] = len(t.Syms)
		t.Syms = append(t.Syms, s)
	}
	return t, nil
}

// findHeader walks back from a _func to the pcHeader before it and
// returns it with the function table, once the table is seen to hold that
// _func.
func findHeader(fn uintptr) (*pcHeader, []functab) {
	const maxBack = 64 << 20
	for p := fn &^ 7; p+maxBack > fn && p > 8; p -= 8 {
		h := (*pcHeader)(at(p))
		if h.magic != pclntabMagic || h.pad1 != 0 || h.pad2 != 0 || h.ptrSize != 8 || h.nfunc <= 0 || h.nfunc > 1<<22 {
			continue
		}
		base := p + h.pclnOffset
		if base > fn {
			continue
		}
		ftab := unsafe.Slice((*functab)(at(base)), h.nfunc+1)
		off := uint32(fn - base)
		for _, e := range ftab[:h.nfunc] {
			if e.funcoff == off {
				return h, ftab
			}
		}
	}
	return nil, nil
}

func cstring(p uintptr) string {
	n := 0
	for *(*byte)(at(p + uintptr(n))) != 0 {
		n++
	}
	return unsafe.String((*byte)(at(p)), n)
}

// at turns an address in the image (never Go heap) into a pointer; reading
// the integer's bits keeps vet's unsafeptr check for real heap pointers.
func at(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// fileOf is the source file of s's own code. At the entry that is usually
// the function's file; when a callee was inlined right at the entry the
// runtime names the callee there, so look further for an instruction of s.
func fileOf(s Sym) string {
	for pc := s.Entry; pc < s.End; pc++ {
		f := runtime.FuncForPC(pc)
		if f == nil {
			break
		}
		if f.Name() == s.Name {
			file, _ := f.FileLine(pc)
			return file
		}
	}
	if f := runtime.FuncForPC(s.Entry); f != nil {
		file, _ := f.FileLine(s.Entry)
		return file
	}
	return ""
}

// moduleRoot is the directory of go.mod at build time, from this file's
// recorded path (kernel/ksyms/ksyms.go below it).
func moduleRoot() string {
	f := runtime.FuncForPC(funcPC(anchor))
	file, _ := f.FileLine(f.Entry())
	return strings.TrimSuffix(file, "kernel/ksyms/ksyms.go")
}

// relFile names a file relative to our module root, or to GOROOT/src for
// the standard library; builds with -trimpath record gomenuos/... paths.
func relFile(file, root string) string {
	switch {
	case root != "" && strings.HasPrefix(file, root):
		return file[len(root):]
	case strings.HasPrefix(file, "gomenuos/"):
		return file[len("gomenuos/"):]
	}
	if i := strings.Index(file, "/src/"); i >= 0 {
		return file[i+len("/src/"):] // GOROOT/src/runtime/proc.go
	}
	return path.Clean(file)
}

// funcPC returns a function's entry address.
func funcPC(f func() int) uintptr {
	return **(**uintptr)(unsafe.Pointer(&f))
}

// Lookup returns the index of the function holding pc.
func (t *Table) Lookup(pc uintptr) (int, bool) {
	i := sort.Search(len(t.Syms), func(i int) bool { return t.Syms[i].End > pc })
	if i == len(t.Syms) || pc < t.Syms[i].Entry {
		return 0, false
	}
	return i, true
}

// ByName returns the index of the function with the runtime's name.
func (t *Table) ByName(name string) (int, bool) {
	i, ok := t.byName[name]
	return i, ok
}

// Short is a function's name without its package's directory:
// gomenuos/net/inet.(*Net).Socket is inet.(*Net).Socket.
func Short(name string) string {
	pkg := name
	if i := strings.IndexAny(name, "(["); i >= 0 {
		pkg = name[:i]
	}
	return name[strings.LastIndex(pkg, "/")+1:]
}

// NewTable makes a table of syms (in address order), for tests of code
// that resolves names.
func NewTable(syms []Sym) *Table {
	t := &Table{Syms: syms, byName: map[string]int{}}
	for i, s := range syms {
		t.byName[s.Name] = i
	}
	if len(syms) > 0 {
		t.TextStart, t.TextEnd = syms[0].Entry, syms[len(syms)-1].End
	}
	return t
}
