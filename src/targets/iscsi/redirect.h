/* Login redirect (RFC 7143 6.2 and 11.13.5, status class 1): a target
 * with a `redirect` attribute answers the first Login Response of a
 * normal session, once the target is known and before security, with
 * "target moved temporarily" (0x0101) or "moved permanently" (0x0102)
 * and TargetAddress=HOST:PORT, and closes the connection. Discovery
 * sessions are never redirected. docs/redirect.md has the choices made
 * (no tag in the Login Response, what SendTargets lists, the portal the
 * redirect points at being served rather than redirected again).
 *
 * The attributes are part of the target's iSCSI parameters
 * (struct iscsi_target_params, params.c's table): login.c copies them
 * with the rest at identify(), so a change reaches the next login. */
#ifndef USCST_TARGETS_ISCSI_REDIRECT_H
#define USCST_TARGETS_ISCSI_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/attr_desc.h"

/* A DNS name is at most 253 characters; an IPv6 literal 45. */
#define ISCSI_REDIRECT_HOST_MAX 253
#define ISCSI_DEFAULT_PORT 3260

/* What `redirect ADDR[:PORT][,TPGT]` and `redirect_type` say. */
struct iscsi_redirect {
	/* IPv4 or IPv6 literal in canonical form (IPv6 without brackets),
	 * or a DNS name; "" = no redirect. */
	char host[ISCSI_REDIRECT_HOST_MAX + 1];
	bool ipv6;           /* host is an IPv6 literal: bracketed when written */
	uint16_t port;       /* ISCSI_DEFAULT_PORT when not given */
	uint16_t tpgt;       /* the portal group tag there; 0: not given */
	unsigned type;       /* redirect_type: index in iscsi_redirect_types */
};

enum iscsi_redirect_type {
	ISCSI_REDIRECT_TEMPORARY = 0, /* status 0x0101 */
	ISCSI_REDIRECT_PERMANENT = 1, /* status 0x0102 */
};

/* "temporary", "permanent", NULL: redirect_type's choices. */
extern const char *const iscsi_redirect_types[];

/* The `redirect` attribute as a CUSTOM descriptor's parse and show
 * (core/attr_desc.h); the struct iscsi_redirect is at d->offset of the
 * object. Parsing leaves .type alone (redirect_type is its own
 * attribute). An empty value clears the redirect. */
int iscsi_redirect_parse(void *obj, const struct scst_attr_desc *d, const char *value, char *err,
			 size_t errlen);
void iscsi_redirect_show(const void *obj, const struct scst_attr_desc *d, scst_attr_emit_fn *emit,
			 void *ctx);

/* Whether @r redirects at all. */
static inline bool iscsi_redirect_set(const struct iscsi_redirect *r)
{
	return r->host[0] != '\0';
}

/* Writes "HOST:PORT" (IPv6 bracketed), and ",TAG" when @tpgt is not 0,
 * into @buf. Returns what snprintf returned. */
int iscsi_redirect_format(const struct iscsi_redirect *r, uint16_t tpgt, char *buf, size_t len);

/* The TargetAddress SendTargets lists for a target with redirect @r
 * where its own address would be @local with tag @own_tpgt: a permanent
 * redirect's address (with its tag, else @own_tpgt), otherwise @local
 * (a temporarily moved target is still found here). */
void iscsi_redirect_send_targets_address(const struct iscsi_redirect *r, const char *local,
					 uint16_t own_tpgt, char *buf, size_t len);

struct iscsi_conn;

/* Called by login.c for every Login Request of a new normal session
 * (TSIH 0: a connection joining a session here stays here) once its
 * target is known (conn->tp holds the target's parameters): where the
 * target redirects, and the connection did not come in at the very
 * address it redirects to, queues the redirecting Login Response
 * (answering @req, with ExpCmdSN @cmd_sn), after which the connection
 * closes, logs "login: redirected" and returns true: the login is over.
 * Otherwise returns false and the login goes on. */
bool iscsi_redirect_login(struct iscsi_conn *conn, const uint8_t *req, uint32_t cmd_sn,
			  const char *initiator, const char *target);

#endif
