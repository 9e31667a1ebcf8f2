/* net.c: replyhi and hello, the course's TCP lab, by system calls:
 * socket → bind → listen → accept → recv → send → close in a server child
 * that replyhi forks, and socket → connect → send → recv → close in
 * hello. A breakpoint on tcp_v4_connect's counterpart stops in hello. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "net.h"

const char *ErrText(int err)
{
	switch (err) {
	case EADDRINUSE: return "Address already in use";
	case ECONNREFUSED: return "Connection refused";
	case ECONNRESET: return "Connection reset by peer";
	case ETIMEDOUT: return "Connection timed out";
	case ENETUNREACH: return "Network is unreachable";
	case EHOSTUNREACH: return "No route to host";
	case EADDRNOTAVAIL: return "Cannot assign requested address";
	case EPIPE: return "Broken pipe";
	case EINTR: return "Interrupted system call";
	case EINVAL: return "Invalid argument";
	}
	return strerror(err);
}

static void serve(int s)
{
	char buf[1025];
	signal(SIGPIPE, SIG_IGN); /* a client gone before "hi" must not end the server */
	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof peer;
		int c = accept(s, (struct sockaddr *)&peer, &len);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			printf("replyhi: accept: %s\n", ErrText(errno));
			exit(1);
		}
		const char *ip = inet_ntoa(peer.sin_addr);
		int port = ntohs(peer.sin_port);
		ssize_t n = recv(c, buf, sizeof buf - 1, 0);
		if (n < 0) {
			printf("replyhi: recv: %s\n", ErrText(errno));
			close(c);
			continue;
		}
		buf[n] = 0;
		printf("recv \"%s\" from %s:%d\n", buf, ip, port);
		if (send(c, "hi", 2, 0) < 0)
			printf("replyhi: send: %s\n", ErrText(errno));
		else
			printf("send \"hi\" to %s:%d\n", ip, port);
		close(c);
	}
}

int Replyhi(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		printf("Socket Error,%s\n", ErrText(errno));
		return 0;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(REPLYHI_PORT)};
	a.sin_addr.s_addr = htonl(INADDR_ANY); /* the host reaches it through eth0 too */
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		printf("Bind Error,%s\n", ErrText(errno));
		close(s);
		return 0;
	}
	if (listen(s, 1024) < 0) {
		printf("Listen Error,%s\n", ErrText(errno));
		close(s);
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("Fork Error,%s\n", ErrText(errno));
		close(s);
		return 0;
	}
	if (pid == 0)
		serve(s);
	close(s);
	printf("Please input hello...\n");
	return 0;
}

int Hello(int argc, char *argv[])
{
	const char *host = argc > 1 ? argv[1] : "127.0.0.1";
	int port = argc > 2 ? atoi(argv[2]) : REPLYHI_PORT;
	if (argc > 3) {
		printf("hello: usage: hello [HOST [PORT]]\n");
		return 0;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || port <= 0 || port > 65535) {
		printf("hello: bad address %s:%s\n", host, argc > 2 ? argv[2] : "5001");
		return 0;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		printf("Socket Error,%s\n", ErrText(errno));
		return 0;
	}
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		printf("Connect Error,%s\n", ErrText(errno));
		close(s);
		return 0;
	}
	if (send(s, "hello", 5, 0) < 0) {
		printf("Send Error,%s\n", ErrText(errno));
		close(s);
		return 0;
	}
	printf("send \"hello\" to %s:%d\n", host, port);
	char buf[1025];
	ssize_t n = recv(s, buf, sizeof buf - 1, 0);
	if (n < 0) {
		printf("Recv Error,%s\n", ErrText(errno));
		close(s);
		return 0;
	}
	buf[n] = 0;
	printf("recv \"%s\" from %s:%d\n", buf, host, port);
	close(s);
	return 0;
}
