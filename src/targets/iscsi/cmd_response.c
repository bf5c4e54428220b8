/* The way back of a SCSI command (RFC 7143 11.4, 11.7): its Data-In cut
 * at MaxRecvDataSegmentLength and MaxBurstLength, the status in the last
 * Data-In when there is no sense, else a SCSI Response, with residuals.
 * The same cut serves a Data SNACK's replicas, an R-Data SNACK's new cut
 * and a reassigned task's response (cmd_recovery.c, cmd.c); struct
 * cmd_recovery (cmd.h) records it, and iscsi_data_in_cut_next() (cmd.h)
 * is its rule. On the command's connection's
 * reactor. */
#include <stdlib.h>
#include <string.h>

#include "core/scst.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void set_residual(uint8_t *bhs, const struct scst_cmd *cmd)
{
	if (cmd->resid_overflow)
		bhs[1] |= ISCSI_RSP_FLAG_OVERFLOW;
	else if (cmd->resid_underflow)
		bhs[1] |= ISCSI_RSP_FLAG_UNDERFLOW;
	else
		return;
	put_be32(bhs + ISCSI_OFF_RESIDUAL, cmd->resid);
}

int iscsi_cmd_queue_data_in(struct iscsi_cmd *icmd, uint32_t first, uint32_t count, bool resend)
{
	struct iscsi_conn *conn = icmd->conn;
	struct scst_cmd *cmd = icmd->scst;
	const struct cmd_recovery *r = &icmd->rec;
	bool erl = iscsi_conn_keeps_status(conn);
	struct iscsi_data_in_cut cut = iscsi_data_in_cut_start(r);
	struct iscsi_data_in_piece p;
	while (cut.sn - first != count && iscsi_data_in_cut_next(r, &cut, &p)) {
		if (p.sn - first >= count) /* before @first (serial numbers) */
			continue;
		bool status = p.last && r->collapsed;
		struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
		if (!pdu)
			return -1;
		uint8_t *bhs = pdu->hdr;
		pdu_init(bhs, ISCSI_OP_DATA_IN, p.burst_end ? ISCSI_FLAG_FINAL : 0);
		pdu_lun_encode(bhs + ISCSI_OFF_LUN, cmd->lun);
		put_be32(bhs + ISCSI_OFF_ITT, icmd->task.itt);
		put_be32(bhs + ISCSI_OFF_TTT, ISCSI_RESERVED_TAG);
		/* ERL 1 and up: each burst not ended by the status asks for a
		 * DataACK (RFC 7143 11.7.2: at most once a burst). */
		if (erl && p.burst_end && !status) {
			bhs[1] |= ISCSI_DATA_IN_FLAG_ACK;
			put_be32(bhs + ISCSI_OFF_TTT, r->ack_ttt);
		}
		put_be32(bhs + ISCSI_OFF_DATASN, p.sn);
		put_be32(bhs + ISCSI_OFF_BUFFER_OFFSET, p.off);
		pdu->data = cmd->buf + p.off;
		pdu->data_len = p.len;
		enum iscsi_tx_sn how = TX_SN_NONE;
		if (status) {
			bhs[1] |= ISCSI_DATA_IN_FLAG_STATUS;
			bhs[3] = cmd->status;
			set_residual(bhs, cmd);
			if (resend) {
				put_be32(bhs + ISCSI_OFF_STATSN, r->status_sn);
				how = TX_SN_RESEND;
			} else {
				pdu->finishes_cmd = icmd->scst;
				how = TX_SN_STATUS;
			}
		}
		iscsi_conn_queue(conn, pdu, how);
	}
	return (int)(cut.sn - r->base_sn);
}

struct iscsi_tx_pdu *iscsi_cmd_build_response(struct iscsi_cmd *icmd, uint32_t snack_tag)
{
	struct scst_cmd *cmd = icmd->scst;
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu)
		return NULL;
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL);
	bhs[2] = 0; /* command completed at target */
	bhs[3] = cmd->status;
	put_be32(bhs + ISCSI_OFF_ITT, icmd->task.itt);
	put_be32(bhs + ISCSI_OFF_TTT, snack_tag); /* SNACK Tag: 0 unless an R-Data SNACK's */
	put_be32(bhs + ISCSI_OFF_DATASN, icmd->data_sn); /* ExpDataSN */
	set_residual(bhs, cmd);
	if (cmd->sense_len) {
		unsigned slen = cmd->sense_len <= SCSI_SENSE_BUFFERSIZE ? cmd->sense_len
									: SCSI_SENSE_BUFFERSIZE;
		pdu->owned = malloc(2 + slen);
		if (!pdu->owned) {
			free(pdu);
			return NULL;
		}
		put_be16(pdu->owned, (uint16_t)slen);
		memcpy(pdu->owned + 2, cmd->sense, slen);
		pdu->data = pdu->owned;
		pdu->data_len = 2 + slen;
	}
	return pdu;
}

static bool queue_scsi_response(struct iscsi_cmd *icmd)
{
	struct iscsi_tx_pdu *pdu = iscsi_cmd_build_response(icmd, 0);
	if (!pdu)
		return false;
	pdu->finishes_cmd = icmd->scst;
	iscsi_conn_queue(icmd->conn, pdu, TX_SN_STATUS);
	return true;
}

void iscsi_cmd_send_response(struct iscsi_cmd *icmd, uint32_t base_sn, uint32_t base_off)
{
	struct iscsi_conn *conn = icmd->conn;
	struct scst_cmd *cmd = icmd->scst;
	struct cmd_recovery *r = &icmd->rec;
	r->len = 0;
	if (icmd->read && cmd->buf)
		r->len = min_u32(min_u32(cmd->resp_data_len, icmd->edtl), cmd->bufflen);
	if (base_off > r->len)
		base_off = r->len;
	r->collapsed = r->len > base_off && cmd->sense_len == 0;
	r->base_sn = base_sn;
	r->base_off = base_off;
	r->dsl = conn->params.max_xmit_dsl;
	r->burst = conn->params.max_burst;
	if (iscsi_conn_keeps_status(conn) && !r->answered)
		iscsi_cmd_answered(icmd);
	/* Data-In without status takes no StatSN: the status gets this. */
	r->status_sn = conn->stat_sn;
	int n = iscsi_cmd_queue_data_in(icmd, r->base_sn, UINT32_MAX, false);
	bool ok = n >= 0;
	if (ok)
		icmd->data_sn = r->base_sn + (uint32_t)n;
	if (ok && !r->collapsed)
		ok = queue_scsi_response(icmd);
	if (!ok) {
		iscsi_conn_close(conn, "out of memory");
		scst_tgt_cmd_done(cmd);
		return;
	}
	iscsi_conn_flush_soon(conn);
}
