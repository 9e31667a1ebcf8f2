/* user.h: small helpers shared by the test programs in user/. */
#ifndef USER_H
#define USER_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

/* die prints what failed with errno's text and exits 1. */
#define die(what) do { fprintf(stderr, "%s: %s\n", (what), strerror(errno)); exit(1); } while (0)

#endif
