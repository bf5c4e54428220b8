/* SCSI commands: the SCSI Command PDU (immediate data straight into the
 * command's buffer), unsolicited and solicited Data-Out (R2T honouring
 * MaxOutstandingR2T and MaxBurstLength, DataSN and offsets checked, the
 * recovery R2T at ERL 1), the core's callbacks, and a command's end when
 * its connection closes or fails (ERL 2). The way back, Data-In and the
 * SCSI Response, is built in cmd_response.c. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"

/* RFC 7143 11.4.7.2: the iSCSI condition "Protocol Service CRC error" is
 * reported as ABORTED COMMAND, CRC ERROR DETECTED (SPC-4: 47h/05h). */

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

struct iscsi_cmd *iscsi_cmd_find(struct iscsi_session *sess, uint32_t itt)
{
	struct iscsi_task *t = iscsi_session_find_task(sess, itt);
	return t ? container_of(t, struct iscsi_cmd, task) : NULL;
}

static enum scst_task_attr task_attr(uint8_t attr)
{
	switch (attr) {
	case 2:
		return SCST_TASK_ORDERED;
	case 3:
		return SCST_TASK_HEAD_OF_QUEUE;
	case 4:
		return SCST_TASK_ACA;
	default: /* 0 untagged, 1 simple */
		return SCST_TASK_SIMPLE;
	}
}

/* CDB from the BHS and, past 16 bytes, the Extended CDB AHS (type 1). */
static int read_cdb(const struct iscsi_rx *rx, uint8_t *cdb, unsigned *cdb_len)
{
	memcpy(cdb, rx->bhs + ISCSI_OFF_CDB, ISCSI_CDB_IN_BHS);
	*cdb_len = ISCSI_CDB_IN_BHS;
	uint32_t ahs_total = pdu_ahs_len(rx->bhs), pos = 0;
	while (pos + 4 <= ahs_total) {
		uint16_t len = get_be16(rx->ahs + pos);
		uint8_t type = rx->ahs[pos + 2];
		if (pos + 3 + (uint32_t)len > ahs_total)
			return -1;
		if (type == 1) {
			/* The length counts the reserved byte before the CDB. */
			if (len < 1 || ISCSI_CDB_IN_BHS + (unsigned)len - 1 > SCSI_MAX_CDB_LEN)
				return -1;
			memcpy(cdb + ISCSI_CDB_IN_BHS, rx->ahs + pos + 4, len - 1u);
			*cdb_len = ISCSI_CDB_IN_BHS + len - 1u;
		}
		pos += (3 + (uint32_t)len + 3) & ~3u;
	}
	return 0;
}

/* Data buffers a session's commands may hold at once, beyond the first
 * (which always starts): a peer sending many large READs and never
 * reading the answers makes the rest wait, in order, instead of making the
 * daemon allocate for all of them. 32 MiB holds the default QueuedCommands
 * window (32) of 1 MiB commands, so a well-behaved initiator streaming
 * large transfers is not slowed by it. */
#define SESSION_DATA_BUDGET (32u << 20)

/* Why a SCSI Command PDU is unacceptable, or 0. */
static uint8_t check_cmd_pdu(const struct iscsi_conn *conn)
{
	const uint8_t *bhs = conn->rx.bhs;
	bool r = bhs[1] & ISCSI_CMD_FLAG_READ, w = bhs[1] & ISCSI_CMD_FLAG_WRITE;
	bool final = pdu_final(bhs);
	uint32_t dlen = conn->rx.data_len, edtl = get_be32(bhs + ISCSI_OFF_EDTL);
	const struct iscsi_session_params *p = &conn->params;
	struct iscsi_session *sess = conn->sess;
	assert(sess && !sess->discovery); /* dispatch.c rejects it in discovery */
	if (r && w)
		return ISCSI_REJECT_CMD_NOT_SUPPORTED; /* bidirectional */
	if (dlen && (!w || !p->immediate_data || dlen > edtl || dlen > p->first_burst))
		return ISCSI_REJECT_PROTOCOL_ERROR;
	/* F clear announces unsolicited Data-Out, allowed only with
	 * InitialR2T=No and only for as much as the command has. */
	if (!final && (!w || p->initial_r2t || dlen >= min_u32(edtl, p->first_burst)))
		return ISCSI_REJECT_PROTOCOL_ERROR;
	if (iscsi_cmd_find(sess, pdu_itt(bhs)))
		return ISCSI_REJECT_TASK_IN_PROGRESS;
	/* Immediate commands take no CmdSN slot but room all the same: one
	 * more than the window holds is refused (RFC 7143 11.17.1). */
	if (pdu_immediate(bhs) && sess->ntasks >= sess->window)
		return ISCSI_REJECT_IMMEDIATE_CMD;
	return 0;
}

static bool budget_fits(const struct iscsi_session *sess, uint32_t len)
{
	return sess->data_budget_used == 0 || sess->data_budget_used + len <= SESSION_DATA_BUDGET;
}

