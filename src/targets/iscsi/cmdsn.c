/* The session's CmdSN window and its one ordered queue (RFC 7143
 * 4.2.2.1): every PDU that carries a CmdSN, SCSI command or not, is
 * admitted here from its header, and once whole runs when its number is
 * ExpCmdSN, waits when it is ahead, or is dropped outside the window.
 * This file alone moves ExpCmdSN and MaxCmdSN. */
#include <assert.h>
#include <stdlib.h>

#include "base/log.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/session.h"

void iscsi_session_window_init(struct iscsi_session *sess, uint32_t exp_cmd_sn, uint32_t window)
{
	sess->exp_cmd_sn = exp_cmd_sn;
	sess->window = window;
	sess->max_cmd_sn = exp_cmd_sn + window - 1; /* as the login response says */
	list_init(&sess->pending);
}

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

void iscsi_session_stamp_cmdsn(struct iscsi_session *sess, uint8_t *bhs)
{
	put_be32(bhs + ISCSI_OFF_EXPCMDSN, sess->exp_cmd_sn);
	put_be32(bhs + ISCSI_OFF_MAXCMDSN, iscsi_session_max_cmd_sn(sess));
}

void iscsi_session_window_take(struct iscsi_session *sess)
{
	sess->cmds_due++;
}

void iscsi_session_window_release(struct iscsi_session *sess)
{
	assert(sess->cmds_due > 0);
	sess->cmds_due--;
}

bool iscsi_session_cmdsn_in_window(const struct iscsi_session *sess, uint32_t cmd_sn)
{
	return sn_le(sess->exp_cmd_sn, cmd_sn) && sn_le(cmd_sn, sess->max_cmd_sn);
}

static struct iscsi_pending *find_held(const struct iscsi_session *sess, uint32_t cmd_sn)
{
	struct iscsi_pending *p;
	list_for_each_entry(p, &sess->pending, entry)
		if (p->cmd_sn == cmd_sn)
			return p;
	return NULL;
}

bool iscsi_session_cmdsn_held(const struct iscsi_session *sess, uint32_t cmd_sn)
{
	return find_held(sess, cmd_sn) != NULL;
}

enum iscsi_cmdsn_admit iscsi_session_admit(const struct iscsi_session *sess,
					   const uint8_t *bhs)
{
	/* A NOP-Out answering our ping (ITT 0xffffffff) is immediate by
	 * definition (RFC 7143 11.18). */
	if (pdu_immediate(bhs) ||
	    (pdu_opcode(bhs) == ISCSI_OP_NOP_OUT && pdu_itt(bhs) == ISCSI_RESERVED_TAG))
		return CMDSN_IMMEDIATE;
	uint32_t cmd_sn = get_be32(bhs + ISCSI_OFF_CMDSN);
	/* [ExpCmdSN, MaxCmdSN], empty when the window is closed (MaxCmdSN =
	 * ExpCmdSN - 1): then even a command numbered ExpCmdSN is outside. */
	if (!sn_le(cmd_sn, sess->max_cmd_sn) || sn_lt(cmd_sn, sess->exp_cmd_sn))
		return CMDSN_OUTSIDE;
	if (cmd_sn == sess->exp_cmd_sn)
		return CMDSN_DUE;
	const struct iscsi_pending *dup = find_held(sess, cmd_sn);
	/* A number the initiator already used: a command a TMF declared
	 * received is dropped; anything else is a protocol error (RFC 7143
	 * 4.2.2.1). */
	if (dup)
		return dup->ops ? CMDSN_TAKEN : CMDSN_CONSUMED;
	return CMDSN_LATER;
}

static void hold(struct iscsi_session *sess, struct iscsi_pending *p)
{
	assert(!find_held(sess, p->cmd_sn));
	assert(sn_lt(sess->exp_cmd_sn, p->cmd_sn) && sn_le(p->cmd_sn, sess->max_cmd_sn));
	p->ticks = 0;
	list_add_tail(&p->entry, &sess->pending);
}

