/* Numbered responses kept until the initiator acknowledges them (RFC
 * 7143 4.2.2.2, 11.16): from ErrorRecoveryLevel 1 on, an initiator that
 * finds a StatSN missing asks for it again with a Status SNACK, so every
 * PDU that took a StatSN is kept once sent, oldest first, until an
 * ExpStatSN passes it. A kept SCSI status still holds its command (the
 * core is told the command is done only at its release), so that the
 * command's Data-In can be sent again too (snack.c, cmd.c).
 *
 * The log is the connection's and lives on its reactor; the transmit
 * queue adds to it (conn_tx.c), the initiator's ExpStatSN and the close
 * take from it. */
#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/conn.h"

/* More than this many responses unacknowledged and the initiator is
 * taken to have failed (RFC 7143 4.2.2.2 lets the difference between
 * StatSN and ExpStatSN say so): every request it sends acknowledges
 * what it has, so a working one stays near its command window. */
static unsigned status_log_max(const struct iscsi_conn *conn)
{
	return 2 * conn->tp.queued_cmds + 256;
}

bool iscsi_conn_keeps_status(const struct iscsi_conn *conn)
{
	return conn->phase == CONN_FULL_FEATURE && conn->params.error_recovery_level > 0;
}

static void release(struct iscsi_tx_pdu *pdu)
{
	struct scst_cmd *cmd = pdu->finishes_cmd;

	iscsi_tx_free(pdu);
	if (cmd)
		scst_tgt_cmd_done(cmd);
}

void iscsi_conn_status_log_add(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu)
{
	assert(pdu->keep && reactor_self() == conn->reactor);
	/* Acknowledged before it had even left (an initiator's ExpStatSN
	 * ahead of what it was sent): nobody will ask for it. Nor is the
	 * status of an aborted command kept: the task management function
	 * would wait for the acknowledgement (iscsi_conn_status_log_drop()). */
	if (sn_lt(pdu->stat_sn, conn->exp_stat_sn) ||
	    (pdu->finishes_cmd && atomic_load(&pdu->finishes_cmd->aborted))) {
		release(pdu);
		return;
	}
	list_add_tail(&pdu->entry, &conn->status_log);
	if (++conn->status_log_len > status_log_max(conn)) {
		log_warn_rl("iSCSI: %s (%s): %u responses unacknowledged (ExpStatSN %u, StatSN %u): "
			    "taking the initiator as failed",
			    conn->peer, iscsi_conn_initiator(conn), conn->status_log_len,
			    conn->exp_stat_sn, conn->stat_sn);
		iscsi_conn_close(conn, "responses never acknowledged (ExpStatSN)");
	}
}

void iscsi_conn_status_acked(struct iscsi_conn *conn, uint32_t exp)
{
	/* An ExpStatSN beyond what was sent acknowledges nothing more than
	 * what was sent; one that goes back is stale (RFC 7143 4.2.2.2). */
	if (sn_lt(conn->stat_sn, exp) || sn_lt(exp, conn->exp_stat_sn))
		return;
	conn->exp_stat_sn = exp;
	while (!list_empty(&conn->status_log)) {
		struct iscsi_tx_pdu *pdu =
			list_first_entry(&conn->status_log, struct iscsi_tx_pdu, entry);

		if (!sn_lt(pdu->stat_sn, exp))
			break;
		list_del(&pdu->entry);
		conn->status_log_len--;
		release(pdu);
	}
}

bool iscsi_conn_status_log_drop(struct iscsi_conn *conn, const struct scst_cmd *cmd)
{
	struct iscsi_tx_pdu *pdu;

	list_for_each_entry(pdu, &conn->status_log, entry) {
		if (pdu->finishes_cmd != cmd)
			continue;
		list_del(&pdu->entry);
		conn->status_log_len--;
		release(pdu);
		return true;
	}
	return false;
}

struct iscsi_tx_pdu *iscsi_conn_status_log_find(struct iscsi_conn *conn, uint32_t sn)
{
	struct iscsi_tx_pdu *pdu;

	list_for_each_entry(pdu, &conn->status_log, entry)
		if (pdu->stat_sn == sn)
			return pdu;
	return NULL;
}

bool iscsi_conn_resend(struct iscsi_conn *conn, const struct iscsi_tx_pdu *kept)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();

	if (!pdu)
		return false;
	/* The replica owns a copy of the data: the kept one may be released
	 * (acknowledged) while the replica still waits to be sent. */
	if (kept->data_len) {
		pdu->owned = malloc(kept->data_len);
		if (!pdu->owned) {
			free(pdu);
			return false;
		}
		memcpy(pdu->owned, kept->data, kept->data_len);
		pdu->data = pdu->owned;
		pdu->data_len = kept->data_len;
	}
	memcpy(pdu->hdr, kept->hdr, ISCSI_BHS_LEN);
	iscsi_conn_queue(conn, pdu, TX_SN_RESEND);
	return true;
}

void iscsi_conn_status_log_drain(struct iscsi_conn *conn)
{
	while (!list_empty(&conn->status_log)) {
		struct iscsi_tx_pdu *pdu =
			list_first_entry(&conn->status_log, struct iscsi_tx_pdu, entry);
		struct scst_cmd *cmd = pdu->finishes_cmd;

		/* Sent but not acknowledged: as good as lost. */
		list_del(&pdu->entry);
		iscsi_tx_free(pdu);
		if (cmd)
			conn->ops->response_lost(conn, cmd);
	}
	conn->status_log_len = 0;
}