/* Whether @icmd, due, may start now: nothing due before it is waiting for
 * budget (commands start in order) and its buffer fits. */
static bool may_start_now(const struct iscsi_cmd *icmd)
{
	const struct iscsi_session *sess = icmd->sess;
	if (icmd->budget)
		return true;
	if (!list_empty(&sess->budget_waiting) &&
	    list_first_entry(&sess->budget_waiting, struct iscsi_cmd, budget_entry) != icmd)
		return false;
	return budget_fits(sess, icmd->scst->bufflen);
}

static void take_budget(struct iscsi_cmd *icmd)
{
	if (icmd->budget)
		return;
	/* At least one byte, so that a command without data still counts
	 * as holding its place. */
	icmd->budget = icmd->scst->bufflen ? icmd->scst->bufflen : 1;
	icmd->sess->data_budget_used += icmd->budget;
}

static void cmd_due(struct iscsi_cmd *icmd);
static void abandon_unstarted(struct iscsi_cmd *icmd);

/* The session's ordered queue runs the command: its CmdSN has come (or it
 * is immediate). One aborted while its PDU was still arriving takes its
 * number as usual but never runs. */
static void cmd_cmdsn_due(struct iscsi_pending *p)
{
	struct iscsi_cmd *icmd = container_of(p, struct iscsi_cmd, pend);
	icmd->held = false;
	if (icmd->abort_pending)
		abandon_unstarted(icmd);
	else
		cmd_due(icmd);
}

/* Its allegiance, which TASK REASSIGN may move while it waits. */
static struct iscsi_conn *cmd_pending_conn(const struct iscsi_pending *p)
{
	return container_of(p, const struct iscsi_cmd, pend)->conn;
}

/* A command waiting for its CmdSN ends through its connection's close
 * (iscsi_cmds_conn_closed), so it has no discard. */
static const struct iscsi_pending_ops cmd_pending_ops = {
	.due = cmd_cmdsn_due,
	.conn = cmd_pending_conn,
};

int iscsi_cmd_rx_header(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	const uint8_t *bhs = rx->bhs;
	struct iscsi_session *sess = conn->sess;
	uint32_t cmd_sn = get_be32(bhs + ISCSI_OFF_CMDSN);
	enum iscsi_cmdsn_admit admit = iscsi_session_admit(sess, bhs);
	bool immediate = admit == CMDSN_IMMEDIATE;
	if (admit == CMDSN_OUTSIDE || admit == CMDSN_CONSUMED) {
		/* Outside the window, or a command a task management function
		 * declared received and aborted before it came (RFC 7143
		 * 11.5.1 b). */
		log_debug("iSCSI: %s: command CmdSN %u %s, dropped", conn->peer, cmd_sn,
			  admit == CMDSN_OUTSIDE ? "outside the window" : "already consumed");
		rx->drop = true;
		return 0;
	}
	rx->reject = check_cmd_pdu(conn);
	if (!rx->reject && admit == CMDSN_TAKEN)
		rx->reject = ISCSI_REJECT_PROTOCOL_ERROR;
	uint8_t cdb[SCSI_MAX_CDB_LEN] = { 0 };
	unsigned cdb_len;
	if (!rx->reject && read_cdb(rx, cdb, &cdb_len) < 0)
		rx->reject = ISCSI_REJECT_INVALID_PDU_FIELD;
	if (rx->reject)
		return 0;

	struct iscsi_cmd *icmd = calloc(1, sizeof(*icmd));
	if (!icmd) {
		iscsi_conn_close(conn, "out of memory");
		return -1;
	}
	icmd->task.itt = pdu_itt(bhs);
	icmd->immediate = immediate;
	icmd->read = bhs[1] & ISCSI_CMD_FLAG_READ;
	icmd->write = bhs[1] & ISCSI_CMD_FLAG_WRITE;
	icmd->edtl = get_be32(bhs + ISCSI_OFF_EDTL);
	enum scst_data_dir dir = icmd->read ? SCST_DATA_READ
				 : icmd->write ? SCST_DATA_WRITE : SCST_DATA_NONE;
	struct scst_cmd *cmd = scst_rx_cmd(sess->scst, pdu_lun_decode(bhs + ISCSI_OFF_LUN), cdb,
					   cdb_len, icmd->task.itt, task_attr(bhs[1] & ISCSI_CMD_ATTR_MASK),
					   dir, icmd->edtl);
	if (!cmd) {
		free(icmd);
		iscsi_conn_close(conn, "out of memory");
		return -1;
	}
	icmd->scst = cmd;
	icmd->conn = conn;
	icmd->sess = sess;
	iscsi_conn_get(conn);
	list_init(&icmd->pend.entry);
	list_init(&icmd->budget_entry);
	icmd->pend.ops = &cmd_pending_ops;
	icmd->pend.cmd_sn = cmd_sn;
	iscsi_session_add_task(sess, &icmd->task);
	cmd->tgt_priv = icmd;
	scst_cmd_prepare(cmd);

	rx->cmd = icmd;
	/* Nothing comes before the command starts unless it has immediate
	 * data or announces unsolicited Data-Out (F clear). */
	if (cmd->data_dir != SCST_DATA_WRITE || cmd->bufflen == 0 ||
	    (!rx->data_len && pdu_final(bhs)))
		return 0;
	/* Immediate data: straight into the command's buffer when it can
	 * start as soon as the PDU is in; else (it waits for its CmdSN or
	 * for budget) into a buffer of its own, no larger than the data
	 * that may come before it starts (immediate and unsolicited). */
	if ((immediate || admit == CMDSN_DUE) && may_start_now(icmd)) {
		take_budget(icmd);
		scst_cmd_alloc_space(cmd);
		if (cmd->buf) {
			rx->dst = cmd->buf;
			rx->dst_len = min_u32(rx->data_len, cmd->bufflen);
		}
		return 0;
	}
	uint32_t early = pdu_final(bhs) ? rx->data_len
					: min_u32(icmd->edtl, conn->params.first_burst);
	icmd->stash_cap = min_u32(min_u32(early, cmd->bufflen), conn->params.first_burst);
	icmd->stash = malloc(icmd->stash_cap ? icmd->stash_cap : 1);
	if (!icmd->stash) {
		iscsi_conn_close(conn, "out of memory");
		return -1;
	}
	rx->dst = icmd->stash;
	rx->dst_len = min_u32(rx->data_len, icmd->stash_cap);
	return 0;
}

