/* tree.get: the daemon's live state as one tree, shaped like SCST's
 * /sys/kernel/scst_tgt (docs/rpc.md). Built whole from the registry under
 * scst_mutex on every call (the registry is small; a snapshot is never
 * stale), then the node at the requested path is cut out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alua.h"
#include "core/core_internal.h"
#include "mgmt/mgmt.h"
#include "mgmt/mgmt_attrs.h"
#include "mgmt/rpc.h"
#include "mgmt/stats_json.h"

/* Whether this build of the tree has its stats nodes (tree.get's
 * "stats"); management thread only. */
static bool with_stats = true;


static const char *device_type_name(uint8_t type)
{
	switch (type) {
	case TYPE_DISK:
		return "disk";
	default:
		return "other";
	}
}

/* ---- LUN maps ---- */

static json_object *luns_json(struct scst_acg *acg)
{
	json_object *o = json_object_new_object();
	struct scst_lun *lun;
	char key[24];

	list_for_each_entry(lun, &acg->luns, entry) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "device", json_object_new_string(lun->dev->name));
		json_object_object_add(l, "attributes", mgmt_lun_attrs_json(lun));
		snprintf(key, sizeof(key), "%llu", (unsigned long long)lun->lun);
		json_object_object_add(o, key, l);
	}
	return o;
}

static json_object *group_json(struct scst_acg *acg)
{
	json_object *g = json_object_new_object();
	json_object *inis = json_object_new_array();
	struct scst_acn *acn;

	list_for_each_entry(acn, &acg->initiators, entry)
		json_object_array_add(inis, json_object_new_string(acn->pattern));
	json_object_object_add(g, "attributes", mgmt_group_attrs_json(acg));
	json_object_object_add(g, "luns", luns_json(acg));
	json_object_object_add(g, "initiators", inis);
	return g;
}

/* ---- sessions ---- */

static json_object *session_json(struct scst_session *sess)
{
	json_object *s = json_object_new_object();
	json_object *luns = json_object_new_object();
	/* The current table cannot be replaced while scst_mutex is held. */
	struct scst_lun_table *t = atomic_load(&sess->luns);
	struct scst_acg *acg;
	char why[256], key[24];

	json_object_object_add(s, "initiator", json_object_new_string(sess->initiator_name));
	acg = scst_acg_for_initiator(sess->tgt, sess->initiator_name, why, sizeof(why));
	json_object_object_add(s, "group", acg && acg->name ? json_object_new_string(acg->name)
							    : NULL);
	for (unsigned i = 0; t && i < t->n; i++) {
		struct scst_tgt_dev *td = t->tgt_devs[i];
		json_object *l = json_object_new_object();

		json_object_object_add(l, "device", json_object_new_string(td->dev->name));
		json_object_object_add(l, "read_only",
				       json_object_new_boolean(atomic_load(&td->read_only)));
		if (with_stats)
			json_object_object_add(l, "stats", stats_json_session_lun(sess, td->lun));
		snprintf(key, sizeof(key), "%llu", (unsigned long long)td->lun);
		json_object_object_add(luns, key, l);
	}
	json_object_object_add(s, "luns", luns);
	if (with_stats)
		json_object_object_add(s, "stats", stats_json_session(sess));
	return s;
}

/* ---- targets and drivers ---- */

static json_object *target_json(struct scst_tgt *tgt)
{
	json_object *o = json_object_new_object();
	json_object *groups = json_object_new_object();
	json_object *sessions = json_object_new_object();
	struct scst_acg *acg;
	struct scst_session *sess;
	char name[SCST_TRANSPORT_ID_MAX];

	json_object_object_add(o, "attributes", mgmt_target_attrs_json(tgt));
	json_object_object_add(o, "luns", luns_json(tgt->default_acg));
	list_for_each_entry(acg, &tgt->acgs, tgt_entry)
		json_object_object_add(groups, acg->name, group_json(acg));
	json_object_object_add(o, "ini_groups", groups);
	list_for_each_entry(sess, &tgt->sessions, tgt_entry) {
		scst_session_name(sess, name, sizeof(name));
		json_object_object_add(sessions, name, session_json(sess));
	}
	json_object_object_add(o, "sessions", sessions);
	if (with_stats) {
		json_object_object_add(o, "stats", stats_json_target(tgt));
		json_object_object_add(o, "lun_stats", stats_json_target_luns(tgt));
	}
	return o;
}

