/* Login phase: collects a request's text (across C-bit continuations),
 * checks identities, answers keys through params.c, moves between the
 * security, operational and full feature stages, and on the last step
 * creates the session. The security stage negotiates AuthMethod (CHAP
 * where the target or the discovery service has an IncomingUser, else
 * None) and runs the CHAP exchange (chap.c); no login leaves it before
 * authenticate() says so. */
#include "targets/iscsi/login.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "targets/iscsi/admission.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/redirect.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/target.h"

/* Longest login text we collect over C-bit continuations. */
#define LOGIN_TEXT_MAX 65536
/* Longest data segment of a Login Response: the initiator's
 * MaxRecvDataSegmentLength keeps its default until the login is over
 * (RFC 7143 13.12). */
#define LOGIN_RSP_MAX 8192

struct iscsi_login {
	struct iscsi_negotiation neg;
	struct iscsi_text req;   /* request text collected so far */
	struct iscsi_text rsp;   /* answer being built */
	bool started;            /* first request seen */
	bool identified;         /* InitiatorName/TargetName/SessionType checked */
	bool tpgt_sent;
	unsigned stage;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	uint32_t cmd_sn;
	char *initiator_name;
	char *target_name;
	bool discovery;
	struct scst_tgt *tgt;
	/* Security: the credentials the login is checked against (a copy,
	 * see take_credentials()), the CHAP exchange once AuthMethod=CHAP is
	 * agreed, and whether the initiator has authenticated (or needed
	 * not). */
	struct chap_credentials creds;
	struct chap_exchange chap;
	bool authenticated;
	enum iscsi_login_status status;
	/* Why it was refused, where a check said (the "login: refused"
	 * line of send_failure()); empty: the status says it. As long as
	 * identify()'s reason from the core. */
	char why[320];
	/* Reinstatement: older sessions still to be freed before the final
	 * response, and that response's request header and flags. */
	unsigned predecessors;
	uint8_t final_req[ISCSI_BHS_LEN];
	uint8_t final_flags;
	/* An answer longer than LOGIN_RSP_MAX goes out in pieces with the C
	 * bit (RFC 7143 11.13.1), each asked for by an empty Login Request:
	 * rsp_sent bytes of rsp have gone; answer_flags are those of the
	 * request being answered, acted on (stage transition) with the last
	 * piece only. */
	bool answering;
	size_t rsp_sent;
	uint8_t answer_flags;
	/* A further connection of a session (TSIH not 0) is served on the
	 * session's reactor: its first Login PDU waits here while the
	 * connection moves (conn.c), and is taken up again there. */
	bool moved;
	uint8_t moved_bhs[ISCSI_BHS_LEN];
	uint8_t *moved_data;
	uint32_t moved_len;
};

/* The longest RspTimeout of the targets attached so far (0: none yet). It
 * never shrinks when a target goes: a login is then allowed a little
 * longer than needed, never less. */
static _Atomic unsigned longest_rsp_timeout;

void iscsi_login_note_rsp_timeout(unsigned seconds)
{
	unsigned cur = atomic_load(&longest_rsp_timeout);
	while (seconds > cur && !atomic_compare_exchange_weak(&longest_rsp_timeout, &cur, seconds))
		;
}

unsigned iscsi_login_timeout(const struct iscsi_conn *conn)
{
	if (conn->tgt)
		return conn->tp.rsp_timeout;
	unsigned longest = atomic_load(&longest_rsp_timeout);
	return longest ? longest : conn->tp.rsp_timeout;
}

void iscsi_login_free(struct iscsi_login *login)
{
	if (!login)
		return;
	iscsi_text_free(&login->req);
	iscsi_text_free(&login->rsp);
	chap_credentials_clear(&login->creds);
	free(login->moved_data);
	free(login->initiator_name);
	free(login->target_name);
	free(login);
}

