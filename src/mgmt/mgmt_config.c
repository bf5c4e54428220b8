/* config.*: the running configuration written out, a file applied to the
 * running daemon with each step reported, and everything cleared
 * (scstadmin -write_config, -config, -check_config, -clear_config). A
 * SIGHUP reload takes the same path (config_reload.c): the steps go to the
 * log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/alua.h"
#include "core/attr_desc.h"
#include "mgmt/config.h"
#include "mgmt/config_canon.h"
#include "mgmt/config_diff.h"
#include "mgmt/config_write.h"
#include "mgmt/mgmt.h"

int mgmt_config_write(struct rpc_call *call)
{
	char err[256];
	char *text = config_write_running(rpc_bool(call, "nonkey"), err, sizeof(err));

	if (!text)
		return rpc_fail(call, RPC_FAILED, "%s", err);
	call->result = json_object_new_object();
	json_object_object_add(call->result, "text", json_object_new_string(text));
	free(text);
	return 0;
}

/* ---- what the diff asks of the descriptor tables ---- */

/* Calls @fn on every table a section of scst.conf can take attributes
 * from, until it returns true. */
static bool any_table(bool (*fn)(const struct scst_attr_table *t, void *arg), void *arg)
{
	static const struct scst_attr_table *const core[] = {
		&scst_device_attr_table, &scst_target_attr_table,  &scst_lun_attr_table,
		&scst_group_attr_table,  &scst_driver_attr_table,  &scst_alua_dg_attr_table,
		&scst_alua_tg_attr_table, &scst_alua_tg_target_attr_table,
	};
	struct scst_dev_type *h;
	struct scst_tgt_template *tgtt;

	for (unsigned i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		if (fn(core[i], arg))
			return true;
	for (unsigned i = 0; (h = scst_dev_handler_at(i)) != NULL; i++)
		if (h->dev_attrs && fn(h->dev_attrs, arg))
			return true;
	for (unsigned i = 0; (tgtt = scst_target_template_at(i)) != NULL; i++) {
		for (unsigned k = 0; tgtt->tgtt_attrs && tgtt->tgtt_attrs[k]; k++)
			if (fn(tgtt->tgtt_attrs[k], arg))
				return true;
		for (unsigned k = 0; tgtt->tgt_attrs && tgtt->tgt_attrs[k]; k++)
			if (fn(tgtt->tgt_attrs[k], arg))
				return true;
	}
	return false;
}

struct desc_query {
	const char *name;
	const struct scst_attr_desc *found;
	bool device_table; /* found in a DEVICE table */
};

static bool find_desc(const struct scst_attr_table *t, void *arg)
{
	struct desc_query *q = arg;

	q->found = scst_attr_find(t, q->name);
	q->device_table = t->owner == SCST_ATTR_OWNER_DEVICE;
	return q->found != NULL;
}

static const struct scst_attr_desc *desc_named(const char *name, bool *device_table)
{
	struct desc_query q = { .name = name };

	any_table(find_desc, &q);
	if (device_table)
		*device_table = q.found && q.device_table;
	return q.found;
}

static bool diff_is_secret(const char *name)
{
	const struct scst_attr_desc *d = desc_named(name, NULL);

	return d && (d->flags & SCST_ATTR_SECRET);
}

static bool diff_same_value(const char *name, const char *a, const char *b)
{
	const struct scst_attr_desc *d = desc_named(name, NULL);

	return d ? scst_attr_same_value(d, a, b) : strcmp(a, b) == 0;
}

static bool diff_kept_when_absent(const char *keyword, const char *name)
{
	/* A device the file keeps keeps what the file does not say
	 * (config_apply()'s keep_device()); a running target keeps its port
	 * identity. Everything else a file leaves out is its default. */
	return strcmp(keyword, "DEVICE") == 0 ||
	       (strcmp(keyword, "TARGET") == 0 && strcmp(name, "rel_tgt_id") == 0);
}

static const char *diff_note(const char *keyword, const char *name)
{
	bool device_table;
	const struct scst_attr_desc *d;

	if (strcmp(keyword, "DEVICE") != 0)
		return NULL;
	d = desc_named(name, &device_table);
	if (d && device_table && !d->set)
		return "not applied: fixed while the device exists (close and open it)";
	return NULL;
}

/* ---- applying a tree ---- */

int config_steps(const struct config_tree *want, void (*fn)(void *ctx, const char *line),
		 void *ctx, char *err, size_t errlen)
{
	char *all = config_write_running(true, err, errlen);
	char *key = all ? config_write_running(false, err, errlen) : NULL;
	struct config_tree *have_all = NULL, *have_key = NULL, *canon = NULL;
	int n = -1;

	/* The file as the running configuration would write it: a copy,
	 * the caller applies what it parsed. */
	if (key && (canon = config_copy(want)) == NULL)
		snprintf(err, errlen, "out of memory");
	if (canon &&
	    (have_all = config_parse_string(all, "(running)", err, errlen)) != NULL &&
	    (have_key = config_parse_string(key, "(running)", err, errlen)) != NULL) {
		config_canonicalize(canon);
		struct config_diff_input in = {
			.want = canon,
			.have_all = have_all,
			.have_key = have_key,
			.is_secret = diff_is_secret,
			.same_value = diff_same_value,
			.kept_when_absent = diff_kept_when_absent,
			.note = diff_note,
		};

		n = (int)config_diff(&in, fn, ctx);
	}
	if (canon)
		config_free(canon);
	if (have_all)
		config_free(have_all);
	if (have_key)
		config_free(have_key);
	free(all);
	free(key);
	return n;
}

struct steps_json {
	json_object *steps;
	const char *verb;
};

static void step_to_json(void *ctx, const char *line)
{
	struct steps_json *s = ctx;

	json_object_array_add(s->steps, json_object_new_string(line));
	if (s->verb)
		log_info("mgmt: %s: %s", s->verb, line);
}

/* config.apply and config.clear: @tree made the running state, or only
 * checked; the steps in the result. */
static int apply_tree(struct rpc_call *call, const struct config_tree *tree, bool check,
		      const char *verb)
{
	struct steps_json s = { .steps = json_object_new_array(), .verb = check ? NULL : verb };
	struct config_leftovers left = { 0 };
	char err[1024];
	int rc;

	pthread_mutex_lock(&scst_mutex);
	rc = config_steps(tree, step_to_json, &s, err, sizeof(err));
	if (rc >= 0)
		rc = check ? config_check(tree, err, sizeof(err))
			   : config_apply(tree, &left, err, sizeof(err));
	pthread_mutex_unlock(&scst_mutex);
	if (rc < 0) {
		json_object_put(s.steps);
		return rpc_fail(call, RPC_REFUSED, "%s%s", err, check ? "" : "; nothing changed");
	}
	if (!check) {
		config_finish_removals(&left);
		log_info("mgmt: %s done: %zu step(s)", verb, json_object_array_length(s.steps));
	}
	call->result = json_object_new_object();
	json_object_object_add(call->result, "steps", s.steps);
	json_object_object_add(call->result, "applied", json_object_new_boolean(!check));
	return 0;
}

int mgmt_config_apply(struct rpc_call *call)
{
	const char *text = rpc_str(call, "text");
	const char *filename = rpc_str(call, "filename");
	struct config_tree *tree;
	char err[1024];
	int rc;

	tree = config_parse_string(text, filename ? filename : "(config.apply)", err, sizeof(err));
	if (!tree)
		return rpc_fail_param(call, "text", RPC_REFUSED, "%s", err);
	rc = apply_tree(call, tree, rpc_bool(call, "check"), "config.apply");
	config_free(tree);
	return rc;
}

int mgmt_config_clear(struct rpc_call *call)
{
	char err[256];
	struct config_tree *tree = config_parse_string("", "(config.clear)", err, sizeof(err));
	int rc;

	if (!tree)
		return rpc_fail(call, RPC_FAILED, "%s", err);
	rc = apply_tree(call, tree, false, "config.clear");
	config_free(tree);
	return rc;
}
