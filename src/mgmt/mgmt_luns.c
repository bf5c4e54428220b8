/* lun.*, group.* and initiator.*: LUN maps and access control groups of a
 * running target (scstadmin -add_lun, -rem_lun, -replace_lun, -clear_luns,
 * -add_group, -rem_group, -set_grp_attr, -add_init, -rem_init, -move_init,
 * -clear_inits). Each verb changes one group (or a target's list of
 * groups) and ends with scst_tgt_sync_sessions(): every session of the
 * target gets the map it matches now, those whose map changed are told
 * REPORTED LUNS DATA HAS CHANGED, and commands in flight finish on the
 * nexus they started on. Sessions of other targets are not touched. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "core/attr_desc.h"
#include "mgmt/mgmt.h"

struct scst_acg *mgmt_find_group(struct rpc_call *call, struct scst_tgt *tgt)
{
	const char *name = rpc_str(call, "group");
	struct scst_acg *acg = scst_acg_find(tgt, name);

	if (!acg)
		rpc_fail_param(call, "group", RPC_NOT_FOUND, "target '%s' has no group '%s'",
			       tgt->name, name);
	return acg;
}

/* "iscsi/TARGET" or "iscsi/TARGET group G", for log lines. */
static void where(char *buf, size_t len, const struct scst_acg *acg)
{
	snprintf(buf, len, "%s/%s%s%s", acg->tgt->tgtt->name, acg->tgt->name,
		 acg->name ? " group " : "", acg->name ? acg->name : "");
}

/* A change of @acg is done: the target's sessions follow, and the
 * "mgmt: VERB WHERE DETAILS" line is logged. */
