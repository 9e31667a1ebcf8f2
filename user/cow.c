/* cow: a child's writes to private memory stay private (copy-on-write);
 * writes to a MAP_SHARED mapping are seen by both. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "user.h"

static int data = 1;			/* .data */
static char bss[3 * 4096];		/* .bss, three pages */

int main(void)
{
	char *heap = malloc(100000);
	int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!heap || shared == MAP_FAILED)
		die("alloc");
	strcpy(heap, "parent");
	bss[8192] = 'p';
	*shared = 0;
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		data = 2;
		strcpy(heap, "child");
		bss[8192] = 'c';
		*shared = 42;
		printf("child sees data=%d heap=%s bss=%c\n", data, heap, bss[8192]);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("parent sees data=%d heap=%s bss=%c shared=%d\n", data, heap, bss[8192], *shared);
	return 0;
}
