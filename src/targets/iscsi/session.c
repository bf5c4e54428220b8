/* Sessions: the registry (TSIH allocation, lookup by initiator name and
 * ISID for reinstatement), the I_T nexus with the core, and the CmdSN
 * window (RFC 7143 4.2.2.1). */
#include <assert.h>
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

/* Messages of reinstatement, allocated before the login commits to them
 * so that sending cannot fail: the close of an old session (by TSIH: it
 * may be gone by the time the message runs), and the note a freed old
 * session sends the login waiting for it. */
struct reinstate_msg {
	struct reactor_msg msg;
	uint16_t tsih;
};

struct successor_note {
	struct reactor_msg msg;
	struct iscsi_conn *conn;
};

/* Runs on the old session's reactor: close it if it is still there. */
static void reinstate_close(struct reactor_msg *m)
{
	struct reinstate_msg *rm = container_of(m, struct reinstate_msg, msg);
	uint16_t tsih = rm->tsih;
	struct iscsi_conn *conn = NULL;
	free(rm);
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

static void predecessor_gone(struct reactor_msg *m)
{
	struct successor_note *note = container_of(m, struct successor_note, msg);
	struct iscsi_conn *conn = note->conn;
	free(note);
	iscsi_login_predecessor_gone(conn);
}

static void free_session(struct iscsi_session *sess)
{
	pthread_mutex_lock(&sessions_lock);
	list_del(&sess->registry_entry);
	struct successor_note *note = sess->successor_note;
	struct reactor *successor_reactor = sess->successor_reactor;
	if (note)
		note->conn = sess->successor;
	pthread_mutex_unlock(&sessions_lock);
	if (note)
		reactor_send(successor_reactor, &note->msg, predecessor_gone);
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
	struct reinstate_msg *close_msg[16];
	struct successor_note *notes[16];
	struct reactor *stale_reactor[16];
	unsigned nstale = 0;
	struct iscsi_session *s;
	bool ok = true;
	pthread_mutex_lock(&sessions_lock);
	/* Sessions still draining their commands (their connection already
	 * gone) count too: they are what the new session must not overtake. */
	list_for_each_entry(s, &sessions, registry_entry) {
		if (!is_predecessor(s, conn, initiator, isid, discovery))
			continue;
		if (s->successor || nstale == 16) {
			ok = false;
			break;
		}
		close_msg[nstale] = malloc(sizeof(*close_msg[nstale]));
		notes[nstale] = malloc(sizeof(*notes[nstale]));
		stale_reactor[nstale] = s->reactor;
		if (!close_msg[nstale] || !notes[nstale]) {
			free(close_msg[nstale]);
			free(notes[nstale]);
			ok = false;
			break;
		}
		close_msg[nstale++]->tsih = s->tsih;
	}
	if (!ok) {
		pthread_mutex_unlock(&sessions_lock);
		for (unsigned i = 0; i < nstale; i++) {
			free(close_msg[i]);
			free(notes[i]);
		}
		return -1;
	}
	unsigned i = 0;
	list_for_each_entry(s, &sessions, registry_entry) {
		if (!is_predecessor(s, conn, initiator, isid, discovery))
			continue;
		s->successor = conn;
		s->successor_reactor = conn->reactor;
		s->successor_note = notes[i++];
		iscsi_conn_get(conn);
	}
	pthread_mutex_unlock(&sessions_lock);
	for (i = 0; i < nstale; i++) {
		log_info_rl("iSCSI: %s (%s): reinstating session %u", conn->peer, initiator,
			    close_msg[i]->tsih);
		reactor_send(stale_reactor[i], &close_msg[i]->msg, reinstate_close);
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
	sess->max_cmd_sn = exp_cmd_sn + sess->window - 1; /* as the login response says */
	list_init(&sess->pending);

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
static void session_unregister(struct reactor_msg *m)
{
	struct iscsi_session *sess = container_of(m, struct iscsi_session, close_msg);
	if (sess->scst) {
		if (sess->nexus_lost)
			scst_session_nexus_lost(sess->scst);
		scst_unregister_session(sess->scst, unreg_done);
	}
	else
		free_session(sess);
}

void iscsi_session_close(struct iscsi_session *sess)
{
	assert(reactor_self() == sess->reactor && sess->conn);
	assert(list_empty(&sess->pending));
	/* Only a logout ends the I_T nexus in order; a dropped connection,
	 * a reinstatement or a shutdown loses it. */
	sess->nexus_lost = sess->conn->phase != CONN_LOGGED_OUT;
	sess->conn = NULL;
	reactor_send(sess->reactor, &sess->close_msg, session_unregister);
}

void iscsi_session_forget_successor(struct iscsi_conn *conn)
{
	struct iscsi_session *s;
	unsigned dropped = 0;
	pthread_mutex_lock(&sessions_lock);
	list_for_each_entry(s, &sessions, registry_entry) {
		if (s->successor == conn) {
			s->successor = NULL;
			s->successor_reactor = NULL;
			free(s->successor_note);
			s->successor_note = NULL;
			dropped++;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
	/* The references iscsi_session_reinstate() took; a predecessor freed
	 * meanwhile has already posted its own (it found conn under the
	 * lock), so each reference is dropped exactly once. */
	while (dropped--)
		iscsi_conn_put(conn);
}

/* ------------------------------------------------------------------ */
/* The CmdSN window and the requests waiting in it (RFC 7143 4.2.2.1). */

uint32_t iscsi_session_max_cmd_sn(struct iscsi_session *sess)
{
	/* A held command keeps its CmdSN slot; one that is due has left the
	 * slot behind (ExpCmdSN moved) but still uses the target's room
	 * until it is freed, and so do immediate ones. */
	int64_t room = (int64_t)sess->window - (int64_t)sess->cmds_due;
	uint32_t max = sess->exp_cmd_sn + (uint32_t)(room > 0 ? room : 0) - 1;
	if (sn_lt(sess->max_cmd_sn, max))
		sess->max_cmd_sn = max;
	return sess->max_cmd_sn;
}

enum iscsi_cmdsn_check iscsi_session_check_cmdsn(const struct iscsi_session *sess,
						 uint32_t cmd_sn)
{
	/* [ExpCmdSN, MaxCmdSN], empty when the window is closed (MaxCmdSN =
	 * ExpCmdSN - 1): then even a command numbered ExpCmdSN is outside. */
	if (!sn_le(cmd_sn, sess->max_cmd_sn))
		return CMDSN_OUTSIDE;
	if (cmd_sn == sess->exp_cmd_sn)
		return CMDSN_DUE;
	if (sn_lt(sess->exp_cmd_sn, cmd_sn))
		return CMDSN_LATER;
	return CMDSN_OUTSIDE;
}

struct iscsi_pending *iscsi_session_find_pending(struct iscsi_session *sess, uint32_t cmd_sn)
{
	struct iscsi_pending *p;
	list_for_each_entry(p, &sess->pending, entry)
		if (p->cmd_sn == cmd_sn)
			return p;
	return NULL;
}

void iscsi_session_hold(struct iscsi_session *sess, struct iscsi_pending *p)
{
	assert(!iscsi_session_find_pending(sess, p->cmd_sn));
	assert(iscsi_session_check_cmdsn(sess, p->cmd_sn) == CMDSN_LATER);
	p->ticks = 0;
	list_add_tail(&p->entry, &sess->pending);
}

int iscsi_session_void_cmdsn(struct iscsi_session *sess, uint32_t cmd_sn)
{
	struct iscsi_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->cmd_sn = cmd_sn;
	p->kind = PENDING_VOID;
	iscsi_session_hold(sess, p);
	return 0;
}

unsigned iscsi_session_pending_tick(struct iscsi_session *sess)
{
	struct iscsi_pending *p;
	unsigned oldest = 0;
	list_for_each_entry(p, &sess->pending, entry)
		if (++p->ticks > oldest)
			oldest = p->ticks;
	return oldest;
}

static void free_pending(struct iscsi_pending *p)
{
	assert(p->kind != PENDING_SCSI);
	free(p->req.data);
	free(p);
}

void iscsi_session_drop_pending(struct iscsi_session *sess)
{
	struct iscsi_pending *p, *tmp;
	list_for_each_entry_safe(p, tmp, &sess->pending, entry) {
		if (p->kind == PENDING_SCSI)
			continue; /* its command's close removes it */
		list_del(&p->entry);
		free_pending(p);
	}
}

/* A non-SCSI request whose turn has come. */
static void run_request(struct iscsi_conn *conn, struct iscsi_req *req)
{
	switch (pdu_opcode(req->bhs)) {
	case ISCSI_OP_NOP_OUT:
		iscsi_nop_out_rx(conn, req);
		break;
	case ISCSI_OP_TEXT_REQ:
		iscsi_text_rx(conn, req);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		iscsi_logout_rx(conn, req);
		break;
	case ISCSI_OP_TMF_REQ:
		/* A task whose response is queued has completed, and must
		 * be seen as gone (Task does not exist) rather than aborted
		 * while its status still goes out. */
		iscsi_conn_flush_now(conn);
		if (!conn->closed)
			iscsi_tmf_rx(conn, req);
		break;
	default:
		assert(!"not a request that takes a CmdSN");
	}
}

/* Runs what has become due, in CmdSN order, as long as the connection is
 * in the full feature phase (a Logout that ran ends it). */
void iscsi_session_run_due(struct iscsi_session *sess)
{
	for (;;) {
		struct iscsi_conn *conn = sess->conn;
		if (!conn || conn->closed || conn->phase != CONN_FULL_FEATURE)
			return;
		struct iscsi_pending *p = iscsi_session_find_pending(sess, sess->exp_cmd_sn);
		if (!p)
			return;
		list_del(&p->entry);
		sess->exp_cmd_sn++;
		switch (p->kind) {
		case PENDING_SCSI: {
			struct iscsi_cmd *icmd = container_of(p, struct iscsi_cmd, pend);
			icmd->held = false;
			iscsi_cmd_due(icmd);
			break;
		}
		case PENDING_REQUEST:
			run_request(conn, &p->req);
			free_pending(p);
			break;
		case PENDING_VOID:
			free_pending(p);
			break;
		}
	}
}

void iscsi_session_rx_request(struct iscsi_conn *conn, struct iscsi_req *req)
{
	struct iscsi_session *sess = conn->sess;
	const uint8_t *bhs = req->bhs;
	uint32_t cmd_sn = get_be32(bhs + ISCSI_OFF_CMDSN);
	/* A NOP-Out answering our ping (ITT 0xffffffff) is immediate by
	 * definition (RFC 7143 11.18). */
	bool immediate = pdu_immediate(bhs) || (pdu_opcode(bhs) == ISCSI_OP_NOP_OUT &&
						 pdu_itt(bhs) == ISCSI_RESERVED_TAG);
	if (immediate) {
		run_request(conn, req);
		return;
	}
	switch (iscsi_session_check_cmdsn(sess, cmd_sn)) {
	case CMDSN_DUE:
		sess->exp_cmd_sn++;
		run_request(conn, req);
		iscsi_session_run_due(sess);
		return;
	case CMDSN_LATER: {
		struct iscsi_pending *dup = iscsi_session_find_pending(sess, cmd_sn);
		if (dup) {
			/* A number the initiator already used: a command the TMF
			 * declared received is dropped; anything else is a
			 * protocol error (RFC 7143 4.2.2.1). */
			if (dup->kind != PENDING_VOID)
				iscsi_conn_reject_bhs(conn, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
			return;
		}
		struct iscsi_pending *p = calloc(1, sizeof(*p));
		if (!p) {
			iscsi_conn_close(conn, "out of memory");
			return;
		}
		p->cmd_sn = cmd_sn;
		p->kind = PENDING_REQUEST;
		memcpy(p->req.bhs, bhs, ISCSI_BHS_LEN);
		p->req.data = req->data;
		p->req.data_len = req->data_len;
		req->data = NULL;
		iscsi_session_hold(sess, p);
		log_debug("iSCSI: %s: %s CmdSN %u waits for %u", conn->peer,
			  pdu_opcode_name(pdu_opcode(bhs)), cmd_sn, sess->exp_cmd_sn);
		return;
	}
	case CMDSN_OUTSIDE:
		log_debug("iSCSI: %s: %s CmdSN %u outside [%u, %u], dropped", conn->peer,
			  pdu_opcode_name(pdu_opcode(bhs)), cmd_sn, sess->exp_cmd_sn,
			  sess->max_cmd_sn);
		return;
	}
}
