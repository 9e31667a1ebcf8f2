/* fpu: a process's SSE, MXCSR and x87 state survives every way into the
 * kernel and back — a system call the trap handler answers (getppid), one
 * the process's kernel goroutine serves (write), one that sleeps while
 * another process runs and uses the same registers (read of a pipe), and
 * the timer interrupting a busy loop. Prints one line per case and
 * "fpu: ok"; exits 1 on the first register that changed. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "user.h"

typedef struct { uint64_t lo, hi; } xmm;

/* The patterns: register i holds seed*(i+1) in both halves. */
static void fill(xmm *v, uint64_t seed)
{
	for (int i = 0; i < 16; i++)
		v[i].lo = v[i].hi = seed * (i + 1) ^ 0x5555aaaa5555aaaaull;
}

/* with_state loads xmm0-15 from in, MXCSR = mxcsr and 1.5 on the x87
 * stack, spins spin times, runs the system call nr(a0, a1, a2) and saves
 * all three into out. */
struct state {
	xmm x[16];
	uint32_t mxcsr;
	double x87;
};

static long with_state(const xmm *in, uint32_t mxcsr, struct state *out, long spin, long nr, long a0, long a1, long a2)
{
	long ret;
	uint32_t saved_mxcsr;
	__asm__ volatile("stmxcsr %0" : "=m"(saved_mxcsr));
	__asm__ volatile(
		"ldmxcsr %[mx]\n\t"
		"fld1\n\t"
		"fld1\n\t"
		"fadd %%st(0), %%st(0)\n\t" /* st0 = 2, st1 = 1 */
		"fdivrp\n\t"                /* st0 = 1/2 */
		"fld1\n\t"
		"faddp\n\t"                 /* 1.5 */
		"movdqu 0(%[in]), %%xmm0\n\t"   "movdqu 16(%[in]), %%xmm1\n\t"
		"movdqu 32(%[in]), %%xmm2\n\t"  "movdqu 48(%[in]), %%xmm3\n\t"
		"movdqu 64(%[in]), %%xmm4\n\t"  "movdqu 80(%[in]), %%xmm5\n\t"
		"movdqu 96(%[in]), %%xmm6\n\t"  "movdqu 112(%[in]), %%xmm7\n\t"
		"movdqu 128(%[in]), %%xmm8\n\t" "movdqu 144(%[in]), %%xmm9\n\t"
		"movdqu 160(%[in]), %%xmm10\n\t" "movdqu 176(%[in]), %%xmm11\n\t"
		"movdqu 192(%[in]), %%xmm12\n\t" "movdqu 208(%[in]), %%xmm13\n\t"
		"movdqu 224(%[in]), %%xmm14\n\t" "movdqu 240(%[in]), %%xmm15\n\t"
		"test %[spin], %[spin]\n\t"
		"jz 2f\n"
		"1:\n\t"
		"dec %[spin]\n\t"
		"jnz 1b\n"
		"2:\n\t"
		"syscall\n\t"
		"movdqu %%xmm0, 0(%[out])\n\t"   "movdqu %%xmm1, 16(%[out])\n\t"
		"movdqu %%xmm2, 32(%[out])\n\t"  "movdqu %%xmm3, 48(%[out])\n\t"
		"movdqu %%xmm4, 64(%[out])\n\t"  "movdqu %%xmm5, 80(%[out])\n\t"
		"movdqu %%xmm6, 96(%[out])\n\t"  "movdqu %%xmm7, 112(%[out])\n\t"
		"movdqu %%xmm8, 128(%[out])\n\t" "movdqu %%xmm9, 144(%[out])\n\t"
		"movdqu %%xmm10, 160(%[out])\n\t" "movdqu %%xmm11, 176(%[out])\n\t"
		"movdqu %%xmm12, 192(%[out])\n\t" "movdqu %%xmm13, 208(%[out])\n\t"
		"movdqu %%xmm14, 224(%[out])\n\t" "movdqu %%xmm15, 240(%[out])\n\t"
		"stmxcsr 256(%[out])\n\t"
		"fstpl 264(%[out])\n\t"
		: "=a"(ret), [spin] "+r"(spin)
		: [in] "r"(in), [out] "r"(out), [mx] "m"(mxcsr), "a"(nr), "D"(a0), "S"(a1), "d"(a2)
		: "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st");
	__asm__ volatile("ldmxcsr %0" : : "m"(saved_mxcsr));
	return ret;
}

static int compare(const char *what, const xmm *in, uint32_t mxcsr, const struct state *s)
{
	for (int i = 0; i < 16; i++)
		if (s->x[i].lo != in[i].lo || s->x[i].hi != in[i].hi) {
			printf("%s: xmm%d changed: %016llx%016llx, was %016llx%016llx\n", what, i,
			       (unsigned long long)s->x[i].hi, (unsigned long long)s->x[i].lo,
			       (unsigned long long)in[i].hi, (unsigned long long)in[i].lo);
			return 1;
		}
	if (s->mxcsr != mxcsr) {
		printf("%s: mxcsr %#x, was %#x\n", what, s->mxcsr, mxcsr);
		return 1;
	}
	if (s->x87 != 1.5) {
		printf("%s: x87 st0 %g, was 1.5\n", what, s->x87);
		return 1;
	}
	if (what[0] != '-')
		printf("%s: registers kept\n", what);
	return 0;
}

/* MXCSR: round toward zero, flush to zero, all exceptions masked. */
#define MXCSR_USER (0x1f80 | 0x6000 | 0x8000)

int main(void)
{
	static xmm in[16], other[16];
	static struct state s;
	int fail = 0;
	fill(in, 0x0123456789abcdefull);
	fill(other, 0xfedcba9876543210ull);

	with_state(in, MXCSR_USER, &s, 0, SYS_getppid, 0, 0, 0);
	fail |= compare("getppid (answered in trap context)", in, MXCSR_USER, &s);

	with_state(in, MXCSR_USER, &s, 0, SYS_write, 1, (long)"", 0);
	fail |= compare("write (served by the kernel)", in, MXCSR_USER, &s);

	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* The child loads other values into the same registers while the
		 * parent sleeps in read, then wakes it. */
		struct state cs;
		with_state(other, 0x1f80, &cs, 1000000, SYS_write, p[1], (long)"x", 1);
		_exit(0);
	}
	char c;
	long n = with_state(in, MXCSR_USER, &s, 0, SYS_read, p[0], (long)&c, 1);
	if (n != 1)
		printf("read returned %ld\n", n), fail = 1;
	fail |= compare("read (slept while another process ran)", in, MXCSR_USER, &s);
	waitpid(pid, NULL, 0);

	/* Preemption: two processes spin with their registers live, long
	 * enough for the timer to switch between them several times. */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		struct state cs;
		with_state(other, 0x1f80, &cs, 50000000, SYS_getppid, 0, 0, 0);
		_exit(compare("-", other, 0x1f80, &cs));
	}
	with_state(in, MXCSR_USER, &s, 50000000, SYS_getppid, 0, 0, 0);
	fail |= compare("a busy loop (the timer switched processes)", in, MXCSR_USER, &s);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("the other process's registers changed\n"), fail = 1;
	printf(fail ? "fpu: FAILED\n" : "fpu: ok\n");
	return fail;
}
