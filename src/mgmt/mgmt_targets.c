/* driver.*, target.* and session.close: target drivers' settings, targets
 * and their sessions on the running daemon (scstadmin -set_drv_attr,
 * -add_target, -rem_target, -enable_target, -disable_target,
 * -set_tgt_attr). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/reactor.h"
#include "core/alua.h"
#include "mgmt/config.h"
#include "mgmt/mgmt.h"
#include "mgmt/mgmt_attrs.h"

/* How long session.close and target.disable wait for sessions to go. */
#define SESSION_CLOSE_WAIT_SECONDS 10

struct scst_tgt_template *mgmt_find_driver(struct rpc_call *call)
{
	const char *name = rpc_str(call, "driver");
	struct scst_tgt_template *tgtt = scst_find_target_template(name);

	if (!tgtt)
		rpc_fail_param(call, "driver", RPC_NOT_FOUND, "no target driver '%s'", name);
	return tgtt;
}

struct scst_tgt *mgmt_find_target(struct rpc_call *call)
{
	struct scst_tgt_template *tgtt = mgmt_find_driver(call);
	const char *name = rpc_str(call, "target");
	struct scst_tgt *tgt;

	if (!tgtt)
		return NULL;
	tgt = scst_find_target(tgtt, name);
	if (!tgt)
		rpc_fail_param(call, "target", RPC_NOT_FOUND, "driver %s has no target '%s'",
			       tgtt->name, name);
	return tgt;
}

/* ---- driver.set_attr ---- */

int mgmt_driver_set_attr(struct rpc_call *call)
{
	struct scst_tgt_template *tgtt = mgmt_find_driver(call);
	const struct scst_attr_table *tables[8];
	struct rpc_attrs changes, all;
	const char *unknown;
	unsigned n;
	void *prepared;
	char err[512];

	if (!tgtt || rpc_param_attrs(call, "attributes", &changes) < 0)
		return -1;
	n = mgmt_driver_tables(tgtt, tables, 8);
	for (unsigned i = 0; i < changes.n; i++) {
		if (strcmp(changes.v[i].name, "enabled") == 0) {
			rpc_attrs_free(&changes);
			return rpc_fail_param(call, "attributes", RPC_REFUSED,
					      "driver %s: 'enabled' is the configuration file's "
					      "switch; enable or disable its targets instead",
					      tgtt->name);
		}
	}
	if (!tgtt->driver_attrs_prepare || n == 0) {
		rpc_attrs_free(&changes);
		return rpc_fail_param(call, "attributes", RPC_REFUSED,
				      "driver %s has no attribute that changes live", tgtt->name);
	}
	if (mgmt_merge_attrs(tables, n, NULL, &changes, &all, &unknown) < 0) {
		rpc_attrs_free(&changes);
		if (unknown)
			return rpc_fail_param(call, "attributes", RPC_REFUSED,
					      "driver %s has no attribute '%s'", tgtt->name, unknown);
		return rpc_fail(call, RPC_FAILED, "out of memory");
	}
	prepared = tgtt->driver_attrs_prepare(all.v, all.n, err, sizeof(err));
	if (!prepared) {
		rpc_fail_param(call, "attributes", RPC_REFUSED, "driver %s: %s", tgtt->name, err);
	} else {
		tgtt->driver_attrs_finish(prepared, true);
		for (unsigned i = 0; i < changes.n; i++)
			log_info("mgmt: driver.set_attr %s %s", tgtt->name, changes.v[i].name);
	}
	rpc_attrs_free(&all);
	rpc_attrs_free(&changes);
	return call->code ? -1 : 0;
}

/* ---- target.add / target.remove ---- */

