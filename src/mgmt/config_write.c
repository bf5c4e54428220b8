/* The running configuration as scst.conf (config.write, scstadmin
 * -write_config): what config_apply() would need to rebuild the registry
 * as it is, in scstadmin's section order (handlers and their devices,
 * target drivers and their targets, then ALUA's device groups), with each
 * object's key attributes only (mgmt_attrs.h: those that differ from the
 * default) unless every one is asked for. Loading the text gives the same
 * state; the tests hold it to that on every configuration they use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alua.h"
#include "mgmt/config_write.h"
#include "mgmt/mgmt_attrs.h"

struct writer {
	FILE *out;
	bool all; /* every attribute, not only the key ones */
	unsigned depth;
	int bad; /* a value that cannot be written (a newline in it) */
};

static void indent(struct writer *w)
{
	for (unsigned i = 0; i < w->depth; i++)
		fputc('\t', w->out);
}

/* One word as config_lexer.c reads it back: a backslash before every
 * character that would end or quote it; "" for the empty word. */
static void put_word(struct writer *w, const char *s)
{
	if (!*s) {
		fputs("\"\"", w->out);
		return;
	}
	for (; *s; s++) {
		if (*s == '\n') {
			w->bad = 1;
			continue;
		}
		if (strchr(" \t\r\f\v{};#\"\\", *s))
			fputc('\\', w->out);
		fputc(*s, w->out);
	}
}

/* "name value": the value is one word, so that blanks in it stay. A
 * secret's "user secret" is two words, as it is always written. */
static void put_attr_line(struct writer *w, const char *name, const char *value, bool words)
{
	indent(w);
	fprintf(w->out, "%s ", name);
	if (words) {
		const char *blank = strchr(value, ' ');
		char *first = blank ? strndup(value, (size_t)(blank - value)) : NULL;

		if (first) {
			put_word(w, first);
			fputc(' ', w->out);
			put_word(w, blank + 1);
			free(first);
		} else {
			put_word(w, value);
		}
	} else {
		put_word(w, value);
	}
	fputc('\n', w->out);
}

static void write_attr(void *ctx, const struct mgmt_attr *a)
{
	struct writer *w = ctx;

	if (!a->key && !(w->all && a->nvalues))
		return;
	for (unsigned i = 0; i < a->nvalues; i++)
		put_attr_line(w, a->d->name, a->values[i], a->secret);
}

static void write_tables(struct writer *w, const struct scst_attr_table **t, unsigned n,
			 void *owner, const struct scst_device *dev)
{
	for (unsigned i = 0; i < n; i++)
		mgmt_table_attrs_of(t[i], owner, dev, write_attr, w);
}

static void open_section(struct writer *w, const char *keyword, const char *name)
{
	indent(w);
	fprintf(w->out, "%s ", keyword);
	put_word(w, name);
	fputs(" {\n", w->out);
	w->depth++;
}

static void close_section(struct writer *w)
{
	w->depth--;
	indent(w);
	fputs("}\n", w->out);
}

/* ---- HANDLER / DEVICE ---- */

struct handler_ctx {
	struct writer *w;
	const struct scst_dev_type *handler;
	bool opened;
};

static void write_device(struct scst_device *dev, void *arg)
{
	struct handler_ctx *c = arg;
	const struct scst_attr_table *t[8];
	unsigned n;

	if (dev->handler != c->handler)
		return;
	if (!c->opened) {
		open_section(c->w, "HANDLER", c->handler->name);
		c->opened = true;
	}
	n = mgmt_device_tables(dev, t, 8);
	open_section(c->w, "DEVICE", dev->name);
	write_tables(c->w, t, n, dev, dev);
	close_section(c->w);
}

static void write_handlers(struct writer *w)
{
	struct scst_dev_type *h;

	for (unsigned i = 0; (h = scst_dev_handler_at(i)) != NULL; i++) {
		struct handler_ctx c = { .w = w, .handler = h };

		scst_for_each_device(write_device, &c);
		if (c.opened) {
			close_section(w);
			fputc('\n', w->out);
		}
	}
}

/* ---- TARGET_DRIVER / TARGET / GROUP / LUN ---- */

static void write_luns(struct writer *w, struct scst_acg *acg)
{
	struct scst_lun *lun;
	char num[24];

	list_for_each_entry(lun, &acg->luns, entry) {
		/* A LUN of a read-only device is read-only whatever its own
		 * line says: written only when the LUN itself asks. */
		bool ro = lun->read_only && !lun->dev->read_only;
		bool braces = ro || (w->all && !lun->dev->read_only);

		indent(w);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)lun->lun);
		fprintf(w->out, "LUN %s ", num);
		put_word(w, lun->dev->name);
		if (!braces) {
			fputc('\n', w->out);
			continue;
		}
		fputs(" {\n", w->out);
		w->depth++;
		put_attr_line(w, "read_only", ro ? "1" : "0", false);
		close_section(w);
	}
}

static void write_group(struct writer *w, struct scst_acg *acg)
{
	struct scst_acn *acn;

	open_section(w, "GROUP", acg->name);
	mgmt_table_attrs_of(&scst_group_attr_table, acg, NULL, write_attr, w);
	write_luns(w, acg);
	list_for_each_entry(acn, &acg->initiators, entry) {
		indent(w);
		fputs("INITIATOR ", w->out);
		put_word(w, acn->pattern);
		fputc('\n', w->out);
	}
	close_section(w);
}

