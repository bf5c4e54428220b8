/* Where each PDU from an initiator goes. The connection layer hands up
 * whole headers and whole PDUs (struct iscsi_conn_ops); this file looks
 * the opcode up in one table, says where the data segment goes, and sends
 * the PDU on: to login while logging in, to cmd.c for SCSI commands and
 * Data-Out, and through the session's CmdSN queue to its handler for the
 * other requests (requests.h). */
#include "targets/iscsi/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/login.h"
#include "targets/iscsi/renegotiate.h"
#include "targets/iscsi/requests.h"
#include "targets/iscsi/session.h"

/* What an initiator opcode is in the full feature phase. Exactly one of
 * reject, run, now, or the rx_* trio is set. */
struct pdu_kind {
	/* Served in discovery sessions too (else: Reject, Command not
	 * supported). */
	bool discovery;
	/* Answered with this Reject whatever it says. */
	enum iscsi_reject_reason reject;
	/* A request: its data segment is collected, and it runs when its
	 * CmdSN comes (or at once, immediate). */
	void (*run)(struct iscsi_conn *conn, struct iscsi_req *req);
	/* Served as soon as it is in, with no CmdSN (SNACK). */
	void (*now)(struct iscsi_conn *conn);
	/* A SCSI Command or Data-Out: cmd.c places its data itself. */
	int (*rx_header)(struct iscsi_conn *conn);
	int (*rx_done)(struct iscsi_conn *conn);
	int (*rx_digest_error)(struct iscsi_conn *conn);
};

static void run_tmf(struct iscsi_conn *conn, struct iscsi_req *req);

static const struct pdu_kind pdu_kinds[ISCSI_OPCODE_MASK + 1] = {
	[ISCSI_OP_NOP_OUT] = { .discovery = true, .run = iscsi_nop_out_rx },
	[ISCSI_OP_SCSI_CMD] = {
		.rx_header = iscsi_cmd_rx_header,
		.rx_done = iscsi_cmd_rx_done,
		.rx_digest_error = iscsi_cmd_rx_digest_error,
	},
	[ISCSI_OP_TMF_REQ] = { .run = run_tmf },
	[ISCSI_OP_TEXT_REQ] = { .discovery = true, .run = iscsi_text_rx },
	/* In a discovery session there is no command for it: dropped as
	 * unexpected (cmd.c). */
	[ISCSI_OP_DATA_OUT] = {
		.discovery = true,
		.rx_header = iscsi_data_out_rx_header,
		.rx_done = iscsi_data_out_rx_done,
		.rx_digest_error = iscsi_data_out_rx_digest_error,
	},
	[ISCSI_OP_LOGOUT_REQ] = { .discovery = true, .run = iscsi_logout_rx },
	[ISCSI_OP_LOGIN_REQ] = { .discovery = true, .reject = ISCSI_REJECT_PROTOCOL_ERROR },
	[ISCSI_OP_SNACK] = { .discovery = true, .now = iscsi_snack_rx },
};

/* NULL for an opcode no initiator sends. */
static const struct pdu_kind *kind_of(uint8_t op)
{
	const struct pdu_kind *k = &pdu_kinds[op & ISCSI_OPCODE_MASK];
	return k->reject || k->run || k->now || k->rx_header ? k : NULL;
}

/* A TMF runs after what is queued has been sent: a task whose response
 * is queued has completed, and must be seen as gone (Task does not
 * exist) rather than aborted while its status still goes out. */
static void run_tmf(struct iscsi_conn *conn, struct iscsi_req *req)
{
	iscsi_conn_flush_now(conn);
	if (!conn->closed)
		iscsi_tmf_rx(conn, req);
}

/* ------------------------------------------------------------------ */
/* Requests waiting for their CmdSN. */

struct request_entry {
	struct iscsi_pending pend;
	/* It came on this connection, and runs there. Valid while it waits:
	 * the connection's close discards the entry
	 * (iscsi_session_drop_pending). */
	struct iscsi_conn *conn;
	const struct pdu_kind *kind;
	struct iscsi_req req;
};