int mgmt_target_add(struct rpc_call *call)
{
	struct scst_tgt_template *tgtt = mgmt_find_driver(call);
	const char *name = rpc_str(call, "target");
	struct rpc_attrs given, attrs = { 0 };
	bool enable = false;
	struct scst_tgt *tgt;
	char err[512];

	if (!tgtt)
		return -1;
	if (tgtt->target_name_valid && !tgtt->target_name_valid(name, err, sizeof(err)))
		return rpc_fail_param(call, "target", RPC_REFUSED, "'%s' is %s", name, err);
	if (scst_find_target(tgtt, name))
		return rpc_fail_param(call, "target", RPC_REFUSED, "target '%s' already exists",
				      name);
	if (rpc_param_attrs(call, "attributes", &given) < 0)
		return -1;
	/* "enabled" is acted on once the target is whole, as a
	 * configuration file's is. */
	for (unsigned i = 0; i < given.n && !call->code; i++) {
		if (strcmp(given.v[i].name, "enabled") == 0) {
			if (!scst_attr_bool(given.v[i].value, &enable))
				rpc_fail_param(call, "attributes", RPC_REFUSED,
					       "enabled '%s' is not a boolean", given.v[i].value);
		} else if (rpc_attrs_add(&attrs, given.v[i].name, given.v[i].value) < 0) {
			rpc_fail(call, RPC_FAILED, "out of memory");
		}
	}
	if (!call->code) {
		tgt = scst_target_create(tgtt, name, attrs.v, attrs.n, err, sizeof(err));
		if (!tgt) {
			rpc_fail(call, RPC_REFUSED, "target '%s': %s", name, err);
		} else {
			for (unsigned i = 0; i < attrs.n && !call->code; i++)
				if (!attrs.v[i].consumed)
					rpc_fail_param(call, "attributes", RPC_REFUSED,
						       "unknown attribute '%s' for target '%s'",
						       attrs.v[i].name, name);
			if (call->code) {
				scst_target_destroy(tgt);
			} else {
				scst_target_set_enabled(tgt, enable);
				log_info("mgmt: target.add %s/%s rel_tgt_id %u%s", tgtt->name, name,
					 tgt->rel_tgt_id, enable ? ", enabled" : "");
			}
		}
	}
	rpc_attrs_free(&attrs);
	rpc_attrs_free(&given);
	return call->code ? -1 : 0;
}

int mgmt_target_remove(struct rpc_call *call)
{
	struct config_leftovers left = { 0 };
	struct scst_tgt *tgt;
	struct scst_acg *acg, *tmp;
	const char *tg;

	pthread_mutex_lock(&scst_mutex);
	tgt = mgmt_find_target(call);
	if (tgt && (tg = scst_alua_target_group_of(tgt->name)) != NULL) {
		rpc_fail_param(call, "target", RPC_REFUSED, "target '%s' is in target group '%s'",
			       tgt->name, tg);
		tgt = NULL;
	}
	if (tgt) {
		left.tgts = calloc(1, sizeof(*left.tgts));
		if (!left.tgts) {
			rpc_fail(call, RPC_FAILED, "out of memory");
			tgt = NULL;
		}
	}
	if (tgt) {
		/* As a reload removes one: no new login, no LUN left, and its
		 * sessions closed and waited for without the lock. */
		log_info("mgmt: target.remove %s/%s", tgt->tgtt->name, tgt->name);
		scst_target_set_enabled(tgt, false);
		list_for_each_entry_safe(acg, tmp, &tgt->acgs, tgt_entry)
			scst_acg_destroy(acg);
		scst_acg_clear_luns(tgt->default_acg);
		scst_tgt_sync_sessions(tgt);
		left.tgts[left.ntgts++] = tgt;
	}
	pthread_mutex_unlock(&scst_mutex);
	if (!tgt)
		return -1;
	config_finish_removals(&left);
	return 0;
}

/* ---- enable / disable ---- */

int mgmt_target_enable(struct rpc_call *call)
{
	struct scst_tgt *tgt = mgmt_find_target(call);

	if (!tgt)
		return -1;
	if (!tgt->enabled)
		log_info("mgmt: target.enable %s/%s", tgt->tgtt->name, tgt->name);
	scst_target_set_enabled(tgt, true);
	return 0;
}

static void close_target_sessions_here(void *arg)
{
	struct scst_tgt *tgt = arg;

	tgt->tgtt->close_sessions(tgt);
}

bool mgmt_close_target_sessions(struct scst_tgt *tgt, int seconds)
{
	bool gone = false;

	/* The target cannot go meanwhile: only management destroys
	 * targets, and management runs one verb at a time (mgmt_mutex). */
	reactor_run_on_all(close_target_sessions_here, tgt);
	for (int ms = 0; ms <= seconds * 1000 && !gone; ms += 10) {
		pthread_mutex_lock(&scst_mutex);
		gone = list_empty(&tgt->sessions);
		pthread_mutex_unlock(&scst_mutex);
		if (!gone)
			usleep(10000);
	}
	return gone;
}

