/* A SCSI command's part in ErrorRecoveryLevel 1 (RFC 7143 7.1, 11.16):
 * once its status is queued it is answered (it leaves the task set and
 * waits in conn->answered until its status is acknowledged), and until
 * then its Data-In can be sent again (Data SNACK), acknowledged
 * (DataACK) or sent again cut anew (R-Data SNACK); while it waits for
 * Data-Out its R2Ts can be sent again (R2T SNACK). snack.c reads the
 * SNACK PDUs and calls these; cmd.c builds the PDUs. Everything runs on
 * the connection's reactor. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void iscsi_cmd_answered(struct iscsi_cmd *icmd)
{
	struct cmd_recovery *r = &icmd->rec;

	assert(!r->answered && reactor_self() == icmd->conn->reactor);
	iscsi_session_remove_task(icmd->sess, &icmd->task);
	r->answered = true;
	list_add_tail(&r->answered_entry, &icmd->conn->answered);
	r->ack_ttt = iscsi_conn_next_ttt(icmd->conn);
}

/* The newest answered command of @conn with @itt (an initiator may have
 * reused the tag once it had the status), or NULL. */
static struct iscsi_cmd *find_answered(struct iscsi_conn *conn, uint32_t itt)
{
	struct iscsi_cmd *icmd, *found = NULL;

	list_for_each_entry(icmd, &conn->answered, rec.answered_entry)
		if (icmd->task.itt == itt)
			found = icmd;
	return found;
}

bool iscsi_cmd_locate_data_in(const struct iscsi_cmd *icmd, uint32_t sn, uint32_t *off,
			      bool *burst_start)
{
	struct iscsi_data_in_cut cut = iscsi_data_in_cut_start(&icmd->rec);
	struct iscsi_data_in_piece p;

	while (iscsi_data_in_cut_next(&icmd->rec, &cut, &p))
		if (p.sn == sn) {
			*off = p.off;
			*burst_start = p.burst_start;
			return true;
		}
	return false;
}

/* R2T SNACK: the R2Ts @beg..@beg+@run-1 (run 0: to the last sent) of a
 * command waiting for Data-Out, sent again as they were. */
static uint8_t resend_r2ts(struct iscsi_cmd *icmd, uint32_t beg, uint32_t run)
{
	struct iscsi_conn *conn = icmd->conn;
	const struct cmd_recovery *r = &icmd->rec;
	uint32_t burst = conn->params.max_burst;

	if (!icmd->waiting_data)
		return ISCSI_REJECT_PROTOCOL_ERROR;
	if (beg == 0 && run == 0) /* every R2T not yet answered with data */
		beg = r->r2t_base_sn + (icmd->recv_off - r->r2t_base_off) / burst;
	uint32_t end = run ? beg + run : icmd->r2t_sn;
	/* Not sent yet, or from before a recovery R2T, or already answered
	 * with all its data: nothing to send again. */
	if (sn_lt(beg, r->r2t_base_sn) || !sn_lt(beg, icmd->r2t_sn) || sn_lt(icmd->r2t_sn, end))
		return ISCSI_REJECT_PROTOCOL_ERROR;
	uint32_t first_off = r->r2t_base_off + (beg - r->r2t_base_sn) * burst;
	if (first_off + min_u32(burst, icmd->want_end - first_off) <= icmd->recv_off)
		return ISCSI_REJECT_PROTOCOL_ERROR;
	for (uint32_t sn = beg; sn != end; sn++) {
		uint32_t off = r->r2t_base_off + (sn - r->r2t_base_sn) * burst;
		struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();

		if (!pdu) {
			iscsi_conn_close(conn, "out of memory");
			return 0;
		}
		iscsi_cmd_fill_r2t(icmd, pdu, sn, off, min_u32(burst, icmd->want_end - off));
		iscsi_conn_queue(conn, pdu, TX_SN_NONE);
	}
	return 0;
}

/* Data SNACK: the Data-In PDUs @beg..@beg+@run-1 (run 0: to the last;
 * both 0: every one not acknowledged) of an answered command. */
static uint8_t resend_data_in(struct iscsi_cmd *icmd, uint32_t beg, uint32_t run)
{
	const struct cmd_recovery *r = &icmd->rec;

	if (beg == 0 && run == 0)
		beg = r->base_sn;
	uint32_t end = run ? beg + run : icmd->data_sn;
	if (sn_lt(beg, r->base_sn) || !sn_lt(beg, icmd->data_sn) || sn_lt(icmd->data_sn, end))
		return ISCSI_REJECT_PROTOCOL_ERROR;
	if (iscsi_cmd_queue_data_in(icmd, beg, end - beg, true) < 0)
		iscsi_conn_close(icmd->conn, "out of memory");
	return 0;
}

uint8_t iscsi_cmd_snack_data(struct iscsi_conn *conn, uint32_t itt, uint32_t beg, uint32_t run,
			     uint32_t *next_sn)
{
	struct iscsi_cmd *icmd = iscsi_cmd_find(conn->sess, itt);

	/* A command of this connection still in the task set: only its
	 * R2Ts have gone out (Data-In goes with the status). */
	if (icmd && icmd->conn == conn) {
		*next_sn = icmd->r2t_sn;
		return resend_r2ts(icmd, beg, run);
	}
	icmd = find_answered(conn, itt);
	if (!icmd)
		return ISCSI_REJECT_PROTOCOL_ERROR;
	*next_sn = icmd->data_sn;
	return resend_data_in(icmd, beg, run);
}