/* Moves what arrived early into the command's buffer. */
static void unstash(struct iscsi_cmd *icmd)
{
	struct scst_cmd *cmd = icmd->scst;
	if (!icmd->stash)
		return;
	if (cmd->buf && !icmd->data_failed && !icmd->digest_failed) {
		uint32_t n = min_u32(min_u32(icmd->recv_off, icmd->stash_cap), cmd->bufflen);
		memcpy(cmd->buf, icmd->stash, n);
		cmd->data_received = n;
	}
	free(icmd->stash);
	icmd->stash = NULL;
	icmd->stash_cap = 0;
}

/* Starts the command once its CmdSN has come, its unsolicited data is in
 * and its buffer fits the budget. May complete (and free) it before
 * returning. */
static void start_if_ready(struct iscsi_cmd *icmd)
{
	if (!icmd->cmdsn_ok || icmd->unsol_pending || icmd->started)
		return;
	if (!may_start_now(icmd)) {
		if (list_empty(&icmd->budget_entry))
			list_add_tail(&icmd->budget_entry, &icmd->sess->budget_waiting);
		return;
	}
	list_del(&icmd->budget_entry); /* a no-op unless it waited */
	take_budget(icmd);
	scst_cmd_alloc_space(icmd->scst);
	unstash(icmd);
	icmd->started = true;
	scst_cmd_start(icmd->scst);
}

static void cmd_due(struct iscsi_cmd *icmd)
{
	assert(!icmd->held && !icmd->started);
	icmd->cmdsn_ok = true;
	icmd->in_window = true;
	iscsi_session_window_take(icmd->sess);
	start_if_ready(icmd);
}

/* The command no longer takes room in the window: its status is about to
 * be queued (so the MaxCmdSN that PDU carries already counts it out:
 * with QueuedCommands 1 the window would otherwise stay shut), or it ends
 * without one. */
static void leave_window(struct iscsi_cmd *icmd)
{
	if (!icmd->in_window)
		return;
	icmd->in_window = false;
	iscsi_session_window_release(icmd->sess);
}

/* Runs after the batch in which buffers were released: starts the
 * commands waiting for budget, in order, as far as it goes. The session
 * cannot go away under it: free_session() cancels it, and a session is
 * freed only from a message posted after its last connection's close. */
static void budget_drain(struct reactor_deferred *d)
{
	struct iscsi_session *sess = container_of(d, struct iscsi_session, budget_drain);
	while (!sess->closing && !list_empty(&sess->budget_waiting)) {
		struct iscsi_cmd *icmd =
			list_first_entry(&sess->budget_waiting, struct iscsi_cmd, budget_entry);
		if (!budget_fits(sess, icmd->scst->bufflen))
			break;
		iscsi_conn_get(icmd->conn);
		struct iscsi_conn *conn = icmd->conn;
		start_if_ready(icmd);
		iscsi_conn_flush_soon(conn);
		iscsi_conn_put(conn);
	}
}

static void release_budget(struct iscsi_cmd *icmd)
{
	struct iscsi_session *sess = icmd->sess;
	if (!icmd->budget)
		return;
	assert(sess->data_budget_used >= icmd->budget);
	sess->data_budget_used -= icmd->budget;
	icmd->budget = 0;
	if (!list_empty(&sess->budget_waiting) && !sess->budget_drain.queued && !sess->closing) {
		sess->budget_drain.fn = budget_drain;
		reactor_defer(sess->reactor, &sess->budget_drain);
	}
}