int mgmt_target_disable(struct rpc_call *call)
{
	struct scst_tgt *tgt;

	pthread_mutex_lock(&scst_mutex);
	tgt = mgmt_find_target(call);
	if (tgt) {
		log_info("mgmt: target.disable %s/%s", tgt->tgtt->name, tgt->name);
		scst_target_set_enabled(tgt, false);
	}
	pthread_mutex_unlock(&scst_mutex);
	if (!tgt)
		return -1;
	/* A disabled target takes no login; those in are closed, as SCST's
	 * iSCSI target does. */
	if (!mgmt_close_target_sessions(tgt, SESSION_CLOSE_WAIT_SECONDS))
		return rpc_fail(call, RPC_FAILED, "target '%s' is disabled, but sessions are "
				"still closing after %d s", tgt->name, SESSION_CLOSE_WAIT_SECONDS);
	return 0;
}

/* ---- target.set_attr ---- */

/* The driver's attributes of @tgt re-parsed with @changes (the whole set:
 * prepare takes a section, as a reload gives it). */
static int set_driver_target_attrs(struct rpc_call *call, struct scst_tgt *tgt,
				   const struct rpc_attrs *changes)
{
	struct scst_tgt_template *tgtt = tgt->tgtt;
	const struct scst_attr_table *tables[8];
	unsigned n = mgmt_target_tables(tgt, tables, 8);
	struct rpc_attrs all;
	const char *unknown;
	void *prepared;
	char err[512];

	/* tables[0] is the core's, handled by the caller. */
	if (mgmt_merge_attrs(tables + 1, n - 1, tgt, changes, &all, &unknown) < 0)
		return unknown ? rpc_fail_param(call, "attributes", RPC_REFUSED,
						"target '%s' has no attribute '%s'", tgt->name,
						unknown)
			       : rpc_fail(call, RPC_FAILED, "out of memory");
	if (!tgtt->target_attrs_prepare) {
		rpc_attrs_free(&all);
		return rpc_fail_param(call, "attributes", RPC_REFUSED,
				      "driver %s cannot change a live target's attributes",
				      tgtt->name);
	}
	prepared = tgtt->target_attrs_prepare(tgt, all.v, all.n, err, sizeof(err));
	rpc_attrs_free(&all);
	if (!prepared)
		return rpc_fail_param(call, "attributes", RPC_REFUSED, "target '%s': %s",
				      tgt->name, err);
	/* Sessions logged in keep what they negotiated; logins from now on
	 * see the new settings. */
	tgtt->target_attrs_finish(tgt, prepared, true);
	return 0;
}

int mgmt_target_set_attr(struct rpc_call *call)
{
	struct rpc_attrs attrs, drv = { 0 };
	struct scst_tgt *tgt;
	int enable = -1; /* unchanged */
	bool b;

	pthread_mutex_lock(&scst_mutex);
	tgt = mgmt_find_target(call);
	if (!tgt || rpc_param_attrs(call, "attributes", &attrs) < 0) {
		pthread_mutex_unlock(&scst_mutex);
		return -1;
	}
	for (unsigned i = 0; i < attrs.n && !call->code; i++) {
		const char *name = attrs.v[i].name;

		if (strcmp(name, "enabled") == 0) {
			if (scst_attr_bool(attrs.v[i].value, &b))
				enable = b;
			else
				rpc_fail_param(call, "attributes", RPC_REFUSED,
					       "enabled '%s' is not a boolean", attrs.v[i].value);
		} else if (scst_attr_find(&scst_target_attr_table, name)) {
			rpc_fail_param(call, "attributes", RPC_REFUSED,
				       "%s is fixed once the target exists", name);
		} else if (rpc_attrs_add(&drv, name, attrs.v[i].value) < 0) {
			rpc_fail(call, RPC_FAILED, "out of memory");
		}
	}
	if (!call->code && drv.n && set_driver_target_attrs(call, tgt, &drv) == 0)
		for (unsigned i = 0; i < drv.n; i++)
			log_info("mgmt: target.set_attr %s/%s %s", tgt->tgtt->name, tgt->name,
				 drv.v[i].name);
	if (!call->code && enable >= 0) {
		log_info("mgmt: target.set_attr %s/%s enabled=%d", tgt->tgtt->name, tgt->name,
			 enable);
		scst_target_set_enabled(tgt, enable);
	}
	rpc_attrs_free(&drv);
	rpc_attrs_free(&attrs);
	pthread_mutex_unlock(&scst_mutex);
	if (call->code)
		return -1;
	if (enable == 0 && !mgmt_close_target_sessions(tgt, SESSION_CLOSE_WAIT_SECONDS))
		return rpc_fail(call, RPC_FAILED, "target '%s' is disabled, but sessions are "
				"still closing after %d s", tgt->name, SESSION_CLOSE_WAIT_SECONDS);
	return 0;
}