static void write_target(struct scst_tgt *tgt, void *arg)
{
	struct writer *w = arg;
	const struct scst_attr_table *t[8];
	unsigned n = mgmt_target_tables(tgt, t, 8);
	struct scst_acg *acg;
	char id[8];

	open_section(w, "TARGET", tgt->name);
	/* enabled and rel_tgt_id always: a target's state and its port's
	 * identity must not depend on what else the file holds. */
	put_attr_line(w, "enabled", tgt->enabled ? "1" : "0", false);
	snprintf(id, sizeof(id), "%u", tgt->rel_tgt_id);
	put_attr_line(w, "rel_tgt_id", id, false);
	for (unsigned i = 1; i < n; i++)
		mgmt_table_attrs_of(t[i], tgt, NULL, write_attr, w);
	write_luns(w, tgt->default_acg);
	list_for_each_entry(acg, &tgt->acgs, tgt_entry)
		write_group(w, acg);
	close_section(w);
}

static void count_target(struct scst_tgt *tgt, void *arg)
{
	(void)tgt;
	(*(unsigned *)arg)++;
}

static void count_key(void *ctx, const struct mgmt_attr *a)
{
	*(unsigned *)ctx += a->key;
}

static void write_drivers(struct writer *w)
{
	struct scst_tgt_template *tgtt;

	for (unsigned i = 0; (tgtt = scst_target_template_at(i)) != NULL; i++) {
		const struct scst_attr_table *t[8];
		unsigned n = mgmt_driver_tables(tgtt, t, 8), used = 0;

		/* A driver with no target and nothing of its own set is left
		 * out, as scstadmin leaves it. */
		scst_for_each_target(tgtt, count_target, &used);
		for (unsigned k = 0; k < n; k++)
			mgmt_table_attrs_of(t[k], NULL, NULL, count_key, &used);
		if (!used && !w->all)
			continue;
		/* Its "enabled" is 1, the default: a disabled driver's
		 * targets are written disabled. */
		open_section(w, "TARGET_DRIVER", tgtt->name);
		write_tables(w, t, n, NULL, NULL);
		scst_for_each_target(tgtt, write_target, w);
		close_section(w);
		fputc('\n', w->out);
	}
}

/* ---- DEVICE_GROUP ---- */

static void alua_dg(void *ctx, const char *name, const void *obj)
{
	struct writer *w = ctx;

	open_section(w, "DEVICE_GROUP", name);
	mgmt_table_attrs(&scst_alua_dg_attr_table, obj, NULL, write_attr, w);
}

static void alua_device(void *ctx, const char *dev_name)
{
	struct writer *w = ctx;

	indent(w);
	fputs("DEVICE ", w->out);
	put_word(w, dev_name);
	fputc('\n', w->out);
}

static void alua_tg(void *ctx, const char *name, const void *obj, const char *state)
{
	struct writer *w = ctx;

	(void)state;
	open_section(w, "TARGET_GROUP", name);
	mgmt_table_attrs(&scst_alua_tg_attr_table, obj, NULL, write_attr, w);
}

/* A local target's rel_tgt_id is its own (the target section has it); a
 * remote one's is written, being all RTPG knows of it. */
struct tg_target_ctx {
	struct writer *w;
	bool local;
};

static void write_tg_target_attr(void *ctx, const struct mgmt_attr *a)
{
	struct tg_target_ctx *c = ctx;

	if (c->local && !c->w->all)
		return;
	write_attr(c->w, a);
}

static void alua_target(void *ctx, const char *tgt_name, const void *obj, bool local)
{
	struct writer *w = ctx;
	struct tg_target_ctx c = { .w = w, .local = local };
	char *text = NULL;
	size_t len = 0;
	FILE *body = open_memstream(&text, &len);
	FILE *out = w->out;

	/* The attributes first, to know whether the line needs braces. */
	if (!body) {
		w->bad = 1;
		return;
	}
	w->out = body;
	w->depth++;
	mgmt_table_attrs(&scst_alua_tg_target_attr_table, obj, NULL, write_tg_target_attr,
			 &c);
	w->depth--;
	fclose(body);
	w->out = out;
	indent(w);
	fputs("TARGET ", w->out);
	put_word(w, tgt_name);
	if (len) {
		fputs(" {\n", w->out);
		fputs(text, w->out);
		indent(w);
		fputs("}\n", w->out);
	} else {
		fputc('\n', w->out);
	}
	free(text);
}

static void alua_tg_end(void *ctx)
{
	close_section(ctx);
}

static void alua_dg_end(void *ctx)
{
	struct writer *w = ctx;

	close_section(w);
	fputc('\n', w->out);
}

static void write_device_groups(struct writer *w)
{
	static const struct scst_alua_visitor v = {
		.device_group = alua_dg,
		.device = alua_device,
		.target_group = alua_tg,
		.target = alua_target,
		.target_group_end = alua_tg_end,
		.device_group_end = alua_dg_end,
	};

	scst_alua_visit(&v, w);
}

char *config_write_running(bool all, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct writer w = { .all = all };

	w.out = open_memstream(&text, &len);
	if (!w.out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fputs("# The running configuration of uscstd, as scst.conf.\n\n", w.out);
	write_handlers(&w);
	write_drivers(&w);
	write_device_groups(&w);
	if (fclose(w.out) != 0) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (w.bad) {
		free(text);
		snprintf(err, errlen, "a value with a line break cannot be written as scst.conf");
		return NULL;
	}
	return text;
}