/* RFC 7143 11.13.5's names of the statuses a login can fail with. */
static const char *login_status_name(enum iscsi_login_status status)
{
	switch (status) {
	case LOGIN_OK: return "success";
	case LOGIN_INITIATOR_ERROR: return "initiator error";
	case LOGIN_AUTH_FAILED: return "authentication failure";
	case LOGIN_AUTHORIZATION_FAILED: return "authorization failure";
	case LOGIN_NOT_FOUND: return "not found";
	case LOGIN_TARGET_REMOVED: return "target removed";
	case LOGIN_UNSUPPORTED_VERSION: return "unsupported version";
	case LOGIN_TOO_MANY_CONNECTIONS: return "too many connections";
	case LOGIN_MISSING_PARAMETER: return "missing parameter";
	case LOGIN_CANT_INCLUDE_IN_SESSION: return "can't include in session";
	case LOGIN_SESSION_TYPE_NOT_SUPPORTED: return "session type not supported";
	case LOGIN_SESSION_DOES_NOT_EXIST: return "session does not exist";
	case LOGIN_INVALID_DURING_LOGIN: return "invalid during login";
	case LOGIN_TARGET_ERROR: return "target error";
	case LOGIN_SERVICE_UNAVAILABLE: return "service unavailable";
	case LOGIN_OUT_OF_RESOURCES: return "out of resources";
	}
	return "unknown status";
}

static void fail(struct iscsi_login *l, enum iscsi_login_status status)
{
	if (l->status == LOGIN_OK)
		l->status = status;
}

/* ------------------------------------------------------------------ */
/* Identity keys, read before anything else is answered so that the
 * session type and target are known. */

static int identity_key(void *ctx, const char *key, const char *value)
{
	struct iscsi_login *l = ctx;
	char **slot = NULL;
	if (strcmp(key, "InitiatorName") == 0)
		slot = &l->initiator_name;
	else if (strcmp(key, "TargetName") == 0)
		slot = &l->target_name;
	if (slot) {
		if (*slot || !*value || strlen(value) > 223) {
			fail(l, LOGIN_INITIATOR_ERROR);
			return 0;
		}
		*slot = strdup(value);
		if (!*slot)
			fail(l, LOGIN_OUT_OF_RESOURCES);
		return 0;
	}
	if (strcmp(key, "SessionType") == 0) {
		if (strcmp(value, "Discovery") == 0)
			l->discovery = true;
		else if (strcmp(value, "Normal") != 0)
			fail(l, LOGIN_SESSION_TYPE_NOT_SUPPORTED);
	}
	return 0;
}

/* The session a further connection (TSIH not 0) joins, or NULL with the
 * login failed: it must be this initiator's, with this ISID, to this
 * target, not ending, and have room besides a connection with the same
 * CID (which the join replaces: connection reinstatement). */
static struct iscsi_session *joined_session(struct iscsi_conn *conn, struct iscsi_login *l)
{
	struct iscsi_session *sess = iscsi_session_find_here(l->tsih);
	const char *why = NULL;
	if (!sess || sess->closing || memcmp(sess->isid, l->isid, 6) != 0 ||
	    strcmp(sess->initiator_name, l->initiator_name) != 0) {
		fail(l, LOGIN_SESSION_DOES_NOT_EXIST);
		why = "no such session of this initiator and ISID";
	} else if (sess->discovery || l->discovery) {
		fail(l, LOGIN_TOO_MANY_CONNECTIONS);
		why = "a discovery session has one connection";
	} else if (sess->tgt != l->tgt) {
		fail(l, LOGIN_INITIATOR_ERROR);
		why = "its TargetName is not the session's target";
	} else {
		struct iscsi_conn *same_cid = iscsi_session_conn_by_cid(sess, l->cid);
		unsigned others = sess->nconns - (same_cid ? 1 : 0);
		if (others >= sess->params.max_connections) {
			fail(l, LOGIN_TOO_MANY_CONNECTIONS);
			snprintf(l->why, sizeof(l->why),
				 "session %u has %u connections (MaxConnections %u)", sess->tsih,
				 sess->nconns, sess->params.max_connections);
			return NULL;
		}
		return sess;
	}
	snprintf(l->why, sizeof(l->why), "joining session %u: %s", l->tsih, why);
	return NULL;
}

