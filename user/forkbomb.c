/* forkbomb: fork until the kernel refuses, report it, then let every
 * child go. The kernel's process limit (EAGAIN) must contain it. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

int main(void)
{
	int n = 0;
	for (;;) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();	/* a child waits to be killed */
			_exit(0);
		}
		if (pid < 0)
			break;
		n++;
	}
	int err = errno;
	printf("fork failed after %s children: %s\n", n > 100 ? "more than 100" : "few", strerror(err));
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	while (wait(NULL) > 0)
		n--;
	printf("all children reaped: %s\n", n == 0 ? "yes" : "no");
	return 0;
}
