package mm

import "gomenuos/arch/x86"

// The kernel's half of every page-table tree (Linux: init_top_pgt and
// the kernel PGD entries that every mm_struct's pgd copies). Built once at
// boot; afterwards its upper-half PML4 entries never change, so a process
// tree that copies them sees every later kernel mapping too (all of them
// are made in page-directory levels below these entries).

// Segment is one PT_LOAD of the kernel image.
type Segment struct {
	Virt, Size uintptr
	Write      bool
	Exec       bool
}

// kernelRoot is the physical address of the kernel's PML4 (the tree idle
// and runtime threads run with until a process's tree is loaded).
var kernelRoot uintptr

// KernelRoot returns the physical address of the kernel's PML4.
func KernelRoot() uintptr { return kernelRoot }

// InitKernelPageTables builds the kernel's tree: the direct map of the
// first 4 GiB of physical memory (2 MiB pages, never executable), the
// kernel image in 4 KiB pages with its segments' permissions (text
// read-only, nothing else executable: W^X), and an empty runtime mmap area
// filled on demand. The lower half stays empty: page 0 and every user
// address fault in kernel code. Returns false when frames run out.
func InitKernelPageTables(segs []Segment) bool {
	root := AllocFrame()
	if root == 0 || !mapDirect(root) || !mapImage(root, segs) {
		return false
	}
	// The runtime area's PDPT exists from the start so that processes'
	// copies of this entry see every later runtime mapping.
	if x86.Walk(root, x86.RuntimeBase, AllocFrame) == nil {
		return false
	}
	kernelRoot = root
	runtimeRoot = root
	return true
}

// InitCPURoot loads the CPU's own PML4 (arch/x86/tlb.go): the kernel's
// upper half, and a lower half that mirrors the running process's tree.
// Returns false when no frame is left.
func InitCPURoot() bool {
	pa := AllocFrame()
	if pa == 0 {
		return false
	}
	copy(x86.TableAt(pa)[256:], x86.TableAt(kernelRoot)[256:])
	x86.SetCPURoot(pa)
	return true
}

func mapDirect(root uintptr) bool {
	for pa := uintptr(0); pa < x86.DirectSize; pa += 2 << 20 {
		pde := x86.WalkLevel(root, x86.PhysToVirt(pa), 1, AllocFrame)
		if pde == nil {
			return false
		}
		*pde = x86.PTE(pa) | x86.PTEPresent | x86.PTEWrite | x86.PTEHuge | x86.PTENoExec
	}
	return true
}

func mapImage(root uintptr, segs []Segment) bool {
	for _, s := range segs {
		start := s.Virt &^ (pageSize - 1)
		for va := start; va < s.Virt+s.Size; va += pageSize {
			pte := x86.Walk(root, va, AllocFrame)
			if pte == nil {
				return false
			}
			e := x86.PTE(x86.KernelVirtToPhys(va)) | x86.PTEPresent
			if s.Write {
				e |= x86.PTEWrite
			}
			if !s.Exec {
				e |= x86.PTENoExec
			}
			*pte = e
		}
	}
	return true
}