/* Finds the target and sets up negotiation with its parameters. */
static void identify(struct iscsi_conn *conn, struct iscsi_login *l)
{
	if (!l->initiator_name) {
		fail(l, LOGIN_MISSING_PARAMETER);
		return;
	}
	if (l->tsih != 0 && l->discovery) {
		fail(l, iscsi_session_tsih_exists(l->tsih) ? LOGIN_TOO_MANY_CONNECTIONS
							    : LOGIN_SESSION_DOES_NOT_EXIST);
		return;
	}
	if (!l->discovery) {
		if (!l->target_name) {
			fail(l, LOGIN_MISSING_PARAMETER);
			return;
		}
		/* The registry is scst_mutex's; the target's parameters are
		 * copied under it, so a later change cannot tear them. */
		pthread_mutex_lock(&scst_mutex);
		struct scst_tgt *tgt = scst_find_target(&iscsi_template, l->target_name);
		bool usable = tgt && tgt->enabled && tgt->tgt_priv;
		/* allowed_portal: elsewhere the target does not exist. */
		bool on_portal = usable && iscsi_portal_allowed(
			&((struct iscsi_tgt *)tgt->tgt_priv)->portals, conn->local_ip);
		char why[320];
		/* LUN masking, initiator ACLs and iSNS discovery domains: an
		 * initiator with nothing to see at the target is refused
		 * here. It is known (no CHAP failed): it is not authorised
		 * to this target, 0x0202 (RFC 7143 11.13.5, SCST's answer). */
		bool allowed = on_portal && scst_tgt_initiator_allowed(tgt, l->initiator_name, why,
								    sizeof(why));
		if (allowed) {
			l->tgt = tgt;
			conn->tgt = tgt;
			conn->tp = ((struct iscsi_tgt *)tgt->tgt_priv)->tp;
		}
		pthread_mutex_unlock(&scst_mutex);
		if (!usable) {
			log_warn_rl("iSCSI: %s (%s): login to %s target %s refused", conn->peer,
				 l->initiator_name, tgt ? "disabled" : "unknown", l->target_name);
			snprintf(l->why, sizeof(l->why), "%s target",
				 tgt ? "disabled" : "unknown");
			fail(l, LOGIN_NOT_FOUND);
			return;
		}
		if (!on_portal) {
			log_warn_rl("iSCSI: %s (%s): login to target %s through portal %s refused: "
				    "not an allowed_portal of the target", conn->peer,
				    l->initiator_name, l->target_name, conn->local_ip);
			snprintf(l->why, sizeof(l->why), "portal %s is not an allowed_portal",
				 conn->local_ip);
			fail(l, LOGIN_NOT_FOUND);
			return;
		}
		if (!allowed) {
			log_warn_rl("iSCSI: %s (%s): login to target %s refused: %s", conn->peer,
				 l->initiator_name, l->target_name, why);
			snprintf(l->why, sizeof(l->why), "%s", why);
			fail(l, LOGIN_AUTHORIZATION_FAILED);
			return;
		}
	}
	if (l->tsih != 0 && !joined_session(conn, l))
		return;
	iscsi_negotiation_init(&l->neg, &conn->tp);
	l->neg.discovery = l->discovery;
	l->neg.joining = l->tsih != 0;
	l->identified = true;
}

/* ------------------------------------------------------------------ */
/* Security stage. */

/* The CHAP credentials the login is checked against. Copied under
 * scst_mutex, as identify() copies the target's parameters: a reload may
 * replace them while the login goes on on its reactor. */
static void take_credentials(struct iscsi_conn *conn, struct iscsi_login *l)
{
	int rc = 0;
	bool gone = false;
	pthread_mutex_lock(&scst_mutex);
	if (l->discovery) {
		rc = iscsi_discovery_chap_copy(&l->creds);
	} else {
		struct scst_tgt *tgt = scst_find_target(&iscsi_template, l->target_name);
		if (tgt && tgt == l->tgt && tgt->tgt_priv)
			rc = chap_credentials_copy(&l->creds,
						   &((struct iscsi_tgt *)tgt->tgt_priv)->chap);
		else
			gone = true;
	}
	pthread_mutex_unlock(&scst_mutex);
	if (gone) {
		log_warn_rl("iSCSI: %s (%s): target %s went away during login", conn->peer,
			    l->initiator_name, l->target_name);
		snprintf(l->why, sizeof(l->why), "the target went away during the login");
		fail(l, LOGIN_NOT_FOUND);
	} else if (rc < 0) {
		fail(l, LOGIN_OUT_OF_RESOURCES);
	}
}

/* The login is refused for @reason (names only, never a secret). */
static void refuse(struct iscsi_conn *conn, struct iscsi_login *l,
		   enum iscsi_login_status status, const char *reason)
{
	log_warn_rl("iSCSI: %s (%s): %s login%s%s refused: %s", conn->peer, l->initiator_name,
		    l->discovery ? "discovery" : "normal", l->discovery ? "" : " to ",
		    l->discovery ? "" : l->target_name, reason);
	if (!l->why[0])
		snprintf(l->why, sizeof(l->why), "%s", reason);
	fail(l, status);
}

