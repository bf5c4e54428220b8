/* The "iscsi" target template: the core's view of this driver. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attr_desc.h"
#include "targets/iscsi/async.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/iscsi.h"
#include "targets/iscsi/iscsi_name.h"
#include "targets/iscsi/isns.h"
#include "targets/iscsi/login.h"
#include "targets/iscsi/renegotiate.h"
#include "targets/iscsi/requests.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/target.h"

void *iscsi_target_params_of(void *owner)
{
	struct iscsi_tgt *it = ((struct scst_tgt *)owner)->tgt_priv;

	return it ? &it->tp : NULL;
}

void *iscsi_target_chap_of(void *owner)
{
	struct iscsi_tgt *it = ((struct scst_tgt *)owner)->tgt_priv;

	return it ? &it->chap : NULL;
}

void *iscsi_target_portals_of(void *owner)
{
	struct iscsi_tgt *it = ((struct scst_tgt *)owner)->tgt_priv;

	return it ? &it->portals : NULL;
}

/* A TARGET's attributes besides the core's, each table into its part of
 * struct iscsi_tgt. */
static const struct scst_attr_table *const iscsi_tgt_attrs[] = {
	&iscsi_target_param_table, &iscsi_target_chap_table, &iscsi_portal_attr_table,
	&iscsi_aen_attr_table, NULL,
};

static void iscsi_tgt_free(struct iscsi_tgt *it)
{
	if (!it)
		return;
	chap_credentials_clear(&it->chap);
	iscsi_allowed_portals_clear(&it->portals);
	free(it);
}

/* A target's iSCSI settings from its attributes: the defaults, then each
 * table of iscsi_tgt_attrs[] into its part. Used when the target is
 * created and when a reload changes it (the new settings are built aside
 * and swapped in). NULL with the reason in @err. */
static struct iscsi_tgt *iscsi_tgt_from_attrs(struct scst_attr *attrs, unsigned nattrs,
					      char *err, size_t errlen)
{
	struct iscsi_tgt *it = calloc(1, sizeof(*it));
	if (!it) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	iscsi_target_params_default(&it->tp);
	if (scst_attrs_take(&iscsi_target_param_table, &it->tp, attrs, nattrs, err, errlen) < 0 ||
	    scst_attrs_take(&iscsi_target_chap_table, &it->chap, attrs, nattrs, err, errlen) < 0 ||
	    scst_attrs_take(&iscsi_portal_attr_table, &it->portals, attrs, nattrs, err, errlen) <
		    0 ||
	    scst_attrs_take(&iscsi_aen_attr_table, &it->aen, attrs, nattrs, err, errlen) < 0) {
		iscsi_tgt_free(it);
		return NULL;
	}
	return it;
}

static int iscsi_target_attach(struct scst_tgt *tgt, struct scst_attr *attrs, unsigned nattrs,
			       char *err, size_t errlen)
{
	struct iscsi_tgt *it = iscsi_tgt_from_attrs(attrs, nattrs, err, errlen);
	if (!it)
		return -1;
	tgt->tgt_priv = it;
	iscsi_login_note_rsp_timeout(it->tp.rsp_timeout);
	iscsi_isns_kick();
	return 0;
}

static void iscsi_target_detach(struct scst_tgt *tgt)
{
	iscsi_tgt_free(tgt->tgt_priv);
	tgt->tgt_priv = NULL;
	iscsi_isns_kick();
}

/* Discovery sessions' credentials; scst_mutex's. */
static struct chap_credentials discovery_chap;

void *iscsi_discovery_chap_of(void *unused)
{
	return &discovery_chap;
}

/* The TARGET_DRIVER iscsi section's attributes besides the core's. */
static const struct scst_attr_table *const iscsi_tgtt_attrs[] = {
	&iscsi_discovery_chap_table, &iscsi_isns_attr_table, &iscsi_async_attr_table, NULL,
};

/* The section's settings while a load is checked (driver_attrs_prepare). */
struct iscsi_driver_settings {
	struct chap_credentials chap;
	struct iscsi_isns_settings isns;
	struct iscsi_async_settings async;
};

/* Every configuration load hands the whole section again, so what it
 * leaves out (a removed IncomingUser) is gone afterwards; nothing changes
 * before the whole file has been checked. */
