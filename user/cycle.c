/* cycle N: fork, exec /bin/true, wait, N times; prints the count. With
 * -q it prints nothing but the final line (for memory-leak checks). */
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, ok = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *av[] = {"true", NULL};
			execv("/bin/true", av);
			_exit(127);
		}
		int st;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("cycle: %d of %d fork/exec/wait cycles ok\n", ok, n);
	return ok != n;
}
