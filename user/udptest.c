/* udptest CASE: UDP socket behaviour a program sees over loopback,
 * printed so the same binary can be compared on gomenuos and on Linux.
 *
 *   basic     sendto/recvfrom with addresses, autobind, connect and its
 *             addresses, MSG_TRUNC both ways, MSG_PEEK, an empty datagram,
 *             the largest datagram and one byte more, AF_UNSPEC disconnect,
 *             the calls a datagram socket refuses, and EPIPE without
 *             SIGPIPE after SHUT_WR
 *   refused   a connected socket's datagram to a closed port: POLLERR,
 *             ECONNREFUSED on the next receive, SO_ERROR; an unconnected
 *             socket is not told
 *   hold PORT bind 0.0.0.0:PORT, print the first datagram and its source,
 *             answer "ack" to it and exit
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "user.h"

static const char *ename(int e)
{
	static char buf[16];
	switch (e) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case EMSGSIZE: return "EMSGSIZE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EINVAL: return "EINVAL";
	case EPIPE: return "EPIPE";
	}
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

/* ret prints a call's result: its value, or -1 and the errno's name. */
static void ret(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, ename(errno));
	else
		printf("%s: %ld\n", what, r);
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int udp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		die("socket");
	return s;
}

static struct sockaddr_in name(int s, int peer)
{
	struct sockaddr_in a = {0};
	socklen_t n = sizeof a;
	if ((peer ? getpeername(s, (struct sockaddr *)&a, &n) : getsockname(s, (struct sockaddr *)&a, &n)) < 0)
		a.sin_family = AF_UNSPEC;
	return a;
}

/* bound returns a socket bound to 127.0.0.1 on an ephemeral port. */
static int bound(struct sockaddr_in *a)
{
	int s = udp();
	*a = loopback(0);
	if (bind(s, (struct sockaddr *)a, sizeof *a) < 0)
		die("bind");
	*a = name(s, 0);
	return s;
}

/* recvmsg_flags receives into a buffer of size bytes with flags and
 * prints the result and msg_flags' MSG_TRUNC. */
