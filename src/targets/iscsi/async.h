/* Asynchronous Message PDUs (RFC 7143 11.9): what the target tells an
 * initiator unasked.
 *
 * The driver sends them at three moments:
 *   - shutdown and target disable (close_sessions): AsyncEvent 1, "log
 *     out within Parameter3 seconds", on every full-feature connection of
 *     the sessions concerned; the connections of those that do not log
 *     out in time get AsyncEvent 2 and are closed (iscsi_async_request_logout);
 *   - management closing one session (close_session): AsyncEvent 3,
 *     "all connections of the session will be dropped", then the close;
 *   - a connection closed for the logout it did not do: AsyncEvent 2,
 *     "this connection will be dropped", then the close.
 * AsyncEvent 0 (a SCSI asynchronous event report of a unit attention)
 * is not sent: docs/iscsi_async.md says why and what it would take.
 *
 * Everything here runs on the reactor of the connections it touches; the
 * settings are scst_mutex's, read under it. */
#ifndef USCST_TARGETS_ISCSI_ASYNC_H
#define USCST_TARGETS_ISCSI_ASYNC_H

#include <stddef.h>
#include <stdint.h>

struct iscsi_conn;
struct iscsi_session;
struct scst_attr_table;
struct scst_tgt;

/* AsyncEvent codes (RFC 7143 11.9.1). */
enum iscsi_async_event {
	ISCSI_ASYNC_SCSI_EVENT = 0,      /* sense data in the data segment */
	ISCSI_ASYNC_LOGOUT_REQUEST = 1,  /* Parameter3: seconds to log out in */
	ISCSI_ASYNC_DROP_CONNECTION = 2, /* Parameter1: CID; 2: Time2Wait; 3: Time2Retain */
	ISCSI_ASYNC_DROP_SESSION = 3,    /* Parameter2: Time2Wait; 3: Time2Retain */
	ISCSI_ASYNC_RENEGOTIATE = 4,     /* Parameter3: seconds to start a Text exchange in */
	ISCSI_ASYNC_VENDOR = 255,
};

/* The longest logout_timeout: what a logout may take must fit in what
 * management waits for a disabled target's sessions (10 s, mgmt_targets.c)
 * and the daemon for every session at shutdown (30 s, uscstd.c), with the
 * commands still running given time to drain. */
#define ISCSI_ASYNC_LOGOUT_TIMEOUT_MAX 8

/* The TARGET_DRIVER iscsi section's logout_timeout (seconds; 0: close at
 * once, as before Asynchronous Messages). */
struct iscsi_async_settings {
	uint32_t logout_timeout;
};
extern const struct scst_attr_table iscsi_async_attr_table;
/* The settings in force (the table's object_of). */
void *iscsi_async_settings_of(void *unused);
/* @s with the table's defaults (before a section is parsed into it). */
int iscsi_async_settings_default(struct iscsi_async_settings *s, char *err, size_t errlen);
/* Puts @s in force (driver_attrs_finish, scst_mutex held). */
void iscsi_async_settings_apply(const struct iscsi_async_settings *s);

/* close_sessions on this reactor: every full-feature connection of the
 * sessions of @tgt (every target when NULL) living here is asked to log
 * out within logout_timeout seconds, and closed with @why once that has
 * passed; everything else of theirs here (logins, discovery sessions)
 * closes at once, as does all of it with logout_timeout 0. */
void iscsi_async_request_logout(struct scst_tgt *tgt, const char *why);

/* Management asks @sess to log out: its full-feature connections are
 * asked as above, and dropped (AsyncEvent 2) if still there after
 * logout_timeout; with logout_timeout 0, as iscsi_async_drop_session(). */
void iscsi_async_request_session_logout(struct iscsi_session *sess, const char *why);

/* Management closes @sess: AsyncEvent 3 on each of its connections, then
 * each closes with @why (once the message has gone, or at once if the
 * socket does not take it now). */
void iscsi_async_drop_session(struct iscsi_session *sess, const char *why);

/* Shutdown, once the sessions have logged out or the wait is over
 * (uscstd.c, on each reactor through reactor_run_on_all): the logout
 * deadlines still running here end now (their connections are dropped,
 * with notice), and every connection left here closes: logins under way,
 * discovery sessions. */
void iscsi_async_close_rest_here(void *unused);

#endif
