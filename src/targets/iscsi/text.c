/* Text requests (RFC 7143 11.10, 11.11): SendTargets (appendix C) and
 * the renegotiation of MaxRecvDataSegmentLength, in discovery sessions
 * and in the full feature phase of normal ones.
 *
 * One exchange at a time per connection, named by its ITT. A request
 * with TTT 0xffffffff starts one (and ends any other, RFC 7143 11.10.4);
 * every further request carries the TTT of our last response. A request
 * split with the C bit is answered empty (F=0, a TTT) until its last
 * piece; a response longer than the initiator's MaxRecvDataSegmentLength
 * goes out in pieces with the C bit, each asked for by an empty request.
 * Our last response has F=1 only when the request had it: that ends the
 * exchange, and only then do the values it negotiated take effect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/iscsi.h"
#include "targets/iscsi/requests.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/target.h"
#include "targets/iscsi/text_keys.h"

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
	/* Here (where initiators reach this portal, which behind a NAT is
	 * its advertised address), or where a permanent redirect says
	 * (redirect.h). */
	char here[sizeof(st->conn->local) + 96], addr[ISCSI_REDIRECT_HOST_MAX + 16];
	iscsi_portal_reach_address(st->conn->local, here, sizeof(here));
	iscsi_redirect_send_targets_address(&((struct iscsi_tgt *)tgt->tgt_priv)->tp.redirect,
					    here, iscsi_tpgt(tgt), addr, sizeof(addr));
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

struct text_ctx {
	struct iscsi_conn *conn;
	struct iscsi_text *out;
};

/* Returns 1 for a key negotiated twice in one exchange (the request is
 * rejected), else 0. */
static int answer_key(void *ctx, const char *key, const char *value)
{
	struct text_ctx *tc = ctx;

	switch (iscsi_ffp_key_use(key)) {
	case ISCSI_FFP_SEND_TARGETS:
		send_targets(tc->conn, value, tc->out);
		break;
	case ISCSI_FFP_NEGOTIATE:
		if (iscsi_negotiate_key(&tc->conn->text_neg, key, value, tc->out) ==
		    ISCSI_KEY_REPEATED)
			return 1;
		break;
	case ISCSI_FFP_DECLARED:
		break;
	case ISCSI_FFP_LOGIN_ONLY:
		/* RFC 7143 13: an "IO" or "LO" key has no meaning once the
		 * login is over; the session keeps what it negotiated. */
		iscsi_text_add(tc->out, key, "Reject");
		break;
	case ISCSI_FFP_UNKNOWN:
		iscsi_text_add(tc->out, key, "NotUnderstood");
		break;
	}
	return 0;
}

/* Forgets the exchange under way, and what it negotiated. */
static void exchange_reset(struct iscsi_conn *conn)
{
	iscsi_text_free(&conn->text_rsp);
	iscsi_text_free(&conn->text_req);
	conn->text_sent = 0;
	conn->text_ttt = 0;
	conn->text_active = false;
}

static void exchange_begin(struct iscsi_conn *conn, uint32_t itt)
{
	exchange_reset(conn);
	conn->text_active = true;
	conn->text_itt = itt;
	iscsi_negotiation_init(&conn->text_neg, &conn->tp);
	conn->text_neg.sp = conn->params;
	conn->text_neg.discovery = conn->sess && conn->sess->discovery;
	/* Nothing to declare unless we asked for the exchange (AsyncEvent
	 * 4) or our limit changes (declare_ours). */
	conn->text_neg.declared_mrdsl = conn->reneg_wait == 0;
}

/* Our receive limit changed since it was last declared (renegotiate.c):
 * the next response of the exchange declares the new one. */
static void declare_ours(struct iscsi_conn *conn)
{
	struct iscsi_negotiation *n = &conn->text_neg;

	if (conn->tp.max_recv_dsl != n->sp.max_recv_dsl) {
		n->sp.max_recv_dsl = conn->tp.max_recv_dsl;
		n->declared_mrdsl = false;
	}
	iscsi_negotiation_declare(n, &conn->text_rsp);
}

