/* tcpbulk: the TCP ends of the network benchmarks, a static program that
 * runs unmodified on gomenuos and on the Linux peer. The host side does
 * the timing; this only moves bytes.
 *
 *   tcpbulk sink PORT        accept one connection, read it to EOF
 *                            (256 KiB reads), close; prints
 *                            "tcpbulk sink: N bytes"
 *   tcpbulk source HOST PORT BYTES
 *                            connect, send BYTES of 'x' in 64 KiB writes,
 *                            shut down the write side, wait for the
 *                            peer's close; prints "tcpbulk source: N bytes"
 *   tcpbulk hi PORT          answer each connection's "hello" with "hi"
 *                            and close it, forever (run it with &)
 *   tcpbulk rr HOST PORT N   N connect/send "hello"/receive "hi"/close
 *                            round trips; prints "tcpbulk rr: R/s ..." */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "user.h"

static char buf[256 << 10];

static int listen_on(int port)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(fd, 128) < 0)
		die("listen");
	return fd;
}

static int connect_to(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "tcpbulk: bad address %s\n", host);
		exit(2);
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect");
	return fd;
}

/* drain reads fd to EOF and returns the byte count. */
static long long drain(int fd)
{
	long long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			return total;
		total += n;
	}
}

static void sink(int port)
{
	int l = listen_on(port);
	printf("tcpbulk sink: listening on %d\n", port);
	fflush(stdout);
	int c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	long long n = drain(c);
	close(c);
	close(l);
	printf("tcpbulk sink: %lld bytes\n", n);
}

static void source(const char *host, int port, long long bytes)
{
	memset(buf, 'x', 64 << 10);
	int fd = connect_to(host, port);
	for (long long sent = 0; sent < bytes;) {
		size_t want = bytes - sent < (64 << 10) ? (size_t)(bytes - sent) : 64 << 10;
		ssize_t n = write(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	drain(fd);
	close(fd);
	printf("tcpbulk source: %lld bytes\n", bytes);
}

static void hi(int port)
{
	int l = listen_on(port);
	printf("tcpbulk hi: listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		if (read(c, buf, 64) > 0)
			write(c, "hi", 2);
		close(c);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void rr(const char *host, int port, long n)
{
	long fails = 0;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		int fd = connect_to(host, port);
		if (write(fd, "hello", 5) != 5 || read(fd, buf, 64) != 2 || memcmp(buf, "hi", 2) != 0)
			fails++;
		close(fd);
	}
	double dt = now() - t0;
	printf("tcpbulk rr: %.0f/s, %ld round trips, %ld failed\n", n / dt, n, fails);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		sink(atoi(argv[2]));
	else if (argc == 5 && strcmp(argv[1], "source") == 0)
		source(argv[2], atoi(argv[3]), atoll(argv[4]));
	else if (argc == 3 && strcmp(argv[1], "hi") == 0)
		hi(atoi(argv[2]));
	else if (argc == 5 && strcmp(argv[1], "rr") == 0)
		rr(argv[2], atoi(argv[3]), atol(argv[4]));
	else {
		fprintf(stderr, "usage: tcpbulk sink PORT | source HOST PORT BYTES | hi PORT | rr HOST PORT N\n");
		return 2;
	}
	return 0;
}
