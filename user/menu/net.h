/* net.h: MenuOS's TCP lab commands over socket system calls. */
#ifndef NET_H
#define NET_H

#define REPLYHI_PORT 5001

int Replyhi(int argc, char *argv[]);
int Hello(int argc, char *argv[]);

/* ErrText is strerror with the wording of Linux's C library for the
 * errors these commands meet (so both MenuOS shells print alike). */
const char *ErrText(int err);

#endif
