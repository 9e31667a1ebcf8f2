/* menu.h: the MenuOS engine — a table of commands and the prompt loop
 * (the structure of the Linux course's menu program, written anew). */
#ifndef MENU_H
#define MENU_H

#define PROMPT "MenuOS>>"
#define WRONG_CMD "This is a wrong cmd!"

typedef int (*handler_t)(int argc, char *argv[]);

/* MenuConfig adds a command: help lists them in the order added. */
int MenuConfig(const char *cmd, const char *desc, handler_t handler);

/* ExecuteMenu prints the prompt, reads a line, runs its command; it
 * returns when a handler returns a negative value (quit) or input ends. */
int ExecuteMenu(void);

/* Help prints every command as "name - desc". */
int Help(int argc, char *argv[]);

#endif
