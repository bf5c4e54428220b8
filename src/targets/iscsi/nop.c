/* NOP-Out / NOP-In (RFC 7143 11.18, 11.19): echoing the initiator's pings,
 * and the target's own pings every NopInInterval idle seconds, with the
 * connection closed when one goes unanswered for NopInTimeout seconds. */
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/conn.h"
#include "targets/iscsi/requests.h"

void iscsi_nop_out_rx(struct iscsi_conn *conn, struct iscsi_req *r)
{
	const uint8_t *req = r->bhs;
	uint32_t itt = pdu_itt(req), ttt = get_be32(req + ISCSI_OFF_TTT);
	if (itt == ISCSI_RESERVED_TAG) {
		/* No answer wanted: an answer to our ping, or a bare ping. */
		if (conn->ping_outstanding && ttt == conn->ping_ttt)
			conn->ping_outstanding = false;
		return;
	}
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL);
	memcpy(bhs + ISCSI_OFF_LUN, req + ISCSI_OFF_LUN, 8);
	put_be32(bhs + ISCSI_OFF_ITT, itt);
	put_be32(bhs + ISCSI_OFF_TTT, ISCSI_RESERVED_TAG);
	/* The ping data comes back, as much as the initiator can take. (A
	 * peer that sends pings and never reads the answers is stopped by
	 * the transmit queue's bound: conn.c stops reading from it.) */
	uint32_t len = r->data_len;
	if (len > conn->params.max_xmit_dsl)
		len = conn->params.max_xmit_dsl;
	if (len && r->data) {
		pdu->owned = r->data;
		r->data = NULL;
		pdu->data = pdu->owned;
		pdu->data_len = len;
	}
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
}

static void send_ping(struct iscsi_conn *conn)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu)
		return; /* try again on the next tick */
	conn->ping_ttt = iscsi_conn_next_ttt(conn);
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL);
	put_be32(bhs + ISCSI_OFF_ITT, ISCSI_RESERVED_TAG);
	put_be32(bhs + ISCSI_OFF_TTT, conn->ping_ttt);
	iscsi_conn_queue(conn, pdu, TX_SN_NONE);
	conn->ping_outstanding = true;
	conn->ping_ticks = 0;
}

void iscsi_nop_tick(struct iscsi_conn *conn)
{
	if (conn->tp.nop_in_interval == 0)
		return;
	if (conn->ping_outstanding) {
		if (++conn->ping_ticks > conn->tp.nop_in_timeout)
			iscsi_conn_close(conn, "no answer to NOP-In ping (NopInTimeout)");
		return;
	}
	if (++conn->idle_ticks >= conn->tp.nop_in_interval) {
		conn->idle_ticks = 0;
		send_ping(conn);
	}
}
