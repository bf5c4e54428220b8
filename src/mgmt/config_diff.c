/* What applying a configuration file to the running daemon changes, as
 * one line per step (config.apply, scstadmin -config / -check_config): the
 * file's tree compared with the running configuration's (config_write.c),
 * section by section. Pure: two parsed trees in, lines out; which
 * attributes hold secrets is asked of @is_secret, so that no step shows
 * one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/config_diff.h"

struct differ {
	const struct config_diff_input *in;
	void (*step)(void *ctx, const char *line);
	void *ctx;
	unsigned nsteps;
};

static void step(struct differ *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void step(struct differ *d, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->step(d->ctx, line);
	d->nsteps++;
}

/* A section's name in a step: "LUN 3", "TARGET iqn...", "DEVICE disk1". */
static void block_label(const struct config_block *b, char *buf, size_t len)
{
	if (b->section == CONFIG_LUN)
		snprintf(buf, len, "LUN %llu", (unsigned long long)b->lun);
	else
		snprintf(buf, len, "%s %s", b->keyword, b->name ? b->name : "");
}

static bool same_block(const struct config_block *a, const struct config_block *b)
{
	if (a->section != b->section)
		return false;
	if (a->section == CONFIG_LUN)
		return a->lun == b->lun;
	return strcmp(a->name, b->name) == 0;
}

static const struct config_block *find_child(const struct config_block *parent,
					     const struct config_block *like)
{
	for (unsigned i = 0; i < parent->nchildren; i++)
		if (same_block(&parent->children[i], like))
			return &parent->children[i];
	return NULL;
}

/* The values of attribute @name in @b, joined by " | " for a step. */
static size_t attr_values(const struct config_block *b, const char *name, char *buf, size_t len)
{
	size_t n = 0, count = 0;

	buf[0] = '\0';
	for (unsigned i = 0; b && i < b->nattrs; i++) {
		if (strcmp(b->attrs[i].name, name))
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", count ? " | " : "",
				      b->attrs[i].value);
		count++;
		if (n >= len)
			n = len - 1;
	}
	return count;
}

static bool has_attr(const struct config_block *b, const char *name)
{
	return b && config_find_attr(b, name) != NULL;
}

/* The values of @name in @a and @b are one: the same count, each pair
 * the same value as its type reads it. */
static bool same_values(struct differ *d, const char *name, const struct config_block *a,
			const struct config_block *b)
{
	unsigned i = 0, j = 0;

	for (;;) {
		while (a && i < a->nattrs && strcmp(a->attrs[i].name, name))
			i++;
		while (b && j < b->nattrs && strcmp(b->attrs[j].name, name))
			j++;
		bool more_a = a && i < a->nattrs, more_b = b && j < b->nattrs;

		if (!more_a || !more_b)
			return more_a == more_b;
		if (!d->in->same_value(name, a->attrs[i].value, b->attrs[j].value))
			return false;
		i++;
		j++;
	}
}

static bool first_of_name(const struct config_block *b, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (strcmp(b->attrs[j].name, b->attrs[i].name) == 0)
			return false;
	return true;
}

static void change_step(struct differ *d, const char *path, const char *keyword,
			const char *name, const char *from, const char *to)
{
	const char *note = d->in->note(keyword, name);

	if (d->in->is_secret(name))
		step(d, "change %s %s (secret)%s%s", path, name, note ? ": " : "", note ? note : "");
	else
		step(d, "change %s %s: %s -> %s%s%s", path, name, from, to, note ? "; " : "",
		     note ? note : "");
}

/* Attributes of section @path: the file's (@want) against the running
 * one's, all of them (@have_all) and its key ones (@have_key). An
 * attribute the file leaves out is its default: a change only when the
 * running one differs from the default (is key). */
static void diff_attrs(struct differ *d, const char *path, const struct config_block *want,
		       const struct config_block *have_all, const struct config_block *have_key)
{
	char a[512], b[512];

	for (unsigned i = 0; i < want->nattrs; i++) {
		const char *name = want->attrs[i].name;

		if (!first_of_name(want, i) || same_values(d, name, want, have_all))
			continue;
		attr_values(want, name, a, sizeof(a));
		attr_values(have_all, name, b, sizeof(b));
		change_step(d, path, want->keyword, name, b[0] ? b : "(none)", a);
	}
	for (unsigned i = 0; have_key && i < have_key->nattrs; i++) {
		const char *name = have_key->attrs[i].name;

		if (!first_of_name(have_key, i) || has_attr(want, name) ||
		    d->in->kept_when_absent(want->keyword, name))
			continue;
		attr_values(have_key, name, b, sizeof(b));
		change_step(d, path, want->keyword, name, b, "default");
	}
}

static void diff_block(struct differ *d, const char *parent_path, const struct config_block *want,
		       const struct config_block *have_all, const struct config_block *have_key);

static void diff_children(struct differ *d, const char *path, const struct config_block *want,
			  const struct config_block *have_all, const struct config_block *have_key)
{
	char label[512];

	for (unsigned i = 0; i < want->nchildren; i++) {
		const struct config_block *c = &want->children[i];
		const struct config_block *h = have_all ? find_child(have_all, c) : NULL;

		block_label(c, label, sizeof(label));
		if (!h) {
			if (c->section == CONFIG_LUN)
				step(d, "add %s%s%s %s", path, *path ? " / " : "", label, c->device);
			else
				step(d, "add %s%s%s", path, *path ? " / " : "", label);
			continue;
		}
		diff_block(d, path, c, h, have_key ? find_child(have_key, c) : NULL);
	}
	for (unsigned i = 0; have_all && i < have_all->nchildren; i++) {
		const struct config_block *h = &have_all->children[i];

		if (find_child(want, h))
			continue;
		block_label(h, label, sizeof(label));
		step(d, "remove %s%s%s", path, *path ? " / " : "", label);
	}
}

static void diff_block(struct differ *d, const char *parent_path, const struct config_block *want,
		       const struct config_block *have_all, const struct config_block *have_key)
{
	char label[512], path[1024];

	block_label(want, label, sizeof(label));
	snprintf(path, sizeof(path), "%s%s%s", parent_path, *parent_path ? " / " : "", label);
	if (want->section == CONFIG_LUN && strcmp(want->device, have_all->device) != 0)
		step(d, "replace %s: %s -> %s", path, have_all->device, want->device);
	diff_attrs(d, path, want, have_all, have_key);
	diff_children(d, path, want, have_all, have_key);
}

unsigned config_diff(const struct config_diff_input *in, void (*fn)(void *ctx, const char *line),
		     void *ctx)
{
	struct differ d = { .in = in, .step = fn, .ctx = ctx };

	diff_attrs(&d, "(global)", &in->want->root, &in->have_all->root, &in->have_key->root);
	diff_children(&d, "", &in->want->root, &in->have_all->root, &in->have_key->root);
	return d.nsteps;
}
