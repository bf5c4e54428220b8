/* AsyncEvent 4, renegotiation requested: see renegotiate.h. */
#include "targets/iscsi/renegotiate.h"

#include <assert.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/reactor.h"
#include "core/scst.h"
#include "targets/iscsi/async.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/session.h"

/* One reactor's share of a change: the target is named by pointer only,
 * and looked for among those registered when the message runs. */
struct limits_changed {
	struct reactor_msg msg;
	const struct scst_tgt *tgt;
	uint32_t max_recv_dsl, max_xmit_dsl;
};

/* Parameter3 of a request management makes itself: it asked, so the
 * initiator gets time even where logout_timeout 0 closes at once. */
#define RENEGOTIATE_DEFAULT_SECONDS 5

static void ask(struct iscsi_conn *conn, unsigned seconds, const char *why)
{
	if (conn->reneg_wait)
		return; /* asked already; the first deadline holds */
	if (!iscsi_async_queue(conn, ISCSI_ASYNC_RENEGOTIATE, 0, 0, (uint16_t)seconds, NULL)) {
		log_warn("iSCSI: %s (%s): out of memory for a renegotiation request; its "
			 "MaxRecvDataSegmentLength stays %u until it negotiates",
			 conn->peer, iscsi_conn_initiator(conn), conn->params.max_recv_dsl);
		return;
	}
	/* A tick comes within the first second: one more than asked, so
	 * that no initiator gets less than Parameter3 seconds. */
	conn->reneg_wait = seconds + 1;
	log_info_rl("iSCSI: %s (%s): asked to renegotiate within %u s: %s: "
		    "MaxRecvDataSegmentLength %u (was %u)",
		    conn->peer, iscsi_conn_initiator(conn), seconds, why, conn->tp.max_recv_dsl,
		    conn->params.max_recv_dsl);
	iscsi_conn_flush_soon(conn);
}

static void update_conn(struct iscsi_conn *conn, const struct limits_changed *lc,
			unsigned seconds)
{
	assert(reactor_self() == conn->reactor);
	conn->tp.max_recv_dsl = lc->max_recv_dsl;
	conn->tp.max_xmit_dsl = lc->max_xmit_dsl;
	/* Sending less than the initiator takes is always allowed. */
	if (conn->params.max_xmit_dsl > lc->max_xmit_dsl)
		conn->params.max_xmit_dsl = lc->max_xmit_dsl;
	if (conn->tp.max_recv_dsl != conn->params.max_recv_dsl && seconds)
		ask(conn, seconds, "the target's MaxRecvDataSegmentLength changed");
}

static void limits_changed_here(struct reactor_msg *m)
{
	struct limits_changed *lc = container_of(m, struct limits_changed, msg);
	unsigned seconds = iscsi_async_answer_timeout();
	struct iscsi_sessions_here h;

	if (!iscsi_async_sessions_here(lc->tgt, &h))
		log_warn("iSCSI: out of memory finding the sessions to renegotiate; some keep "
			 "their MaxRecvDataSegmentLength");
	for (unsigned i = 0; i < h.n; i++) {
		struct iscsi_session *sess = h.v[i];
		struct iscsi_conn *conn;

		if (sess->closing)
			continue;
		list_for_each_entry(conn, &sess->conns, sess_entry)
			/* One still moving here is left out: it keeps what
			 * its login gave it. */
			if (!conn->closed && !conn->migrating && conn->phase == CONN_FULL_FEATURE)
				update_conn(conn, lc, seconds);
	}
	free(h.v);
	free(lc);
}

void iscsi_renegotiate_target(struct scst_tgt *tgt, uint32_t max_recv_dsl,
			      uint32_t max_xmit_dsl)
{
	for (unsigned i = 0; i < reactor_count(); i++) {
		struct limits_changed *lc = calloc(1, sizeof(*lc));

		if (!lc) {
			log_warn("iSCSI: target %s: out of memory; sessions on reactor %u keep their "
				 "data segment lengths", tgt->name, i);
			continue;
		}
		lc->tgt = tgt;
		lc->max_recv_dsl = max_recv_dsl;
		lc->max_xmit_dsl = max_xmit_dsl;
		reactor_send(reactor_by_index(i), &lc->msg, limits_changed_here);
	}
}

void iscsi_renegotiate_session(struct iscsi_session *sess, const char *why)
{
	unsigned seconds = iscsi_async_answer_timeout();
	struct iscsi_conn *conn;

	assert(reactor_self() == sess->reactor);
	if (sess->closing)
		return;
	if (seconds == 0)
		seconds = RENEGOTIATE_DEFAULT_SECONDS;
	list_for_each_entry(conn, &sess->conns, sess_entry)
		if (!conn->closed && !conn->migrating && conn->phase == CONN_FULL_FEATURE)
			ask(conn, seconds, why);
}

void iscsi_renegotiate_tick(struct iscsi_conn *conn)
{
	if (conn->reneg_wait == 0 || --conn->reneg_wait > 0)
		return;
	iscsi_async_drop_connection(conn, "did not renegotiate within the time asked "
					  "(AsyncEvent 4)");
}