static void note_received(struct iscsi_cmd *icmd)
{
	struct scst_cmd *cmd = icmd->scst;
	if (cmd->buf && !icmd->data_failed && !icmd->digest_failed &&
	    cmd->data_dir == SCST_DATA_WRITE)
		cmd->data_received = min_u32(icmd->recv_off, cmd->bufflen);
}

/* The driver lets go of a command it never started: aborted while
 * waiting for its CmdSN or budget, or its connection is gone. A held
 * command leaves its CmdSN behind, consumed (the number must still be
 * passed when it comes). Frees icmd. */
static void abandon_unstarted(struct iscsi_cmd *icmd)
{
	struct iscsi_conn *conn = icmd->conn;
	assert(!icmd->started);
	if (icmd->held) {
		iscsi_session_unhold(icmd->sess, &icmd->pend);
		icmd->held = false;
		/* Even when its connection is closing: the number did arrive,
		 * and the session's other connections go on behind it. */
		if (!icmd->sess->closing &&
		    iscsi_session_consume_cmdsn(icmd->sess, icmd->pend.cmd_sn) != 0 && !conn->closed)
			iscsi_conn_close(conn, "out of memory");
	}
	list_del(&icmd->budget_entry);
	icmd->started = true;
	scst_cmd_abandon(icmd->scst);
}

int iscsi_cmd_rx_done(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	struct iscsi_cmd *icmd = rx->cmd;
	struct iscsi_session *sess = conn->sess;
	if (!icmd)
		return 0;
	icmd->recv_off = rx->data_len;
	note_received(icmd);
	if (!pdu_final(rx->bhs)) {
		icmd->unsol_pending = true;
		icmd->unsol_end = min_u32(icmd->edtl, conn->params.first_burst);
		icmd->seq_end = icmd->unsol_end;
		icmd->exp_data_sn = 0;
	}
	/* Aborted while its PDU was still arriving: its CmdSN is taken as
	 * usual (or left consumed, if it was ahead), but it never runs. The
	 * command may be freed by any of the calls below (it can complete
	 * at once): nothing touches icmd after them. */
	bool aborted = icmd->abort_pending;
	icmd->held = !icmd->immediate; /* until cmd_cmdsn_due() */
	switch (iscsi_session_order(sess, &icmd->pend, icmd->immediate)) {
	case ORDER_RAN:
		break;
	case ORDER_HELD:
		if (aborted)
			abandon_unstarted(icmd);
		break;
	case ORDER_REFUSED:
		/* Its CmdSN went to another PDU meanwhile: a protocol error,
		 * answered as a duplicate number is at its header. */
		icmd->held = false;
		icmd->discarded = true;
		abandon_unstarted(icmd);
		iscsi_conn_reject(conn, ISCSI_REJECT_PROTOCOL_ERROR);
		break;
	}
	return conn->closed ? -1 : 0;
}

