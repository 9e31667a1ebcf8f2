/* sockpair: an AF_UNIX stream pair between a parent and its child, as a
 * program sees it (the same binary is compared on gomenuos and Linux):
 * the child upper-cases what it reads until the end and exits; the parent
 * writes, shuts down writing, reads the answer to the end, then writes to
 * the closed pair. */
#include <ctype.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

static void child(int s)
{
	char buf[64];
	long n;
	while ((n = read(s, buf, sizeof buf)) > 0) {
		for (long i = 0; i < n; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		if (write(s, buf, n) != n)
			die("child write");
	}
	printf("child: read returned %ld\n", n);
	exit(0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int sv[2];
	if (socketpair(AF_INET, SOCK_STREAM, 0, sv) < 0)
		printf("socketpair(AF_INET): %s\n", errno == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	struct sockaddr_storage a;
	socklen_t l = sizeof a;
	getsockname(sv[0], (struct sockaddr *)&a, &l);
	printf("getsockname: family %s, length %u\n", a.ss_family == AF_UNIX ? "AF_UNIX" : "?", (unsigned)l);
	int type = 0, dom = 0;
	l = sizeof type;
	getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &l);
	getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &dom, &l);
	printf("SO_TYPE %s SO_DOMAIN %s\n", type == SOCK_STREAM ? "SOCK_STREAM" : "?", dom == AF_UNIX ? "AF_UNIX" : "?");
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(sv[1]);
	}
	close(sv[1]);
	const char *msg = "hello through a socketpair";
	printf("parent: wrote %ld\n", (long)write(sv[0], msg, strlen(msg)));
	shutdown(sv[0], SHUT_WR);
	char buf[64];
	long n, got = 0;
	while ((n = read(sv[0], buf + got, sizeof buf - got)) > 0)
		got += n;
	printf("parent: read \"%.*s\", then %ld\n", (int)got, buf, n);
	int status;
	waitpid(pid, &status, 0);
	signal(SIGPIPE, SIG_IGN);
	long w = write(sv[0], "x", 1);
	printf("write after the child exited: %ld %s\n", w, w < 0 && errno == EPIPE ? "EPIPE" : "");
	return 0;
}