struct targets_ctx {
	struct scst_tgt_template *tgtt;
	json_object *targets;
};

static void add_target(struct scst_tgt *tgt, void *arg)
{
	struct targets_ctx *c = arg;

	json_object_object_add(c->targets, tgt->name, target_json(tgt));
}

static json_object *drivers_json(void)
{
	json_object *o = json_object_new_object();
	struct scst_tgt_template *tgtt;

	for (unsigned i = 0; (tgtt = scst_target_template_at(i)) != NULL; i++) {
		json_object *d = json_object_new_object();
		struct targets_ctx c = { .tgtt = tgtt, .targets = json_object_new_object() };

		json_object_object_add(d, "attributes", mgmt_driver_attrs_json(tgtt));
		scst_for_each_target(tgtt, add_target, &c);
		json_object_object_add(d, "targets", c.targets);
		json_object_object_add(o, tgtt->name, d);
	}
	return o;
}

/* ---- devices and handlers ---- */

struct export_ctx {
	const struct scst_device *dev;
	json_object *exported;
};

static void add_exports_of_acg(struct export_ctx *c, struct scst_acg *acg)
{
	struct scst_lun *lun;

	list_for_each_entry(lun, &acg->luns, entry) {
		json_object *e;

		if (lun->dev != c->dev)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "driver", json_object_new_string(acg->tgt->tgtt->name));
		json_object_object_add(e, "target", json_object_new_string(acg->tgt->name));
		json_object_object_add(e, "group", acg->name ? json_object_new_string(acg->name)
							     : NULL);
		json_object_object_add(e, "lun", json_object_new_uint64(lun->lun));
		json_object_array_add(c->exported, e);
	}
}

static void add_exports(struct scst_tgt *tgt, void *arg)
{
	struct scst_acg *acg;

	add_exports_of_acg(arg, tgt->default_acg);
	list_for_each_entry(acg, &tgt->acgs, tgt_entry)
		add_exports_of_acg(arg, acg);
}

static void add_device(struct scst_device *dev, void *arg)
{
	json_object *d = json_object_new_object();
	struct export_ctx c = { .dev = dev, .exported = json_object_new_array() };

	json_object_object_add(d, "handler", json_object_new_string(dev->handler->name));
	json_object_object_add(d, "block_size", json_object_new_uint64(dev->block_size));
	json_object_object_add(d, "nblocks", json_object_new_uint64(scst_dev_nblocks(dev)));
	json_object_object_add(d, "attributes", mgmt_device_attrs_json(dev));
	scst_for_each_target(NULL, add_exports, &c);
	json_object_object_add(d, "exported", c.exported);
	if (with_stats)
		json_object_object_add(d, "stats", stats_json_device(dev));
	json_object_object_add(arg, dev->name, d);
}

struct handler_ctx {
	const struct scst_dev_type *handler;
	json_object *names;
};

static void add_device_name(struct scst_device *dev, void *arg)
{
	struct handler_ctx *c = arg;

	if (dev->handler == c->handler)
		json_object_array_add(c->names, json_object_new_string(dev->name));
}

static json_object *handlers_json(void)
{
	json_object *o = json_object_new_object();
	struct scst_dev_type *h;

	for (unsigned i = 0; (h = scst_dev_handler_at(i)) != NULL; i++) {
		json_object *j = json_object_new_object();
		struct handler_ctx c = { .handler = h, .names = json_object_new_array() };

		json_object_object_add(j, "type", json_object_new_int(h->type));
		json_object_object_add(j, "type_name",
				       json_object_new_string(device_type_name(h->type)));
		scst_for_each_device(add_device_name, &c);
		json_object_object_add(j, "devices", c.names);
		json_object_object_add(o, h->name, j);
	}
	return o;
}