/* Runs what has become due, in CmdSN order. A PDU whose connection has
 * left the full feature phase (a Logout on it ran) does not run: it waits,
 * and its connection's close ends it. */
static void run_due(struct iscsi_session *sess)
{
	for (;;) {
		struct iscsi_pending *p = find_held(sess, sess->exp_cmd_sn);
		if (!p)
			return;
		const struct iscsi_conn *conn = p->ops ? p->ops->conn(p) : NULL;
		if (conn && (conn->closed || conn->phase != CONN_FULL_FEATURE))
			return;
		list_del(&p->entry);
		list_init(&p->entry);
		sess->exp_cmd_sn++;
		if (p->ops)
			p->ops->due(p);
		else
			free(p);
	}
}

enum iscsi_order iscsi_session_order(struct iscsi_session *sess, struct iscsi_pending *p,
				     bool immediate)
{
	assert(reactor_self() == sess->reactor && p->ops && p->ops->due && p->ops->conn);
	if (immediate) {
		p->ops->due(p);
		return ORDER_RAN;
	}
	if (p->cmd_sn == sess->exp_cmd_sn) {
		/* ExpCmdSN moves first: a response sent while it runs must
		 * already acknowledge it. */
		sess->exp_cmd_sn++;
		p->ops->due(p);
		run_due(sess);
		return ORDER_RAN;
	}
	/* Judged again: with several connections, another's PDU may have
	 * taken the number while this one's data segment arrived. */
	if (!sn_lt(sess->exp_cmd_sn, p->cmd_sn) || !sn_le(p->cmd_sn, sess->max_cmd_sn) ||
	    find_held(sess, p->cmd_sn))
		return ORDER_REFUSED;
	hold(sess, p);
	log_debug("iSCSI: session %u: CmdSN %u waits for %u", sess->tsih, p->cmd_sn,
		  sess->exp_cmd_sn);
	return ORDER_HELD;
}

int iscsi_session_consume_cmdsn(struct iscsi_session *sess, uint32_t cmd_sn)
{
	if (cmd_sn == sess->exp_cmd_sn) {
		sess->exp_cmd_sn++;
		run_due(sess);
		return 0;
	}
	struct iscsi_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->cmd_sn = cmd_sn;
	hold(sess, p);
	return 0;
}

void iscsi_session_unhold(struct iscsi_session *sess, struct iscsi_pending *p)
{
	assert(find_held(sess, p->cmd_sn) == p);
	(void)sess;
	list_del(&p->entry);
	list_init(&p->entry);
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

void iscsi_session_drop_pending(struct iscsi_session *sess, const struct iscsi_conn *conn)
{
	/* With the last connection gone nothing will come to fill a gap:
	 * the consumed numbers go too. Otherwise the discarded requests'
	 * numbers stay taken, as consumed ones: they did arrive, and the
	 * other connections' commands behind them must not wait for them. */
	bool last = sess->nconns == 0;
	struct iscsi_pending *p, *tmp;
	list_for_each_entry_safe(p, tmp, &sess->pending, entry) {
		if (p->ops && p->ops->discard && p->ops->conn(p) == conn) {
			list_del(&p->entry);
			list_init(&p->entry);
			if (last) {
				p->ops->discard(p);
				continue;
			}
			/* Its place, as a consumed number: the entry itself is
			 * reused neither way, so a new one is linked where it was
			 * (no allocation failure can open a gap: on failure the
			 * gap timeout ends the session). */
			struct iscsi_pending *num = calloc(1, sizeof(*num));
			uint32_t sn = p->cmd_sn;
			p->ops->discard(p);
			if (num) {
				num->cmd_sn = sn;
				list_add_tail(&num->entry, &tmp->entry);
			}
		} else if (!p->ops && last) {
			list_del(&p->entry);
			free(p);
		}
	}
	if (!last)
		run_due(sess);
}
