/* Text requests (RFC 7143 11.10, 11.11) and SendTargets (appendix C):
 * in discovery sessions and in the full feature phase of normal ones.
 * Responses longer than the initiator's MaxRecvDataSegmentLength go out
 * in pieces, each asked for by an empty Text Request carrying our TTT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/conn.h"
#include "targets/iscsi/requests.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/target.h"

struct send_targets {
	struct iscsi_conn *conn;
	struct iscsi_text *out;
	const char *want; /* a target name, or NULL for every target */
};

static void add_target(struct scst_tgt *tgt, void *ctx)
{
	struct send_targets *st = ctx;
	char why[320];
	if (!tgt->enabled || !tgt->tgt_priv)
		return;
	if (st->want && strcmp(st->want, tgt->name) != 0)
		return;
	/* A target is listed only where it is reachable (allowed_portal) and
	 * only to an initiator that may log in to it. */
	if (!iscsi_portal_allowed(&((struct iscsi_tgt *)tgt->tgt_priv)->portals,
				  st->conn->local_ip))
		return;
	if (!scst_tgt_initiator_allowed(tgt, st->conn->sess->initiator_name, why, sizeof(why)))
		return;
	/* Here, or where a permanent redirect says (redirect.h). */
	char addr[ISCSI_REDIRECT_HOST_MAX + 16];
	iscsi_redirect_send_targets_address(&((struct iscsi_tgt *)tgt->tgt_priv)->tp.redirect,
					    st->conn->local, iscsi_tpgt(tgt), addr, sizeof(addr));
	iscsi_text_add(st->out, "TargetName", tgt->name);
	iscsi_text_add(st->out, "TargetAddress", addr);
}

static bool looks_like_iscsi_name(const char *v)
{
	return strncmp(v, "iqn.", 4) == 0 || strncmp(v, "eui.", 4) == 0 ||
	       strncmp(v, "naa.", 4) == 0;
}

static void send_targets(struct iscsi_conn *conn, const char *value, struct iscsi_text *out)
{
	struct send_targets st = { .conn = conn, .out = out };
	bool normal = conn->sess && !conn->sess->discovery;
	if (strcmp(value, "All") == 0) {
		/* A normal session learns only about its own target. */
		st.want = normal ? conn->tgt->name : NULL;
	} else if (*value == '\0' && normal) {
		st.want = conn->tgt->name;
	} else if (looks_like_iscsi_name(value)) {
		st.want = value;
	} else {
		iscsi_text_add(out, "SendTargets", "Reject");
		return;
	}
	pthread_mutex_lock(&scst_mutex); /* the registry's lock */
	scst_for_each_target(&iscsi_template, add_target, &st);
	pthread_mutex_unlock(&scst_mutex);
}

static bool is_login_only_key(const char *key)
{
	static const char *const keys[] = {
		"HeaderDigest", "DataDigest", "MaxRecvDataSegmentLength", "MaxBurstLength",
		"FirstBurstLength", "InitialR2T", "ImmediateData", "MaxOutstandingR2T",
		"DataPDUInOrder", "DataSequenceInOrder", "DefaultTime2Wait",
		"DefaultTime2Retain", "ErrorRecoveryLevel", "MaxConnections", "InitiatorName",
		"TargetName", "SessionType", "AuthMethod", "TargetAlias", "InitiatorAlias",
		"TargetPortalGroupTag", "TargetAddress",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

struct text_ctx {
	struct iscsi_conn *conn;
	struct iscsi_text *out;
};

static int answer_key(void *ctx, const char *key, const char *value)
{
	struct text_ctx *tc = ctx;
	if (strcmp(key, "SendTargets") == 0)
		send_targets(tc->conn, value, tc->out);
	else if (is_login_only_key(key))
		/* Renegotiation in the full feature phase is not offered. */
		iscsi_text_add(tc->out, key, "Reject");
	else
		iscsi_text_add(tc->out, key, "NotUnderstood");
	return 0;
}

/* Sends the next piece of conn->text_rsp. */
static void send_piece(struct iscsi_conn *conn, uint32_t itt, const uint8_t *lun)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	size_t left = conn->text_rsp.len - conn->text_sent;
	uint32_t len = left > conn->params.max_xmit_dsl ? conn->params.max_xmit_dsl
							: (uint32_t)left;
	bool last = len == left;
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_TEXT_RSP, last ? ISCSI_FLAG_FINAL : ISCSI_FLAG_CONTINUE);
	memcpy(bhs + ISCSI_OFF_LUN, lun, 8);
	put_be32(bhs + ISCSI_OFF_ITT, itt);
	if (len) {
		pdu->owned = malloc(len);
		if (!pdu->owned) {
			free(pdu);
			iscsi_conn_close(conn, "out of memory");
			return;
		}
		memcpy(pdu->owned, conn->text_rsp.data + conn->text_sent, len);
		pdu->data = pdu->owned;
		pdu->data_len = len;
	}
	conn->text_sent += len;
	if (last) {
		put_be32(bhs + ISCSI_OFF_TTT, ISCSI_RESERVED_TAG);
		iscsi_text_free(&conn->text_rsp);
		conn->text_sent = 0;
		conn->text_ttt = 0;
	} else {
		conn->text_ttt = iscsi_conn_next_ttt(conn);
		if (conn->text_ttt == 0)
			conn->text_ttt = iscsi_conn_next_ttt(conn);
		put_be32(bhs + ISCSI_OFF_TTT, conn->text_ttt);
	}
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
}

void iscsi_text_rx(struct iscsi_conn *conn, struct iscsi_req *r)
{
	const uint8_t *req = r->bhs;
	uint32_t ttt = get_be32(req + ISCSI_OFF_TTT);
	if (ttt != ISCSI_RESERVED_TAG) {
		/* The initiator asks for the rest of a long answer. */
		if (ttt != conn->text_ttt || !conn->text_rsp.data) {
			iscsi_conn_reject_bhs(conn, req, ISCSI_REJECT_INVALID_PDU_FIELD);
			return;
		}
		send_piece(conn, pdu_itt(req), req + ISCSI_OFF_LUN);
		return;
	}
	/* A new request ends whatever answer was left unfetched. */
	iscsi_text_free(&conn->text_rsp);
	conn->text_sent = 0;
	iscsi_text_append(&conn->text_req, r->data, r->data_len);
	if (conn->text_req.len > 65536 || conn->text_req.oom) {
		iscsi_text_free(&conn->text_req);
		iscsi_conn_reject_bhs(conn, req, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	}
	if (req[1] & ISCSI_FLAG_CONTINUE) {
		/* More request text follows: answer empty, keep collecting. */
		send_piece(conn, pdu_itt(req), req + ISCSI_OFF_LUN);
		return;
	}
	struct text_ctx tc = { .conn = conn, .out = &conn->text_rsp };
	int rc = iscsi_text_for_each(conn->text_req.data, conn->text_req.len, answer_key, &tc);
	iscsi_text_free(&conn->text_req);
	if (rc < 0 || conn->text_rsp.oom) {
		iscsi_text_free(&conn->text_rsp);
		iscsi_conn_reject_bhs(conn, req, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	}
	send_piece(conn, pdu_itt(req), req + ISCSI_OFF_LUN);
}