static void recvmsg_flags(int s, size_t size, int flags, const char *what)
{
	char buf[64];
	struct iovec iov = {buf, size};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	long r = recvmsg(s, &m, flags);
	if (r < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	printf("%s: %ld \"%.*s\" MSG_TRUNC=%d\n", what, r, (int)(r < (long)size ? r : (long)size), buf,
	       !!(m.msg_flags & MSG_TRUNC));
}

static void basic(void)
{
	struct sockaddr_in sa, from;
	int s = bound(&sa), c = udp();
	char buf[64];
	socklen_t fl = sizeof from;
	ret("sendto", sendto(c, "hello", 5, 0, (struct sockaddr *)&sa, sizeof sa));
	struct sockaddr_in ca = name(c, 0);
	printf("client autobound: %s, port %s\n", inet_ntoa(ca.sin_addr), ca.sin_port ? "set" : "0");
	long r = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("recvfrom: %ld \"%.*s\" from %s, the client's port %s\n", r, (int)r, buf, inet_ntoa(from.sin_addr),
	       from.sin_port == ca.sin_port ? "yes" : "no");
	ret("send unconnected", send(c, "x", 1, 0));
	ret("getpeername unconnected", getpeername(c, (struct sockaddr *)&from, &fl));
	ret("connect", connect(c, (struct sockaddr *)&sa, sizeof sa));
	ca = name(c, 0);
	struct sockaddr_in pa = name(c, 1);
	printf("after connect: local %s, peer %s:%s\n", inet_ntoa(ca.sin_addr), inet_ntoa(pa.sin_addr),
	       pa.sin_port == sa.sin_port ? "the server's port" : "?");
	ret("send", send(c, "0123456789", 10, 0));
	recvmsg_flags(s, 4, 0, "recvmsg into 4 bytes");
	ret("send", send(c, "0123456789", 10, 0));
	recvmsg_flags(s, 4, MSG_TRUNC, "recvmsg MSG_TRUNC into 4 bytes");
	ret("send", send(c, "peek", 4, 0));
	recvmsg_flags(s, 64, MSG_PEEK, "recvmsg MSG_PEEK");
	recvmsg_flags(s, 64, 0, "recvmsg");
	recvmsg_flags(s, 64, MSG_DONTWAIT, "recvmsg MSG_DONTWAIT");
	ret("send empty", send(c, "", 0, 0));
	recvmsg_flags(s, 64, 0, "recvmsg empty");
	static char big[65508];
	ret("send 65508 bytes", send(c, big, sizeof big, 0));
	ret("send 65507 bytes", send(c, big, sizeof big - 1, 0));
	ret("recv 65507 bytes", recv(s, big, sizeof big, 0));
	ret("listen", listen(s, 1));
	ret("accept", accept(s, NULL, NULL));
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	ret("connect AF_UNSPEC", connect(c, &unspec, sizeof unspec));
	ret("getpeername after", getpeername(c, (struct sockaddr *)&from, &fl));
	ret("send after", send(c, "x", 1, 0));
	ret("connect", connect(c, (struct sockaddr *)&sa, sizeof sa));
	ret("shutdown SHUT_WR", shutdown(c, SHUT_WR));
	ret("send after SHUT_WR (no SIGPIPE)", send(c, "x", 1, 0));
	close(c);
	close(s);
}

/* closed_port returns a port nobody holds: one just released. */
static int closed_port(void)
{
	struct sockaddr_in a;
	int s = bound(&a);
	close(s);
	return ntohs(a.sin_port);
}

static void refused(void)
{
	struct sockaddr_in to = loopback(closed_port());
	int c = udp();
	ret("connect", connect(c, (struct sockaddr *)&to, sizeof to));
	ret("send", send(c, "anyone?", 7, 0));
	struct pollfd p = {.fd = c, .events = POLLIN};
	int n = poll(&p, 1, 2000);
	printf("poll: %d POLLIN=%d POLLERR=%d\n", n, !!(p.revents & POLLIN), !!(p.revents & POLLERR));
	char buf[8];
	ret("recv", recv(c, buf, sizeof buf, 0));
	ret("send", send(c, "again", 5, 0));
	poll(&p, 1, 2000);
	int err = -1;
	socklen_t l = sizeof err;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l);
	printf("SO_ERROR: %s\n", ename(err));
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l);
	printf("SO_ERROR again: %s\n", ename(err));
	ret("send", send(c, "more", 4, 0));
	close(c);
	int u = udp();
	ret("unconnected sendto", sendto(u, "anyone?", 7, 0, (struct sockaddr *)&to, sizeof to));
	p.fd = u;
	n = poll(&p, 1, 200);
	printf("unconnected poll: %d\n", n);
	ret("unconnected sendto", sendto(u, "again", 5, 0, (struct sockaddr *)&to, sizeof to));
	close(u);
}

static void hold(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}, from;
	socklen_t fl = sizeof from;
	char buf[256];
	int s = udp();
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	long n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	if (n < 0)
		die("recvfrom");
	printf("hold: %ld bytes \"%.*s\" from %s\n", n, (int)n, buf, inet_ntoa(from.sin_addr));
	ret("hold: sendto", sendto(s, "ack", 3, 0, (struct sockaddr *)&from, fl));
	close(s);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 2 && strcmp(argv[1], "basic") == 0)
		basic();
	else if (argc == 2 && strcmp(argv[1], "refused") == 0)
		refused();
	else if (argc == 3 && strcmp(argv[1], "hold") == 0)
		hold(atoi(argv[2]));
	else {
		fprintf(stderr, "usage: udptest basic|refused|hold PORT\n");
		return 2;
	}
	return 0;
}
