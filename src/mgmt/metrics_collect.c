/* Collecting the statistics of every object for a scrape: a copy of
 * each one's counters, taken under scst_mutex, with its labels
 * (metrics_prom.h formats the copy). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scst.h"
#include "mgmt/metrics_collect.h"

struct collect {
	struct metrics_record *recs;
	size_t n, cap;
	bool failed;
};

/* A new record of @level with its labels' values (as many as the level
 * has), or NULL without memory. */
static struct metrics_record *add_record(struct collect *c, enum metrics_level level, ...)
{
	struct metrics_record *r;
	va_list ap;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct metrics_record *t = realloc(c->recs, cap * sizeof(*t));

		if (!t) {
			c->failed = true;
			return NULL;
		}
		c->recs = t;
		c->cap = cap;
	}
	r = &c->recs[c->n++];
	memset(r, 0, sizeof(*r));
	r->level = level;
	va_start(ap, level);
	for (unsigned i = 0; metrics_level_labels(level)[i]; i++)
		snprintf(r->labels[i], sizeof(r->labels[i]), "%s", va_arg(ap, const char *));
	va_end(ap);
	return r;
}

static void collect_device(struct scst_device *dev, void *ctx)
{
	struct metrics_record *r = add_record(ctx, METRICS_DEVICE, dev->name);

	if (r)
		scst_stats_read_device(dev, &r->stats);
}

struct lun_ctx {
	struct collect *c;
	const struct scst_tgt *tgt;
};

static void collect_target_lun(void *ctx, uint64_t lun, const char *device,
			       const struct scst_stats_snap *s)
{
	struct lun_ctx *lc = ctx;
	char lun_s[24];
	struct metrics_record *r;

	snprintf(lun_s, sizeof(lun_s), "%" PRIu64, lun);
	r = add_record(lc->c, METRICS_LUN, lc->tgt->tgtt->name, lc->tgt->name, lun_s, device);
	if (r)
		r->stats = *s;
}

static void collect_target(struct scst_tgt *tgt, void *ctx)
{
	struct collect *c = ctx;
	struct metrics_record *r = add_record(c, METRICS_TARGET, tgt->tgtt->name, tgt->name);
	struct lun_ctx lc = { c, tgt };
	struct scst_session *sess;

	if (r)
		scst_stats_read_target(tgt, &r->stats);
	list_for_each_entry(sess, &tgt->sessions, tgt_entry) {
		char name[METRICS_LABEL_MAX];

		scst_session_name(sess, name, sizeof(name));
		r = add_record(c, METRICS_SESSION, tgt->tgtt->name, tgt->name, name,
			       sess->initiator_name);
		if (r)
			scst_stats_read_session(sess, &r->stats);
	}
	scst_stats_for_each_target_lun(tgt, collect_target_lun, &lc);
}

static void collect_nexus(void *ctx, const struct scst_tgt_dev *td,
			  const struct scst_stats_snap *s)
{
	const struct scst_tgt *tgt = td->sess->tgt;
	char name[METRICS_LABEL_MAX], lun_s[24];
	struct metrics_record *r;

	scst_session_name(td->sess, name, sizeof(name));
	snprintf(lun_s, sizeof(lun_s), "%" PRIu64, td->lun);
	r = add_record(ctx, METRICS_NEXUS, tgt->tgtt->name, tgt->name, name, lun_s,
		       td->dev->name);
	if (r)
		r->stats = *s;
}

static void collect_nexuses_of(struct scst_device *dev, void *ctx)
{
	scst_stats_for_each_nexus(dev, collect_nexus, ctx);
}

int metrics_prom_collect(struct metrics_record **recs, size_t *n)
{
	struct collect c = { 0 };

	pthread_mutex_lock(&scst_mutex);
	scst_for_each_device(collect_device, &c);
	scst_for_each_target(NULL, collect_target, &c);
	scst_for_each_device(collect_nexuses_of, &c);
	pthread_mutex_unlock(&scst_mutex);
	if (c.failed) {
		free(c.recs);
		return -1;
	}
	*recs = c.recs;
	*n = c.n;
	return 0;
}

char *metrics_prom_render(size_t *len)
{
	struct metrics_buf b = { 0 };
	struct metrics_record *recs;
	size_t n;

	if (metrics_prom_collect(&recs, &n))
		return NULL;
	metrics_prom_format(recs, n, &b);
	free(recs);
	if (b.failed) {
		metrics_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.text;
}
