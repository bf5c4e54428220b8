/* The management socket (docs/rpc.md): a Unix stream socket served by one
 * thread of its own, the management thread. Requests run there one at a
 * time (rpc.c), so management never runs on a reactor and a slow verb
 * (closing sessions) delays only other management requests. */
#ifndef USCST_MGMT_RPC_SERVER_H
#define USCST_MGMT_RPC_SERVER_H

#include <stddef.h>

#define RPC_DEFAULT_SOCKET "/run/uscst/uscstd.sock"

/* Creates the socket at @path (its directory too, 0755, if missing; a stale
 * socket nobody answers on is replaced, a live one is refused), mode 0600,
 * and starts the thread. Returns 0, or -1 with the reason in @err. */
int rpc_server_start(const char *path, char *err, size_t errlen);
/* Stops the thread, closes every client and removes the socket. */
void rpc_server_stop(void);

#endif
