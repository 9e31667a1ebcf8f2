/* ubench: user-space benchmarks that run unmodified on gomenuos and on
 * Linux, so the two kernels are compared with the same program, clock and
 * counts.
 *
 *   ubench syscall N     N getppid() calls: ns per round trip
 *   ubench pipe N        N pipe ping-pong round trips between two
 *                        processes: us per switch (round trip / 2)
 *   ubench tpipe N       the same ping-pong between two threads of one
 *                        process: no address-space switch (compare with
 *                        pipe to see what loading another page table costs)
 *   ubench spawn N PROG  N fork + execv(PROG) + wait: us per cycle
 *   ubench loop N [print] N loopback connect/send/recv/close round trips
 *                        against a server process (which prints each
 *                        exchange, as replyhi does, with `print`): per second
 *   ubench send HOST PORT BYTES   connect and send BYTES (the receiver
 *                        times it); prints the bytes sent
 *   ubench recv PORT     accept one connection and read it to the end;
 *                        prints the bytes read
 *   ubench accept PORT N accept and close N connections (the connecting
 *                        side times it)
 *
 * Each prints one line "ubench NAME: VALUE UNIT (N ...)". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

struct tpipe {
	int a[2], b[2];
	long n;
};

static void *tpipe_echo(void *arg)
{
	struct tpipe *p = arg;
	char c;
	for (long i = 0; i < p->n; i++)
		if (read(p->a[0], &c, 1) != 1 || write(p->b[1], &c, 1) != 1)
			_exit(1);
	return NULL;
}

static void bench_tpipe(long n)
{
	struct tpipe p = {.n = n};
	pthread_t t;
	char c = 'x';
	if (pipe(p.a) < 0 || pipe(p.b) < 0)
		die("pipe");
	if (pthread_create(&t, NULL, tpipe_echo, &p) != 0)
		die("pthread_create");
	double t0 = now();
	for (long i = 0; i < n; i++)
		if (write(p.a[1], &c, 1) != 1 || read(p.b[0], &c, 1) != 1)
			die("ping-pong");
	double dt = now() - t0;
	pthread_join(t, NULL);
	printf("ubench tpipe: %.2f us per switch (%ld round trips)\n", dt / n / 2 * 1e6, n);
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

static struct sockaddr_in inaddr(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die("address");
	return a;
}

static int listen_on(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = inaddr("0.0.0.0", port);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1024) < 0)
		die("listen");
	return s;
}

static void bench_loop(long n, int print)
{
	int l = listen_on(5020);
	pid_t pid = fork();
	if (pid == 0) {
		char buf[64];
		for (;;) {
			struct sockaddr_in peer;
			socklen_t len = sizeof peer;
			int c = accept(l, (struct sockaddr *)&peer, &len);
			if (c < 0)
				_exit(1);
			ssize_t r = recv(c, buf, sizeof buf - 1, 0);
			if (r > 0 && print) {
				buf[r] = 0;
				printf("recv \"%s\" from %s:%d\n", buf, inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
			}
			send(c, "hi", 2, MSG_NOSIGNAL);
			close(c);
		}
	}
	close(l);
	struct sockaddr_in a = inaddr("127.0.0.1", 5020);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		char buf[8];
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0 || send(s, "hello", 5, 0) != 5 ||
		    recv(s, buf, sizeof buf, 0) != 2)
			die("round trip");
		close(s);
	}
	double dt = now() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("ubench loop: %.0f per second (%ld connect/send/recv/close round trips%s)\n", n / dt, n,
	       print ? ", printing server" : "");
}

static void bench_send(const char *host, int port, long long bytes)
{
	static char buf[65536];
	memset(buf, 'x', sizeof buf);
	struct sockaddr_in a = inaddr(host, port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect");
	long long sent = 0;
	while (sent < bytes) {
		ssize_t w = send(s, buf, bytes - sent < (long long)sizeof buf ? bytes - sent : sizeof buf, 0);
		if (w <= 0)
			die("send");
		sent += w;
	}
	close(s);
	printf("ubench send: %lld bytes\n", sent);
}

static void bench_recv(int port)
{
	static char buf[65536];
	int l = listen_on(port);
	printf("ubench recv: listening\n");
	fflush(stdout);
	int c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	long long got = 0;
	ssize_t r;
	while ((r = recv(c, buf, sizeof buf, 0)) > 0)
		got += r;
	close(c);
	close(l);
	printf("ubench recv: %lld bytes\n", got);
}

static void bench_accept(int port, long n)
{
	int l = listen_on(port);
	printf("ubench accept: listening\n");
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			die("accept");
		close(c);
	}
	close(l);
	printf("ubench accept: %ld connections\n", n);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ubench syscall|pipe|tpipe|loop N | spawn N PROG | send HOST PORT BYTES | recv PORT | accept PORT N\n");
		return 2;
	}
	if (!strcmp(argv[1], "send") && argc == 5) {
		bench_send(argv[2], atoi(argv[3]), atoll(argv[4]));
		return 0;
	}
	if (!strcmp(argv[1], "recv")) {
		bench_recv(atoi(argv[2]));
		return 0;
	}
	if (!strcmp(argv[1], "accept") && argc == 4) {
		bench_accept(atoi(argv[2]), atol(argv[3]));
		return 0;
	}
	long n = atol(argv[2]);
	if (n <= 0)
		return 2;
	if (!strcmp(argv[1], "syscall"))
		bench_syscall(n);
	else if (!strcmp(argv[1], "pipe"))
		bench_pipe(n);
	else if (!strcmp(argv[1], "tpipe"))
		bench_tpipe(n);
	else if (!strcmp(argv[1], "spawn") && argc == 4)
		bench_spawn(n, argv[3]);
	else if (!strcmp(argv[1], "loop"))
		bench_loop(n, argc > 3 && !strcmp(argv[3], "print"));
	else
		return 2;
	return 0;
}
