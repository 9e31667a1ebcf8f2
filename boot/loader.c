/*
 * boot/loader.c - 32-bit part of the boot stub: find the Go kernel ELF
 * (multiboot module 0), copy its PT_LOAD segments into physical memory
 * above every module, zero the bss tails, and build the page tables for
 * the jump to long mode.
 *
 * The kernel is linked in the top 2 GiB of the address space (like Linux's
 * __START_KERNEL_map), so its physical place is free: the loader puts it at
 * the first 2 MiB boundary above the modules, which can therefore be as
 * large as memory allows (QEMU packs the modules right after this stub).
 * The tables map
 *   - the first 4 GiB at 0 (identity, only for the jump; page 0 unmapped),
 *   - the same 4 GiB at DIRECT_MAP (Linux: page_offset_base), the kernel's
 *     view of physical memory,
 *   - the kernel image at its link address, with 2 MiB pages.
 * The kernel replaces them with its own tables early in boot.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};
struct mb_mod { u32 start, end, string, reserved; };

struct elf64_hdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_PS 0x80ull

#define DIRECT_MAP 0xffff888000000000ull /* must match arch/x86.DirectMap */
#define LARGE (2u << 20)

u64 boot_pml4[512] __attribute__((aligned(4096)));
static u64 boot_pdpt[512] __attribute__((aligned(4096)));
static u64 boot_pd[4][512] __attribute__((aligned(4096)));
static u64 boot_pt0[512] __attribute__((aligned(4096)));
static u64 boot_pdpt_k[512] __attribute__((aligned(4096)));
static u64 boot_pd_k[512] __attribute__((aligned(4096)));
u64 kernel_entry;
u32 kernel_phys; /* where the image's first 2 MiB page was put */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc(char c)
{
	while ((inb(0x3F8 + 5) & 0x20) == 0)
		;
	outb(0x3F8, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void die(const char *msg)
{
	puts("boot: ");
	puts(msg);
	puts("\n");

	/* isa-debug-exit (iobase 0xf4): QEMU exits with status (3<<1)|1 = 7 */
	outb(0xf4, 3);
	for (;;)
		__asm__ volatile("cli; hlt");

}

static void copy(u8 *dst, const u8 *src, u32 n)
{
	while (n--)
		*dst++ = *src++;
}

/* Zero bss without writing bytes that are already zero: fresh guest RAM
 * reads as zero, and not writing it keeps the host from backing it (the Go
 * image has tens of MiB of bss that is rarely used). */
static void zero(u8 *dst, u32 n)
{
	while (n--) {
		if (*dst)
			*dst = 0;
		dst++;
	}
}

static const struct elf64_phdr *phdr(const u8 *img, const struct elf64_hdr *eh, u32 i)
{
	return (const struct elf64_phdr *)(img + (u32)eh->phoff + i * eh->phentsize);
}

/* load_elf copies the image to phys (2 MiB aligned) and returns the size
 * of the virtual span it occupies from its 2 MiB-aligned base *vbase. */
static u32 load_elf(const u8 *img, u32 size, u32 phys, u32 ram_end, u64 *vbase)
{
	const struct elf64_hdr *eh = (const struct elf64_hdr *)img;
	if (size < sizeof(*eh) || eh->ident[0] != 0x7f || eh->ident[1] != 'E' ||
	    eh->ident[2] != 'L' || eh->ident[3] != 'F' || eh->ident[4] != 2 || eh->machine != 62)
		die("module 0 is not an x86-64 ELF");
	u64 lo = ~0ull, hi = 0;
	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = phdr(img, eh, i);
		if (ph->type != PT_LOAD)
			continue;
		if (ph->offset + ph->filesz > size || ph->filesz > ph->memsz)
			die("bad PT_LOAD segment");
		if (ph->vaddr < lo)
			lo = ph->vaddr;
		if (ph->vaddr + ph->memsz > hi)
			hi = ph->vaddr + ph->memsz;
	}
	lo &= ~(u64)(LARGE - 1);
	if (lo < 0xffffffff80000000ull || hi - lo > 0x40000000ull)
		die("kernel not linked in the top 2 GiB, or larger than 1 GiB");
	if ((u64)phys + (hi - lo) > ram_end)
		die("not enough memory for the kernel above the modules");
	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = phdr(img, eh, i);
		if (ph->type != PT_LOAD)
			continue;
		u8 *dst = (u8 *)(phys + (u32)(ph->vaddr - lo));
		copy(dst, img + (u32)ph->offset, (u32)ph->filesz);
		zero(dst + (u32)ph->filesz, (u32)(ph->memsz - ph->filesz));
	}
	kernel_entry = eh->entry;
	*vbase = lo;
	return (u32)(hi - lo);
}

static void map_kernel(u64 vbase, u32 phys, u32 span)
{
	boot_pml4[511] = (u32)boot_pdpt_k | PTE_P | PTE_W;
	boot_pdpt_k[(vbase >> 30) & 511] = (u32)boot_pd_k | PTE_P | PTE_W;
	u32 first = (vbase >> 21) & 511;
	for (u32 off = 0; off < span; off += LARGE)
		boot_pd_k[first + off / LARGE] = (u64)(phys + off) | PTE_P | PTE_W | PTE_PS;
}

static void map_low_4g(void)
{
	boot_pml4[0] = (u32)boot_pdpt | PTE_P | PTE_W;
	boot_pml4[(DIRECT_MAP >> 39) & 511] = (u32)boot_pdpt | PTE_P | PTE_W;
	for (u32 i = 0; i < 4; i++) {
		boot_pdpt[i] = (u32)boot_pd[i] | PTE_P | PTE_W;
		for (u32 j = 0; j < 512; j++)
			boot_pd[i][j] = ((u64)i << 30) | ((u64)j << 21) | PTE_P | PTE_W | PTE_PS;
	}
	/* First 2 MiB in 4 KiB pages so page 0 can stay not-present. */
	boot_pd[0][0] = (u32)boot_pt0 | PTE_P | PTE_W;
	boot_pt0[0] = 0;
	for (u32 j = 1; j < 512; j++)
		boot_pt0[j] = ((u64)j << 12) | PTE_P | PTE_W;
}

void boot_main(u32 magic, struct mb_info *mbi)
{
	if (magic != 0x2BADB002)
		die("not started by a multiboot loader");
	if (!(mbi->flags & (1 << 3)) || mbi->mods_count < 1)
		die("no kernel module: pass the Go kernel ELF with -initrd");
	if (!(mbi->flags & 1))
		die("no memory size from the boot loader");
	struct mb_mod *mods = (struct mb_mod *)mbi->mods_addr;
	u32 end = 0;
	for (u32 i = 0; i < mbi->mods_count; i++)
		if (mods[i].end > end)
			end = mods[i].end;
	u32 phys = (end + LARGE - 1) & ~(LARGE - 1);
	u32 ram_end = (1u << 20) + mbi->mem_upper * 1024u;
	u64 vbase;
	u32 span = load_elf((const u8 *)mods[0].start, mods[0].end - mods[0].start, phys, ram_end, &vbase);
	kernel_phys = phys;
	map_low_4g();
	map_kernel(vbase, phys, span);
}
