/* scst.conf apply step: walks a parsed tree (config.c) and makes the
 * registry what it describes, at start-up and on every SIGHUP reload, in
 * scstadmin's order: devices of every HANDLER first, then targets of every
 * TARGET_DRIVER with their groups and LUNs, then the targets are enabled,
 * so that no initiator sees a half-built target.
 *
 * Two phases. Check: create what is new, parse what changes into objects
 * aside (target_plan: groups, an existing target's attributes; each
 * driver's settings), refuse on the first error with FILE:LINE, undoing
 * what this apply created. Commit (cannot fail): put the prepared state in
 * force, let the sessions follow, remove what the file no longer has.
 * Attributes are handed to the object that owns them; one nobody takes is
 * an error naming it. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/alua.h"
#include "core/attr_desc.h"
#include "core/scst.h"
#include "mgmt/config.h"

/* At least the registry's number of target templates. */
#define MAX_DRIVERS 8

/* A target of the file and the access control it gets: its groups are
 * built aside and become the target's only once the whole file has been
 * checked, so that a refused reload leaves every session as it was. */
struct target_plan {
	struct scst_tgt *tgt;
	bool created; /* by this apply: undone on failure */
	/* An existing target's driver attributes as the file now has them
	 * (target_attrs_prepare), put in force at commit. */
	void *prepared;
	bool enable;
	struct scst_acg *default_acg;   /* its own LUN lines */
	struct scst_acg **groups;       /* its GROUP sections */
	const struct config_block **group_blocks;
	unsigned ngroups;
};

struct apply_ctx {
	const struct config_tree *tree;
	char *err;
	size_t errlen;
	/* Devices this apply created, for undo; sized up front from the
	 * tree. */
	struct scst_device **devs;
	unsigned ndevs;
	/* Every target of the file. */
	struct target_plan *plans;
	unsigned nplans;
	/* Each registered driver's own settings as the file has them
	 * (driver_attrs_prepare), by scst_target_template_at() index; put
	 * in force at commit. */
	void *driver_prepared[MAX_DRIVERS];
	bool driver_seen[MAX_DRIVERS];
	/* Relative target port identifiers (VPD page 0x83, and later the
	 * TransportIDs of persistent reservations) must be unique.
	 * rel_tgt_claims[id] is the target block whose rel_tgt_id line
	 * asks for @id; rel_tgt_taken marks the ids of targets already
	 * registered. A target without the line gets the lowest id that is
	 * neither, so that an automatic id never takes one a later target
	 * asks for. */
	const struct config_block **rel_tgt_claims; /* REL_TGT_IDS entries */
	uint8_t *rel_tgt_taken;                     /* REL_TGT_IDS bits */
	unsigned next_rel_tgt_id;
	/* The file's DEVICE_GROUPs (ALUA), built aside once every target
	 * exists; put in force at commit. */
	struct scst_alua_config *alua;
	/* Attributes of kept devices that the file changes and that change
	 * live (descriptors with a set: the identity strings), checked and
	 * put in force at commit. */
	struct device_change *dev_changes;
	unsigned ndev_changes, dev_changes_cap;
};

struct device_change {
	struct scst_device *dev;
	const struct scst_attr_table *table;
	const struct config_attr *attr;
};

#define REL_TGT_IDS 65536u /* 1..65535; 0 is not an identifier */

#define apply_error(ctx, line, ...) \
	config_errorf((ctx)->err, (ctx)->errlen, (ctx)->tree->filename, (line), __VA_ARGS__)

/* Reads switch @a that this step acts on itself (a target's or a driver's
 * "enabled") through its descriptor in the core's @table. */
static int parse_core_bool(struct apply_ctx *ctx, const struct scst_attr_table *table,
			   const struct config_attr *a, bool *out)
{
	const struct scst_attr_desc *d = scst_attr_find(table, a->name);
	union scst_attr_value v;
	char reason[256];

	assert(d && d->type == SCST_ATTR_BOOL);
	if (scst_attr_parse_value(table, d, a->value, &v, reason, sizeof(reason)) < 0) {
		apply_error(ctx, a->line, "%s", reason);
		return -1;
	}
	*out = v.b;
	return 0;
}

/* The block's attributes as the core takes them, leaving out @skip (an
 * attribute this step handles itself) when not NULL, with room for one more
 * that this step adds. */
static struct scst_attr *core_attrs(const struct config_block *b, const char *skip,
				    unsigned *n)
{
	struct scst_attr *attrs = calloc(b->nattrs + 1, sizeof(*attrs));

	*n = 0;
	if (!attrs)
		return NULL;
	for (unsigned i = 0; i < b->nattrs; i++) {
		if (skip && strcmp(b->attrs[i].name, skip) == 0)
			continue;
		attrs[(*n)++] = (struct scst_attr){
			.name = b->attrs[i].name, .value = b->attrs[i].value
		};
	}
	return attrs;
}

/* The line of the first attribute the core left unconsumed, or 0. */
static unsigned first_unconsumed(const struct config_block *b, const struct scst_attr *attrs,
				 unsigned n, const char **name)
{
	for (unsigned i = 0; i < n; i++) {
		if (attrs[i].consumed)
			continue;
		*name = attrs[i].name;
		for (unsigned j = 0; j < b->nattrs; j++)
			if (b->attrs[j].name == attrs[i].name)
				return b->attrs[j].line;
		return b->line;
	}
	return 0;
}