static bool chap_agreed(const struct iscsi_login *l)
{
	return l->neg.auth_method && strcmp(l->neg.auth_method, "CHAP") == 0;
}

static void answer_auth_method(struct iscsi_conn *conn, struct iscsi_login *l,
			       const char *value)
{
	if (l->stage != STAGE_SECURITY || l->neg.auth_method) {
		refuse(conn, l, LOGIN_INITIATOR_ERROR,
		       l->neg.auth_method ? "AuthMethod negotiated twice"
					  : "AuthMethod outside the security stage");
		return;
	}
	bool chap = chap_required(&l->creds);
	const char *method = iscsi_negotiate_auth_method(value, chap);
	iscsi_text_add(&l->rsp, "AuthMethod", method ? method : "Reject");
	if (!method) {
		refuse(conn, l, LOGIN_AUTH_FAILED,
		       chap ? "CHAP is required and AuthMethod does not offer it"
			    : "AuthMethod does not offer None (no CHAP is configured here)");
		return;
	}
	l->neg.auth_method = method;
	if (chap)
		chap_exchange_init(&l->chap);
	else
		l->authenticated = true;
}

/* A CHAP_* key: kept in @keys for the step at the end of the request
 * (the keys of one step come together, in any order). */
static void collect_chap_key(struct iscsi_conn *conn, struct iscsi_login *l,
			     struct chap_keys *keys, const char *key, const char *value)
{
	const char **slot = NULL;
	if (strcmp(key, "CHAP_A") == 0)
		slot = &keys->a;
	else if (strcmp(key, "CHAP_I") == 0)
		slot = &keys->i;
	else if (strcmp(key, "CHAP_C") == 0)
		slot = &keys->c;
	else if (strcmp(key, "CHAP_N") == 0)
		slot = &keys->n;
	else if (strcmp(key, "CHAP_R") == 0)
		slot = &keys->r;
	if (l->stage == STAGE_SECURITY && chap_agreed(l) && slot && !*slot) {
		*slot = value;
		return;
	}
	char why[128];
	snprintf(why, sizeof(why), "%.64s %s", key,
		 l->stage != STAGE_SECURITY ? "outside the security stage"
		 : !chap_agreed(l)	    ? "without AuthMethod=CHAP agreed before"
		 : !slot		    ? "is not a CHAP key"
					    : "sent twice in one request");
	refuse(conn, l, LOGIN_INITIATOR_ERROR, why);
}

/* The CHAP step of one request, once all its keys are in. */
static void chap_step(struct iscsi_conn *conn, struct iscsi_login *l, const struct chap_keys *keys)
{
	char why[320];
	switch (chap_exchange_step(&l->chap, keys, &l->creds, &l->rsp, why, sizeof(why))) {
	case CHAP_CONTINUE:
		return;
	case CHAP_DONE:
		if (!l->authenticated)
			log_info_rl("iSCSI: %s (%s): CHAP %s%s authenticated user '%s'", conn->peer,
				    l->initiator_name, l->chap.alg->name,
				    l->chap.mutual ? " (mutual)" : "", l->chap.user);
		l->authenticated = true;
		return;
	case CHAP_PROTOCOL_ERROR:
		refuse(conn, l, LOGIN_INITIATOR_ERROR, why);
		return;
	case CHAP_AUTH_FAILURE:
		refuse(conn, l, LOGIN_AUTH_FAILED, why);
		return;
	case CHAP_INTERNAL_ERROR:
		refuse(conn, l, LOGIN_TARGET_ERROR, why);
		return;
	}
}

/* Whether this request may leave the security stage (or, having skipped
 * it, be in another stage at all): only once the initiator has
 * authenticated. Where no CHAP is configured, not negotiating AuthMethod
 * means None. Where it is, a transition asked for while the exchange is
 * still under way is answered with T=0 (the target may keep the
 * initiator in a stage, RFC 7143 6.3), which clears ISCSI_FLAG_TRANSIT
 * in @flags. */
static void authenticate(struct iscsi_conn *conn, struct iscsi_login *l, uint8_t *flags)
{
	bool leaving = l->stage != STAGE_SECURITY || (*flags & ISCSI_FLAG_TRANSIT);
	if (l->status != LOGIN_OK || l->authenticated || !leaving)
		return;
	if (!chap_required(&l->creds)) {
		l->authenticated = true;
		return;
	}
	if (l->stage == STAGE_SECURITY && chap_agreed(l)) {
		*flags &= (uint8_t)~ISCSI_FLAG_TRANSIT;
		return;
	}
	refuse(conn, l, LOGIN_AUTH_FAILED,
	       l->stage == STAGE_SECURITY ? "CHAP is required and AuthMethod was not negotiated"
					  : "CHAP is required and the login skipped the security stage");
}

