/* Logout (RFC 7143 11.14, 11.15): of the whole session, or of one of its
 * connections (this one or another, by CID); closing the last connection
 * closes the session. Removing a connection for recovery (ErrorRecoveryLevel
 * 2) closes it but keeps its tasks for another connection's TASK REASSIGN
 * (session_recovery.c). */
#include <stdio.h>

#include "base/bytes.h"
#include "core/scst.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/requests.h"
#include "targets/iscsi/session.h"

enum logout_reason {
	LOGOUT_CLOSE_SESSION = 0,
	LOGOUT_CLOSE_CONNECTION = 1,
	LOGOUT_REMOVE_FOR_RECOVERY = 2,
};

enum logout_response {
	LOGOUT_SUCCESS = 0,
	LOGOUT_CID_NOT_FOUND = 1,
	LOGOUT_RECOVERY_NOT_SUPPORTED = 2,
};

void iscsi_logout_rx(struct iscsi_conn *conn, struct iscsi_req *r)
{
	const uint8_t *req = r->bhs;
	uint8_t reason = req[1] & 0x7f;
	uint16_t cid = get_be16(req + 20);
	struct iscsi_session *sess = conn->sess;
	if (reason > LOGOUT_REMOVE_FOR_RECOVERY) {
		iscsi_conn_reject_bhs(conn, req, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	/* Closing a connection names it by CID: this one or another of the
	 * session (RFC 7143 11.14.3). */
	struct iscsi_conn *closing = conn;
	if (reason != LOGOUT_CLOSE_SESSION)
		closing = iscsi_session_conn_by_cid(sess, cid);
	uint8_t response = LOGOUT_SUCCESS;
	if (!closing)
		response = LOGOUT_CID_NOT_FOUND;
	else if (reason == LOGOUT_REMOVE_FOR_RECOVERY && conn->params.error_recovery_level < 2)
		response = LOGOUT_RECOVERY_NOT_SUPPORTED;
	bool recovery = reason == LOGOUT_REMOVE_FOR_RECOVERY && response == LOGOUT_SUCCESS;

	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_LOGOUT_RSP, ISCSI_FLAG_FINAL);
	bhs[2] = response;
	put_be32(bhs + ISCSI_OFF_ITT, pdu_itt(req));
	/* Time2Wait and Time2Retain (bytes 40, 42): how long the tasks of a
	 * connection removed for recovery are kept; nothing otherwise. */
	if (recovery) {
		put_be16(bhs + 40, (uint16_t)sess->params.default_time2wait);
		put_be16(bhs + 42, (uint16_t)sess->params.default_time2retain);
	}
	bool whole = response == LOGOUT_SUCCESS && !recovery &&
		     (reason == LOGOUT_CLOSE_SESSION || sess->nconns == 1);
	if (whole) {
		/* Closing the session, or its last connection, ends the I_T
		 * nexus in order. */
		sess->logged_out = true;
		if (sess->scst)
			scst_session_logout(sess->scst);
	}
	if (response == LOGOUT_SUCCESS && (closing == conn || whole)) {
		conn->phase = CONN_LOGGED_OUT;
		pdu->close_after = true;
	}
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
	if (response != LOGOUT_SUCCESS)
		return;
	/* Closing (not removing for recovery) ends the tasks it carries. */
	if (!recovery) {
		struct iscsi_conn *c;
		list_for_each_entry(c, &sess->conns, sess_entry)
			if (reason == LOGOUT_CLOSE_SESSION || c == closing)
				c->no_recovery = true;
	}
	if (reason == LOGOUT_CLOSE_SESSION) {
		/* The session's other connections go now, this one once the
		 * response has left. */
		struct iscsi_conn *c, *next;
		list_for_each_entry_safe(c, next, &sess->conns, sess_entry)
			if (c != conn)
				iscsi_conn_close(c, "the session logged out");
	} else if (closing != conn) {
		char why[64];
		snprintf(why, sizeof(why), "logged out by a Logout on connection %u", conn->cid);
		iscsi_conn_close(closing, why);
	}
}
