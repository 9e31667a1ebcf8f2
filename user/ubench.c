/* ubench: user-space benchmarks that run unmodified on gomenuos and on
 * Linux, so the two kernels are compared with the same program, clock and
 * counts.
 *
 *   ubench syscall N     N getppid() calls: ns per round trip
 *   ubench pipe N        N pipe ping-pong round trips between two
 *                        processes: us per switch (round trip / 2)
 *   ubench spawn N PROG  N fork + execv(PROG) + wait: us per cycle
 *
 * Each prints one line "ubench NAME: VALUE UNIT (N ...)". */
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "user.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench_syscall(long n)
{
	double t0 = now();
	for (long i = 0; i < n; i++)
		getppid();
	double dt = now() - t0;
	printf("ubench syscall: %.0f ns per getppid (%ld calls)\n", dt / n * 1e9, n);
}

static void bench_pipe(long n)
{
	int a[2], b[2];
	char c = 'x';
	if (pipe(a) < 0 || pipe(b) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (long i = 0; i < n; i++)
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	double t0 = now();
	for (long i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			die("ping-pong");
	double dt = now() - t0;
	waitpid(pid, NULL, 0);
	printf("ubench pipe: %.2f us per switch (%ld round trips)\n", dt / n / 2 * 1e6, n);
}

static void bench_spawn(long n, const char *prog)
{
	double t0 = now();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			char *argv[] = {(char *)prog, NULL};
			execv(prog, argv);
			_exit(127);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) == 127)
			die("spawn");
	}
	double dt = now() - t0;
	printf("ubench spawn: %.0f us per fork+exec+wait of %s (%ld cycles)\n", dt / n * 1e6, prog, n);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ubench syscall|pipe N | ubench spawn N PROG\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (n <= 0)
		return 2;
	if (!strcmp(argv[1], "syscall"))
		bench_syscall(n);
	else if (!strcmp(argv[1], "pipe"))
		bench_pipe(n);
	else if (!strcmp(argv[1], "spawn") && argc == 4)
		bench_spawn(n, argv[3]);
	else
		return 2;
	return 0;
}
