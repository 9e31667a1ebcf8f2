/* pipe: a child writes into a pipe, the parent reads it to EOF; then a
 * write to a pipe with no reader fails with EPIPE when SIGPIPE is ignored
 * (and kills the writer when it is not). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

int main(void)
{
	int fd[2];
	if (pipe(fd) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		const char *msg = "through the pipe";
		for (int i = 0; i < 3; i++)
			if (write(fd[1], msg, strlen(msg)) < 0)
				die("write");
		_exit(0);
	}
	close(fd[1]);
	char buf[256];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd[0], buf + total, sizeof buf - 1 - total)) > 0)
		total += n;
	buf[total] = 0;
	waitpid(pid, NULL, 0);
	printf("read %zu bytes: %s\n", total, buf);
	close(fd[0]);

	if (pipe(fd) < 0)
		die("pipe");
	close(fd[0]);
	signal(SIGPIPE, SIG_IGN);
	if (write(fd[1], "x", 1) < 0)
		printf("write with no reader: %s\n", strerror(errno));
	signal(SIGPIPE, SIG_DFL);
	pid = fork();
	if (pid == 0) {
		write(fd[1], "x", 1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("writer killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
