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
 * Two more have their own files: AsyncEvent 4 (renegotiate.h), when a
 * target's MaxRecvDataSegmentLength changes under a live session, and
 * AsyncEvent 0 (aen.h), a unit attention reported as it is queued, on
 * targets with the aen attribute.
 *
 * Everything here runs on the reactor of the connections it touches; the
 * settings are scst_mutex's, read under it. */
#ifndef USCST_TARGETS_ISCSI_ASYNC_H
#define USCST_TARGETS_ISCSI_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iscsi_conn;
struct iscsi_session;
struct reactor;
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

/* The logout_timeout in force: also the seconds an initiator has to
 * answer a renegotiation request (renegotiate.c). Takes scst_mutex. */
unsigned iscsi_async_answer_timeout(void);

/* Queues an Asynchronous Message on @conn with Parameter1..3 (RFC 7143
 * 11.9.1); false if there is no memory for it. It takes a StatSN, as
 * every PDU with status does (the initiator's ExpStatSN moves past it).
 * With @close_why the connection closes once the message has left. */
bool iscsi_async_queue(struct iscsi_conn *conn, enum iscsi_async_event event, uint16_t p1,
		       uint16_t p2, uint16_t p3, const char *close_why);
/* The same with the LUN field (@lun8, 8 bytes, or NULL) and a data
 * segment of @len bytes copied from @data (AsyncEvent 0's sense). */
bool iscsi_async_queue_scsi(struct iscsi_conn *conn, enum iscsi_async_event event,
			    const uint8_t *lun8, const uint8_t *data, uint32_t len, uint16_t p1,
			    uint16_t p2, uint16_t p3, const char *close_why);

/* Drops @conn with notice: AsyncEvent 2 (its CID, the Time2Wait and
 * Time2Retain it negotiated) if the socket takes it now, then the close
 * with @why. On the connection's reactor. */
void iscsi_async_drop_connection(struct iscsi_conn *conn, const char *why);

/* The iSCSI sessions of @tgt living on this reactor, found under
 * scst_mutex among the targets registered now (so @tgt may be a target
 * already removed: none is found then). The caller frees h->v. False if
 * memory ran out (h holds those found before). */
struct iscsi_sessions_here {
	struct reactor *self;
	const struct scst_tgt *only_tgt; /* NULL: every target */
	struct iscsi_session **v;
	unsigned n, cap;
	bool oom;
};
bool iscsi_async_sessions_here(const struct scst_tgt *tgt, struct iscsi_sessions_here *h);

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
