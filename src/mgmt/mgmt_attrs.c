/* Live attributes for management (mgmt_attrs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_attrs.h"

struct collect {
	struct mgmt_attr *a;
	char *owned[MGMT_ATTR_MAX_VALUES];
};

static void collect_value(void *ctx, const char *name, const char *value)
{
	struct collect *c = ctx;

	(void)name;
	if (c->a->nvalues == MGMT_ATTR_MAX_VALUES)
		return;
	c->owned[c->a->nvalues] = strdup(value);
	if (c->owned[c->a->nvalues])
		c->a->values[c->a->nvalues] = c->owned[c->a->nvalues], c->a->nvalues++;
}

void mgmt_table_attrs(const struct scst_attr_table *t, const void *obj,
		      const struct scst_device *dev, mgmt_attr_fn *fn,
		      void *ctx)
{
	char derived[128];

	for (unsigned i = 0; i < t->ndescs; i++) {
		const struct scst_attr_desc *d = &t->descs[i];
		struct mgmt_attr a = {
			.table = t,
			.d = d,
			.def = d->def,
			.changeable = t->reparsed_live || d->set,
			.secret = d->flags & SCST_ATTR_SECRET,
		};
		struct collect c = { .a = &a };

		if (d->flags & SCST_ATTR_NOT_KEPT)
			continue;
		if (obj)
			scst_attr_show(d, obj, collect_value, &c);
		if (!a.def && dev &&
		    scst_device_derived_default(dev, d->name, derived, sizeof(derived)))
			a.def = derived;
		/* Key: written by the running configuration. A value with no
		 * default to compare with (a file name, a derived size) is
		 * always written: loading it back gives the same object. */
		if (a.nvalues == 0)
			a.key = false;
		else if (!a.def)
			a.key = true;
		else
			a.key = a.nvalues != 1 || !scst_attr_same_value(d, a.values[0], a.def);
		fn(ctx, &a);
		for (unsigned k = 0; k < a.nvalues; k++)
			free(c.owned[k]);
	}
}

void mgmt_table_attrs_of(const struct scst_attr_table *t, void *owner,
			 const struct scst_device *dev, mgmt_attr_fn *fn,
			 void *ctx)
{
	mgmt_table_attrs(t, t->object_of ? t->object_of(owner) : owner, dev, fn, ctx);
}

static const char *type_name(const struct scst_attr_desc *d)
{
	switch (d->type) {
	case SCST_ATTR_BOOL:
		return "bool";
	case SCST_ATTR_UINT:
		return "uint";
	case SCST_ATTR_CHARS:
	case SCST_ATTR_STRING:
		return "string";
	case SCST_ATTR_ENUM:
		return "enum";
	case SCST_ATTR_CUSTOM:
		return d->type_name ? d->type_name : "custom";
	}
	return "custom";
}

/* A secret's public part: the user name before the blank. */
static json_object *shown_value(const struct mgmt_attr *a, const char *v)
{
	const char *blank = a->secret ? strchr(v, ' ') : NULL;

	return blank ? json_object_new_string_len(v, (int)(blank - v)) : json_object_new_string(v);
}

void mgmt_attr_to_json(json_object *attrs, const struct mgmt_attr *a)
{
	json_object *o = json_object_new_object();
	json_object *value = NULL;

	if (a->d->flags & SCST_ATTR_MULTI) {
		value = json_object_new_array();
		for (unsigned i = 0; i < a->nvalues; i++)
			json_object_array_add(value, shown_value(a, a->values[i]));
	} else if (a->nvalues) {
		value = shown_value(a, a->values[0]);
	}
	json_object_object_add(o, "value", value);
	json_object_object_add(o, "type", json_object_new_string(type_name(a->d)));
	json_object_object_add(o, "default", a->def ? json_object_new_string(a->def) : NULL);
	json_object_object_add(o, "changeable", json_object_new_boolean(a->changeable));
	json_object_object_add(o, "key", json_object_new_boolean(a->key));
	if (a->secret)
		json_object_object_add(o, "secret", json_object_new_boolean(true));
	json_object_object_add(attrs, a->d->name, o);
}

/* ---- the tables of each kind of object ---- */

unsigned mgmt_device_tables(const struct scst_device *dev, const struct scst_attr_table **out,
			    unsigned max)
{
	unsigned n = 0;

	out[n++] = &scst_device_attr_table;
	if (dev->handler->dev_attrs && n < max)
		out[n++] = dev->handler->dev_attrs;
	return n;
}

