// Package exec loads programs into user address spaces (Linux:
// fs/binfmt_elf.c, fs/binfmt_script.c, fs/exec.c's stack setup): static
// ELF executables, fixed-address (ET_EXEC) or position-independent
// (static-PIE ET_DYN), and "#!" scripts.
package exec

import (
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

// ELF constants (Linux: include/uapi/linux/elf.h).
const (
	etExec    = 2
	etDyn     = 3
	emX86_64  = 62
	ptLoad    = 1
	ptInterp  = 3
	ptPhdr    = 6
	pfX       = 1
	pfW       = 2
	pfR       = 4
	ehdrSize  = 64
	phdrSize  = 56
	maxPhdrs  = 4096 / phdrSize // Linux: load_elf_phdrs takes at most a page of headers
	elfClass  = 2               // ELFCLASS64
	elfData2L = 1               // ELFDATA2LSB
)

// elfPhdr is one program header (Linux: struct elf64_phdr).
type elfPhdr struct {
	Type, Flags               uint32
	Off, Vaddr, Filesz, Memsz uint64
	Align                     uint64
}

// elfHdr is what the loader needs of the ELF header (Linux: struct
// elf64_hdr).
type elfHdr struct {
	Type  uint16
	Entry uint64
	Phoff uint64
	Progs []elfPhdr
}

// loadElfPhdrs checks the ELF header and reads the program headers
// (Linux: load_elf_binary's header checks and load_elf_phdrs). Only
// these are read, as Linux does: a program's sections mean nothing to
// the loader.
func loadElfPhdrs(data []byte) (*elfHdr, error) {
	if len(data) < ehdrSize || string(data[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("%w: not an ELF file", syscall.ENOEXEC)
	}
	le := binary.LittleEndian
	if data[4] != elfClass || data[5] != elfData2L || le.Uint16(data[18:]) != emX86_64 {
		return nil, fmt.Errorf("%w: not an x86-64 ELF", syscall.ENOEXEC)
	}
	h := &elfHdr{Type: le.Uint16(data[16:]), Entry: le.Uint64(data[24:]), Phoff: le.Uint64(data[32:])}
	if h.Type != etExec && h.Type != etDyn {
		return nil, fmt.Errorf("%w: ELF type %d", syscall.ENOEXEC, h.Type)
	}
	phentsize, phnum := le.Uint16(data[54:]), uint64(le.Uint16(data[56:]))
	if phentsize != phdrSize || phnum < 1 || phnum > maxPhdrs ||
		h.Phoff > uint64(len(data)) || phnum*phdrSize > uint64(len(data))-h.Phoff {
		return nil, fmt.Errorf("%w: bad program headers", syscall.ENOEXEC)
	}
	h.Progs = make([]elfPhdr, phnum)
	for i := range h.Progs {
		b := data[h.Phoff+uint64(i)*phdrSize:]
		h.Progs[i] = elfPhdr{Type: le.Uint32(b[0:]), Flags: le.Uint32(b[4:]), Off: le.Uint64(b[8:]),
			Vaddr: le.Uint64(b[16:]), Filesz: le.Uint64(b[32:]), Memsz: le.Uint64(b[40:]), Align: le.Uint64(b[48:])}
	}
	return h, nil
}

// LoadElfBinary maps the program in data into m (Linux: load_elf_binary). rnd
// supplies randomness for the static-PIE base. name and ino label the
// mappings in /proc/PID/maps.
func LoadElfBinary(m *mm.MM, data []byte, name string, ino uint64, rnd uint64) (*Image, error) {
	f, err := loadElfPhdrs(data)
	if err != nil {
		return nil, err
	}
	var loads []*elfPhdr
	align := uint64(mm.PageSize)
	for i := range f.Progs {
		p := &f.Progs[i]
		switch p.Type {
		case ptInterp:
			return nil, ErrDynamic
		case ptLoad:
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
	if f.Type == etDyn {
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
	img.Phdr = phdrAddr(f, loads, img.Bias)
	if img.Entry >= mm.StackTop || img.BrkStart >= mm.MmapTop {
		return nil, fmt.Errorf("%w: entry or segments outside the user half", syscall.ENOEXEC)
	}
	return img, nil
}

// checkLoad rejects segments that could not have come from a linker:
// file ranges outside the file, memory ranges that wrap or leave the user
// half, offsets not congruent with addresses.
func checkLoad(p *elfPhdr, size int) error {
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
func mapSegment(m *mm.MM, p *elfPhdr, data []byte, bias uintptr, name string, ino uint64) error {
	pageOff := uintptr(p.Vaddr) % mm.PageSize
	start := bias + uintptr(p.Vaddr) - pageOff
	length := pageOff + uintptr(p.Memsz)
	prot := uint32(0)
	if p.Flags&pfR != 0 {
		prot |= mm.ProtRead
	}
	if p.Flags&pfW != 0 {
		prot |= mm.ProtWrite
	}
	if p.Flags&pfX != 0 {
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
func phdrAddr(f *elfHdr, loads []*elfPhdr, bias uintptr) uintptr {
	for _, p := range f.Progs {
		if p.Type == ptPhdr {
			return bias + uintptr(p.Vaddr)
		}
	}
	for _, p := range loads {
		if f.Phoff >= p.Off && f.Phoff < p.Off+p.Filesz {
			return bias + uintptr(p.Vaddr+f.Phoff-p.Off)
		}
	}
	return 0
}

func pageUp(a uintptr) uintptr { return (a + mm.PageSize - 1) &^ (mm.PageSize - 1) }
