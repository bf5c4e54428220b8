/* The iSCSI target driver (RFC 7143): public entry points for the daemon. */
#ifndef USCST_TARGETS_ISCSI_ISCSI_H
#define USCST_TARGETS_ISCSI_ISCSI_H

#include <stdbool.h>
#include <stddef.h>

#define ISCSI_DEFAULT_PORT 3260

/* Registers the "iscsi" scst_tgt_template with the core. Returns 0 or -1. */
int iscsi_driver_register(void);

/* Opens a listening portal on @addr_port: "127.0.0.1:3260", "[::1]:3260",
 * "0.0.0.0" (port 3260 when omitted). May be called several times. The
 * socket is watched on reactor 0; accepted connections go to
 * reactor_place(). Reactors must be running. Returns 0, or -1 with the
 * reason in err. */
int iscsi_listen(const char *addr_port, char *err, size_t errlen);
/* @addr_port may end in "=ADVERTISED" (IPV4[:PORT] or [IPV6][:PORT]): the
 * address initiators reach the portal at through a NAT or a port
 * forward, which a redirect may name (docs/redirect.md). */

/* Whether the portal a connection came in on (its local address @local,
 * as conn->local writes it) is the one initiators reach at @addr
 * ("HOST:PORT" as iscsi_redirect_format() writes it) by its "=ADVERTISED"
 * address. Any thread. */
bool iscsi_portal_reached_at(const char *local, const char *addr);

/* The address initiators reach the portal of a connection with local
 * address @local at: its "=ADVERTISED" address, or @local itself when it
 * has none. What SendTargets lists as TargetAddress. Any thread. */
void iscsi_portal_reach_address(const char *local, char *buf, size_t len);

/* Daemon-wide caps on TCP connections (0 = no limit): @max_conns in all,
 * @max_logins of them still logging in from one peer address. A
 * connection beyond either is closed right after accept(). Defaults:
 * below, docs/limits.md says why. Call before iscsi_listen(). */
#define ISCSI_DEFAULT_MAX_CONNECTIONS 4096
#define ISCSI_DEFAULT_MAX_LOGINS_PER_ADDRESS 32
void iscsi_set_connection_limits(unsigned max_conns, unsigned max_logins);

/* The addresses the listening portals are bound to (at most @max of
 * them), for the iSNS registration; any thread. */
struct sockaddr_storage;
unsigned iscsi_portal_addrs(struct sockaddr_storage *out, unsigned max);

/* Closes every listening portal (shutdown). Not from a reactor thread. */
void iscsi_stop_listening(void);

#endif
