/* forkexec: fork children that exit with distinct codes or exec
 * /bin/hello, wait for each, and print how each ended. */
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

static void report(pid_t pid, int st)
{
	if (WIFEXITED(st))
		printf("child %d exited with %d\n", pid > 0, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("child killed by signal %d\n", WTERMSIG(st));
}

int main(void)
{
	for (int code = 0; code < 3; code++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(code * 7);
		int st;
		if (waitpid(pid, &st, 0) != pid)
			die("waitpid");
		report(pid, st);
	}
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"hello", "from", "exec", NULL};
		execv("/bin/hello", argv);
		die("execv");
	}
	int st;
	if (wait(&st) != pid)
		die("wait");
	report(pid, st);
	if (wait(&st) != -1 || errno != ECHILD)
		die("wait with no children");
	printf("no more children: ECHILD\n");
	return 0;
}