static void request_free(struct request_entry *e)
{
	free(e->req.data);
	free(e);
}

static void request_due(struct iscsi_pending *p)
{
	struct request_entry *e = container_of(p, struct request_entry, pend);
	e->kind->run(e->conn, &e->req);
	request_free(e);
}

static void request_discard(struct iscsi_pending *p)
{
	request_free(container_of(p, struct request_entry, pend));
}

static struct iscsi_conn *request_conn(const struct iscsi_pending *p)
{
	return container_of(p, const struct request_entry, pend)->conn;
}

static const struct iscsi_pending_ops request_pending_ops = {
	.due = request_due,
	.discard = request_discard,
	.conn = request_conn,
};

static void request_arrived(struct iscsi_conn *conn, const struct pdu_kind *k)
{
	struct iscsi_rx *rx = &conn->rx;
	struct iscsi_session *sess = conn->sess;
	enum iscsi_cmdsn_admit admit = iscsi_session_admit(sess, rx->bhs);
	switch (admit) {
	case CMDSN_OUTSIDE:
		log_debug("iSCSI: %s: %s CmdSN %u outside [%u, %u], dropped", conn->peer,
			  pdu_opcode_name(pdu_opcode(rx->bhs)), get_be32(rx->bhs + ISCSI_OFF_CMDSN),
			  sess->exp_cmd_sn, sess->max_cmd_sn);
		return;
	case CMDSN_CONSUMED:
		return;
	case CMDSN_TAKEN:
		iscsi_conn_reject(conn, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	case CMDSN_IMMEDIATE:
	case CMDSN_DUE:
	case CMDSN_LATER:
		break;
	}
	struct request_entry *e = calloc(1, sizeof(*e));
	if (!e) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	e->kind = k;
	e->pend.ops = &request_pending_ops;
	e->conn = conn;
	e->pend.cmd_sn = get_be32(rx->bhs + ISCSI_OFF_CMDSN);
	list_init(&e->pend.entry);
	memcpy(e->req.bhs, rx->bhs, ISCSI_BHS_LEN);
	e->req.data = rx->heap;
	e->req.data_len = rx->data_len;
	rx->heap = NULL;
	iscsi_session_order(sess, &e->pend, admit == CMDSN_IMMEDIATE);
}

/* ------------------------------------------------------------------ */
/* The connection's upcalls. */

static int heap_for_data(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	if (rx->data_len == 0)
		return 0;
	rx->heap = malloc(rx->data_len);
	if (!rx->heap) {
		iscsi_conn_close(conn, "out of memory");
		return -1;
	}
	rx->dst = rx->heap;
	rx->dst_len = rx->data_len;
	return 0;
}

static int pdu_header(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	uint8_t op = pdu_opcode(rx->bhs);
	if (conn->phase == CONN_LOGIN) {
		if (op != ISCSI_OP_LOGIN_REQ) {
			iscsi_conn_close(conn, "non-login PDU during login");
			return -1;
		}
		return heap_for_data(conn);
	}
	const struct pdu_kind *k = kind_of(op);
	if (!k || k->reject)
		return 0; /* its data is read and dropped; the Reject follows */
	/* ERL 1 and up: every request acknowledges the numbered responses
	 * below its ExpStatSN (conn_statlog.c). */
	if (iscsi_conn_keeps_status(conn))
		iscsi_conn_status_acked(conn, get_be32(rx->bhs + ISCSI_OFF_EXPSTATSN));
	if (conn->sess->discovery && !k->discovery) {
		rx->reject = ISCSI_REJECT_CMD_NOT_SUPPORTED;
		return 0;
	}
	if (k->rx_header)
		return k->rx_header(conn);
	return heap_for_data(conn);
}

/* RFC 7143 7.8: a PDU whose data digest fails, whatever it is, is
 * answered with a Reject (Data Digest Error) and discarded. A SCSI Command
 * with immediate data is then as if never sent (the initiator retries it);
 * a Data-Out fails its command. The header was sound (or its digest
 * checked), so the connection stays in step and goes on. */
static int pdu_digest_error(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	uint8_t op = pdu_opcode(rx->bhs);
	log_warn_rl("iSCSI: %s (%s): data digest error in %s PDU (ITT 0x%x)", conn->peer,
		 iscsi_conn_initiator(conn), pdu_opcode_name(op), pdu_itt(rx->bhs));
	iscsi_conn_reject(conn, ISCSI_REJECT_DATA_DIGEST);
	if (conn->closed || conn->phase != CONN_FULL_FEATURE || rx->drop || !rx->cmd)
		return conn->closed ? -1 : 0;
	const struct pdu_kind *k = kind_of(op);
	return k && k->rx_digest_error ? k->rx_digest_error(conn) : 0;
}

static int pdu_whole(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	conn->idle_ticks = 0;
	if (rx->digest_error)
		return pdu_digest_error(conn);
	if (rx->drop)
		return 0;
	if (conn->phase == CONN_LOGIN) {
		iscsi_login_rx(conn);
		return conn->closed ? -1 : 0;
	}
	const struct pdu_kind *k = kind_of(pdu_opcode(rx->bhs));
	if (rx->reject)
		iscsi_conn_reject(conn, rx->reject);
	else if (!k)
		iscsi_conn_reject(conn, ISCSI_REJECT_CMD_NOT_SUPPORTED);
	else if (k->reject)
		iscsi_conn_reject(conn, k->reject);
	else if (k->rx_done)
		return k->rx_done(conn);
	else if (k->now)
		k->now(conn);
	else
		request_arrived(conn, k);
	return conn->closed ? -1 : 0;
}

static void conn_tick(struct iscsi_conn *conn)
{
	if (conn->phase == CONN_LOGIN) {
		if (++conn->login_ticks > iscsi_login_timeout(conn))
			iscsi_conn_close(conn,
					 "login not finished within the login timeout (RspTimeout)");
		return;
	}
	if (conn->phase != CONN_FULL_FEATURE)
		return;
	if (iscsi_cmds_data_timed_out(conn, conn->tp.rsp_timeout))
		iscsi_conn_close(conn, "timed out waiting for Data-Out (RspTimeout)");
	else
		iscsi_nop_tick(conn);
	if (!conn->closed)
		iscsi_renegotiate_tick(conn);
}

static void conn_closed(struct iscsi_conn *conn)
{
	/* ERL 2: a failed connection keeps its tasks for another one. */
	bool keep = iscsi_session_keeps_tasks(conn);
	/* Commands in every state, including one whose data segment was
	 * still arriving when the socket died (at ERL 2 only that one). */
	if (keep)
		iscsi_cmds_conn_failed(conn);
	else
		iscsi_cmds_conn_closed(conn);
	if (conn->login) {
		/* A login waiting for a reinstated session gives up its
		 * place: the next login of that initiator and ISID may try. */
		iscsi_session_forget_successor(conn);
		iscsi_login_free(conn->login);
		conn->login = NULL;
	}
	if (conn->sess && keep)
		iscsi_session_conn_failed(conn->sess, conn);
	else if (conn->sess)
		iscsi_session_conn_closed(conn->sess, conn);
}

static void stamp_cmdsn(struct iscsi_conn *conn, uint8_t *bhs)
{
	if (conn->sess)
		iscsi_session_stamp_cmdsn(conn->sess, bhs);
}

const struct iscsi_conn_ops iscsi_pdu_ops = {
	.rx_header = pdu_header,
	.rx_pdu = pdu_whole,
	.tick = conn_tick,
	.closed = conn_closed,
	.stamp_cmdsn = stamp_cmdsn,
	.response_lost = iscsi_cmd_response_lost,
};

void iscsi_accept(int fd, struct reactor *r)
{
	iscsi_conn_start(fd, r, &iscsi_pdu_ops);
}