/* Does the core's @reason name attribute @name: as 'name', as a leading
 * "name:", or as a word of its own ("bad value 'x' for iSCSI target
 * attribute QueuedCommands", "rel_tgt_id '0' is not in 1..65535")? */
static bool reason_names(const char *reason, const char *name)
{
	size_t len = strlen(name);

	/* An empty name is in every reason, everywhere: strstr() would find
	 * it at every position and the walk below would never end. */
	if (len == 0)
		return false;
	if (strncmp(reason, name, len) == 0 && reason[len] == ':')
		return true;
	for (const char *q = strchr(reason, '\''); q; q = strchr(q + 1, '\''))
		if (strncmp(q + 1, name, len) == 0 && q[len + 1] == '\'')
			return true;
	for (const char *w = strstr(reason, name); w; w = strstr(w + 1, name)) {
		bool starts = w == reason || w[-1] == ' ';
		bool ends = w[len] == '\0' || w[len] == ' ' || w[len] == ':' || w[len] == ',';

		if (starts && ends)
			return true;
	}
	return false;
}

/* Does @reason quote @value ('value')? */
static bool reason_quotes(const char *reason, const char *value)
{
	size_t len = strlen(value);

	for (const char *q = strchr(reason, '\''); q; q = strchr(q + 1, '\''))
		if (strncmp(q + 1, value, len) == 0 && q[len + 1] == '\'')
			return true;
	return false;
}

/* The line to blame for a failure the core explained in @reason: that of
 * the attribute the reason names (of a repeatable one, the line whose
 * value it quotes), else the section's own. */
static unsigned blame_line(const struct config_block *b, const char *reason)
{
	for (unsigned i = 0; i < b->nattrs; i++)
		if (reason_names(reason, b->attrs[i].name) &&
		    reason_quotes(reason, b->attrs[i].value))
			return b->attrs[i].line;
	for (unsigned i = 0; i < b->nattrs; i++)
		if (reason_names(reason, b->attrs[i].name))
			return b->attrs[i].line;
	return b->line;
}

/* ------------------------------------------------------------------ */
/* HANDLER / DEVICE */

/* Whether @value is what @d of @dev holds now. */
static bool device_value_is(struct scst_device *dev, const struct scst_attr_table *t,
			    const struct scst_attr_desc *d, const char *value)
{
	struct scst_attr_first v = { .n = 0 };

	scst_attr_show_of(t, d, dev, scst_attr_take_first, &v);
	return v.n == 1 && scst_attr_same_value(d, value, v.text);
}

/* A device the file keeps (a reload): it keeps the attributes it was
 * opened with, except those that change live (their descriptor's set),
 * which change at commit when the file gives them another value. One that
 * cannot change and differs is told in the log, and stays. */
static int keep_device(struct apply_ctx *ctx, struct scst_device *dev,
		       const struct config_block *b)
{
	const struct scst_attr_table *tables[] = { &scst_device_attr_table,
						   dev->handler->dev_attrs };
	char reason[256];

	for (unsigned i = 0; i < b->nattrs; i++) {
		const struct config_attr *a = &b->attrs[i];
		const struct scst_attr_table *t = NULL;
		const struct scst_attr_desc *d = NULL;
		union scst_attr_value v;

		for (unsigned k = 0; k < 2 && !d; k++)
			if (tables[k] && (d = scst_attr_find(tables[k], a->name)) != NULL)
				t = tables[k];
		if (!d || (d->flags & (SCST_ATTR_MULTI | SCST_ATTR_NOT_KEPT)) ||
		    d->type == SCST_ATTR_CUSTOM || device_value_is(dev, t, d, a->value))
			continue;
		if (!d->set) {
			log_warn("%s:%u: device %s: %s stays as the device was opened (it cannot "
				 "change while the device exists)", ctx->tree->filename, a->line,
				 dev->name, a->name);
			continue;
		}
		if (scst_attr_parse_value(t, d, a->value, &v, reason, sizeof(reason)) < 0) {
			apply_error(ctx, a->line, "device '%s': %s", dev->name, reason);
			return -1;
		}
		if (ctx->ndev_changes == ctx->dev_changes_cap) {
			unsigned cap = ctx->dev_changes_cap ? 2 * ctx->dev_changes_cap : 8;
			struct device_change *c = realloc(ctx->dev_changes, cap * sizeof(*c));

			if (!c) {
				apply_error(ctx, a->line, "out of memory");
				return -1;
			}
			ctx->dev_changes = c;
			ctx->dev_changes_cap = cap;
		}
		ctx->dev_changes[ctx->ndev_changes++] =
			(struct device_change){ .dev = dev, .table = t, .attr = a };
	}
	return 0;
}

/* Creates the device of block @d, or keeps it when it exists (a reload:
 * keep_device()). */
static int apply_device(struct apply_ctx *ctx, const char *handler, const struct config_block *d)
{
	unsigned n, line;
	const char *bad;
	struct scst_attr *attrs;
	struct scst_device *dev = scst_find_device(d->name);
	char reason[256] = "";

	if (dev) {
		if (strcmp(dev->handler->name, handler) == 0)
			return keep_device(ctx, dev, d);
		apply_error(ctx, d->line, "device '%s' exists with handler %s, not %s", d->name,
			    dev->handler->name, handler);
		return -1;
	}
	attrs = core_attrs(d, NULL, &n);
	if (!attrs) {
		apply_error(ctx, d->line, "out of memory");
		return -1;
	}
	dev = scst_device_create(handler, d->name, attrs, n, reason, sizeof(reason));
	if (!dev) {
		free(attrs);
		apply_error(ctx, blame_line(d, reason), "device '%s': %s", d->name, reason);
		return -1;
	}
	ctx->devs[ctx->ndevs++] = dev;
	line = first_unconsumed(d, attrs, n, &bad);
	if (line)
		apply_error(ctx, line, "unknown attribute '%s' for device '%s'", bad, d->name);
	free(attrs);
	return line ? -1 : 0;
}