static void *iscsi_driver_attrs_prepare(struct scst_attr *attrs, unsigned nattrs, char *err,
					size_t errlen)
{
	struct iscsi_driver_settings *fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (scst_attrs_take(&iscsi_discovery_chap_table, &fresh->chap, attrs, nattrs, err,
			    errlen) < 0 ||
	    scst_attrs_take(&iscsi_isns_attr_table, &fresh->isns, attrs, nattrs, err, errlen) < 0 ||
	    iscsi_async_settings_default(&fresh->async, err, errlen) < 0 ||
	    scst_attrs_take(&iscsi_async_attr_table, &fresh->async, attrs, nattrs, err, errlen) <
		    0) {
		chap_credentials_clear(&fresh->chap);
		free(fresh);
		return NULL;
	}
	return fresh;
}

static void iscsi_driver_attrs_finish(void *prepared, bool apply)
{
	struct iscsi_driver_settings *fresh = prepared;
	if (apply) {
		chap_credentials_clear(&discovery_chap);
		discovery_chap = fresh->chap;
		iscsi_isns_settings_apply(&fresh->isns);
		iscsi_async_settings_apply(&fresh->async);
	} else {
		chap_credentials_clear(&fresh->chap);
	}
	free(fresh);
}

/* A reload of an existing target: its iSCSI attributes parsed into a new
 * struct iscsi_tgt, swapped in under scst_mutex (logins copy what they
 * need under it, so none sees half of each). */
static void *iscsi_target_attrs_prepare(struct scst_tgt *tgt, struct scst_attr *attrs,
					unsigned nattrs, char *err, size_t errlen)
{
	return iscsi_tgt_from_attrs(attrs, nattrs, err, errlen);
}

static void iscsi_target_attrs_finish(struct scst_tgt *tgt, void *prepared, bool apply)
{
	struct iscsi_tgt *it = prepared;
	if (apply) {
		struct iscsi_tgt *old = tgt->tgt_priv;
		tgt->tgt_priv = it;
		iscsi_login_note_rsp_timeout(it->tp.rsp_timeout);
		/* Live connections follow new data segment limits
		 * (renegotiate.h: AsyncEvent 4). */
		if (old && (old->tp.max_recv_dsl != it->tp.max_recv_dsl ||
			    old->tp.max_xmit_dsl != it->tp.max_xmit_dsl))
			iscsi_renegotiate_target(tgt, it->tp.max_recv_dsl, it->tp.max_xmit_dsl);
		it = old;
		iscsi_isns_kick();
	}
	iscsi_tgt_free(it);
}

int iscsi_discovery_chap_copy(struct chap_credentials *dst)
{
	return chap_credentials_copy(dst, &discovery_chap);
}

static void iscsi_close_sessions(struct scst_tgt *tgt)
{
	/* A disabled target leaves the iSNS registration; at shutdown
	 * (NULL) the whole entity does. */
	if (tgt) {
		iscsi_isns_kick();
	} else {
		iscsi_isns_shutdown();
		/* Tasks kept for a reconnection (ERL 2) end within a second. */
		iscsi_session_recovery_stop_all();
	}
	/* Each session is asked to log out first (async.c). */
	iscsi_async_request_logout(tgt, tgt ? "target disabled" : "shutting down");
}

static bool iscsi_target_name_valid(const char *name, char *why, size_t whylen)
{
	char reason[160];

	if (iscsi_name_check(name, 0, reason, sizeof(reason)))
		return true;
	snprintf(why, whylen, "not a valid iSCSI name (%s)", reason);
	return false;
}

/* Management closes one session: its connections go, as when the
 * initiator vanishes (the initiator may log in again), each told first
 * with an Asynchronous Message (async.c). */
static void iscsi_close_session(struct scst_session *scst, const char *why)
{
	iscsi_async_drop_session(scst->tgt_priv, why);
}

/* Management asks one session to log out (session.logout). */
static void iscsi_request_logout(struct scst_session *scst, const char *why)
{
	iscsi_async_request_session_logout(scst->tgt_priv, why);
}

/* Management asks one session to renegotiate (session.renegotiate). */
static void iscsi_request_renegotiation(struct scst_session *scst, const char *why)
{
	iscsi_renegotiate_session(scst->tgt_priv, why);
}

/* SPC-4 7.6.4.6, FORMAT CODE 01b: the initiator port's iSCSI name, then
 * ",i,0x" and the ISID in hex, NUL-terminated and padded to a multiple of
 * four; ADDITIONAL LENGTH counts the bytes after the 4-byte header. */