unsigned mgmt_target_tables(const struct scst_tgt *tgt, const struct scst_attr_table **out,
			    unsigned max)
{
	unsigned n = 0;

	out[n++] = &scst_target_attr_table;
	for (unsigned i = 0; tgt->tgtt->tgt_attrs && tgt->tgtt->tgt_attrs[i] && n < max; i++)
		out[n++] = tgt->tgtt->tgt_attrs[i];
	return n;
}

unsigned mgmt_driver_tables(const struct scst_tgt_template *tgtt, const struct scst_attr_table **out,
			    unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; tgtt->tgtt_attrs && tgtt->tgtt_attrs[i] && n < max; i++)
		out[n++] = tgtt->tgtt_attrs[i];
	return n;
}

static void add_json(void *ctx, const struct mgmt_attr *a)
{
	mgmt_attr_to_json(ctx, a);
}

#define MAX_TABLES 8

/* The attributes of every table of @t, each of object_of(@owner). */
static json_object *tables_json(const struct scst_attr_table *const *t, unsigned n, void *owner,
				const struct scst_device *dev)
{
	json_object *o = json_object_new_object();

	for (unsigned i = 0; i < n; i++)
		mgmt_table_attrs_of(t[i], owner, dev, add_json, o);
	return o;
}

json_object *mgmt_device_attrs_json(struct scst_device *dev)
{
	const struct scst_attr_table *t[MAX_TABLES];

	return tables_json(t, mgmt_device_tables(dev, t, MAX_TABLES), dev, dev);
}

json_object *mgmt_target_attrs_json(struct scst_tgt *tgt)
{
	const struct scst_attr_table *t[MAX_TABLES];

	return tables_json(t, mgmt_target_tables(tgt, t, MAX_TABLES), tgt, NULL);
}

json_object *mgmt_driver_attrs_json(struct scst_tgt_template *tgtt)
{
	const struct scst_attr_table *t[MAX_TABLES];

	return tables_json(t, mgmt_driver_tables(tgtt, t, MAX_TABLES), NULL, NULL);
}

json_object *mgmt_lun_attrs_json(struct scst_lun *lun)
{
	json_object *o = json_object_new_object();

	mgmt_table_attrs_of(&scst_lun_attr_table, lun, NULL, add_json, o);
	return o;
}

json_object *mgmt_group_attrs_json(struct scst_acg *acg)
{
	json_object *o = json_object_new_object();

	mgmt_table_attrs_of(&scst_group_attr_table, acg, NULL, add_json, o);
	return o;
}

/* ---- re-parsing a live object's attributes ---- */

struct merge_ctx {
	const struct rpc_attrs *changes;
	struct rpc_attrs *out;
	int rc;
};

static bool changed_by(const struct rpc_attrs *changes, const char *name)
{
	for (unsigned i = 0; i < changes->n; i++)
		if (strcmp(changes->v[i].name, name) == 0)
			return true;
	return false;
}

static void merge_one(void *ctx, const struct mgmt_attr *a)
{
	struct merge_ctx *m = ctx;

	if (changed_by(m->changes, a->d->name))
		return;
	for (unsigned i = 0; i < a->nvalues && m->rc == 0; i++)
		m->rc = rpc_attrs_add(m->out, a->d->name, a->values[i]);
}

int mgmt_merge_attrs(const struct scst_attr_table *const *tables, unsigned ntables, void *owner,
		     const struct rpc_attrs *changes, struct rpc_attrs *out, const char **unknown)
{
	struct merge_ctx m = { .changes = changes, .out = out };

	*out = (struct rpc_attrs){ 0 };
	*unknown = NULL;
	for (unsigned i = 0; i < changes->n; i++) {
		bool known = false;

		for (unsigned t = 0; t < ntables && !known; t++)
			known = scst_attr_find(tables[t], changes->v[i].name) != NULL;
		if (!known) {
			*unknown = changes->v[i].name;
			return -1;
		}
	}
	for (unsigned t = 0; t < ntables && m.rc == 0; t++)
		mgmt_table_attrs_of(tables[t], owner, NULL, merge_one, &m);
	for (unsigned i = 0; i < changes->n && m.rc == 0; i++)
		m.rc = rpc_attrs_add(out, changes->v[i].name, changes->v[i].value);
	if (m.rc)
		rpc_attrs_free(out);
	return m.rc;
}
