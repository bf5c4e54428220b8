/* A configuration tree's attributes in the running configuration's own
 * form (config_canon.h), so that comparing a file with the running state
 * compares values, not spellings: each section's attributes are parsed
 * into a scratch object of every table the section takes (defaults
 * first), then shown back with mgmt_table_attrs(), keeping the key ones
 * and those the section names. "size_mb 8" becomes "size 8388608",
 * "write_through yes" becomes "write_through 1". Attributes no
 * table takes stay as written, for config_apply() to refuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alua.h"
#include "core/attr_desc.h"
#include "core/scst.h"
#include "mgmt/config_canon.h"
#include "mgmt/mgmt_attrs.h"

#define MAX_TABLES 8

struct canon {
	struct config_attr *v;
	unsigned n, cap;
	unsigned line; /* of the section, for attributes made here */
	int failed;
	/* The section as written, and its table's object with defaults
	 * only: an attribute without a default that the section does not
	 * name is written only if the ones it names changed it (size_mb
	 * sets size), not for the zero a scratch object holds. */
	const struct config_block *given;
	const struct scst_attr_table *table;
	const void *baseline;
};

static void canon_add(struct canon *c, const char *name, const char *value)
{
	struct config_attr *v;

	if (c->failed)
		return;
	if (c->n == c->cap) {
		unsigned cap = c->cap ? 2 * c->cap : 8;

		v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->failed = 1;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n] = (struct config_attr){ .name = strdup(name), .value = strdup(value),
					   .line = c->line };
	if (!c->v[c->n].name || !c->v[c->n].value) {
		free(c->v[c->n].name);
		free(c->v[c->n].value);
		c->failed = 1;
		return;
	}
	c->n++;
}

static void add_key(void *ctx, const struct mgmt_attr *a)
{
	struct canon *c = ctx;
	bool named = config_find_attr(c->given, a->d->name) != NULL;

	/* One the section names stays even at its default: for a device
	 * that is kept, naming it is asking for that value. */
	if (!a->key && !named)
		return;
	if (!a->d->def && !named) {
		struct scst_attr_first base = { .n = 0 };

		scst_attr_show(a->d, c->baseline, scst_attr_take_first, &base);
		if (a->nvalues == base.n && (base.n == 0 || strcmp(base.text, a->values[0]) == 0))
			return;
	}
	for (unsigned i = 0; i < a->nvalues; i++)
		canon_add(c, a->d->name, a->values[i]);
}

static const struct scst_attr_desc *desc_in(const struct scst_attr_table *const *t, unsigned n,
					    const char *name)
{
	for (unsigned i = 0; i < n; i++) {
		const struct scst_attr_desc *d = scst_attr_find(t[i], name);

		if (d)
			return d;
	}
	return NULL;
}

/* Rewrites @b's attributes as the tables @t show them; leaves @b as it is
 * when they do not parse (config_apply() says why). */
static void canon_block(struct config_block *b, const struct scst_attr_table *const *t,
			unsigned n)
{
	struct scst_attr *attrs = calloc(b->nattrs + 1, sizeof(*attrs));
	struct canon c = { .line = b->line, .given = b };
	char err[256];
	bool ok = attrs != NULL;

	for (unsigned i = 0; ok && i < b->nattrs; i++)
		attrs[i] = (struct scst_attr){ .name = b->attrs[i].name, .value = b->attrs[i].value };
	for (unsigned k = 0; ok && k < n; k++) {
		void *obj = calloc(1, t[k]->object_size);
		void *base = calloc(1, t[k]->object_size);

		ok = obj && base && scst_attr_defaults(t[k], obj, err, sizeof(err)) == 0 &&
		     scst_attr_defaults(t[k], base, err, sizeof(err)) == 0 &&
		     scst_attrs_take(t[k], obj, attrs, b->nattrs, err, sizeof(err)) == 0;
		c.table = t[k];
		c.baseline = base;
		if (ok)
			mgmt_table_attrs(t[k], obj, NULL, add_key, &c);
		for (unsigned x = 0; x < 2; x++) {
			void *o = x ? base : obj;

			if (o)
				scst_attr_obj_release(t[k], o);
			free(o);
		}
	}
	for (unsigned i = 0; ok && i < b->nattrs; i++) {
		const struct scst_attr_desc *d = desc_in(t, n, attrs[i].name);

		/* Kept nowhere: a switch the apply step acts on (a driver's
		 * enabled) stays unless it says the default; one whose parse
		 * stores another attribute (size_mb) is shown as that one. */
		if (d && (d->flags & SCST_ATTR_NOT_KEPT) && !d->parse &&
		    !(d->def && strcmp(d->def, attrs[i].value) == 0))
			canon_add(&c, attrs[i].name, attrs[i].value);
		else if (!attrs[i].consumed)
			canon_add(&c, attrs[i].name, attrs[i].value);
	}
	free(attrs);
	if (!ok || c.failed) {
		for (unsigned i = 0; i < c.n; i++) {
			free(c.v[i].name);
			free(c.v[i].value);
		}
		free(c.v);
		return;
	}
	for (unsigned i = 0; i < b->nattrs; i++) {
		free(b->attrs[i].name);
		free(b->attrs[i].value);
	}
	free(b->attrs);
	b->attrs = c.v;
	b->nattrs = c.n;
}

