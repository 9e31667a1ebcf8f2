/* nettest CASE: socket behaviour a program sees, printed so the same
 * binary can be compared on gomenuos and on Linux.
 *
 *   reset [ignore]  a client resets (SO_LINGER 0) before reading the
 *                   reply: the server's sends fail; without `ignore` the
 *                   server dies of SIGPIPE
 *   nonblock        non-blocking connect + poll, to a listener and to a
 *                   closed port (SO_ERROR)
 *   backlog         connections to a listener with backlog 1 that does not
 *                   accept: how many complete, then all are accepted
 *   badargs         every socket call with bad arguments: its errno
 *   conns N         N loopback connect/send/recv/close round trips
 *   leak N          open N sockets (one connected pair, listeners) and exit
 *                   without closing them
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

static struct sockaddr_in addr(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int listener(int port, int backlog)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = addr(port);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, backlog) < 0)
		die("listener");
	return s;
}

static int dial(int port, int nonblock)
{
	int s = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	struct sockaddr_in a = addr(port);
	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 && !(nonblock && errno == EINPROGRESS))
		die("connect");
	return s;
}

static const char *ename(int e)
{
	static char buf[16];
	switch (e) {
	case 0: return "0";
	case EBADF: return "EBADF";
	case ENOTSOCK: return "ENOTSOCK";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case EISCONN: return "EISCONN";
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case EAGAIN: return "EAGAIN";
	case EINPROGRESS: return "EINPROGRESS";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EALREADY: return "EALREADY";
	}
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

static void reset(int ignore)
{
	int l = listener(5010, 8);
	pid_t pid = fork();
	if (pid == 0) {
		if (ignore)
			signal(SIGPIPE, SIG_IGN);
		int c = accept(l, NULL, NULL);
		char buf[64];
		ssize_t n = recv(c, buf, sizeof buf, 0);
		printf("server: recv %zd bytes\n", n);
		usleep(300000); /* the client's reset arrives */
		for (int i = 0; i < 2; i++) {
			ssize_t r = send(c, "hi", 2, 0);
			printf("server: send: %s\n", r < 0 ? ename(errno) : "ok");
		}
		_exit(0);
	}
	close(l);
	int s = dial(5010, 0);
	send(s, "hello", 5, 0);
	usleep(100000);
	struct linger lg = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s); /* RST */
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("server killed by signal %d\n", WTERMSIG(st));
	else
		printf("server exited with %d\n", WEXITSTATUS(st));
}

static void nonblock_case(void)
{
	int l = listener(5011, 8);
	int s = dial(5011, 1);
	struct pollfd p = {s, POLLOUT, 0};
	int r = poll(&p, 1, 5000);
	int err = -1;
	socklen_t len = sizeof err;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	printf("to a listener: poll %d revents POLLOUT=%d SO_ERROR=%s\n", r, !!(p.revents & POLLOUT), ename(err));
	close(s);
	close(l);
	s = dial(5012, 1);
	p = (struct pollfd){s, POLLOUT, 0};
	r = poll(&p, 1, 5000);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	printf("to a closed port: poll %d POLLOUT=%d POLLERR=%d POLLHUP=%d SO_ERROR=%s\n", r,
	       !!(p.revents & POLLOUT), !!(p.revents & POLLERR), !!(p.revents & POLLHUP), ename(err));
	char c;
	r = recv(s, &c, 1, 0);
	printf("recv after the refusal: %d %s\n", r, r < 0 ? ename(errno) : "");
	close(s);
}

static void backlog_case(void)
{
	int l = listener(5013, 1);
	int s[4], up = 0;
	for (int i = 0; i < 4; i++) {
		/* one at a time: a SYN that finds the accept queue full is
		 * dropped, and its client retries later */
		s[i] = dial(5013, 1);
		struct pollfd p = {s[i], POLLOUT, 0};
		if (poll(&p, 1, 300) == 1 && (p.revents & POLLOUT))
			up++;
	}
	printf("connected while nobody accepts: %d of 4\n", up);
	fcntl(l, F_SETFL, O_NONBLOCK);
	int got = 0;
	for (int tries = 0; got < 4 && tries < 100; tries++) {
		int c = accept(l, NULL, NULL);
		if (c >= 0) {
			got++;
			close(c);
		} else
			usleep(100000);
	}
	printf("accepted after waiting: %d of 4\n", got);
}