int iscsi_cmd_rx_digest_error(struct iscsi_conn *conn)
{
	struct iscsi_cmd *icmd = conn->rx.cmd;
	/* Its CmdSN is not taken: the initiator's retry (same ITT and
	 * CmdSN) is the command. The core ends this instance at once,
	 * without executing it and without a response. */
	icmd->discarded = true;
	abandon_unstarted(icmd);
	return conn->closed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Data-Out. */

static void finish_data(struct iscsi_cmd *icmd, bool ok)
{
	icmd->waiting_data = false;
	icmd->abort_pending = false;
	/* A data digest error is the iSCSI condition Protocol Service CRC
	 * error (RFC 7143 11.4.7.2), not a generic data phase error. */
	if (!ok && icmd->digest_failed)
		scst_set_cmd_error_asc(icmd->scst, SK_ABORTED_COMMAND, ASC_PROTOCOL_SERVICE_CRC_ERROR);
	scst_rx_data(icmd->scst, ok);
}

/* A Data-Out out of sequence (DataSN, offset, burst): the command fails
 * with DATA PHASE ERROR, its remaining data is dropped as it arrives, and
 * the connection, and every other command on it, carries on. */
static int data_out_error(struct iscsi_conn *conn, struct iscsi_cmd *icmd, const char *what)
{
	const uint8_t *bhs = conn->rx.bhs;
	log_warn_rl("iSCSI: %s (%s): Data-Out for ITT 0x%x: %s (DataSN %u, expected %u; offset %u, "
		 "expected %u): failing the command",
		 conn->peer, iscsi_conn_initiator(conn), icmd->task.itt, what,
		 get_be32(bhs + ISCSI_OFF_DATASN), icmd->exp_data_sn,
		 get_be32(bhs + ISCSI_OFF_BUFFER_OFFSET), icmd->recv_off);
	conn->rx.drop = true;
	icmd->data_failed = true;
	/* Nothing counts as received, so the core asks us for the data
	 * (rdy_to_xfer) and we answer with the failure. */
	icmd->scst->data_received = 0;
	if (icmd->waiting_data) {
		finish_data(icmd, false);
	} else {
		icmd->unsol_pending = false;
		start_if_ready(icmd);
	}
	iscsi_conn_flush_soon(conn);
	return conn->closed ? -1 : 0;
}

int iscsi_data_out_rx_header(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	const uint8_t *bhs = rx->bhs;
	uint32_t ttt = get_be32(bhs + ISCSI_OFF_TTT);
	uint32_t offset = get_be32(bhs + ISCSI_OFF_BUFFER_OFFSET);
	struct iscsi_cmd *icmd = iscsi_cmd_find(conn->sess, pdu_itt(bhs));
	bool unsolicited = ttt == ISCSI_RESERVED_TAG;

	/* Data for a command that is gone or no longer wants it (aborted,
	 * failed) is read and dropped; so is data on another connection than
	 * the command's (connection allegiance, RFC 7143 4.2.3). */
	if (!icmd || icmd->conn != conn || (unsolicited ? !icmd->unsol_pending
				  : (!icmd->waiting_data || ttt != icmd->ttt)) ||
	    icmd->abort_pending) {
		log_debug("iSCSI: %s: unexpected Data-Out ITT 0x%x TTT 0x%x dropped", conn->peer,
			  pdu_itt(bhs), ttt);
		rx->drop = true;
		return 0;
	}
	if (get_be32(bhs + ISCSI_OFF_DATASN) != icmd->exp_data_sn)
		return data_out_error(conn, icmd, "DataSN out of order");
	if (offset != icmd->recv_off)
		return data_out_error(conn, icmd, "buffer offset out of order");
	uint32_t end = offset + rx->data_len;
	if (end > icmd->seq_end || end < offset)
		return data_out_error(conn, icmd, "data beyond the burst");
	if (pdu_final(bhs) != (end == icmd->seq_end))
		return data_out_error(conn, icmd, "F bit does not end the burst");
	struct scst_cmd *cmd = icmd->scst;
	if (cmd->buf && cmd->data_dir == SCST_DATA_WRITE && offset < cmd->bufflen &&
	    !icmd->digest_failed) {
		rx->dst = cmd->buf + offset;
		rx->dst_len = min_u32(rx->data_len, cmd->bufflen - offset);
	} else if (icmd->stash && offset < icmd->stash_cap && !icmd->digest_failed) {
		/* Unsolicited data of a command that has not started. */
		rx->dst = icmd->stash + offset;
		rx->dst_len = min_u32(rx->data_len, icmd->stash_cap - offset);
	}
	rx->cmd = icmd;
	icmd->ticks_waiting = 0;
	return 0;
}

void iscsi_cmd_fill_r2t(const struct iscsi_cmd *icmd, struct iscsi_tx_pdu *pdu, uint32_t r2t_sn,
			uint32_t off, uint32_t len)
{
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_R2T, ISCSI_FLAG_FINAL);
	pdu_lun_encode(bhs + ISCSI_OFF_LUN, icmd->scst->lun);
	put_be32(bhs + ISCSI_OFF_ITT, icmd->task.itt);
	put_be32(bhs + ISCSI_OFF_TTT, icmd->ttt);
	put_be32(bhs + ISCSI_OFF_DATASN, r2t_sn);
	put_be32(bhs + ISCSI_OFF_BUFFER_OFFSET, off);
	put_be32(bhs + ISCSI_OFF_DESIRED_LEN, len);
}

static void send_r2ts(struct iscsi_cmd *icmd)
{
	struct iscsi_conn *conn = icmd->conn;
	const struct iscsi_session_params *p = &conn->params;
	while (icmd->r2t_outstanding < p->max_outstanding_r2t && icmd->r2t_off < icmd->want_end) {
		struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
		if (!pdu) {
			iscsi_conn_close(conn, "out of memory");
			return;
		}
		uint32_t len = min_u32(p->max_burst, icmd->want_end - icmd->r2t_off);
		iscsi_cmd_fill_r2t(icmd, pdu, icmd->r2t_sn++, icmd->r2t_off, len);
		iscsi_conn_queue(conn, pdu, TX_SN_NONE);
		icmd->r2t_off += len;
		icmd->r2t_outstanding++;
		icmd->data_sn++;
	}
}

/* The burst that just ended (its F bit is in) lost a Data-Out to a data
 * digest error at ERL 1 and up (RFC 7143 7.8, 11.8): the data from the
 * first lost PDU on is asked for again. Unsolicited data becomes the
 * first R2T's; a solicited burst gets a recovery R2T, with a new R2TSN,
 * when it is the last one asked for (DataSequenceInOrder: only the last
 * R2T may be retried). Otherwise the command fails with a CRC error as
 * at ERL 0. Returns whether the burst's end was handled here. */
