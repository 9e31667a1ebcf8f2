/* sysfuzz [CALLS [SEED]]: make CALLS system calls with random numbers
 * and arguments (seeded, so a run can be repeated), to show that nothing
 * a program passes can hurt the kernel. Calls that would end the fuzzer
 * or touch other processes are left out; each batch runs in a child that
 * the parent kills if it blocks, and a batch that dies of its own random
 * calls (munmap of its own code...) is simply replaced by the next one. */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "user.h"

static uint64_t rng;

static uint64_t next(void)
{
	/* xorshift64*: repeatable from the seed. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static char buf[16384];

/* arg picks an interesting argument: small numbers, fds, user buffers,
 * kernel addresses, unmapped and non-canonical pointers, or noise. */
static long arg(void)
{
	static const uint64_t pick[] = {
		0, 1, 2, 3, 4, 7, 8, 16, 64, 4096, 65536, 0x7fffffff, 0xffffffff,
		(uint64_t)-1, (uint64_t)-4096, 0xffff888000000000ull, 0xffffffff84001000ull,
		0xffffc90000000000ull, 0x8000000000000000ull, 0x7ffffffff000ull, 0x1000, 0x10,
	};
	switch (next() % 4) {
	case 0:
		return (long)pick[next() % (sizeof pick / sizeof pick[0])];
	case 1:
		return (long)(buf + next() % sizeof buf);
	case 2:
		return (long)(next() % 64);
	default:
		return (long)next();
	}
}

/* forbidden lists calls that end or block the fuzzer, make processes or
 * signal others: the kernel must survive the rest. */
static int forbidden(long nr)
{
	switch (nr) {
	case SYS_exit: case SYS_exit_group: case SYS_fork: case SYS_vfork: case SYS_clone:
	case SYS_clone3: case SYS_execve: case SYS_execveat: case SYS_kill: case SYS_tkill:
	case SYS_tgkill: case SYS_rt_sigreturn: case SYS_pause: case SYS_rt_sigsuspend:
	case SYS_vhangup: case SYS_reboot: case SYS_setsid: case SYS_setpgid: case SYS_rt_sigqueueinfo:
	case SYS_rt_tgsigqueueinfo: case SYS_pidfd_send_signal:
		return 1;
	}
	return 0;
}

static void batch(int calls)
{
	int fd = open("/dev/null", O_RDWR);
	for (int i = 0; i < 3; i++)
		dup2(fd, i);	/* random writes must not reach the console */
	alarm(2);
	for (int i = 0; i < calls; i++) {
		long nr = (long)(next() % 460);
		if (forbidden(nr))
			continue;
		syscall(nr, arg(), arg(), arg(), arg(), arg(), arg());
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 100000;
	rng = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	const int per = 1000;
	long done = 0, killed = 0, died = 0;
	while (done < total) {
		int n = total - done < per ? (int)(total - done) : per;
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			batch(n);
		for (int t = 0; t < 300; t++) {	/* a batch gets 3 seconds */
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				died += WIFSIGNALED(st);
				goto reaped;
			}
			usleep(10000);
		}
		kill(pid, SIGKILL);
		killed++;
		waitpid(pid, NULL, 0);
	reaped:
		done += n;
		for (int i = 0; i < n * 7; i++)
			next();	/* the next batch starts from its own place in the sequence */
	}
	printf("sysfuzz: %ld calls made; batches killed after blocking: %ld, died of their own calls: %ld\n",
	       done, killed, died);
	return 0;
}