static void group_changed(struct scst_acg *acg, const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void group_changed(struct scst_acg *acg, const char *verb, const char *fmt, ...)
{
	char at[256], details[512];
	va_list ap;

	scst_tgt_sync_sessions(acg->tgt);
	where(at, sizeof(at), acg);
	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	log_info("mgmt: %s %s%s%s", verb, at, details[0] ? " " : "", details);
}

/* The target and group a call names; NULL after rpc_fail(). */
static struct scst_acg *call_group(struct rpc_call *call)
{
	struct scst_tgt *tgt = mgmt_find_target(call);

	return tgt ? mgmt_find_group(call, tgt) : NULL;
}

/* ---- LUNs ---- */

/* The LUN's attributes (scst_lun_attr_table: read_only) into @lun. */
static int take_lun_attrs(struct rpc_call *call, struct scst_lun *lun)
{
	struct rpc_attrs attrs;
	char err[256];

	if (rpc_param_attrs(call, "attributes", &attrs) < 0)
		return -1;
	if (scst_attr_defaults(&scst_lun_attr_table, lun, err, sizeof(err)) < 0 ||
	    scst_attrs_take(&scst_lun_attr_table, lun, attrs.v, attrs.n, err, sizeof(err)) < 0)
		rpc_fail_param(call, "attributes", RPC_REFUSED, "LUN: %s", err);
	for (unsigned i = 0; i < attrs.n && !call->code; i++)
		if (!attrs.v[i].consumed)
			rpc_fail_param(call, "attributes", RPC_REFUSED,
				       "unknown attribute '%s' for a LUN", attrs.v[i].name);
	rpc_attrs_free(&attrs);
	return call->code ? -1 : 0;
}

/* The parts of lun.add and lun.replace: group, LUN number, device and
 * attributes, all checked. */
static struct scst_acg *lun_call(struct rpc_call *call, uint64_t *lun,
				 struct scst_device **dev, struct scst_lun *taken)
{
	struct scst_acg *acg = call_group(call);

	if (!acg)
		return NULL;
	*lun = rpc_u64(call, "lun", 0);
	*dev = mgmt_find_device(call, "device");
	if (!*dev || take_lun_attrs(call, taken) < 0)
		return NULL;
	return acg;
}

int mgmt_lun_add(struct rpc_call *call)
{
	struct scst_lun taken = { 0 };
	struct scst_device *dev;
	struct scst_acg *acg;
	uint64_t lun;
	char err[256];

	acg = lun_call(call, &lun, &dev, &taken);
	if (!acg)
		return -1;
	if (scst_acg_add_lun(acg, lun, dev, taken.read_only, err, sizeof(err)) < 0)
		return rpc_fail_param(call, "lun", RPC_REFUSED, "%s", err);
	group_changed(acg, "lun.add", "lun %llu device %s%s", (unsigned long long)lun, dev->name,
		      taken.read_only ? " read-only" : "");
	return 0;
}

int mgmt_lun_remove(struct rpc_call *call)
{
	struct scst_acg *acg = call_group(call);
	uint64_t lun = rpc_u64(call, "lun", 0);
	char err[256];

	if (!acg)
		return -1;
	if (scst_acg_del_lun(acg, lun, err, sizeof(err)) < 0)
		return rpc_fail_param(call, "lun", RPC_NOT_FOUND, "%s", err);
	group_changed(acg, "lun.remove", "lun %llu", (unsigned long long)lun);
	return 0;
}

int mgmt_lun_replace(struct rpc_call *call)
{
	struct scst_lun taken = { 0 }, *old;
	struct scst_device *dev, *was;
	bool was_read_only;
	struct scst_acg *acg;
	uint64_t lun;
	char err[256];

	acg = lun_call(call, &lun, &dev, &taken);
	if (!acg)
		return -1;
	old = scst_acg_find_lun(acg, lun);
	if (!old)
		return rpc_fail_param(call, "lun", RPC_NOT_FOUND,
				      "target '%s' has no LUN %llu to replace (lun.add maps a new "
				      "one)", acg->tgt->name, (unsigned long long)lun);
	was = old->dev;
	was_read_only = old->read_only;
	/* The LUN number is free once removed: only memory can fail. */
	scst_acg_del_lun(acg, lun, err, sizeof(err));
	if (scst_acg_add_lun(acg, lun, dev, taken.read_only, err, sizeof(err)) < 0) {
		scst_acg_add_lun(acg, lun, was, was_read_only, err, sizeof(err));
		return rpc_fail(call, RPC_FAILED, "%s", err);
	}
	group_changed(acg, "lun.replace", "lun %llu device %s (was %s)", (unsigned long long)lun,
		      dev->name, was->name);
	/* SPC-4 6.6.1 (and SCST's replace_lun): the logical unit behind the
	 * LUN is another one now. */
	if (dev != was)
		scst_tgt_queue_lun_ua(acg->tgt, lun,
				      scsi_sense_make(SK_UNIT_ATTENTION,
						      ASC_INQUIRY_DATA_HAS_CHANGED));
	return 0;
}

int mgmt_lun_clear(struct rpc_call *call)
{
	struct scst_acg *acg = call_group(call);

	if (!acg)
		return -1;
	scst_acg_clear_luns(acg);
	group_changed(acg, "lun.clear", "%s", "");
	return 0;
}

/* ---- groups ---- */

int mgmt_group_add(struct rpc_call *call)
{
	struct scst_tgt *tgt = mgmt_find_target(call);
	const char *name = rpc_str(call, "group");
	struct scst_acg *acg;

	if (!tgt)
		return -1;
	if (scst_acg_find(tgt, name))
		return rpc_fail_param(call, "group", RPC_REFUSED,
				      "target '%s' already has group '%s'", tgt->name, name);
	acg = scst_acg_new(tgt, name);
	if (!acg)
		return rpc_fail(call, RPC_FAILED, "out of memory");
	/* Without initiators it takes nobody: no session changes. */
	scst_tgt_add_acg(tgt, acg);
	log_info("mgmt: group.add %s/%s group %s", tgt->tgtt->name, tgt->name, name);
	return 0;
}

int mgmt_group_remove(struct rpc_call *call)
{
	struct scst_acg *acg = call_group(call);
	struct scst_tgt *tgt;
	char at[256];

	if (!acg)
		return -1;
	tgt = acg->tgt;
	where(at, sizeof(at), acg);
	/* Its initiators' sessions see the default group's map now. */
	scst_acg_destroy(acg);
	scst_tgt_sync_sessions(tgt);
	log_info("mgmt: group.remove %s", at);
	return 0;
}

int mgmt_group_set_attr(struct rpc_call *call)
{
	struct scst_acg *acg = call_group(call);
	struct rpc_attrs attrs;
	char err[256];

	if (!acg || rpc_param_attrs(call, "attributes", &attrs) < 0)
		return -1;
	for (unsigned i = 0; i < attrs.n && !call->code; i++)
		if (scst_attr_set_live(&scst_group_attr_table, acg, attrs.v[i].name,
				       attrs.v[i].value, err, sizeof(err)) < 0)
			rpc_fail_param(call, "attributes", RPC_REFUSED, "group '%s': %s", acg->name,
				       err);
	rpc_attrs_free(&attrs);
	return call->code ? -1 : 0;
}

/* ---- initiators ---- */

/* A named group of the call (the default group has no initiators). */
static struct scst_acg *named_group(struct rpc_call *call, const char *param)
{
	struct scst_tgt *tgt = mgmt_find_target(call);
	const char *name = rpc_str(call, param);
	struct scst_acg *acg;

	if (!tgt)
		return NULL;
	acg = name ? scst_acg_find(tgt, name) : NULL;
	if (!acg)
		rpc_fail_param(call, param, RPC_NOT_FOUND, "target '%s' has no group '%s'",
			       tgt->name, name);
	return acg;
}

/* Whether @acg, just given a pattern, now shares an initiator with
 * another group of its target (refused as a configuration file is). */
static int check_clash(struct rpc_call *call, struct scst_acg *acg)
{
	struct scst_acg *other;
	const char *x, *y;

	list_for_each_entry(other, &acg->tgt->acgs, tgt_entry) {
		if (other != acg && scst_acg_clash(acg, other, &x, &y))
			return rpc_fail_param(call, "initiator", RPC_REFUSED,
					      "initiator '%s' of group '%s' also matches '%s' of "
					      "group '%s': an initiator may belong to one group only",
					      x, acg->name, y, other->name);
	}
	return 0;
}

int mgmt_initiator_add(struct rpc_call *call)
{
	struct scst_acg *acg = named_group(call, "group");
	const char *pattern = rpc_str(call, "initiator");
	char err[256];

	if (!acg)
		return -1;
	if (scst_acg_add_initiator(acg, pattern, err, sizeof(err)) < 0)
		return rpc_fail_param(call, "initiator", RPC_REFUSED, "%s", err);
	if (check_clash(call, acg) < 0) {
		scst_acg_del_initiator(acg, pattern, err, sizeof(err));
		return -1;
	}
	group_changed(acg, "initiator.add", "%s", pattern);
	return 0;
}

int mgmt_initiator_remove(struct rpc_call *call)
{
	struct scst_acg *acg = named_group(call, "group");
	const char *pattern = rpc_str(call, "initiator");
	char err[256];

	if (!acg)
		return -1;
	if (scst_acg_del_initiator(acg, pattern, err, sizeof(err)) < 0)
		return rpc_fail_param(call, "initiator", RPC_NOT_FOUND, "%s", err);
	group_changed(acg, "initiator.remove", "%s", pattern);
	return 0;
}

int mgmt_initiator_move(struct rpc_call *call)
{
	struct scst_acg *from = named_group(call, "group");
	struct scst_acg *to = from ? named_group(call, "to") : NULL;
	const char *pattern = rpc_str(call, "initiator");
	char err[256];

	if (!to)
		return -1;
	if (from == to)
		return rpc_fail_param(call, "to", RPC_REFUSED, "initiator '%s' is in group '%s' "
				      "already", pattern, to->name);
	if (!scst_acg_has_initiator(from, pattern))
		return rpc_fail_param(call, "initiator", RPC_NOT_FOUND,
				      "initiator '%s' is not in group %s", pattern, from->name);
	if (scst_acg_add_initiator(to, pattern, err, sizeof(err)) < 0)
		return rpc_fail_param(call, "initiator", RPC_REFUSED, "%s", err);
	scst_acg_del_initiator(from, pattern, err, sizeof(err));
	if (check_clash(call, to) < 0) {
		scst_acg_del_initiator(to, pattern, err, sizeof(err));
		scst_acg_add_initiator(from, pattern, err, sizeof(err));
		return -1;
	}
	/* One sync: a session of the initiator goes from one map to the
	 * other without seeing neither. */
	group_changed(from, "initiator.move", "%s to group %s", pattern, to->name);
	return 0;
}

int mgmt_initiator_clear(struct rpc_call *call)
{
	struct scst_acg *acg = named_group(call, "group");
	char err[256];

	if (!acg)
		return -1;
	while (!list_empty(&acg->initiators)) {
		struct scst_acn *acn = list_first_entry(&acg->initiators, struct scst_acn, entry);

		scst_acg_del_initiator(acg, acn->pattern, err, sizeof(err));
	}
	group_changed(acg, "initiator.clear", "%s", "");
	return 0;
}