static bool recover_burst(struct iscsi_cmd *icmd)
{
	struct iscsi_conn *conn = icmd->conn;
	struct cmd_recovery *r = &icmd->rec;
	r->recovering = false;
	if (get_be32(conn->rx.bhs + ISCSI_OFF_TTT) == ISCSI_RESERVED_TAG) {
		icmd->recv_off = r->recover_off;
		note_received(icmd);
		icmd->unsol_pending = false;
		log_info_rl("iSCSI: %s (%s): unsolicited data of ITT 0x%x lost from offset %u: "
			    "asking for it by R2T", conn->peer, iscsi_conn_initiator(conn),
			    icmd->task.itt, r->recover_off);
		start_if_ready(icmd);
		return true;
	}
	if (icmd->r2t_outstanding == 1 && icmd->r2t_off == icmd->seq_end) {
		icmd->r2t_outstanding = 0;
		icmd->recv_off = icmd->r2t_off = r->recover_off;
		note_received(icmd);
		icmd->seq_end = min_u32(icmd->recv_off + conn->params.max_burst, icmd->want_end);
		r->r2t_base_sn = icmd->r2t_sn;
		r->r2t_base_off = icmd->r2t_off;
		log_info_rl("iSCSI: %s (%s): Data-Out of ITT 0x%x lost from offset %u: recovery R2T "
			    "(R2TSN %u)", conn->peer, iscsi_conn_initiator(conn), icmd->task.itt,
			    r->recover_off, icmd->r2t_sn);
		send_r2ts(icmd);
		iscsi_conn_flush_soon(conn);
		return true;
	}
	icmd->digest_failed = true;
	icmd->scst->data_received = 0;
	return false;
}

int iscsi_data_out_rx_done(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	struct iscsi_cmd *icmd = rx->cmd;
	if (!icmd)
		return 0;
	icmd->recv_off += rx->data_len;
	icmd->exp_data_sn++;
	note_received(icmd);
	if (icmd->abort_pending) {
		if (icmd->started)
			finish_data(icmd, false);
		else
			abandon_unstarted(icmd);
		return conn->closed ? -1 : 0;
	}
	if (!pdu_final(rx->bhs))
		return 0;
	icmd->exp_data_sn = 0;
	if (icmd->rec.recovering && recover_burst(icmd))
		return conn->closed ? -1 : 0;
	if (get_be32(rx->bhs + ISCSI_OFF_TTT) == ISCSI_RESERVED_TAG) {
		icmd->unsol_pending = false;
		/* A failed command goes straight to its response. */
		if (icmd->digest_failed)
			scst_set_cmd_error_asc(icmd->scst, SK_ABORTED_COMMAND,
					       ASC_PROTOCOL_SERVICE_CRC_ERROR);
		start_if_ready(icmd);
		return conn->closed ? -1 : 0;
	}
	icmd->r2t_outstanding--;
	/* After a digest error no more R2Ts go out, but the response waits
	 * for the data already solicited (RFC 7143 7.8 b). */
	if (icmd->digest_failed && icmd->r2t_outstanding == 0) {
		finish_data(icmd, false);
	} else if (!icmd->digest_failed && icmd->recv_off >= icmd->want_end) {
		finish_data(icmd, true);
	} else {
		icmd->seq_end = min_u32(icmd->recv_off + conn->params.max_burst, icmd->want_end);
		if (!icmd->digest_failed)
			send_r2ts(icmd);
	}
	return conn->closed ? -1 : 0;
}

/* RFC 7143 7.8 b) (ErrorRecoveryLevel 0 has no recovery R2T): the PDU is
 * discarded but still counts for offsets, DataSN and the F bit, so the
 * rest of the data phase stays in step; the command fails with a CRC
 * error once the data already asked for has arrived, and nothing of it is
 * written. */
int iscsi_data_out_rx_digest_error(struct iscsi_conn *conn)
{
	struct iscsi_cmd *icmd = conn->rx.cmd;
	/* ERL 1 and up: the burst goes on, and is asked for again from here
	 * once it is over (cmd_recovery.c). */
	if (iscsi_conn_keeps_status(conn) && !icmd->digest_failed && !icmd->data_failed) {
		if (!icmd->rec.recovering) {
			icmd->rec.recovering = true;
			icmd->rec.recover_off = get_be32(conn->rx.bhs + ISCSI_OFF_BUFFER_OFFSET);
		}
		return iscsi_data_out_rx_done(conn);
	}
	icmd->digest_failed = true;
	/* Nothing counts as received, so the core, if it still has to start
	 * the command, asks us for the data and we answer with the failure. */
	icmd->scst->data_received = 0;
	return iscsi_data_out_rx_done(conn);
}

/* ------------------------------------------------------------------ */
/* Callbacks from the core. */