uint8_t iscsi_cmd_data_ack(struct iscsi_conn *conn, uint32_t ttt, uint32_t beg)
{
	struct iscsi_cmd *icmd;
	uint32_t off;
	bool burst_start;

	list_for_each_entry(icmd, &conn->answered, rec.answered_entry) {
		struct cmd_recovery *r = &icmd->rec;

		if (r->ack_ttt != ttt || r->len == 0)
			continue;
		/* It acknowledges whole bursts: BegRun follows an A-bit
		 * Data-In (RFC 7143 11.16.5), never a DataSN not sent. */
		if (sn_lt(beg, r->base_sn) || sn_lt(icmd->data_sn, beg))
			return ISCSI_REJECT_INVALID_DATA_ACK;
		if (beg == icmd->data_sn) {
			off = r->len;
		} else if (!iscsi_cmd_locate_data_in(icmd, beg, &off, &burst_start) || !burst_start) {
			return ISCSI_REJECT_INVALID_DATA_ACK;
		}
		/* Nothing below it is sent again (nor freed: the buffer is
		 * one, and goes when the status is acknowledged). */
		r->base_sn = beg;
		r->base_off = off;
		return 0;
	}
	return ISCSI_REJECT_INVALID_DATA_ACK;
}

uint8_t iscsi_cmd_snack_rdata(struct iscsi_conn *conn, uint32_t itt, uint32_t tag)
{
	struct iscsi_cmd *icmd = find_answered(conn, itt);

	if (!icmd)
		return ISCSI_REJECT_PROTOCOL_ERROR;
	struct cmd_recovery *r = &icmd->rec;
	/* Its status has to be out, to be replaced by the one this SNACK
	 * asks for (one still queued is the initiator's to wait for). */
	struct iscsi_tx_pdu *kept = iscsi_conn_status_log_find(conn, r->status_sn);
	if (!kept)
		return ISCSI_REJECT_PROTOCOL_ERROR;
	/* RFC 7143 11.16.3: the data not acknowledged, cut for the
	 * MaxRecvDataSegmentLength now in force, numbered from the last
	 * DataACK, then a SCSI Response with the SNACK Tag and the same
	 * StatSN; a later Status SNACK gets that response. */
	r->dsl = conn->params.max_xmit_dsl;
	r->burst = conn->params.max_burst;
	r->collapsed = false;
	int n = iscsi_cmd_queue_data_in(icmd, r->base_sn, UINT32_MAX, true);
	struct iscsi_tx_pdu *rsp = n < 0 ? NULL : iscsi_cmd_build_response(icmd, tag);
	uint8_t *copy = rsp && rsp->data_len ? malloc(rsp->data_len) : NULL;
	if (!rsp || (rsp->data_len && !copy)) {
		if (rsp)
			iscsi_tx_free(rsp);
		iscsi_conn_close(conn, "out of memory");
		return 0;
	}
	icmd->data_sn = r->base_sn + (uint32_t)n;
	put_be32(rsp->hdr + ISCSI_OFF_DATASN, icmd->data_sn); /* ExpDataSN */
	put_be32(rsp->hdr + ISCSI_OFF_STATSN, r->status_sn);
	iscsi_conn_queue(conn, rsp, TX_SN_RESEND);
	memcpy(kept->hdr, rsp->hdr, ISCSI_BHS_LEN);
	free(kept->owned);
	kept->owned = copy;
	if (copy)
		memcpy(copy, rsp->data, rsp->data_len);
	kept->data = copy;
	kept->data_len = rsp->data_len;
	return 0;
}

uint8_t iscsi_cmd_reassign(struct iscsi_conn *conn, uint32_t itt, struct iscsi_cmd **out)
{
	struct iscsi_session *sess = conn->sess;
	struct iscsi_cmd *icmd = iscsi_cmd_find(sess, itt);
	struct iscsi_conn *c;

	/* Answered tasks are on their connection's list, not in the task
	 * set: those of kept connections may be taken over too. */
	list_for_each_entry(c, &sess->failed_conns, sess_entry)
		if (!icmd)
			icmd = find_answered(c, itt);
	if (!icmd)
		return 1;         /* Task does not exist */
	if (!icmd->conn->retained)
		return 3;         /* Task still allegiant */
	struct iscsi_conn *old = icmd->conn;
	log_info_rl("iSCSI: %s (%s): task 0x%x reassigned from connection %u to %u", conn->peer,
		    iscsi_conn_initiator(conn), itt, old->cid, conn->cid);
	if (icmd->rec.answered) {
		list_del(&icmd->rec.answered_entry);
		list_add_tail(&icmd->rec.answered_entry, &conn->answered);
	}
	/* A Data-Out of it that was arriving when the old connection died
	 * is void (its bytes are asked for again). */
	if (old->rx.cmd == icmd)
		old->rx.cmd = NULL;
	icmd->conn = conn; /* the queue reads it too, if it waits for its CmdSN */
	iscsi_conn_get(conn);
	iscsi_session_recovery_done_if_empty(sess, old);
	iscsi_conn_put(old);
	*out = icmd;
	return 0;
}
