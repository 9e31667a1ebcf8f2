/*
 * boot/multiboot.S - the 32-bit multiboot v1 entry that QEMU's -kernel runs.
 *
 * QEMU's multiboot loader only accepts a 32-bit ELF, so this stub is the
 * -kernel image and the Go kernel ELF arrives as multiboot module 0.
 * loader.c copies the Go ELF's PT_LOAD segments into place and builds the
 * boot page tables; this file turns on long mode and jumps to the Go entry
 * (gomenuos/kernel/linux.entry) with RDI = multiboot magic, RSI = info ptr,
 * RDX = the physical address the kernel image was loaded at.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, provide memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text
	.code32
	.global _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, saved_magic
	movl %ebx, saved_mbi
	pushl %ebx
	pushl %eax
	call boot_main          /* loads the kernel ELF, builds page tables */
	addl $8, %esp

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax   /* PAE, OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	movl $0xC0000080, %ecx                         /* EFER */
	rdmsr
	orl $((1 << 0) | (1 << 8) | (1 << 11)), %eax   /* SCE, LME, NXE */
	wrmsr
	movl %cr0, %eax
	andl $~((1 << 2) | (1 << 3)), %eax             /* clear EM, TS */
	orl $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax /* PG, WP, MP, PE */
	movl %eax, %cr0
	lgdt gdt_ptr
	movl saved_magic, %edi
	movl saved_mbi, %esi
	movl kernel_phys, %edx
	movl kernel_entry, %ebx     /* the entry is in the top 2 GiB: two halves */
	movl kernel_entry+4, %ecx
	ljmp $0x08, $long_mode

	.code64
long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movl %edi, %edi             /* writing a 32-bit register clears the upper half */
	movl %esi, %esi
	movl %edx, %edx
	movl %ebx, %ebx
	shlq $32, %rcx
	orq %rcx, %rbx
	jmp *%rbx

	.section .data
	.align 16
gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF   /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF   /* 0x10: data */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
saved_magic: .long 0
saved_mbi:   .long 0

	.section .bss
	.align 16
boot_stack:
	.skip 16384
boot_stack_top:
