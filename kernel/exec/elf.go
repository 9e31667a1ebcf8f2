// Package exec loads programs into user address spaces (Linux:
// fs/binfmt_elf.c, fs/binfmt_script.c, fs/exec.c's stack setup): static
// ELF executables, fixed-address (ET_EXEC) or position-independent
// (static-PIE ET_DYN), and "#!" scripts.
package exec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"gomenuos/kernel/mm"
)

// Image describes a loaded program (Linux: what load_elf_binary leaves in
// the mm and passes to create_elf_tables).
type Image struct {
	Entry    uintptr // where the program starts
	Phdr     uintptr // its program headers in memory (AT_PHDR)
	Phnum    int
	Bias     uintptr // load bias: 0 for ET_EXEC
	BrkStart uintptr // the heap starts here (page aligned, after bss)
}

// ErrDynamic: the program needs a dynamic loader, which this kernel does
// not provide (only static programs run).
var ErrDynamic = errors.New("exec: dynamically linked (needs an ELF interpreter)")

// pieBase is where static-PIE programs go before randomisation (Linux:
// ELF_ET_DYN_BASE, two thirds of the user address space).
const pieBase = 0x555555554000

// LoadElfBinary maps the program in data into m (Linux: load_elf_binary). rnd
// supplies randomness for the static-PIE base. name and ino label the
// mappings in /proc/PID/maps.
func LoadElfBinary(m *mm.MM, data []byte, name string, ino uint64, rnd uint64) (*Image, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", syscall.ENOEXEC, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w: not an x86-64 ELF", syscall.ENOEXEC)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%w: ELF type %v", syscall.ENOEXEC, f.Type)
	}
	var loads []*elf.Prog
	align := uint64(mm.PageSize)
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			return nil, ErrDynamic
		case elf.PT_LOAD:
			if err := checkLoad(p, len(data)); err != nil {
				return nil, err
			}
			loads = append(loads, p)
			align = max(align, p.Align)
		}
	}
	if len(loads) == 0 {
		return nil, fmt.Errorf("%w: no PT_LOAD", syscall.ENOEXEC)
	}
	img := &Image{Phnum: len(f.Progs)}
	if f.Type == elf.ET_DYN {
		if align > 1<<30 || align&(align-1) != 0 {
			return nil, fmt.Errorf("%w: PT_LOAD alignment %#x", syscall.ENOEXEC, align)
		}
		img.Bias = (pieBase + uintptr(rnd%(1<<20))*mm.PageSize + uintptr(align) - 1) &^ (uintptr(align) - 1)
	}
	for _, p := range loads {
		if err := mapSegment(m, p, data, img.Bias, name, ino); err != nil {
			return nil, err
		}
		if end := pageUp(img.Bias + uintptr(p.Vaddr+p.Memsz)); end > img.BrkStart {
			img.BrkStart = end
		}
	}
	img.Entry = img.Bias + uintptr(f.Entry)
	img.Phdr = phdrAddr(f, loads, data, img.Bias)
	if img.Entry >= mm.StackTop || img.BrkStart >= mm.MmapTop {
		return nil, fmt.Errorf("%w: entry or segments outside the user half", syscall.ENOEXEC)
	}
	return img, nil
}

// checkLoad rejects segments that could not have come from a linker:
// file ranges outside the file, memory ranges that wrap or leave the user
// half, offsets not congruent with addresses.
func checkLoad(p *elf.Prog, size int) error {
	switch {
	case p.Off+p.Filesz < p.Off || p.Off+p.Filesz > uint64(size):
		return fmt.Errorf("%w: PT_LOAD outside the file", syscall.ENOEXEC)
	case p.Filesz > p.Memsz:
		return fmt.Errorf("%w: PT_LOAD filesz > memsz", syscall.ENOEXEC)
	case p.Vaddr+p.Memsz < p.Vaddr || p.Vaddr+p.Memsz > mm.MmapTop:
		return fmt.Errorf("%w: PT_LOAD outside the user half", syscall.ENOEXEC)
	case p.Vaddr%mm.PageSize != p.Off%mm.PageSize:
		return fmt.Errorf("%w: PT_LOAD offset and address not congruent", syscall.ENOEXEC)
	}
	return nil
}

// mapSegment maps one PT_LOAD: its pages fill on demand from the file's
// bytes, zero past p_filesz (bss) (Linux: elf_map + set_brk/padzero).
func mapSegment(m *mm.MM, p *elf.Prog, data []byte, bias uintptr, name string, ino uint64) error {
	pageOff := uintptr(p.Vaddr) % mm.PageSize
	start := bias + uintptr(p.Vaddr) - pageOff
	length := pageOff + uintptr(p.Memsz)
	prot := uint32(0)
	if p.Flags&elf.PF_R != 0 {
		prot |= mm.ProtRead
	}
	if p.Flags&elf.PF_W != 0 {
		prot |= mm.ProtWrite
	}
	if p.Flags&elf.PF_X != 0 {
		prot |= mm.ProtExec
	}
	fileStart := uintptr(p.Off) - pageOff
	fileEnd := uintptr(p.Off) + uintptr(p.Filesz)
	if p.Memsz == p.Filesz {
		// Linux maps whole pages of the file: the last page of a segment
		// without bss shows the file's bytes past p_filesz (only bss is
		// zeroed, by padzero), so that page too can be the file's own
		// (mm's shared file pages).
		fileEnd = min(uintptr(pageUp(fileEnd)), uintptr(len(data)))
	}
	v := mm.UVMA{Prot: prot, File: data[fileStart:fileEnd], Name: name, Ino: ino}
	if length == 0 {
		return nil
	}
	_, err := m.Map(start, length, true, v)
	return err
}

// phdrAddr finds the program headers in the loaded image (AT_PHDR).
func phdrAddr(f *elf.File, loads []*elf.Prog, data []byte, bias uintptr) uintptr {
	for _, p := range f.Progs {
		if p.Type == elf.PT_PHDR {
			return bias + uintptr(p.Vaddr)
		}
	}
	phoff := uint64(0)
	if len(data) >= 64 {
		phoff = binary.LittleEndian.Uint64(data[32:40]) // e_phoff
	}
	for _, p := range loads {
		if phoff >= p.Off && phoff < p.Off+p.Filesz {
			return bias + uintptr(p.Vaddr+phoff-p.Off)
		}
	}
	return 0
}

func pageUp(a uintptr) uintptr { return (a + mm.PageSize - 1) &^ (mm.PageSize - 1) }
