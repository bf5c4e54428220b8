/* A session's life (session.h has the whole contract): creation at the
 * end of login with its I_T nexus, the connections that carry it, its
 * task set, and its end once the last connection has gone. */
#include "targets/iscsi/session.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/conn.h"

static void session_tick(struct reactor_tick *t);

static void free_session(struct iscsi_session *sess)
{
	assert(reactor_self() == sess->reactor);
	assert(list_empty(&sess->conns) && list_empty(&sess->tasks) && list_empty(&sess->pending));
	assert(list_empty(&sess->failed_conns));
	assert(list_empty(&sess->budget_waiting));
	reactor_deferred_cancel(&sess->budget_drain);
	iscsi_registry_remove(sess);
	free(sess->initiator_name);
	free(sess);
}

struct iscsi_session *iscsi_session_create(struct iscsi_conn *conn, const char *initiator,
					   const uint8_t *isid, bool discovery,
					   uint32_t exp_cmd_sn)
{
	assert(reactor_self() == conn->reactor && !conn->sess);
	struct iscsi_session *sess = calloc(1, sizeof(*sess));
	if (!sess)
		return NULL;
	sess->initiator_name = strdup(initiator);
	if (!sess->initiator_name) {
		free(sess);
		return NULL;
	}
	memcpy(sess->isid, isid, 6);
	sess->discovery = discovery;
	sess->tgt = conn->tgt;
	sess->reactor = conn->reactor;
	sess->rsp_timeout = conn->tp.rsp_timeout;
	iscsi_session_window_init(sess, exp_cmd_sn, conn->tp.queued_cmds);
	sess->params = conn->params;
	list_init(&sess->conns);
	list_init(&sess->failed_conns);
	list_init(&sess->tasks);
	list_init(&sess->budget_waiting);
	list_init(&sess->budget_drain.entry);

	char why[128];
	if (iscsi_registry_add(sess, &conn->tp, why, sizeof(why)) != 0) {
		/* The login fails with Out of resources (login.c). */
		log_warn_rl("iSCSI: %s (%s): no new session: %s", conn->peer, initiator, why);
		free(sess->initiator_name);
		free(sess);
		return NULL;
	}
	if (!discovery) {
		sess->scst = scst_register_session(conn->tgt, initiator, sess);
		if (!sess->scst) {
			free_session(sess);
			return NULL;
		}
	}
	sess->tick.on_tick = session_tick;
	reactor_tick_add(sess->reactor, &sess->tick);
	iscsi_session_add_conn(sess, conn);
	return sess;
}

static void unreg_done(struct scst_session *scst)
{
	free_session(scst->tgt_priv);
}

/* Posted, so that a session is never freed under a caller's feet. */
static void session_unregister(struct reactor_msg *m)
{
	struct iscsi_session *sess = container_of(m, struct iscsi_session, close_msg);
	if (sess->scst) {
		if (!sess->logged_out)
			scst_session_nexus_lost(sess->scst);
		scst_unregister_session(sess->scst, unreg_done);
	} else {
		free_session(sess);
	}
}

void iscsi_session_add_conn(struct iscsi_session *sess, struct iscsi_conn *conn)
{
	assert(reactor_self() == sess->reactor && conn->reactor == sess->reactor);
	assert(!sess->closing && !conn->sess && sess->nconns < sess->params.max_connections);
	iscsi_conn_get(conn);
	list_add_tail(&conn->sess_entry, &sess->conns);
	sess->nconns++;
	conn->sess = sess;
}

struct iscsi_conn *iscsi_session_conn_by_cid(struct iscsi_session *sess, uint16_t cid)
{
	struct iscsi_conn *c;
	list_for_each_entry(c, &sess->conns, sess_entry)
		if (c->cid == cid)
			return c;
	return NULL;
}

void iscsi_session_conn_closed(struct iscsi_session *sess, struct iscsi_conn *conn)
{
	assert(reactor_self() == sess->reactor && conn->sess == sess && sess->nconns > 0);
	list_del(&conn->sess_entry);
	list_init(&conn->sess_entry);
	sess->nconns--;
	conn->sess = NULL;
	iscsi_session_drop_pending(sess, conn);
	iscsi_conn_put(conn); /* the session's reference */
	if (sess->nconns > 0)
		return;
	/* The last live connection, closed for good: the tasks kept for
	 * recovery end with the session. */
	while (!list_empty(&sess->failed_conns))
		iscsi_session_recovery_expire(
			sess, list_first_entry(&sess->failed_conns, struct iscsi_conn, sess_entry),
			"the session's last connection closed");
	iscsi_session_end_if_unused(sess);
}

void iscsi_session_end_if_unused(struct iscsi_session *sess)
{
	assert(reactor_self() == sess->reactor);
	if (sess->closing || sess->nconns > 0 || !list_empty(&sess->failed_conns))
		return;
	/* Nothing will come to fill a gap: consumed numbers go too. */
	iscsi_session_drop_pending(sess, NULL);
	assert(list_empty(&sess->pending));
	sess->closing = true;
	reactor_tick_remove(&sess->tick);
	reactor_send(sess->reactor, &sess->close_msg, session_unregister);
}

void iscsi_session_close_conns(struct iscsi_session *sess, const char *why)
{
	assert(reactor_self() == sess->reactor);
	sess->ending = true;
	/* Each close takes its connection out of the list. */
	while (!list_empty(&sess->conns))
		iscsi_conn_close(list_first_entry(&sess->conns, struct iscsi_conn, sess_entry), why);
	while (!list_empty(&sess->failed_conns))
		iscsi_session_recovery_expire(
			sess, list_first_entry(&sess->failed_conns, struct iscsi_conn, sess_entry), why);
}

/* Requests held behind a CmdSN gap wait no longer than data does: at
 * ErrorRecoveryLevel 0 a missing command never comes. */
static void session_tick(struct reactor_tick *t)
{
	struct iscsi_session *sess = container_of(t, struct iscsi_session, tick);
	iscsi_session_recovery_tick(sess);
	if (sess->closing)
		return;
	if (iscsi_session_pending_tick(sess) > sess->rsp_timeout)
		iscsi_session_close_conns(sess, "a gap in the CmdSN sequence was not filled within "
						"RspTimeout");
}

/* ------------------------------------------------------------------ */
/* The task set. */

void iscsi_session_add_task(struct iscsi_session *sess, struct iscsi_task *t)
{
	assert(reactor_self() == sess->reactor);
	list_add_tail(&t->entry, &sess->tasks);
	sess->ntasks++;
}

void iscsi_session_remove_task(struct iscsi_session *sess, struct iscsi_task *t)
{
	assert(reactor_self() == sess->reactor && sess->ntasks > 0);
	list_del(&t->entry);
	sess->ntasks--;
}

struct iscsi_task *iscsi_session_find_task(struct iscsi_session *sess, uint32_t itt)
{
	struct iscsi_task *t;
	list_for_each_entry(t, &sess->tasks, entry)
		if (t->itt == itt)
			return t;
	return NULL;
}
