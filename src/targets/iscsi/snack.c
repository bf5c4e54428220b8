/* SNACK Request (RFC 7143 11.16), from ErrorRecoveryLevel 1 on: the
 * initiator asks for Data-In, R2T or numbered responses again, or
 * acknowledges Data-In (DataACK). A SNACK carries no CmdSN: it is served
 * as soon as it is in. At ErrorRecoveryLevel 0 it is rejected (SNACK
 * Reject), as it was before ERL 1 existed. Anything asked for that was
 * not sent, or was acknowledged already, is rejected as a protocol error
 * and nothing is sent. */
#include "base/log.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/requests.h"

enum snack_type {
	SNACK_DATA_R2T = 0,
	SNACK_STATUS = 1,
	SNACK_DATA_ACK = 2,
	SNACK_RDATA = 3,
};

#define SNACK_OFF_BEGRUN 40
#define SNACK_OFF_RUNLENGTH 44

/* Status SNACK: the numbered responses @beg..@beg+@run-1 (run 0: to the
 * last sent; both 0: every one not acknowledged) sent again. */
static uint8_t resend_status(struct iscsi_conn *conn, uint32_t beg, uint32_t run)
{
	if (beg == 0 && run == 0) {
		if (conn->exp_stat_sn == conn->stat_sn)
			return 0; /* nothing is unacknowledged */
		beg = conn->exp_stat_sn;
	}
	uint32_t end = run ? beg + run : conn->stat_sn;
	if (sn_lt(beg, conn->exp_stat_sn) || !sn_lt(beg, conn->stat_sn) ||
	    sn_lt(conn->stat_sn, end))
		return ISCSI_REJECT_PROTOCOL_ERROR;
	for (uint32_t sn = beg; sn != end; sn++) {
		const struct iscsi_tx_pdu *kept = iscsi_conn_status_log_find(conn, sn);

		/* Not in the log: still queued, on its way. */
		if (kept && !iscsi_conn_resend(conn, kept)) {
			iscsi_conn_close(conn, "out of memory");
			return 0;
		}
	}
	return 0;
}

void iscsi_snack_rx(struct iscsi_conn *conn)
{
	const uint8_t *bhs = conn->rx.bhs;
	unsigned type = bhs[1] & 0x0f;
	uint32_t itt = pdu_itt(bhs), ttt = get_be32(bhs + ISCSI_OFF_TTT);
	uint32_t beg = get_be32(bhs + SNACK_OFF_BEGRUN), run = get_be32(bhs + SNACK_OFF_RUNLENGTH);
	uint32_t next_sn = 0;
	uint8_t reject;

	if (conn->params.error_recovery_level == 0) {
		iscsi_conn_reject(conn, ISCSI_REJECT_SNACK);
		return;
	}
	if (!pdu_final(bhs) || conn->rx.data_len) {
		iscsi_conn_reject(conn, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	switch (type) {
	case SNACK_DATA_R2T:
		reject = iscsi_cmd_snack_data(conn, itt, beg, run, &next_sn);
		break;
	case SNACK_STATUS:
		reject = resend_status(conn, beg, run);
		break;
	case SNACK_DATA_ACK:
		reject = run ? ISCSI_REJECT_INVALID_PDU_FIELD : iscsi_cmd_data_ack(conn, ttt, beg);
		break;
	case SNACK_RDATA:
		/* BegRun and RunLength 0, and a tag of the initiator's that is
		 * neither 0 nor reserved (RFC 7143 11.16.4, 11.16.6). */
		reject = beg || run || ttt == 0 || ttt == ISCSI_RESERVED_TAG
				 ? ISCSI_REJECT_INVALID_PDU_FIELD
				 : iscsi_cmd_snack_rdata(conn, itt, ttt);
		break;
	default:
		reject = ISCSI_REJECT_INVALID_PDU_FIELD;
		break;
	}
	if (reject && !conn->closed) {
		log_info_rl("iSCSI: %s (%s): SNACK type %u (ITT 0x%x, BegRun %u, RunLength %u) "
			    "refused: reason 0x%02x",
			    conn->peer, iscsi_conn_initiator(conn), type, itt, beg, run, reject);
		iscsi_conn_reject_sn(conn, bhs, reject, next_sn);
	}
	iscsi_conn_flush_soon(conn);
}
