/*
 * boot/loader.c - 32-bit part of the boot stub: find the Go kernel ELF
 * (multiboot module 0), copy its PT_LOAD segments to their physical
 * addresses, zero the bss tails, and identity-map the first 4 GiB for the
 * jump to long mode. Page 0 stays unmapped so that nil dereferences fault.
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

u64 boot_pml4[512] __attribute__((aligned(4096)));
static u64 boot_pdpt[512] __attribute__((aligned(4096)));
static u64 boot_pd[4][512] __attribute__((aligned(4096)));
static u64 boot_pt0[512] __attribute__((aligned(4096)));
u64 kernel_entry;

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

static void load_elf(const u8 *img, u32 size)
{
	const struct elf64_hdr *eh = (const struct elf64_hdr *)img;
	if (size < sizeof(*eh) || eh->ident[0] != 0x7f || eh->ident[1] != 'E' ||
	    eh->ident[2] != 'L' || eh->ident[3] != 'F' || eh->ident[4] != 2 || eh->machine != 62)
		die("module 0 is not an x86-64 ELF");
	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph =
			(const struct elf64_phdr *)(img + (u32)eh->phoff + i * eh->phentsize);
		if (ph->type != PT_LOAD)
			continue;
		if (ph->paddr + ph->memsz > 0xC0000000ull || ph->offset + ph->filesz > size)
			die("bad PT_LOAD segment");
		u8 *dst = (u8 *)(u32)ph->paddr;
		if ((u32)dst < (u32)img + size && (u32)dst + (u32)ph->memsz > (u32)img)
			die("kernel segment overlaps its own module; raise the link address");
		copy(dst, img + (u32)ph->offset, (u32)ph->filesz);
		zero(dst + (u32)ph->filesz, (u32)(ph->memsz - ph->filesz));
	}
	kernel_entry = eh->entry;
}

static void map_low_4g(void)
{
	boot_pml4[0] = (u32)boot_pdpt | PTE_P | PTE_W;
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
	struct mb_mod *mods = (struct mb_mod *)mbi->mods_addr;
	load_elf((const u8 *)mods[0].start, mods[0].end - mods[0].start);
	map_low_4g();
}
