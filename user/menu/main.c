/* menu: MenuOS as a C program — the banner, the prompt and the course's
 * commands, with replyhi/hello over real socket system calls (net.c).
 * Boot straight into it with init=/bin/menu. */
#include <stdio.h>
#include <time.h>
#include <sys/utsname.h>
#include "menu.h"
#include "net.h"

static const char *banner[] = {
	"                                                            ",
	"  *    *                                   ****       ****  ",
	" ***  ***     **        **      *    *    *    *     **     ",
	" * *  * *    *  *      *  *     *    *   *      *   **      ",
	" * *  * *   *    *    *    *    *    *   *      *    ***    ",
	" *  **  *   ******    *    *    *    *   *      *      **   ",
	" *      *   *         *    *    *    *   *      *       **  ",
	" *      *    *        *    *     *  **    *    *       **   ",
	" *      *     ***     *    *      **  *    ****     ****    ",
	"                                                            ",
};

static int version(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	struct utsname u;
	uname(&u);
	printf("MenuOS V1.0 (C) on %s %s\n", u.sysname, u.release);
	return 0;
}

static int quit(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	return -1;
}

/* time prints as MenuOS does: year, 0-based month, day, hour, min, sec. */
static int show_time(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	time_t now = time(NULL);
	struct tm *t = gmtime(&now);
	printf("time:%d:%d:%d:%d:%d:%d\n", t->tm_year + 1900, t->tm_mon, t->tm_mday,
	       t->tm_hour, t->tm_min, t->tm_sec);
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* the server child writes the console too */
	for (unsigned i = 0; i < sizeof banner / sizeof banner[0]; i++)
		printf("%s\n", banner[i]);
	MenuConfig("help", "Menu List:", Help);
	MenuConfig("version", "Show the MenuOS version", version);
	MenuConfig("quit", "Quit from MenuOS (power off)", quit);
	MenuConfig("time", "Show the time: year:month(0-11):day:hour:min:sec", show_time);
	MenuConfig("replyhi", "Reply hi TCP Service", Replyhi);
	MenuConfig("hello", "Hello TCP Client: hello [HOST [PORT]]", Hello);
	return ExecuteMenu();
}
