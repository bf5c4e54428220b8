/* Sessions: the registry (TSIH allocation, lookup by initiator name and
 * ISID for reinstatement), the I_T nexus with the core, and the CmdSN
 * window (RFC 7143 4.2.2.1). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "targets/iscsi/conn.h"

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head sessions = LIST_HEAD_INIT(sessions);
static uint16_t next_tsih;

static struct iscsi_session *find_by_tsih_locked(uint16_t tsih)
{
	struct iscsi_session *s;
	list_for_each_entry(s, &sessions, registry_entry)
		if (s->tsih == tsih)
			return s;
	return NULL;
}

bool iscsi_session_tsih_exists(uint16_t tsih)
{
	pthread_mutex_lock(&sessions_lock);
	bool found = find_by_tsih_locked(tsih) != NULL;
	pthread_mutex_unlock(&sessions_lock);
	return found;
}

/* A TSIH for @sess, about to join the registry, if its target's session
 * caps (MaxSessions, MaxSessionsPerInitiator; 0 = none) leave room and a
 * TSIH is free; else 0, with the reason in @why. Sessions still draining
 * count: they hold what the caps are there to bound. One pass over the
 * registry marks the TSIHs in use, so that even a full space is searched
 * in bounded time. */
static uint16_t alloc_tsih_locked(const struct iscsi_session *sess,
				  const struct iscsi_target_params *tp, char *why, size_t whylen)
{
	static uint64_t used[65536 / 64];
	unsigned on_target = 0, of_initiator = 0, total = 0;
	struct iscsi_session *s;
	memset(used, 0, sizeof(used));
	list_for_each_entry(s, &sessions, registry_entry) {
		used[s->tsih / 64] |= 1ull << (s->tsih % 64);
		total++;
		if (sess->discovery || s->discovery || s->tgt != sess->tgt)
			continue;
		on_target++;
		if (strcmp(s->initiator_name, sess->initiator_name) == 0)
			of_initiator++;
	}
	if (!sess->discovery && tp->max_sessions && on_target >= tp->max_sessions) {
		snprintf(why, whylen, "the target has %u sessions (MaxSessions %u)", on_target,
			 tp->max_sessions);
		return 0;
	}
	if (!sess->discovery && tp->max_sessions_per_initiator &&
	    of_initiator >= tp->max_sessions_per_initiator) {
		snprintf(why, whylen, "the initiator has %u sessions on the target "
			 "(MaxSessionsPerInitiator %u)", of_initiator, tp->max_sessions_per_initiator);
		return 0;
	}
	for (unsigned tries = 0; tries < 65536; tries++) {
		uint16_t t = ++next_tsih;
		if (t != 0 && !(used[t / 64] & (1ull << (t % 64))))
			return t;
	}
	snprintf(why, whylen, "all 65535 TSIHs are in use (%u sessions)", total);
	return 0;
}

/* Runs on the old session's reactor: close it if it is still there. */
static void reinstate_close(void *arg)
{
	uint16_t tsih = (uint16_t)(uintptr_t)arg;
	struct iscsi_conn *conn = NULL;
	pthread_mutex_lock(&sessions_lock);
	struct iscsi_session *old = find_by_tsih_locked(tsih);
	if (old && old->reactor == reactor_self())
		conn = old->conn;
	pthread_mutex_unlock(&sessions_lock);
	/* Sessions are freed only on their own reactor, which is this one,
	 * so conn cannot go away between the unlock and here. */
	if (conn)
		iscsi_conn_close(conn, "session reinstated by a new login with the same ISID");
}

static void free_session(struct iscsi_session *sess)
{
	pthread_mutex_lock(&sessions_lock);
	list_del(&sess->registry_entry);
	struct iscsi_conn *successor = sess->successor;
	struct reactor *successor_reactor = sess->successor_reactor;
	pthread_mutex_unlock(&sessions_lock);
	if (successor && reactor_post(successor_reactor, iscsi_login_predecessor_gone, successor))
		log_error("iSCSI: cannot resume the login reinstating session %u", sess->tsih);
	free(sess->initiator_name);
	free(sess);
}

static bool is_predecessor(const struct iscsi_session *s, const struct iscsi_conn *conn,
			   const char *initiator, const uint8_t *isid, bool discovery)
{
	return s->tgt == conn->tgt && s->discovery == discovery && memcmp(s->isid, isid, 6) == 0 &&
	       strcmp(s->initiator_name, initiator) == 0;
}