void iscsi_rdy_to_xfer(struct scst_cmd *cmd)
{
	struct iscsi_cmd *icmd = cmd->tgt_priv;
	struct iscsi_conn *conn = icmd->conn;
	/* We collect what the command has room for, but never more than the
	 * initiator said it would send. */
	icmd->want_end = min_u32(cmd->bufflen, icmd->edtl);
	if (conn->closed && conn->retained && !icmd->data_failed && !icmd->digest_failed &&
	    icmd->recv_off < icmd->want_end) {
		/* ERL 2: the connection that takes the task over asks. */
		icmd->waiting_data = true;
		return;
	}
	if (conn->closed || icmd->data_failed || icmd->digest_failed) {
		scst_rx_data(cmd, false);
		return;
	}
	if (icmd->recv_off >= icmd->want_end) {
		scst_rx_data(cmd, true);
		return;
	}
	icmd->waiting_data = true;
	icmd->ticks_waiting = 0;
	icmd->ttt = iscsi_conn_next_ttt(conn);
	icmd->r2t_start = icmd->r2t_off = icmd->recv_off;
	icmd->seq_end = min_u32(icmd->r2t_start + conn->params.max_burst, icmd->want_end);
	icmd->exp_data_sn = 0;
	icmd->rec.r2t_base_sn = icmd->r2t_sn;
	icmd->rec.r2t_base_off = icmd->r2t_off;
	send_r2ts(icmd);
	iscsi_conn_flush_soon(conn);
}

void iscsi_on_abort_cmd(struct scst_cmd *cmd)
{
	struct iscsi_cmd *icmd = cmd->tgt_priv;
	if (icmd && icmd->rec.held_rsp) {
		/* ERL 2: its response waited for a TASK REASSIGN that will
		 * not come now; the task management function speaks for it. */
		icmd->rec.held_rsp = false;
		scst_tgt_cmd_done(cmd);
		return;
	}
	/* ERL 1 and up: its status is out and only waits to be
	 * acknowledged, which an initiator waiting for the task management
	 * response may not do: it is let go (no longer asked for again). */
	if (icmd && icmd->rec.answered && !icmd->conn->closed &&
	    iscsi_conn_status_log_drop(icmd->conn, cmd))
		return;
	if (!icmd || (icmd->started && !icmd->waiting_data))
		return;
	/* A PDU whose data is landing for it right now finishes first. */
	if (icmd->conn->rx.cmd == icmd && !icmd->conn->closed)
		icmd->abort_pending = true;
	else if (icmd->started)
		finish_data(icmd, false);
	else
		/* Not started (waiting for its CmdSN or for budget): the
		 * task management function must not wait for the gap to be
		 * filled (RFC 7143 11.5.1). */
		abandon_unstarted(icmd);
}

void iscsi_on_free_cmd(struct scst_cmd *cmd)
{
	struct iscsi_cmd *icmd = cmd->tgt_priv;
	if (!icmd)
		return;
	struct iscsi_conn *conn = icmd->conn;
	if (conn->rx.cmd == icmd) {
		/* Whatever is still on the wire for it is dropped. */
		conn->rx.cmd = NULL;
		conn->rx.dst_len = 0;
		conn->rx.drop = true;
	}
	assert(!icmd->held && list_empty(&icmd->budget_entry));
	if (icmd->rec.answered)
		list_del(&icmd->rec.answered_entry);
	else
		iscsi_session_remove_task(icmd->sess, &icmd->task);
	/* The session outlives its commands (the core frees its nexus
	 * after the last one), even once the connection has let go of it. */
	leave_window(icmd);
	release_budget(icmd);
	free(icmd->stash);
	cmd->tgt_priv = NULL;
	free(icmd);
	iscsi_conn_put(conn);
}

/* Ends @icmd's part in its closing connection. Returns whether it did
 * anything (it may have freed it). */
static bool cmd_conn_closed(struct iscsi_cmd *icmd)
{
	if (icmd->rec.held_rsp) {
		icmd->rec.held_rsp = false;
		scst_tgt_cmd_done(icmd->scst);
		return true;
	}
	if (!icmd->started) {
		/* Held for its CmdSN or for budget, or its PDU was still
		 * arriving: it never runs. */
		abandon_unstarted(icmd);
		return true;
	}
	if (icmd->waiting_data) {
		finish_data(icmd, false);
		return true;
	}
	/* Executing, or its response is being sent: it ends by itself
	 * (xmit_response and tx_drain see the closed connection). */
	return false;
}

void iscsi_cmds_conn_closed(struct iscsi_conn *conn)
{
	struct iscsi_session *sess = conn->sess;
	if (!sess)
		return;
	/* Answered ones whose status was held (ERL 2). */
	for (;;) {
		struct iscsi_cmd *icmd, *held = NULL;
		list_for_each_entry(icmd, &conn->answered, rec.answered_entry)
			if (icmd->rec.held_rsp) {
				held = icmd;
				break;
			}
		if (!held)
			break;
		cmd_conn_closed(held);
	}
	/* Each step may free commands, so the walk restarts after every one
	 * that did something. */
	for (;;) {
		struct iscsi_task *t;
		bool acted = false;
		list_for_each_entry(t, &sess->tasks, entry) {
			struct iscsi_cmd *icmd = container_of(t, struct iscsi_cmd, task);
			if (icmd->conn == conn && cmd_conn_closed(icmd)) {
				acted = true;
				break;
			}
		}
		if (!acted)
			return;
	}
}