/* ------------------------------------------------------------------ */
/* Every key of a complete request. */

struct key_ctx {
	struct iscsi_conn *conn;
	struct iscsi_login *l;
	struct chap_keys chap;
};

static bool is_identity_key(const char *key)
{
	return strcmp(key, "InitiatorName") == 0 || strcmp(key, "TargetName") == 0 ||
	       strcmp(key, "SessionType") == 0 || strcmp(key, "InitiatorAlias") == 0;
}

static int negotiate_key(void *ctx, const char *key, const char *value)
{
	struct key_ctx *kc = ctx;
	struct iscsi_login *l = kc->l;
	if (is_identity_key(key))
		return 0;
	switch (iscsi_negotiate_key(&l->neg, key, value, &l->rsp)) {
	case ISCSI_KEY_OK:
		return 0;
	case ISCSI_KEY_REPEATED:
		log_warn_rl("iSCSI: %s (%s): key %s negotiated twice", kc->conn->peer,
			 l->initiator_name, key);
		fail(l, LOGIN_INITIATOR_ERROR);
		return 0;
	case ISCSI_KEY_NOT_OPERATIONAL:
		break;
	}
	if (strcmp(key, "AuthMethod") == 0) {
		answer_auth_method(kc->conn, l, value);
		return 0;
	}
	if (strncmp(key, "CHAP_", 5) == 0) {
		collect_chap_key(kc->conn, l, &kc->chap, key, value);
		return 0;
	}
	/* TargetAlias, TargetPortalGroupTag, TargetAddress: declared by
	 * targets, never by initiators. */
	iscsi_text_add(&l->rsp, key, "Reject");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Responses. */

static void send_response(struct iscsi_conn *conn, struct iscsi_login *l, const uint8_t *req,
			  uint8_t flags, uint16_t tsih, bool with_text)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_LOGIN_RSP, flags);
	bhs[2] = 0; /* Version-max */
	bhs[3] = 0; /* Version-active */
	memcpy(bhs + 8, req + 8, 6);
	put_be16(bhs + 14, tsih);
	put_be32(bhs + ISCSI_OFF_ITT, pdu_itt(req));
	put_be32(bhs + ISCSI_OFF_STATSN, conn->stat_sn);
	if (conn->sess) {
		/* The final response of a login that made or joined a
		 * session: the session's window. */
		iscsi_session_stamp_cmdsn(conn->sess, bhs);
	} else {
		put_be32(bhs + ISCSI_OFF_EXPCMDSN, l->cmd_sn);
		put_be32(bhs + ISCSI_OFF_MAXCMDSN, l->cmd_sn + conn->tp.queued_cmds - 1);
	}
	bhs[36] = (uint8_t)(l->status >> 8);
	bhs[37] = (uint8_t)l->status;
	if (with_text && l->rsp.len > l->rsp_sent) {
		size_t left = l->rsp.len - l->rsp_sent;
		uint32_t len = left > LOGIN_RSP_MAX ? LOGIN_RSP_MAX : (uint32_t)left;
		/* Only a piece with the C bit may leave text behind. */
		assert(len == left || (flags & ISCSI_FLAG_CONTINUE));
		pdu->owned = malloc(len);
		if (!pdu->owned) {
			free(pdu);
			iscsi_conn_close(conn, "out of memory");
			return;
		}
		memcpy(pdu->owned, l->rsp.data + l->rsp_sent, len);
		pdu->data = pdu->owned;
		pdu->data_len = len;
		l->rsp_sent += len;
		if (l->rsp_sent == l->rsp.len)
			l->rsp.len = l->rsp_sent = 0;
	}
	pdu->close_after = l->status != LOGIN_OK;
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
}

static void send_failure(struct iscsi_conn *conn, struct iscsi_login *l, const uint8_t *req)
{
	/* The one line per refused login an administrator greps for
	 * ("login: refused"), whatever refused it; the check that did may
	 * have said more just before. */
	log_warn_rl("login: refused %s (%s): login failed with status 0x%04x (%s)%s%s%s%s",
		    conn->peer, l->initiator_name ? l->initiator_name : "unknown initiator",
		    l->status, login_status_name(l->status),
		    l->discovery ? "; discovery" : l->target_name ? "; target " : "",
		    !l->discovery && l->target_name ? l->target_name : "", l->why[0] ? ": " : "",
		    l->why);
	send_response(conn, l, req, 0, 0, false);
}