int iscsi_session_reinstate(struct iscsi_conn *conn, const char *initiator, const uint8_t *isid,
			    bool discovery)
{
	uint16_t stale[16];
	struct reactor *stale_reactor[16];
	unsigned nstale = 0;
	struct iscsi_session *s;
	pthread_mutex_lock(&sessions_lock);
	/* Sessions still draining their commands (their connection already
	 * gone) count too: they are what the new session must not overtake. */
	list_for_each_entry(s, &sessions, registry_entry) {
		if (!is_predecessor(s, conn, initiator, isid, discovery))
			continue;
		if (s->successor || nstale == 16) {
			pthread_mutex_unlock(&sessions_lock);
			return -1;
		}
		stale[nstale] = s->tsih;
		stale_reactor[nstale++] = s->reactor;
	}
	list_for_each_entry(s, &sessions, registry_entry) {
		if (!is_predecessor(s, conn, initiator, isid, discovery))
			continue;
		s->successor = conn;
		s->successor_reactor = conn->reactor;
		iscsi_conn_get(conn);
	}
	pthread_mutex_unlock(&sessions_lock);
	for (unsigned i = 0; i < nstale; i++) {
		log_info("iSCSI: %s (%s): reinstating session %u", conn->peer, initiator, stale[i]);
		reactor_post(stale_reactor[i], reinstate_close, (void *)(uintptr_t)stale[i]);
	}
	return (int)nstale;
}

struct iscsi_session *iscsi_session_create(struct iscsi_conn *conn, const char *initiator,
					   const uint8_t *isid, bool discovery,
					   uint32_t exp_cmd_sn)
{
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
	sess->exp_cmd_sn = exp_cmd_sn;
	sess->window = conn->tp.queued_cmds;
	list_init(&sess->held);

	char why[128];
	pthread_mutex_lock(&sessions_lock);
	sess->tsih = alloc_tsih_locked(sess, &conn->tp, why, sizeof(why));
	if (sess->tsih)
		list_add_tail(&sess->registry_entry, &sessions);
	pthread_mutex_unlock(&sessions_lock);
	if (!sess->tsih) {
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
	sess->conn = conn;
	conn->sess = sess;
	return sess;
}

static void unreg_done(struct scst_session *scst)
{
	free_session(scst->tgt_priv);
}

/* Posted, so that a session is never freed under a caller's feet. */
static void session_unregister(void *arg)
{
	struct iscsi_session *sess = arg;
	if (sess->scst)
		scst_unregister_session(sess->scst, unreg_done);
	else
		free_session(sess);
}

void iscsi_session_close(struct iscsi_session *sess)
{
	sess->conn = NULL;
	if (reactor_post(sess->reactor, session_unregister, sess) != 0)
		log_error("iSCSI: cannot post the close of session %u; it leaks", sess->tsih);
}

uint32_t iscsi_session_max_cmd_sn(const struct iscsi_session *sess)
{
	return sess->exp_cmd_sn + sess->window - 1;
}

enum iscsi_cmdsn_check iscsi_session_check_cmdsn(const struct iscsi_session *sess,
						 uint32_t cmd_sn)
{
	if (cmd_sn == sess->exp_cmd_sn)
		return CMDSN_DUE;
	if (sn_lt(sess->exp_cmd_sn, cmd_sn) && sn_le(cmd_sn, iscsi_session_max_cmd_sn(sess)))
		return CMDSN_LATER;
	return CMDSN_OUTSIDE;
}

static struct iscsi_cmd *take_due(struct iscsi_session *sess)
{
	struct iscsi_cmd *icmd;
	list_for_each_entry(icmd, &sess->held, held_entry) {
		if (icmd->cmd_sn == sess->exp_cmd_sn) {
			list_del(&icmd->held_entry);
			icmd->held = false;
			return icmd;
		}
	}
	return NULL;
}

void iscsi_session_advance_cmdsn(struct iscsi_session *sess)
{
	sess->exp_cmd_sn++;
	iscsi_session_start_held(sess);
}

void iscsi_session_start_held(struct iscsi_session *sess)
{
	/* Commands that arrived ahead of a gap run once it is filled.
	 * Starting one may close the connection; the session itself stays
	 * (its release is posted). */
	while (sess->conn) {
		struct iscsi_cmd *icmd = take_due(sess);
		if (!icmd)
			return;
		sess->exp_cmd_sn++;
		iscsi_cmd_start(icmd);
	}
}

bool iscsi_session_take_cmdsn(struct iscsi_conn *conn)
{
	const uint8_t *bhs = conn->rx.bhs;
	struct iscsi_session *sess = conn->sess;
	if (!sess || pdu_immediate(bhs))
		return sess != NULL;
	switch (iscsi_session_check_cmdsn(sess, get_be32(bhs + ISCSI_OFF_CMDSN))) {
	case CMDSN_DUE:
		iscsi_session_advance_cmdsn(sess);
		return !conn->closed;
	case CMDSN_LATER:
		/* One connection keeps PDUs in order, so a gap means the
		 * initiator skipped numbers; serve the request anyway. */
		return true;
	case CMDSN_OUTSIDE:
		log_debug("iSCSI: %s: %s CmdSN %u outside the window, dropped", conn->peer,
			  pdu_opcode_name(pdu_opcode(bhs)), get_be32(bhs + ISCSI_OFF_CMDSN));
		return false;
	}
	return false;
}
