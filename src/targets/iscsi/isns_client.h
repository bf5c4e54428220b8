/* Between isns.c (the settings, the client thread's life, the public
 * calls) and isns_client.c (the client thread itself). */
#ifndef USCST_TARGETS_ISCSI_ISNS_CLIENT_H
#define USCST_TARGETS_ISCSI_ISNS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "targets/iscsi/isns.h"

/* Every answer, and the TCP connect, must come within this. */
#define ISNS_REPLY_TIMEOUT_MS 3000

/* The client thread's body. */
void *isns_client_main(void *arg);

/* The settings last handed to the thread, and their generation (which
 * changes when they do). */
void isns_settings_take(struct iscsi_isns_settings *s, unsigned *gen);
/* The descriptor that wakes the thread (an eventfd). */
int isns_wake_fd(void);
/* Shutdown has begun: the thread deregisters and returns. */
bool isns_stopping(void);
/* Splits an iSNSServer value into host and port ("3205" when none); -1
 * when it is not ADDR, ADDR:PORT, [IPV6]:PORT or a bare IPv6 address. */
int isns_split_server(const char *s, char *host, size_t hostlen, char *port, size_t portlen);

#endif