/* The last response had F=1: the values take effect now. */
static void exchange_done(struct iscsi_conn *conn)
{
	const struct iscsi_session_params *now = &conn->text_neg.sp;

	if (now->max_xmit_dsl != conn->params.max_xmit_dsl ||
	    now->max_recv_dsl != conn->params.max_recv_dsl)
		log_info("iSCSI: %s (%s): renegotiated: MaxRecvDataSegmentLength %u (ours %u), "
			 "was %u (ours %u)",
			 conn->peer, iscsi_conn_initiator(conn), now->max_xmit_dsl,
			 now->max_recv_dsl, conn->params.max_xmit_dsl, conn->params.max_recv_dsl);
	/* Both are per connection (13.12); nothing else changes in FFP. */
	conn->params.max_xmit_dsl = now->max_xmit_dsl;
	conn->params.max_recv_dsl = now->max_recv_dsl;
	exchange_reset(conn);
}

static void reject_and_reset(struct iscsi_conn *conn, const uint8_t *req,
			     enum iscsi_reject_reason reason, const char *why)
{
	log_warn_rl("iSCSI: %s (%s): Text Request ITT 0x%x rejected: %s", conn->peer,
		    iscsi_conn_initiator(conn), pdu_itt(req), why);
	exchange_reset(conn);
	iscsi_conn_reject_bhs(conn, req, reason);
}

/* Sends the next piece of conn->text_rsp (none: an empty response). */
static void send_piece(struct iscsi_conn *conn, const uint8_t *lun)
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
	/* RFC 7143 11.11.1: F=1 only in answer to F=1, and never while
	 * text is left (that piece has C=1 instead). */
	bool final = last && conn->text_req_final;
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_TEXT_RSP, final ? ISCSI_FLAG_FINAL : last ? 0 : ISCSI_FLAG_CONTINUE);
	memcpy(bhs + ISCSI_OFF_LUN, lun, 8);
	put_be32(bhs + ISCSI_OFF_ITT, conn->text_itt);
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
		iscsi_text_free(&conn->text_rsp);
		conn->text_sent = 0;
	}
	if (final) {
		put_be32(bhs + ISCSI_OFF_TTT, ISCSI_RESERVED_TAG);
		exchange_done(conn);
	} else {
		/* The initiator goes on with this TTT (11.11.4). */
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
	uint32_t itt = pdu_itt(req);
	uint32_t ttt = get_be32(req + ISCSI_OFF_TTT);
	bool final = req[1] & ISCSI_FLAG_FINAL;
	bool more = req[1] & ISCSI_FLAG_CONTINUE;

	if (final && more) {
		reject_and_reset(conn, req, ISCSI_REJECT_PROTOCOL_ERROR, "both F and C bits");
		return;
	}
	if (ttt == ISCSI_RESERVED_TAG) {
		/* A new exchange; one still under way is abandoned with what
		 * it negotiated (RFC 7143 11.10.4). */
		exchange_begin(conn, itt);
	} else if (!conn->text_active || ttt != conn->text_ttt || itt != conn->text_itt) {
		log_warn_rl("iSCSI: %s (%s): Text Request ITT 0x%x TTT 0x%x continues no exchange",
			    conn->peer, iscsi_conn_initiator(conn), itt, ttt);
		iscsi_conn_reject_bhs(conn, req, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	/* The initiator has answered a renegotiation request (AsyncEvent 4). */
	conn->reneg_wait = 0;
	conn->text_req_final = final;
	if (conn->text_rsp.data) {
		/* The initiator asks for the rest of a long answer. */
		if (r->data_len) {
			reject_and_reset(conn, req, ISCSI_REJECT_PROTOCOL_ERROR,
					 "text sent while our response is incomplete");
			return;
		}
		send_piece(conn, req + ISCSI_OFF_LUN);
		return;
	}
	iscsi_text_append(&conn->text_req, r->data, r->data_len);
	if (conn->text_req.len > 65536 || conn->text_req.oom) {
		reject_and_reset(conn, req, ISCSI_REJECT_PROTOCOL_ERROR,
				 "request text over 64 KiB");
		return;
	}
	if (more) {
		/* More request text follows: answer empty, keep collecting. */
		send_piece(conn, req + ISCSI_OFF_LUN);
		return;
	}
	struct text_ctx tc = { .conn = conn, .out = &conn->text_rsp };
	int rc = iscsi_text_for_each(conn->text_req.data, conn->text_req.len, answer_key, &tc);
	iscsi_text_free(&conn->text_req);
	if (rc == 0)
		declare_ours(conn);
	if (rc != 0 || conn->text_rsp.oom) {
		reject_and_reset(conn, req, ISCSI_REJECT_PROTOCOL_ERROR,
				 rc > 0 ? "a key negotiated twice in one exchange"
				 : rc < 0 ? "malformed text" : "out of memory");
		return;
	}
	send_piece(conn, req + ISCSI_OFF_LUN);
}
