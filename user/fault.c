/* fault WHAT: do something a user program must not, to show the kernel
 * turns it into a signal (or an error) and keeps serving. */
#include <signal.h>
#include <sys/mman.h>
#include <stdint.h>
#include <unistd.h>
#include "user.h"

static volatile int zero;

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fault null|kwrite|kread|efault|hlt|cli|wrmsr|div0|ud2|int3|stack\n");
		return 2;
	}
	const char *w = argv[1];
	if (!strcmp(w, "null"))
		return *(volatile int *)0;
	if (!strcmp(w, "kwrite"))
		*(volatile uint64_t *)0xffffffff84001000ull = 1;	/* the kernel's text */
	if (!strcmp(w, "kread"))
		return *(volatile int *)0xffff888000100000ull;	/* the direct map */
	if (!strcmp(w, "efault")) {
		/* Kernel and unmapped pointers given to system calls. */
		const void *bad[] = {(void *)0xffff888000100000ull, (void *)0xffffffff84001000ull,
				     (void *)0x1000, (void *)0x7ffffffff000ull, (void *)-1};
		for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ssize_t r = write(1, bad[i], 16);
			printf("write(%p): %zd %s\n", bad[i], r, r < 0 ? strerror(errno) : "");
			r = read(0, (void *)bad[i], 16);
			printf("read(%p): %zd %s\n", bad[i], r, r < 0 ? strerror(errno) : "");
		}
		/* Present pages the process may not write, or not touch at all:
		 * the kernel must refuse them as the process's own access would. */
		char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 'x';
		mprotect(p, 4096, PROT_READ);
		ssize_t r = read(0, p, 16);
		printf("read(PROT_READ): %zd %s\n", r, r < 0 ? strerror(errno) : "");
		mprotect(p, 4096, PROT_NONE);
		r = write(1, p, 16);
		printf("write(PROT_NONE): %zd %s\n", r, r < 0 ? strerror(errno) : "");
		r = read(0, p, 16);
		printf("read(PROT_NONE): %zd %s\n", r, r < 0 ? strerror(errno) : "");
		return 0;
	}
	if (!strcmp(w, "hlt"))
		__asm__ volatile("hlt");
	if (!strcmp(w, "cli"))
		__asm__ volatile("cli");
	if (!strcmp(w, "wrmsr"))
		__asm__ volatile("wrmsr" ::"c"(0xc0000080), "a"(0), "d"(0));
	if (!strcmp(w, "div0")) {
		int q, d = zero;
		__asm__ volatile("cltd; idivl %1" : "=a"(q) : "r"(d), "a"(100) : "edx");
		return q;
	}
	if (!strcmp(w, "ud2"))
		__asm__ volatile("ud2");
	if (!strcmp(w, "int3"))
		__asm__ volatile("int3");
	if (!strcmp(w, "stack")) {
		/* A bad stack: the kernel cannot build the signal frame. */
		__asm__ volatile("mov $0x10, %%rsp; mov (%%rsp), %%rax" ::: "rax");
	}
	printf("%s: nothing happened\n", w);
	return 1;
}