static int apply_handler(struct apply_ctx *ctx, const struct config_block *h)
{
	if (!scst_find_dev_handler(h->name)) {
		apply_error(ctx, h->line, "unknown handler '%s'", h->name);
		return -1;
	}
	if (h->nattrs) {
		apply_error(ctx, h->attrs[0].line, "handler attribute '%s' is not supported",
			    h->attrs[0].name);
		return -1;
	}
	for (unsigned i = 0; i < h->nchildren; i++)
		if (apply_device(ctx, h->name, &h->children[i]) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* TARGET_DRIVER / TARGET / GROUP / LUN / INITIATOR */

/* Whether the file defines device @name (a LUN may only name one of
 * those: on a reload, a device left out of the file is going away). */
static bool device_in_file(const struct config_tree *tree, const char *name)
{
	for (unsigned i = 0; i < tree->root.nchildren; i++) {
		const struct config_block *h = &tree->root.children[i];

		if (h->section != CONFIG_HANDLER)
			continue;
		for (unsigned j = 0; j < h->nchildren; j++)
			if (strcmp(h->children[j].name, name) == 0)
				return true;
	}
	return false;
}

/* Adds the LUN line @l to @acg (a group being built, not yet the
 * target's). */
static int apply_lun(struct apply_ctx *ctx, struct scst_acg *acg, const struct config_block *l)
{
	struct scst_device *dev = device_in_file(ctx->tree, l->device) ? scst_find_device(l->device)
								       : NULL;
	struct scst_lun taken = { 0 }; /* the LUN's attributes (scst_lun_attr_table) */
	struct scst_attr *attrs;
	const char *bad;
	unsigned n, line;
	char reason[256] = "";

	if (!dev) {
		apply_error(ctx, l->line, "LUN %llu refers to unknown device '%s'",
			    (unsigned long long)l->lun, l->device);
		return -1;
	}
	attrs = core_attrs(l, NULL, &n);
	if (!attrs) {
		apply_error(ctx, l->line, "out of memory");
		return -1;
	}
	if (scst_attr_defaults(&scst_lun_attr_table, &taken, reason, sizeof(reason)) < 0 ||
	    scst_attrs_take(&scst_lun_attr_table, &taken, attrs, n, reason, sizeof(reason)) < 0) {
		free(attrs);
		apply_error(ctx, blame_line(l, reason), "LUN %llu: %s", (unsigned long long)l->lun,
			    reason);
		return -1;
	}
	line = first_unconsumed(l, attrs, n, &bad);
	if (line) {
		apply_error(ctx, line, "unknown attribute '%s' for LUN %llu", bad,
			    (unsigned long long)l->lun);
		free(attrs);
		return -1;
	}
	free(attrs);
	if (scst_acg_add_lun(acg, l->lun, dev, taken.read_only, reason, sizeof(reason)) < 0) {
		apply_error(ctx, l->line, "LUN %llu: %s", (unsigned long long)l->lun, reason);
		return -1;
	}
	return 0;
}

/* GROUP name { LUN ...; INITIATOR pattern }: a group of its own, built
 * aside (plan->groups) until the whole file has been checked. Its
 * attributes are the core's group table's (scst_group_attr_table): SCST's
 * (addr_method, io_grouping_type, cpu_mask, ...) are not implemented, so
 * the table is empty and each is refused by name. */
static int take_group_attrs(struct apply_ctx *ctx, struct scst_acg *acg,
			    const struct config_block *g)
{
	unsigned n, line;
	const char *bad;
	struct scst_attr *attrs = core_attrs(g, NULL, &n);
	char reason[256] = "";
	int rc = 0;

	if (!attrs) {
		apply_error(ctx, g->line, "out of memory");
		return -1;
	}
	if (scst_attrs_take(&scst_group_attr_table, acg, attrs, n, reason, sizeof(reason)) < 0) {
		apply_error(ctx, blame_line(g, reason), "group '%s': %s", g->name, reason);
		rc = -1;
	} else if ((line = first_unconsumed(g, attrs, n, &bad)) != 0) {
		apply_error(ctx, line, "group attribute '%s' is not supported", bad);
		rc = -1;
	}
	free(attrs);
	return rc;
}

static int apply_group(struct apply_ctx *ctx, struct target_plan *plan,
		       const struct config_block *g)
{
	struct scst_acg *acg = scst_acg_new(plan->tgt, g->name);
	char reason[256] = "";

	if (!acg) {
		apply_error(ctx, g->line, "out of memory");
		return -1;
	}
	plan->groups[plan->ngroups++] = acg;
	if (take_group_attrs(ctx, acg, g) < 0)
		return -1;
	for (unsigned i = 0; i < g->nchildren; i++) {
		const struct config_block *c = &g->children[i];

		if (c->section == CONFIG_LUN) {
			if (apply_lun(ctx, acg, c) < 0)
				return -1;
		} else if (scst_acg_add_initiator(acg, c->name, reason, sizeof(reason)) < 0) {
			apply_error(ctx, c->line, "group '%s': %s", g->name, reason);
			return -1;
		}
	}
	if (list_empty(&acg->initiators))
		log_warn("%s:%u: group '%s' of target '%s' has no INITIATOR: nobody sees its LUNs",
			 ctx->tree->filename, g->line, g->name, plan->tgt->name);
	return 0;
}

/* The INITIATOR line of @g for @pattern. */
static unsigned initiator_line(const struct config_block *g, const char *pattern)
{
	for (unsigned i = 0; i < g->nchildren; i++)
		if (g->children[i].section == CONFIG_INITIATOR &&
		    strcmp(g->children[i].name, pattern) == 0)
			return g->children[i].line;
	return g->line;
}

/* No initiator may belong to two groups of a target (scst_acg_clash()). */
static int check_group_overlap(struct apply_ctx *ctx, const struct target_plan *plan)
{
	for (unsigned i = 0; i < plan->ngroups; i++) {
		const struct scst_acg *a = plan->groups[i];

		for (unsigned j = i + 1; j < plan->ngroups; j++) {
			const struct scst_acg *b = plan->groups[j];
			const char *x, *y;

			if (!scst_acg_clash(a, b, &x, &y))
				continue;
			apply_error(ctx, initiator_line(plan->group_blocks[j], y),
				    "initiator '%s' of group '%s' also matches '%s' of "
				    "group '%s': an initiator may belong to one group only",
				    y, b->name, x, a->name);
			return -1;
		}
	}
	return 0;
}
/* The lowest rel_tgt_id no target has and no rel_tgt_id line asks for; 0
 * when none is left. */
static unsigned auto_rel_tgt_id(struct apply_ctx *ctx)
{
	unsigned id = ctx->next_rel_tgt_id;

	while (id < REL_TGT_IDS &&
	       (ctx->rel_tgt_claims[id] || (ctx->rel_tgt_taken[id / 8] & (1u << (id % 8)))))
		id++;
	ctx->next_rel_tgt_id = id;
	return id < REL_TGT_IDS ? id : 0;
}

static void mark_rel_tgt_taken(struct scst_tgt *tgt, void *arg)
{
	struct apply_ctx *ctx = arg;

	ctx->rel_tgt_taken[tgt->rel_tgt_id / 8] |= (uint8_t)(1u << (tgt->rel_tgt_id % 8));
}

struct rel_tgt_owner {
	unsigned id;
	const char *name;
};

static void find_rel_tgt_owner(struct scst_tgt *tgt, void *arg)
{
	struct rel_tgt_owner *o = arg;

	if (tgt->rel_tgt_id == o->id)
		o->name = tgt->name;
}

/* Before anything is created: every explicit rel_tgt_id is unique among
 * the file's targets and free among those already registered. A value
 * that is not a number in 1..65535 is left to the core, which says so. */
static int claim_rel_tgt_ids(struct apply_ctx *ctx)
{
	const struct config_block *root = &ctx->tree->root;

	scst_for_each_target(NULL, mark_rel_tgt_taken, ctx);
	for (unsigned i = 0; i < root->nchildren; i++) {
		const struct config_block *d = &root->children[i];

		if (d->section != CONFIG_TARGET_DRIVER)
			continue;
		for (unsigned j = 0; j < d->nchildren; j++) {
			const struct config_block *t = &d->children[j];
			const struct config_attr *a = config_find_attr(t, "rel_tgt_id");
			const struct config_block *first;
			uint64_t id;

			if (!a || !scst_attr_u64(a->value, &id) || id == 0 || id >= REL_TGT_IDS)
				continue;
			/* A target that exists (a reload) keeps its id. */
			if (scst_find_target(scst_find_target_template(d->name), t->name))
				continue;
			first = ctx->rel_tgt_claims[id];
			if (first) {
				apply_error(ctx, a->line,
					    "duplicate rel_tgt_id %u (first given on line %u, "
					    "for target '%s')",
					    (unsigned)id, config_find_attr(first, "rel_tgt_id")->line,
					    first->name);
				return -1;
			}
			if (ctx->rel_tgt_taken[id / 8] & (1u << (id % 8))) {
				struct rel_tgt_owner o = { .id = (unsigned)id, .name = "?" };

				scst_for_each_target(NULL, find_rel_tgt_owner, &o);
				apply_error(ctx, a->line, "rel_tgt_id %u is in use by target '%s'",
					    (unsigned)id, o.name);
				return -1;
			}
			ctx->rel_tgt_claims[id] = t;
		}
	}
	return 0;
}

/* A target that exists (a reload): its rel_tgt_id cannot change under its
 * sessions (persistent reservations name the port by it); its driver's
 * attributes are parsed now and put in force at commit. */
static int prepare_existing_target(struct apply_ctx *ctx, struct target_plan *plan,
				   struct scst_tgt *tgt, const struct config_block *t)
{
	const struct config_attr *id = config_find_attr(t, "rel_tgt_id");
	struct scst_tgt_template *tgtt = tgt->tgtt;
	unsigned n, line;
	const char *bad;
	struct scst_attr *attrs;
	char reason[256] = "";
	uint64_t v;

	plan->tgt = tgt;
	if (id && (!scst_attr_u64(id->value, &v) || v != tgt->rel_tgt_id)) {
		apply_error(ctx, id->line, "target '%s': rel_tgt_id is %u while it runs and cannot "
			    "change to '%s'", t->name, tgt->rel_tgt_id, id->value);
		return -1;
	}
	attrs = core_attrs(t, "enabled", &n);
	if (!attrs) {
		apply_error(ctx, t->line, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (strcmp(attrs[i].name, "rel_tgt_id") == 0)
			attrs[i].consumed = true;
	if (tgtt->target_attrs_prepare) {
		plan->prepared = tgtt->target_attrs_prepare(tgt, attrs, n, reason, sizeof(reason));
		if (!plan->prepared) {
			free(attrs);
			apply_error(ctx, blame_line(t, reason), "target '%s': %s", t->name, reason);
			return -1;
		}
	}
	line = first_unconsumed(t, attrs, n, &bad);
	free(attrs);
	if (line) {
		apply_error(ctx, line, "unknown attribute '%s' for target '%s'%s", bad, t->name,
			    tgtt->target_attrs_prepare ? "" : " (its attributes cannot change "
							      "while it runs)");
		return -1;
	}
	return 0;
}

/* Finds or creates the target of block @t and builds its groups aside. An
 * existing target's attributes are prepared, to change at commit. */
static int apply_target(struct apply_ctx *ctx, struct scst_tgt_template *tgtt,
			bool driver_enabled, const struct config_block *t)
{
	unsigned n, line, ngroups = 0;
	const char *bad;
	bool enable = false;
	struct scst_attr *attrs;
	struct scst_tgt *tgt;
	struct target_plan *plan;
	char reason[256] = "", auto_id[8];

	for (unsigned i = 0; i < t->nattrs; i++)
		if (strcmp(t->attrs[i].name, "enabled") == 0 &&
		    parse_core_bool(ctx, &scst_target_attr_table, &t->attrs[i], &enable) < 0)
			return -1;
	plan = &ctx->plans[ctx->nplans];
	for (unsigned i = 0; i < t->nchildren; i++)
		ngroups += t->children[i].section == CONFIG_GROUP;
	plan->groups = calloc(ngroups + 1, sizeof(*plan->groups));
	plan->group_blocks = calloc(ngroups + 1, sizeof(*plan->group_blocks));
	if (!plan->groups || !plan->group_blocks) {
		free(plan->groups);
		free(plan->group_blocks);
		apply_error(ctx, t->line, "out of memory");
		return -1;
	}
	ctx->nplans++;
	plan->enable = enable && driver_enabled;
	tgt = scst_find_target(tgtt, t->name);
	if (!tgt) {
		attrs = core_attrs(t, "enabled", &n);
		if (!attrs) {
			apply_error(ctx, t->line, "out of memory");
			return -1;
		}
		if (!config_find_attr(t, "rel_tgt_id")) {
			unsigned id = auto_rel_tgt_id(ctx);

			if (!id) {
				free(attrs);
				apply_error(ctx, t->line, "target '%s': no free rel_tgt_id", t->name);
				return -1;
			}
			snprintf(auto_id, sizeof(auto_id), "%u", id);
			attrs[n++] = (struct scst_attr){ .name = "rel_tgt_id", .value = auto_id };
		}
		tgt = scst_target_create(tgtt, t->name, attrs, n, reason, sizeof(reason));
		if (!tgt) {
			free(attrs);
			apply_error(ctx, blame_line(t, reason), "target '%s': %s", t->name, reason);
			return -1;
		}
		plan->created = true;
		mark_rel_tgt_taken(tgt, ctx);
		line = first_unconsumed(t, attrs, n, &bad);
		free(attrs);
		if (line) {
			plan->tgt = tgt;
			apply_error(ctx, line, "unknown attribute '%s' for target '%s'", bad, t->name);
			return -1;
		}
	}
	if (!plan->created && prepare_existing_target(ctx, plan, tgt, t) < 0)
		return -1;
	plan->tgt = tgt;
	plan->default_acg = scst_acg_new(tgt, NULL);
	if (!plan->default_acg) {
		apply_error(ctx, t->line, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < t->nchildren; i++) {
		const struct config_block *c = &t->children[i];

		if (c->section == CONFIG_GROUP) {
			plan->group_blocks[plan->ngroups] = c;
			if (apply_group(ctx, plan, c) < 0)
				return -1;
		} else if (apply_lun(ctx, plan->default_acg, c) < 0) {
			return -1;
		}
	}
	return check_group_overlap(ctx, plan);
}

/* A target's name is what initiators log in to: its driver says which
 * names it takes (tgtt->target_name_valid). */
static int check_target_name(struct apply_ctx *ctx, struct scst_tgt_template *tgtt,
			     const struct config_block *t)
{
	char why[200];

	if (!tgtt->target_name_valid || tgtt->target_name_valid(t->name, why, sizeof(why)))
		return 0;
	apply_error(ctx, t->line, "'%s' is %s", t->name, why);
	return -1;
}

/* Hands the driver section's attributes other than "enabled" to the
 * driver, which takes what it knows; one it does not is an error. */
static unsigned driver_index(struct scst_tgt_template *tgtt)
{
	unsigned i = 0;

	while (scst_target_template_at(i) != tgtt)
		i++;
	assert(i < MAX_DRIVERS);
	return i;
}

static int apply_driver_attrs(struct apply_ctx *ctx, struct scst_tgt_template *tgtt,
			      const struct config_block *d)
{
	unsigned n, line, k = driver_index(tgtt);
	const char *bad;
	struct scst_attr *attrs = core_attrs(d, "enabled", &n);
	char reason[256] = "";
	int rc = 0;

	if (!attrs) {
		apply_error(ctx, d->line, "out of memory");
		return -1;
	}
	ctx->driver_seen[k] = true;
	if (tgtt->driver_attrs_prepare &&
	    !(ctx->driver_prepared[k] = tgtt->driver_attrs_prepare(attrs, n, reason,
								    sizeof(reason)))) {
		apply_error(ctx, blame_line(d, reason), "target driver %s: %s", d->name, reason);
		rc = -1;
	} else if ((line = first_unconsumed(d, attrs, n, &bad)) != 0) {
		apply_error(ctx, line, "target driver attribute '%s' is not supported", bad);
		rc = -1;
	}
	free(attrs);
	return rc;
}

/* A driver the file has no section for gets its defaults (a reload that
 * drops the section drops its settings). */
static int prepare_unseen_drivers(struct apply_ctx *ctx)
{
	struct scst_tgt_template *tgtt;
	char reason[256] = "";

	for (unsigned k = 0; (tgtt = scst_target_template_at(k)) != NULL; k++) {
		if (ctx->driver_seen[k] || !tgtt->driver_attrs_prepare)
			continue;
		ctx->driver_prepared[k] = tgtt->driver_attrs_prepare(NULL, 0, reason,
								     sizeof(reason));
		if (!ctx->driver_prepared[k]) {
			apply_error(ctx, 0, "target driver %s: %s", tgtt->name, reason);
			return -1;
		}
	}
	return 0;
}

/* Puts the prepared driver settings in force (@apply) or drops them. */
static void finish_drivers(struct apply_ctx *ctx, bool apply)
{
	struct scst_tgt_template *tgtt;

	for (unsigned k = 0; (tgtt = scst_target_template_at(k)) != NULL; k++) {
		if (ctx->driver_prepared[k])
			tgtt->driver_attrs_finish(ctx->driver_prepared[k], apply);
		ctx->driver_prepared[k] = NULL;
	}
}

/* "enabled" is the core's (absent means enabled): with "enabled 0" the
 * driver's targets are created but none is enabled, as in SCST. The rest
 * is the driver's. */
static int apply_target_driver(struct apply_ctx *ctx, const struct config_block *d)
{
	struct scst_tgt_template *tgtt = scst_find_target_template(d->name);
	bool enabled = true;

	if (!tgtt) {
		apply_error(ctx, d->line, "unknown target driver '%s'", d->name);
		return -1;
	}
	for (unsigned i = 0; i < d->nattrs; i++) {
		const struct config_attr *a = &d->attrs[i];

		if (strcmp(a->name, "enabled") == 0 &&
		    parse_core_bool(ctx, &scst_driver_attr_table, a, &enabled) < 0)
			return -1;
	}
	if (apply_driver_attrs(ctx, tgtt, d) < 0)
		return -1;
	for (unsigned i = 0; i < d->nchildren; i++)
		if (check_target_name(ctx, tgtt, &d->children[i]) < 0 ||
		    apply_target(ctx, tgtt, enabled, &d->children[i]) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* DEVICE_GROUP / DEVICE / TARGET_GROUP / TARGET (ALUA, core/alua.h) */

/* Every attribute of @b taken, or the line of the first left over. */
static int check_all_taken(struct apply_ctx *ctx, const struct config_block *b,
			   const struct scst_attr *attrs, unsigned n)
{
	const char *bad;
	unsigned line = first_unconsumed(b, attrs, n, &bad);

	if (!line)
		return 0;
	apply_error(ctx, line, "unknown attribute '%s' for %s '%s'", bad, b->keyword, b->name);
	return -1;
}

/* Block @b's attributes as the core's ALUA calls take them. */
static int alua_attrs(struct apply_ctx *ctx, const struct config_block *b,
		      struct scst_attr **attrs, unsigned *n)
{
	*attrs = core_attrs(b, NULL, n);
	if (!*attrs) {
		apply_error(ctx, b->line, "out of memory");
		return -1;
	}
	return 0;
}

static int apply_tg_target(struct apply_ctx *ctx, struct scst_alua_dg *dg,
			   struct scst_alua_tg *tg, const struct config_block *g,
			   const struct config_block *t)
{
	struct scst_attr *attrs;
	unsigned n;
	char reason[256] = "";
	int rc;

	if (alua_attrs(ctx, t, &attrs, &n) < 0)
		return -1;
	rc = scst_alua_tg_add_target(dg, tg, t->name, attrs, n, reason, sizeof(reason));
	if (rc < 0)
		apply_error(ctx, blame_line(t, reason), "target group '%s': %s", g->name, reason);
	else
		rc = check_all_taken(ctx, t, attrs, n);
	free(attrs);
	return rc;
}

static int apply_target_group(struct apply_ctx *ctx, struct scst_alua_dg *dg,
			      const struct config_block *g)
{
	struct scst_alua_tg *tg;
	struct scst_attr *attrs;
	unsigned n;
	char reason[256] = "";

	if (alua_attrs(ctx, g, &attrs, &n) < 0)
		return -1;
	tg = scst_alua_tg_add(dg, g->name, attrs, n, reason, sizeof(reason));
	if (!tg) {
		free(attrs);
		apply_error(ctx, blame_line(g, reason), "target group '%s': %s", g->name, reason);
		return -1;
	}
	if (check_all_taken(ctx, g, attrs, n) < 0) {
		free(attrs);
		return -1;
	}
	free(attrs);
	for (unsigned i = 0; i < g->nchildren; i++) {
		const struct config_block *c = &g->children[i];

		/* The grammar allows only TARGET here (config.c). */
		assert(c->section == CONFIG_TARGET);
		if (apply_tg_target(ctx, dg, tg, g, c) < 0)
			return -1;
	}
	return 0;
}

static int apply_device_group(struct apply_ctx *ctx, const struct config_block *b)
{
	struct scst_alua_dg *dg;
	struct scst_attr *attrs;
	unsigned n;
	char reason[256] = "";

	if (alua_attrs(ctx, b, &attrs, &n) < 0)
		return -1;
	dg = scst_alua_dg_add(ctx->alua, b->name, attrs, n, reason, sizeof(reason));
	if (!dg) {
		free(attrs);
		apply_error(ctx, blame_line(b, reason), "device group '%s': %s", b->name, reason);
		return -1;
	}
	if (check_all_taken(ctx, b, attrs, n) < 0) {
		free(attrs);
		return -1;
	}
	free(attrs);
	for (unsigned i = 0; i < b->nchildren; i++) {
		const struct config_block *c = &b->children[i];

		if (c->section == CONFIG_DEVICE) {
			if (c->nattrs || c->nchildren) {
				apply_error(ctx, c->line, "DEVICE '%s' of a device group takes no "
					    "attributes", c->name);
				return -1;
			}
			/* A device the file no longer has is going away. */
			if (!device_in_file(ctx->tree, c->name)) {
				apply_error(ctx, c->line, "device group '%s': no device '%s' in "
					    "the file", b->name, c->name);
				return -1;
			}
			if (scst_alua_dg_add_device(ctx->alua, dg, c->name, reason,
						    sizeof(reason)) < 0) {
				apply_error(ctx, c->line, "%s", reason);
				return -1;
			}
		} else if (apply_target_group(ctx, dg, c) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void free_plan_groups(struct target_plan *plan)
{
	if (plan->default_acg)
		scst_acg_free(plan->default_acg);
	for (unsigned i = 0; i < plan->ngroups; i++)
		scst_acg_free(plan->groups[i]);
	free(plan->groups);
	free(plan->group_blocks);
	*plan = (struct target_plan){
		.tgt = plan->tgt, .created = plan->created, .prepared = plan->prepared
	};
}

/* A failure: what the file would have changed is dropped, what this apply
 * created is destroyed; existing objects were not touched yet. */
static void undo(struct apply_ctx *ctx)
{
	char ignored[256];

	finish_drivers(ctx, false);
	for (unsigned i = ctx->nplans; i-- > 0;) {
		struct target_plan *plan = &ctx->plans[i];

		free_plan_groups(plan);
		if (plan->prepared)
			plan->tgt->tgtt->target_attrs_finish(plan->tgt, plan->prepared, false);
		plan->prepared = NULL;
		if (plan->created && plan->tgt)
			scst_target_destroy(plan->tgt);
	}
	while (ctx->ndevs)
		scst_device_destroy(ctx->devs[--ctx->ndevs], ignored, sizeof(ignored));
	scst_alua_config_free(ctx->alua);
	ctx->alua = NULL;
}

/* The plan's groups become the target's; its sessions follow. Cannot
 * fail. */
static void commit_plan(struct target_plan *plan)
{
	struct scst_tgt *tgt = plan->tgt;

	if (plan->prepared)
		tgt->tgtt->target_attrs_finish(tgt, plan->prepared, true);
	plan->prepared = NULL;
	scst_tgt_replace_acgs(tgt, plan->default_acg, plan->groups, plan->ngroups);
	plan->default_acg = NULL;
	plan->ngroups = 0;
	if (tgt->enabled != plan->enable) {
		scst_target_set_enabled(tgt, plan->enable);
		if (!plan->created)
			log_info("config: target %s: %s", tgt->name, plan->enable ? "enabled" : "disabled");
	}
}

struct leftover_ctx {
	struct apply_ctx *ctx;
	struct config_leftovers *out;
};

static bool target_in_plans(const struct apply_ctx *ctx, const struct scst_tgt *tgt)
{
	for (unsigned i = 0; i < ctx->nplans; i++)
		if (ctx->plans[i].tgt == tgt)
			return true;
	return false;
}

/* A target the file no longer has: disabled and stripped of its LUNs (its
 * sessions see none at once); the caller closes its sessions and destroys
 * it (config_finish_removals()). */
static void remove_target(struct scst_tgt *tgt, void *arg)
{
	struct leftover_ctx *lc = arg;
	struct scst_acg *acg, *tmp;

	if (target_in_plans(lc->ctx, tgt))
		return;
	log_info("config: target %s: removed from the configuration", tgt->name);
	scst_target_set_enabled(tgt, false);
	list_for_each_entry_safe(acg, tmp, &tgt->acgs, tgt_entry)
		scst_acg_destroy(acg);
	scst_acg_clear_luns(tgt->default_acg);
	scst_tgt_sync_sessions(tgt);
	lc->out->tgts[lc->out->ntgts++] = tgt;
}

static int apply_sections(struct apply_ctx *ctx, enum config_section section,
			  int (*fn)(struct apply_ctx *ctx, const struct config_block *b))
{
	const struct config_block *root = &ctx->tree->root;

	for (unsigned i = 0; i < root->nchildren; i++)
		if (root->children[i].section == section && fn(ctx, &root->children[i]) < 0)
			return -1;
	return 0;
}

/* Number of grandchildren of the root under sections of kind @section. */
static unsigned count_nested(const struct config_tree *tree, enum config_section section)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tree->root.nchildren; i++)
		if (tree->root.children[i].section == section)
			n += tree->root.children[i].nchildren;
	return n;
}

static void count_target(struct scst_tgt *tgt, void *arg)
{
	(*(unsigned *)arg)++;
}

static void collect_device(struct scst_device *dev, void *arg)
{
	struct apply_ctx *ctx = arg;

	if (!device_in_file(ctx->tree, dev->name))
		ctx->devs[ctx->ndevs++] = dev;
}

static void count_device(struct scst_device *dev, void *arg)
{
	(*(unsigned *)arg)++;
}

/* A device the reload keeps may have had its backing store resized. */
static void resync_device(struct scst_device *dev, void *arg)
{
	scst_device_resync_size(dev);
}

/* Everything checked: the targets get their new groups, targets and
 * devices the file no longer has go. Cannot fail. */
static void commit(struct apply_ctx *ctx, struct config_leftovers *out)
{
	struct leftover_ctx lc = { .ctx = ctx, .out = out };
	char reason[256];

	finish_drivers(ctx, true);
	for (unsigned i = 0; i < ctx->nplans; i++)
		commit_plan(&ctx->plans[i]);
	/* ALUA states of the sessions just synced, before the devices the
	 * file no longer has (in no device group now) go. */
	scst_alua_config_install(ctx->alua);
	ctx->alua = NULL;
	scst_for_each_target(NULL, remove_target, &lc);
	/* Now unmapped everywhere: the registry lets go of them, and each
	 * is released when its last session has let go of it. */
	ctx->ndevs = 0;
	scst_for_each_device(collect_device, ctx);
	for (unsigned i = 0; i < ctx->ndevs; i++) {
		log_info("config: device %s: removed", ctx->devs[i]->name);
		if (scst_device_destroy(ctx->devs[i], reason, sizeof(reason)))
			log_error("%s", reason);
	}
	ctx->ndevs = 0;
	for (unsigned i = 0; i < ctx->ndev_changes; i++) {
		const struct device_change *c = &ctx->dev_changes[i];

		/* Checked already: the set cannot refuse it now. */
		if (scst_attr_set_live(c->table, c->dev, c->attr->name, c->attr->value, reason,
				       sizeof(reason)) < 0)
			log_error("device %s: %s", c->dev->name, reason);
		else
			log_info("device %s: %s set to %s", c->dev->name, c->attr->name,
				 c->attr->value);
	}
	scst_for_each_device(resync_device, NULL);
}

static int apply_or_check(const struct config_tree *tree, struct config_leftovers *out,
			  bool check_only, char *err, size_t errlen)
{
	struct apply_ctx ctx = {
		.tree = tree, .err = err, .errlen = errlen, .next_rel_tgt_id = 1
	};
	unsigned ndevs = count_nested(tree, CONFIG_HANDLER);
	unsigned ntgts = count_nested(tree, CONFIG_TARGET_DRIVER);
	unsigned nregistered = 0, nregistered_devs = 0;
	struct config_leftovers none = { 0 };
	int rc = -1;

	if (!out)
		out = &none;
	*out = (struct config_leftovers){ 0 };
	if (tree->root.nattrs) {
		apply_error(&ctx, tree->root.attrs[0].line,
			    "global attribute '%s' is not supported", tree->root.attrs[0].name);
		return -1;
	}
	scst_for_each_target(NULL, count_target, &nregistered);
	scst_for_each_device(count_device, &nregistered_devs);
	ctx.devs = calloc(ndevs + nregistered_devs + 1, sizeof(*ctx.devs));
	ctx.plans = calloc(ntgts + 1, sizeof(*ctx.plans));
	out->tgts = calloc(nregistered + 1, sizeof(*out->tgts));
	ctx.rel_tgt_claims = calloc(REL_TGT_IDS, sizeof(*ctx.rel_tgt_claims));
	ctx.rel_tgt_taken = calloc(REL_TGT_IDS / 8, 1);
	if (!ctx.devs || !ctx.plans || !out->tgts || !ctx.rel_tgt_claims || !ctx.rel_tgt_taken) {
		apply_error(&ctx, 0, "out of memory");
	} else if (claim_rel_tgt_ids(&ctx) == 0 &&
		   apply_sections(&ctx, CONFIG_HANDLER, apply_handler) == 0 &&
		   apply_sections(&ctx, CONFIG_TARGET_DRIVER, apply_target_driver) == 0 &&
		   prepare_unseen_drivers(&ctx) == 0 &&
		   (ctx.alua = scst_alua_config_new()) != NULL &&
		   apply_sections(&ctx, CONFIG_DEVICE_GROUP, apply_device_group) == 0) {
		if (check_only)
			undo(&ctx);
		else
			commit(&ctx, out);
		rc = 0;
	} else {
		undo(&ctx);
	}
	for (unsigned i = 0; i < ctx.nplans; i++)
		free_plan_groups(&ctx.plans[i]);
	free(ctx.devs);
	free(ctx.plans);
	free(ctx.rel_tgt_claims);
	free(ctx.rel_tgt_taken);
	free(ctx.dev_changes);
	if (out == &none || rc < 0) {
		free(out->tgts);
		*out = (struct config_leftovers){ 0 };
	}
	return rc;
}

int config_apply(const struct config_tree *tree, struct config_leftovers *out, char *err,
		 size_t errlen)
{
	return apply_or_check(tree, out, false, err, errlen);
}

int config_check(const struct config_tree *tree, char *err, size_t errlen)
{
	return apply_or_check(tree, NULL, true, err, errlen);
}
