package exec

import (
	"debug/elf"
	"errors"
	"os"
	"syscall"
	"testing"
)

// loadElfPhdrs reads the same program headers as debug/elf (on the test
// binary itself, an x86-64 ELF executable) and rejects truncated headers.
func TestLoadElfPhdrs(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Skip(err)
	}
	want, err := elf.Open(exe)
	if err != nil {
		t.Skip(err)
	}
	defer want.Close()
	if want.Machine != elf.EM_X86_64 {
		t.Skip("not an x86-64 host")
	}
	h, err := loadElfPhdrs(data)
	if err != nil {
		t.Fatal(err)
	}
	if h.Entry != want.Entry || h.Type != uint16(want.Type) || len(h.Progs) != len(want.Progs) {
		t.Fatalf("header: got entry %#x type %d %d phdrs, want %#x %d %d", h.Entry, h.Type, len(h.Progs),
			want.Entry, want.Type, len(want.Progs))
	}
	for i, w := range want.Progs {
		g := h.Progs[i]
		if g.Type != uint32(w.Type) || g.Flags != uint32(w.Flags) || g.Off != w.Off || g.Vaddr != w.Vaddr ||
			g.Filesz != w.Filesz || g.Memsz != w.Memsz || g.Align != w.Align {
			t.Errorf("phdr %d: got %+v, want %+v", i, g, w.ProgHeader)
		}
	}
	for _, n := range []int{0, 4, ehdrSize - 1, ehdrSize, int(h.Phoff) + phdrSize} {
		if _, err := loadElfPhdrs(data[:n]); !errors.Is(err, syscall.ENOEXEC) {
			t.Errorf("%d bytes: got %v, want ENOEXEC", n, err)
		}
	}
}