/* A further connection's login is over: it joins its session, replacing
 * a connection with the same CID (RFC 7143 6.3.4; at ErrorRecoveryLevel 0
 * the old one's tasks end with it). NULL: the login failed. */
static struct iscsi_session *join_session(struct iscsi_conn *conn, struct iscsi_login *l)
{
	/* Looked up again: the session may have ended while we talked. */
	struct iscsi_session *sess = joined_session(conn, l);
	struct iscsi_conn *old = sess ? iscsi_session_conn_by_cid(sess, l->cid) : NULL;
	if (old) {
		log_info_rl("iSCSI: %s (%s): reinstating connection %u of session %u", conn->peer,
			    l->initiator_name, l->cid, sess->tsih);
		iscsi_conn_close(old, "connection reinstated by a new login with the same CID");
		if (sess->closing) {
			/* It was the last one: the session ended with it. */
			fail(l, LOGIN_SESSION_DOES_NOT_EXIST);
			snprintf(l->why, sizeof(l->why), "session %u ended with its connection %u",
				 l->tsih, l->cid);
			return NULL;
		}
	}
	if (!sess)
		return NULL;
	iscsi_session_params_join(&conn->params, &sess->params);
	iscsi_session_add_conn(sess, conn);
	return sess;
}

/* The login is over: the session exists from here on. */
static void finish_full_feature(struct iscsi_conn *conn, struct iscsi_login *l)
{
	const uint8_t *req = l->final_req;
	conn->params = l->neg.sp;
	struct iscsi_session *sess;
	if (l->tsih)
		sess = join_session(conn, l);
	else
		sess = iscsi_session_create(conn, l->initiator_name, l->isid, l->discovery,
					    l->cmd_sn);
	if (!sess) {
		if (l->status == LOGIN_OK)
			fail(l, LOGIN_OUT_OF_RESOURCES);
		send_failure(conn, l, req);
		return;
	}
	send_response(conn, l, req, l->final_flags, sess->tsih, true);
	/* Digests start with the first PDU after the final Login Response. */
	conn->phase = CONN_FULL_FEATURE;
	conn->idle_ticks = 0;
	iscsi_admission_login_done(conn->fd);
	const struct iscsi_session_params *p = &conn->params;
	log_info_rl("iSCSI: %s (%s): %s session %u %s%s%s (digests %s/%s, send %u, burst %u/%u,"
		 " InitialR2T %s, ImmediateData %s, R2Ts %u, connection %u of %u)",
		 conn->peer, l->initiator_name, l->discovery ? "discovery" : "normal", sess->tsih,
		 l->tsih ? "joined by a connection" : "logged in",
		 l->discovery ? "" : " to ", l->discovery ? "" : l->target_name,
		 p->header_digest ? "CRC32C" : "None", p->data_digest ? "CRC32C" : "None",
		 p->max_xmit_dsl, p->first_burst, p->max_burst, p->initial_r2t ? "Yes" : "No",
		 p->immediate_data ? "Yes" : "No", p->max_outstanding_r2t, sess->nconns,
		 sess->params.max_connections);
	iscsi_login_free(l);
	conn->login = NULL;
}

static void predecessor_gone(struct iscsi_conn *conn);

/* On the session's reactor: the first Login PDU goes on from here. */
static void moved_to_session(struct iscsi_conn *conn)
{
	struct iscsi_login *l = conn->login;
	struct iscsi_rx *rx = &conn->rx;
	if (!l)
		return;
	assert(rx->state == RX_BHS && rx->got == 0 && !rx->heap);
	memcpy(rx->bhs, l->moved_bhs, ISCSI_BHS_LEN);
	rx->heap = l->moved_data;
	rx->data_len = l->moved_len;
	l->moved_data = NULL;
	iscsi_login_rx(conn);
	iscsi_conn_rx_free(conn);
	rx->data_len = 0;
}

/* A further connection of a session (TSIH not 0) is served where the
 * session lives (docs/architecture.md): its first Login PDU is kept and
 * the connection moves. Returns true if it is moving. */