/* ---- session.close ---- */

static struct scst_session *find_session(struct scst_tgt *tgt, const char *name)
{
	struct scst_session *sess;
	char buf[SCST_TRANSPORT_ID_MAX];

	list_for_each_entry(sess, &tgt->sessions, tgt_entry) {
		scst_session_name(sess, buf, sizeof(buf));
		if (strcmp(buf, name) == 0)
			return sess;
	}
	return NULL;
}

/* session.close and session.logout: the session is found under
 * scst_mutex and told on its reactor; then we wait for it to go. */
static int session_end(struct rpc_call *call, bool logout)
{
	const char *name = rpc_str(call, "session");
	struct scst_session *sess = NULL;
	struct scst_tgt *tgt;
	uint64_t serial = 0;
	char err[256];
	bool gone = false;

	pthread_mutex_lock(&scst_mutex);
	tgt = mgmt_find_target(call);
	if (tgt) {
		sess = find_session(tgt, name);
		if (!sess)
			rpc_fail_param(call, "session", RPC_NOT_FOUND,
				       "target '%s' has no session '%s'", tgt->name, name);
		else if ((logout ? scst_session_request_logout(sess, "logout requested by management",
							       err, sizeof(err))
				 : scst_session_close(sess, "closed by management", err,
						      sizeof(err))) < 0)
			rpc_fail(call, RPC_REFUSED, "%s", err);
		else
			log_info("mgmt: session.%s %s/%s %s", logout ? "logout" : "close",
				 tgt->tgtt->name, tgt->name, name);
		if (sess)
			serial = sess->serial;
	}
	pthread_mutex_unlock(&scst_mutex);
	if (call->code)
		return -1;
	/* Closed on its reactor: gone once its commands have drained (a
	 * login of the same port afterwards is another session, with
	 * another serial). */
	for (int ms = 0; ms <= SESSION_CLOSE_WAIT_SECONDS * 1000 && !gone; ms += 10) {
		struct scst_session *s;

		pthread_mutex_lock(&scst_mutex);
		gone = true;
		list_for_each_entry(s, &tgt->sessions, tgt_entry)
			if (s->serial == serial)
				gone = false;
		pthread_mutex_unlock(&scst_mutex);
		if (!gone)
			usleep(10000);
	}
	if (!gone)
		return rpc_fail(call, RPC_FAILED, "session '%s' is still closing after %d s", name,
				SESSION_CLOSE_WAIT_SECONDS);
	return 0;
}

/* session.renegotiate: the session is asked on its reactor and goes on;
 * nothing to wait for. */
int mgmt_session_renegotiate(struct rpc_call *call)
{
	const char *name = rpc_str(call, "session");
	struct scst_session *sess;
	struct scst_tgt *tgt;
	char err[256];

	tgt = mgmt_find_target(call);
	if (!tgt)
		return -1;
	sess = find_session(tgt, name);
	if (!sess)
		return rpc_fail_param(call, "session", RPC_NOT_FOUND,
				      "target '%s' has no session '%s'", tgt->name, name);
	if (scst_session_request_renegotiation(sess, "renegotiation requested by management",
					       err, sizeof(err)) < 0)
		return rpc_fail(call, RPC_REFUSED, "%s", err);
	log_info("mgmt: session.renegotiate %s/%s %s", tgt->tgtt->name, tgt->name, name);
	return 0;
}

int mgmt_session_close(struct rpc_call *call)
{
	return session_end(call, false);
}

/* The initiator logs out within the driver's logout_timeout (at most
 * 8 s for iSCSI), or is closed then: both within the wait. */
int mgmt_session_logout(struct rpc_call *call)
{
	return session_end(call, true);
}