static void badargs(void)
{
	struct sockaddr_in a = addr(5014);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int fd = open("/dev/null", O_RDWR);
	void *bad = (void *)0xffff888000100000ull;
	int v = 1;
	socklen_t len = sizeof v;
#define TRY(what, call) do { errno = 0; int r_ = (call); printf("%-44s %s\n", what, r_ < 0 ? ename(errno) : "ok"); } while (0)
	TRY("socket(AF_INET6, SOCK_STREAM)", socket(AF_INET6, SOCK_STREAM, 0));
	TRY("socket(AF_INET, 99)", socket(AF_INET, 99, 0));
	TRY("socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	TRY("bind(bad fd)", bind(1000, (struct sockaddr *)&a, sizeof a));
	TRY("bind(/dev/null)", bind(fd, (struct sockaddr *)&a, sizeof a));
	TRY("bind(short address)", bind(s, (struct sockaddr *)&a, 4));
	TRY("bind(kernel pointer)", bind(s, bad, sizeof a));
	TRY("bind(unmapped pointer)", bind(s, (void *)0x1000, sizeof a));
	TRY("listen(/dev/null)", listen(fd, 1));
	TRY("accept(not listening)", accept(s, NULL, NULL));
	TRY("accept(/dev/null)", accept(fd, NULL, NULL));
	TRY("connect(bad fd)", connect(-1, (struct sockaddr *)&a, sizeof a));
	TRY("connect(kernel pointer)", connect(s, bad, sizeof a));
	TRY("connect(closed port)", connect(s, (struct sockaddr *)&a, sizeof a));
	TRY("getpeername(unconnected)", getpeername(s, (struct sockaddr *)&a, &len));
	TRY("getsockname(kernel pointer)", getsockname(s, bad, &len));
	TRY("getsockname(unmapped length)", getsockname(s, (struct sockaddr *)&a, (void *)0x1000));
	TRY("send(unconnected)", send(s, "x", 1, MSG_NOSIGNAL));
	TRY("recv(/dev/null)", recv(fd, &v, sizeof v, 0));
	TRY("setsockopt(unknown option)", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v));
	TRY("setsockopt(short value)", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 1));
	TRY("setsockopt(kernel pointer)", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, bad, sizeof v));
	TRY("getsockopt(unknown option)", getsockopt(s, SOL_SOCKET, 9999, &v, &len));
	TRY("getsockopt(kernel pointer)", getsockopt(s, SOL_SOCKET, SO_TYPE, bad, &len));
	TRY("shutdown(bad how)", shutdown(s, 7));
	TRY("shutdown(unconnected)", shutdown(s, SHUT_RDWR));
	TRY("sendto(kernel buffer)", sendto(s, bad, 10, MSG_NOSIGNAL, NULL, 0));
	TRY("recvfrom(/dev/null)", recvfrom(fd, &v, 4, 0, NULL, NULL));
}

static void conns(int n)
{
	int l = listener(5015, 128);
	pid_t pid = fork();
	if (pid == 0) {
		char buf[16];
		for (int i = 0; i < n; i++) {
			int c = accept(l, NULL, NULL);
			if (c < 0 || recv(c, buf, sizeof buf, 0) <= 0 || send(c, "hi", 2, 0) != 2)
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	close(l);
	int ok = 0;
	for (int i = 0; i < n; i++) {
		char buf[16];
		int s = dial(5015, 0);
		if (send(s, "hello", 5, 0) == 5 && recv(s, buf, sizeof buf, 0) == 2)
			ok++;
		close(s);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("conns: %d of %d round trips, server %s\n", ok, n, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
}

static void leak(int n)
{
	int l = listener(5016, 8);
	int c = dial(5016, 0);
	int a = accept(l, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (socket(AF_INET, SOCK_STREAM, 0) < 0)
			die("socket");
	printf("leak: %d sockets left open, plus a listener and a connected pair (%d %d %d)\n", n, l, c, a);
	_exit(0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "reset"))
		reset(argc > 2 && !strcmp(argv[2], "ignore"));
	else if (!strcmp(c, "nonblock"))
		nonblock_case();
	else if (!strcmp(c, "backlog"))
		backlog_case();
	else if (!strcmp(c, "badargs"))
		badargs();
	else if (!strcmp(c, "conns"))
		conns(argc > 2 ? atoi(argv[2]) : 100);
	else if (!strcmp(c, "leak"))
		leak(argc > 2 ? atoi(argv[2]) : 10);
	else {
		fprintf(stderr, "usage: nettest reset [ignore]|nonblock|backlog|badargs|conns N|leak N\n");
		return 2;
	}
	return 0;
}