static bool move_to_session(struct iscsi_conn *conn, struct iscsi_login *l)
{
	const uint8_t *req = conn->rx.bhs;
	uint16_t tsih = get_be16(req + 14);
	struct reactor *home = tsih ? iscsi_session_reactor_of(tsih) : NULL;
	if (l->moved || !home || home == conn->reactor)
		return false;
	l->moved = true;
	memcpy(l->moved_bhs, req, ISCSI_BHS_LEN);
	l->moved_data = conn->rx.heap;
	l->moved_len = conn->rx.data_len;
	conn->rx.heap = NULL;
	iscsi_conn_migrate(conn, home, moved_to_session);
	return true;
}

/* The initiator asked to move to the full feature phase and we agree; an
 * older session of the same initiator and ISID must be gone first. */
static void enter_full_feature(struct iscsi_conn *conn, struct iscsi_login *l,
			       const uint8_t *req, uint8_t flags)
{
	memcpy(l->final_req, req, ISCSI_BHS_LEN);
	l->final_flags = flags;
	if (l->tsih) {
		/* A further connection reinstates no session. */
		finish_full_feature(conn, l);
		return;
	}
	int n = iscsi_session_reinstate(conn, l->initiator_name, l->isid, l->discovery,
					predecessor_gone);
	if (n < 0) {
		/* Another login is already reinstating it: try again later. */
		fail(l, LOGIN_SERVICE_UNAVAILABLE);
		send_failure(conn, l, req);
		return;
	}
	l->predecessors = (unsigned)n;
	if (n) {
		log_info_rl("iSCSI: %s (%s): login waits for %d older session(s) to finish",
			 conn->peer, l->initiator_name, n);
		return;
	}
	finish_full_feature(conn, l);
}

/* A session this login reinstates has been freed (posted by the
 * registry, with the reference it took on @conn). */
static void predecessor_gone(struct iscsi_conn *conn)
{
	struct iscsi_login *l = conn->login;
	if (!conn->closed && l && l->predecessors && --l->predecessors == 0) {
		finish_full_feature(conn, l);
		iscsi_conn_flush_soon(conn);
	}
	iscsi_conn_put(conn); /* taken in iscsi_session_reinstate() */
}

/* Answers the request whose flags are in l->answer_flags with the text in
 * l->rsp: the next piece with the C bit while more than one PDU's worth is
 * left, else the last piece, which makes the transition the request asked
 * for. */
static void answer(struct iscsi_conn *conn, struct iscsi_login *l, const uint8_t *req)
{
	uint8_t flags = l->answer_flags;
	unsigned csg = (flags >> 2) & 3, nsg = flags & 3;
	bool transit = flags & ISCSI_FLAG_TRANSIT;
	if (l->rsp.len - l->rsp_sent > LOGIN_RSP_MAX) {
		/* C=1 requires T=0 (RFC 7143 11.13.2). */
		l->answering = true;
		send_response(conn, l, req, (uint8_t)(ISCSI_FLAG_CONTINUE | csg << 2), 0, true);
		return;
	}
	l->answering = false;
	if (!transit) {
		send_response(conn, l, req, (uint8_t)(csg << 2), 0, true);
		return;
	}
	uint8_t rflags = (uint8_t)(ISCSI_FLAG_TRANSIT | csg << 2 | nsg);
	if (nsg == STAGE_FULL_FEATURE) {
		enter_full_feature(conn, l, req, rflags);
		return;
	}
	l->stage = nsg;
	send_response(conn, l, req, rflags, 0, true);
}

/* ------------------------------------------------------------------ */

static bool check_header(struct iscsi_conn *conn, struct iscsi_login *l, const uint8_t *req)
{
	uint8_t flags = req[1];
	bool transit = flags & ISCSI_FLAG_TRANSIT, cont = flags & ISCSI_FLAG_CONTINUE;
	unsigned csg = (flags >> 2) & 3, nsg = flags & 3;
	if (!l->started) {
		l->started = true;
		memcpy(l->isid, req + 8, 6);
		l->tsih = get_be16(req + 14);
		l->cid = get_be16(req + 20);
		l->cmd_sn = get_be32(req + ISCSI_OFF_CMDSN);
		l->stage = csg;
		conn->cid = l->cid;
		conn->stat_sn = get_be32(req + ISCSI_OFF_EXPSTATSN);
		conn->exp_stat_sn = conn->stat_sn;
	} else if (memcmp(l->isid, req + 8, 6) != 0 || l->tsih != get_be16(req + 14)) {
		fail(l, LOGIN_INITIATOR_ERROR);
		return false;
	}
	if (req[3] > 0) { /* Version-min above ours */
		fail(l, LOGIN_UNSUPPORTED_VERSION);
		return false;
	}
	if ((transit && cont) || csg != l->stage || csg == 2 ||
	    (transit && !iscsi_stage_transition_ok(csg, nsg))) {
		fail(l, LOGIN_INITIATOR_ERROR);
		return false;
	}
	if (conn->rx.data_len) {
		if (l->req.len + conn->rx.data_len > LOGIN_TEXT_MAX) {
			fail(l, LOGIN_INITIATOR_ERROR);
			return false;
		}
		iscsi_text_append(&l->req, conn->rx.heap, conn->rx.data_len);
		if (l->req.oom) {
			fail(l, LOGIN_OUT_OF_RESOURCES);
			return false;
		}
	}
	return true;
}