static unsigned iscsi_get_transport_id(const struct scst_session *scst, uint8_t *buf)
{
	const struct iscsi_session *sess = scst->tgt_priv;
	const uint8_t *isid = sess->isid;
	int n = snprintf((char *)buf + 4, SCST_TRANSPORT_ID_MAX - 4,
			 "%s,i,0x%02x%02x%02x%02x%02x%02x", sess->initiator_name, isid[0], isid[1],
			 isid[2], isid[3], isid[4], isid[5]);
	unsigned len = 4 + (unsigned)n + 1;

	len = (len + 3) & ~3u;
	memset(buf + 4 + n, 0, len - 4 - (unsigned)n);
	buf[0] = 0x40 | SCST_PROTOCOL_ISCSI;
	buf[1] = 0;
	buf[2] = (uint8_t)((len - 4) >> 8);
	buf[3] = (uint8_t)(len - 4);
	return len;
}

struct isns_each {
	void (*fn)(const struct iscsi_isns_target *t, void *ctx);
	void *ctx;
};

static void isns_one_target(struct scst_tgt *tgt, void *arg)
{
	struct isns_each *e = arg;
	struct iscsi_tgt *it = tgt->tgt_priv;

	if (!tgt->enabled || !it)
		return;
	e->fn(&(struct iscsi_isns_target){ .name = tgt->name, .alias = it->tp.alias,
					   .tpgt = iscsi_tpgt(tgt), .portals = &it->portals },
	      e->ctx);
}

void iscsi_isns_each_target(void (*fn)(const struct iscsi_isns_target *t, void *ctx),
			    void *ctx)
{
	struct isns_each e = { fn, ctx };

	pthread_mutex_lock(&scst_mutex);
	scst_for_each_target(&iscsi_template, isns_one_target, &e);
	pthread_mutex_unlock(&scst_mutex);
}

static bool iscsi_initiator_allowed(struct scst_tgt *tgt, const char *initiator_name,
				    char *why, size_t whylen)
{
	return iscsi_isns_initiator_allowed(tgt->name, initiator_name, why, whylen);
}

uint16_t iscsi_tpgt(const struct scst_tgt *tgt)
{
	const struct iscsi_tgt *it = tgt ? tgt->tgt_priv : NULL;

	/* The attribute's range keeps it a 16-bit tag other than 0. */
	if (!it)
		return 1;
	assert(it->tp.tpgt >= 1 && it->tp.tpgt <= 65535);
	return (uint16_t)it->tp.tpgt;
}

/* SPC-4 table 49: iSCSI (no version claimed). */
#define ISCSI_VERSION_DESCRIPTOR 0x0960

struct scst_tgt_template iscsi_template = {
	.name = "iscsi",
	.version_descriptor = ISCSI_VERSION_DESCRIPTOR,
	.protocol_id = SCST_PROTOCOL_ISCSI,
	.get_transport_id = iscsi_get_transport_id,
	.rdy_to_xfer = iscsi_rdy_to_xfer,
	.xmit_response = iscsi_xmit_response,
	.on_abort_cmd = iscsi_on_abort_cmd,
	.on_free_cmd = iscsi_on_free_cmd,
	.task_mgmt_fn_done = iscsi_task_mgmt_fn_done,
	.tgtt_attrs = iscsi_tgtt_attrs,
	.tgt_attrs = iscsi_tgt_attrs,
	.driver_attrs_prepare = iscsi_driver_attrs_prepare,
	.driver_attrs_finish = iscsi_driver_attrs_finish,
	.target_attrs_prepare = iscsi_target_attrs_prepare,
	.target_attrs_finish = iscsi_target_attrs_finish,
	.target_attach = iscsi_target_attach,
	.target_detach = iscsi_target_detach,
	.close_sessions = iscsi_close_sessions,
	.close_session = iscsi_close_session,
	.request_logout = iscsi_request_logout,
	.ua_queued = iscsi_ua_queued,
	.request_renegotiation = iscsi_request_renegotiation,
	.target_name_valid = iscsi_target_name_valid,
	.initiator_allowed = iscsi_initiator_allowed,
};

int iscsi_driver_register(void)
{
	return scst_register_target_template(&iscsi_template);
}
