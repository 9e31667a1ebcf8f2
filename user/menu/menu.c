/* menu.c: the MenuOS engine. Commands live in a linked table (as the
 * course's linktable); a line is split on spaces and tabs and its first
 * word looked up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "menu.h"

#define MAX_LINE 1024
#define MAX_ARGS 32

struct cmd {
	const char *name, *desc;
	handler_t handler;
	struct cmd *next;
};

static struct cmd *head, *tail;

int MenuConfig(const char *name, const char *desc, handler_t handler)
{
	struct cmd *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	c->name = name;
	c->desc = desc;
	c->handler = handler;
	if (tail)
		tail->next = c;
	else
		head = c;
	tail = c;
	return 0;
}

static struct cmd *find(const char *name)
{
	for (struct cmd *c = head; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int Help(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	for (struct cmd *c = head; c; c = c->next)
		printf("%s - %s\n", c->name, c->desc);
	return 0;
}

int ExecuteMenu(void)
{
	char line[MAX_LINE];
	for (;;) {
		printf("%s", PROMPT);
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return 0;
		line[strcspn(line, "\r\n")] = 0;
		char *argv[MAX_ARGS + 1];
		int argc = 0;
		for (char *w = strtok(line, " \t"); w && argc < MAX_ARGS; w = strtok(NULL, " \t"))
			argv[argc++] = w;
		argv[argc] = NULL;
		if (argc == 0)
			continue;
		struct cmd *c = find(argv[0]);
		if (!c) {
			printf("%s\n", WRONG_CMD);
			continue;
		}
		if (c->handler(argc, argv) < 0)
			return 0;
		fflush(stdout);
	}
}