void iscsi_cmds_conn_failed(struct iscsi_conn *conn)
{
	struct iscsi_session *sess = conn->sess;
	for (;;) {
		struct iscsi_task *t;
		bool acted = false;
		list_for_each_entry(t, &sess->tasks, entry) {
			struct iscsi_cmd *icmd = container_of(t, struct iscsi_cmd, task);
			if (icmd->conn != conn)
				continue;
			/* Its PDU had not all arrived: it never was a command.
			 * One aborted while data was landing ends as aborted. */
			if ((!icmd->started && !icmd->cmdsn_ok && !icmd->held) ||
			    icmd->abort_pending) {
				acted = cmd_conn_closed(icmd);
				if (acted)
					break;
			}
		}
		if (!acted)
			return;
	}
}

unsigned iscsi_cmds_of_conn(struct iscsi_conn *conn)
{
	unsigned n = 0;
	struct iscsi_task *t;
	struct iscsi_cmd *icmd;
	list_for_each_entry(t, &conn->sess->tasks, entry)
		n += container_of(t, struct iscsi_cmd, task)->conn == conn;
	list_for_each_entry(icmd, &conn->answered, rec.answered_entry)
		n++;
	return n;
}

void iscsi_cmd_response_lost(struct iscsi_conn *conn, struct scst_cmd *cmd)
{
	struct iscsi_cmd *icmd = cmd->tgt_priv;
	if (iscsi_session_keeps_tasks(conn) && !scst_cmd_aborted_silently(cmd))
		icmd->rec.held_rsp = true;
	else
		scst_tgt_cmd_done(cmd);
}

void iscsi_cmd_resume_reassigned(struct iscsi_cmd *icmd, uint32_t exp_data_sn)
{
	struct iscsi_conn *conn = icmd->conn;
	struct cmd_recovery *r = &icmd->rec;
	if (r->held_rsp) {
		/* From what the initiator says it has, if that is a Data-In
		 * of the cut it was sent (and not below its DataACK). */
		uint32_t sn = icmd->data_sn, off = 0;
		bool burst_start;
		if (r->answered) {
			sn = r->base_sn;
			off = r->base_off;
			if (sn_lt(sn, exp_data_sn) &&
			    iscsi_cmd_locate_data_in(icmd, exp_data_sn, &off, &burst_start))
				sn = exp_data_sn;
			else if (sn_lt(sn, exp_data_sn) && exp_data_sn == icmd->data_sn)
				sn = exp_data_sn, off = r->len;
		}
		r->held_rsp = false;
		iscsi_cmd_send_response(icmd, sn, off);
	} else if (icmd->waiting_data) {
		/* What is missing, asked for on the new connection with a new
		 * TTT: the old one's R2Ts and data are void. */
		icmd->ttt = iscsi_conn_next_ttt(conn);
		icmd->r2t_outstanding = 0;
		icmd->r2t_start = icmd->r2t_off = icmd->recv_off;
		icmd->seq_end = min_u32(icmd->recv_off + conn->params.max_burst, icmd->want_end);
		icmd->exp_data_sn = 0;
		icmd->ticks_waiting = 0;
		r->recovering = false;
		r->r2t_base_sn = icmd->r2t_sn;
		r->r2t_base_off = icmd->r2t_off;
		send_r2ts(icmd);
	} else if (!icmd->started && icmd->unsol_pending) {
		/* Its unsolicited data will not come: asked for by R2T. */
		icmd->unsol_pending = false;
		start_if_ready(icmd);
	}
	iscsi_conn_flush_soon(conn);
}

bool iscsi_cmds_data_timed_out(struct iscsi_conn *conn, unsigned timeout)
{
	struct iscsi_session *sess = conn->sess;
	bool timed_out = false;
	struct iscsi_task *t;
	if (!sess)
		return false;
	list_for_each_entry(t, &sess->tasks, entry) {
		struct iscsi_cmd *icmd = container_of(t, struct iscsi_cmd, task);
		if (icmd->conn == conn && icmd->waiting_data && ++icmd->ticks_waiting > timeout)
			timed_out = true;
	}
	return timed_out;
}

/* ------------------------------------------------------------------ */
/* Response (cmd_response.c builds it). */

void iscsi_xmit_response(struct scst_cmd *cmd)
{
	struct iscsi_cmd *icmd = cmd->tgt_priv;
	struct iscsi_conn *conn = icmd->conn;
	/* An aborted task gets no response: the TMF response speaks for it
	 * (unless the core ends it with TASK ABORTED status, SAM-5 5.6); nor
	 * does a discarded command (the initiator retries it). */
	leave_window(icmd);
	if (scst_cmd_aborted_silently(cmd) || icmd->discarded) {
		scst_tgt_cmd_done(cmd);
		return;
	}
	if (conn->closed) {
		/* ERL 2: kept for the connection that takes the task over. */
		if (conn->retained)
			icmd->rec.held_rsp = true;
		else
			scst_tgt_cmd_done(cmd);
		return;
	}
	iscsi_cmd_send_response(icmd, icmd->data_sn, 0);
}
