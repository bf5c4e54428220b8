/* ErrorRecoveryLevel 2 (RFC 7143 6.2.2, 7.2.2): a connection that fails
 * (its socket, a NOP-In timeout, a reinstatement by its CID) or is
 * logged out for recovery (Logout reason 2) does not end its tasks. It
 * stays in the session's failed_conns, closed, with its commands: those
 * executing go on and keep their responses, those waiting for Data-Out
 * wait, those answered keep their status. Another connection, a live one
 * or a new one joining by TSIH (the session lives on without any
 * connection meanwhile), takes each task over with TASK REASSIGN
 * (cmd_recovery.c). After DefaultTime2Wait + DefaultTime2Retain seconds
 * what is left ends as at ERL 0. All on the session's reactor. */
#include <assert.h>
#include <stdatomic.h>

#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/session.h"

/* The daemon is ending: nothing waits for a reconnection. */
static atomic_bool recovery_stopped;

bool iscsi_session_keeps_tasks(const struct iscsi_conn *conn)
{
	const struct iscsi_session *sess = conn->sess;

	return sess && !sess->discovery && sess->params.error_recovery_level >= 2 &&
	       !conn->no_recovery && !sess->ending && conn->phase != CONN_LOGIN &&
	       !atomic_load(&recovery_stopped);
}

void iscsi_session_conn_failed(struct iscsi_session *sess, struct iscsi_conn *conn)
{
	assert(reactor_self() == sess->reactor && conn->sess == sess && conn->closed);
	/* Its requests other than commands go (their numbers stay taken),
	 * while it still counts as live, so that this is never the "last
	 * connection" case of the ordered queue. */
	iscsi_session_drop_pending(sess, conn);
	list_del(&conn->sess_entry);
	list_add_tail(&conn->sess_entry, &sess->failed_conns);
	sess->nconns--;
	conn->retained = true;
	conn->retain_ticks = sess->params.default_time2wait + sess->params.default_time2retain + 1;
	log_info_rl("iSCSI: %s (%s): connection %u of session %u kept for recovery for %u s",
		    conn->peer, iscsi_conn_initiator(conn), conn->cid, sess->tsih,
		    conn->retain_ticks);
	iscsi_session_recovery_done_if_empty(sess, conn);
}

void iscsi_session_recovery_expire(struct iscsi_session *sess, struct iscsi_conn *conn,
				   const char *why)
{
	assert(reactor_self() == sess->reactor && conn->retained);
	log_info_rl("iSCSI: %s (%s): connection %u of session %u: its tasks end (%s)", conn->peer,
		    iscsi_conn_initiator(conn), conn->cid, sess->tsih, why);
	list_del(&conn->sess_entry);
	list_init(&conn->sess_entry);
	conn->retained = false;
	/* As at ERL 0 now: held responses are dropped, commands waiting
	 * for data fail, those executing end by themselves. */
	iscsi_cmds_conn_closed(conn);
	conn->sess = NULL;
	iscsi_conn_put(conn); /* the session's reference */
	iscsi_session_end_if_unused(sess);
}

void iscsi_session_recovery_done_if_empty(struct iscsi_session *sess, struct iscsi_conn *conn)
{
	if (!conn->retained || iscsi_cmds_of_conn(conn))
		return;
	list_del(&conn->sess_entry);
	list_init(&conn->sess_entry);
	conn->retained = false;
	conn->sess = NULL;
	iscsi_conn_put(conn);
	iscsi_session_end_if_unused(sess);
}

void iscsi_session_recovery_tick(struct iscsi_session *sess)
{
	struct iscsi_conn *c, *next;

	list_for_each_entry_safe(c, next, &sess->failed_conns, sess_entry) {
		const char *why = NULL;

		if (atomic_load(&recovery_stopped))
			why = "the daemon ends";
		else if (!sess->tgt->enabled)
			why = "its target is disabled";
		else if (--c->retain_ticks == 0)
			why = "DefaultTime2Wait + DefaultTime2Retain passed";
		if (why)
			iscsi_session_recovery_expire(sess, c, why);
		if (sess->closing)
			return;
	}
}

void iscsi_session_recovery_stop_all(void)
{
	atomic_store(&recovery_stopped, true);
}