void iscsi_login_rx(struct iscsi_conn *conn)
{
	const uint8_t *req = conn->rx.bhs;
	struct iscsi_login *l = conn->login;
	if (l && l->predecessors) {
		/* The initiator waits for our final Login Response. */
		iscsi_conn_close(conn, "login PDU while waiting for a reinstated session");
		return;
	}
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			iscsi_conn_close(conn, "out of memory");
			return;
		}
		conn->login = l;
		if (move_to_session(conn, l))
			return;
	}
	if (!check_header(conn, l, req)) {
		send_failure(conn, l, req);
		return;
	}
	uint8_t flags = req[1];
	unsigned csg = (flags >> 2) & 3, nsg = flags & 3;
	bool transit = flags & ISCSI_FLAG_TRANSIT;
	if (l->answering) {
		/* While our answer is in pieces, the initiator asks for each
		 * with an empty request and says nothing new. */
		if (conn->rx.data_len || (flags & ISCSI_FLAG_CONTINUE)) {
			fail(l, LOGIN_INITIATOR_ERROR);
			send_failure(conn, l, req);
			return;
		}
		answer(conn, l, req);
		return;
	}
	if (flags & ISCSI_FLAG_CONTINUE) {
		/* More text follows: acknowledge with an empty response. */
		send_response(conn, l, req, (uint8_t)(csg << 2), 0, false);
		return;
	}

	if (!l->identified) {
		if (iscsi_text_for_each(l->req.data, l->req.len, identity_key, l) < 0)
			fail(l, LOGIN_INITIATOR_ERROR);
		if (l->initiator_name)
			iscsi_conn_set_initiator(conn, l->initiator_name);
		if (l->status == LOGIN_OK)
			identify(conn, l);
		if (l->status == LOGIN_OK)
			take_credentials(conn, l);
	}
	/* A new session only: a connection joining one (TSIH) belongs here. */
	if (l->status == LOGIN_OK && !l->discovery && l->tsih == 0 &&
	    iscsi_redirect_login(conn, req, l->cmd_sn, l->initiator_name, l->target_name))
		return; /* redirect.c answered; the connection closes */
	struct key_ctx kc = { .conn = conn, .l = l };
	if (l->status == LOGIN_OK &&
	    iscsi_text_for_each(l->req.data, l->req.len, negotiate_key, &kc) < 0)
		fail(l, LOGIN_INITIATOR_ERROR);
	/* The CHAP keys point into the request text: step before it goes. */
	if (l->status == LOGIN_OK && chap_agreed(l) && l->stage == STAGE_SECURITY)
		chap_step(conn, l, &kc.chap);
	l->req.len = 0;
	authenticate(conn, l, &flags);
	transit = flags & ISCSI_FLAG_TRANSIT;
	if (l->status == LOGIN_OK && !l->discovery && !l->tpgt_sent) {
		iscsi_text_add_u32(&l->rsp, "TargetPortalGroupTag", conn->tp.tpgt);
		if (conn->tp.alias[0])
			iscsi_text_add(&l->rsp, "TargetAlias", conn->tp.alias);
		l->tpgt_sent = true;
	}
	if (l->status == LOGIN_OK && (csg == STAGE_OPERATIONAL || (transit && nsg == STAGE_FULL_FEATURE)))
		iscsi_negotiation_declare(&l->neg, &l->rsp);
	if (l->status == LOGIN_OK && l->rsp.oom)
		fail(l, LOGIN_OUT_OF_RESOURCES);
	if (l->status != LOGIN_OK) {
		send_failure(conn, l, req);
		return;
	}
	l->answer_flags = flags;
	answer(conn, l, req);
}