/* ---- ALUA ---- */

struct alua_ctx {
	json_object *dgs, *dg, *devices, *tgs, *tg, *targets;
};

static void add_json_attr(void *ctx, const struct mgmt_attr *a)
{
	mgmt_attr_to_json(ctx, a);
}

static json_object *alua_attrs(const struct scst_attr_table *t, const void *obj)
{
	json_object *o = json_object_new_object();

	mgmt_table_attrs(t, obj, NULL, add_json_attr, o);
	return o;
}

static void alua_dg(void *ctx, const char *name, const void *obj)
{
	struct alua_ctx *c = ctx;

	c->dg = json_object_new_object();
	c->devices = json_object_new_array();
	c->tgs = json_object_new_object();
	json_object_object_add(c->dg, "attributes", alua_attrs(&scst_alua_dg_attr_table, obj));
	json_object_object_add(c->dg, "devices", c->devices);
	json_object_object_add(c->dg, "target_groups", c->tgs);
	json_object_object_add(c->dgs, name, c->dg);
}

static void alua_device(void *ctx, const char *dev_name)
{
	struct alua_ctx *c = ctx;

	json_object_array_add(c->devices, json_object_new_string(dev_name));
}

static void alua_tg(void *ctx, const char *name, const void *obj, const char *state)
{
	struct alua_ctx *c = ctx;

	c->tg = json_object_new_object();
	c->targets = json_object_new_object();
	json_object_object_add(c->tg, "attributes", alua_attrs(&scst_alua_tg_attr_table, obj));
	json_object_object_add(c->tg, "state_in_force", json_object_new_string(state));
	json_object_object_add(c->tg, "targets", c->targets);
	json_object_object_add(c->tgs, name, c->tg);
}

static void alua_target(void *ctx, const char *tgt_name, const void *obj, bool local)
{
	struct alua_ctx *c = ctx;
	json_object *t = json_object_new_object();

	json_object_object_add(t, "attributes",
			       alua_attrs(&scst_alua_tg_target_attr_table, obj));
	json_object_object_add(t, "local", json_object_new_boolean(local));
	json_object_object_add(c->targets, tgt_name, t);
}

static void alua_end(void *ctx)
{
	(void)ctx;
}

static json_object *device_groups_json(void)
{
	static const struct scst_alua_visitor v = {
		.device_group = alua_dg,
		.device = alua_device,
		.target_group = alua_tg,
		.target = alua_target,
		.target_group_end = alua_end,
		.device_group_end = alua_end,
	};
	struct alua_ctx c = { .dgs = json_object_new_object() };

	scst_alua_visit(&v, &c);
	return c.dgs;
}

/* ---- the method ---- */

json_object *mgmt_tree_build(bool stats)
{
	json_object *root = json_object_new_object();
	json_object *devices = json_object_new_object();

	with_stats = stats;
	json_object_object_add(root, "handlers", handlers_json());
	scst_for_each_device(add_device, devices);
	json_object_object_add(root, "devices", devices);
	json_object_object_add(root, "targets", drivers_json());
	json_object_object_add(root, "device_groups", device_groups_json());
	return root;
}

int mgmt_tree_get(struct rpc_call *call)
{
	const char *path = rpc_str(call, "path");
	json_object *root = mgmt_tree_build(!rpc_has(call, "stats") || rpc_bool(call, "stats"));
	json_object *node = root;
	char *copy, *save = NULL;

	if (!path || !*path) {
		call->result = root;
		return 0;
	}
	copy = strdup(path);
	if (!copy) {
		json_object_put(root);
		return rpc_fail(call, RPC_FAILED, "out of memory");
	}
	for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		json_object *next;

		if (!json_object_is_type(node, json_type_object) ||
		    !json_object_object_get_ex(node, part, &next)) {
			rpc_fail_param(call, "path", RPC_NOT_FOUND, "tree.get: no node '%s' in '%s'",
				       part, path);
			free(copy);
			json_object_put(root);
			return -1;
		}
		node = next;
	}
	free(copy);
	call->result = json_object_get(node);
	json_object_put(root);
	return 0;
}