static void canon_device(struct config_block *d, const struct scst_dev_type *h)
{
	const struct scst_attr_table *t[MAX_TABLES] = { &scst_device_attr_table };
	unsigned n = 1;

	if (h && h->dev_attrs)
		t[n++] = h->dev_attrs;
	canon_block(d, t, n);
}

static void canon_target(struct config_block *tb, const struct scst_tgt_template *tgtt)
{
	const struct scst_attr_table *t[MAX_TABLES] = { &scst_target_attr_table };
	unsigned n = 1;

	for (unsigned i = 0; tgtt && tgtt->tgt_attrs && tgtt->tgt_attrs[i] && n < MAX_TABLES; i++)
		t[n++] = tgtt->tgt_attrs[i];
	canon_block(tb, t, n);
	for (unsigned i = 0; i < tb->nchildren; i++) {
		struct config_block *c = &tb->children[i];
		const struct scst_attr_table *lun = &scst_lun_attr_table;
		const struct scst_attr_table *grp = &scst_group_attr_table;

		if (c->section == CONFIG_LUN) {
			canon_block(c, &lun, 1);
		} else if (c->section == CONFIG_GROUP) {
			canon_block(c, &grp, 1);
			for (unsigned j = 0; j < c->nchildren; j++)
				if (c->children[j].section == CONFIG_LUN)
					canon_block(&c->children[j], &lun, 1);
		}
	}
}

static void canon_driver(struct config_block *d)
{
	const struct scst_tgt_template *tgtt = scst_find_target_template(d->name);
	const struct scst_attr_table *t[MAX_TABLES] = { &scst_driver_attr_table };
	unsigned n = 1;

	for (unsigned i = 0; tgtt && tgtt->tgtt_attrs && tgtt->tgtt_attrs[i] && n < MAX_TABLES; i++)
		t[n++] = tgtt->tgtt_attrs[i];
	canon_block(d, t, n);
	for (unsigned i = 0; i < d->nchildren; i++)
		canon_target(&d->children[i], tgtt);
}

static void canon_device_group(struct config_block *dg)
{
	const struct scst_attr_table *t = &scst_alua_dg_attr_table;
	const struct scst_attr_table *tg = &scst_alua_tg_attr_table;
	const struct scst_attr_table *port = &scst_alua_tg_target_attr_table;

	canon_block(dg, &t, 1);
	for (unsigned i = 0; i < dg->nchildren; i++) {
		struct config_block *c = &dg->children[i];

		if (c->section != CONFIG_TARGET_GROUP)
			continue;
		canon_block(c, &tg, 1);
		for (unsigned j = 0; j < c->nchildren; j++)
			canon_block(&c->children[j], &port, 1);
	}
}

void config_canonicalize(struct config_tree *tree)
{
	for (unsigned i = 0; i < tree->root.nchildren; i++) {
		struct config_block *b = &tree->root.children[i];

		switch (b->section) {
		case CONFIG_HANDLER:
			for (unsigned j = 0; j < b->nchildren; j++)
				canon_device(&b->children[j], scst_find_dev_handler(b->name));
			break;
		case CONFIG_TARGET_DRIVER:
			canon_driver(b);
			break;
		case CONFIG_DEVICE_GROUP:
			canon_device_group(b);
			break;
		default:
			break;
		}
	}
}
