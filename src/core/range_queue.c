/* The range lock's queue (see range_queue.h). Queues stay short (the
 * writers of a device executing while a COMPARE AND WRITE is about, at
 * most the sum of the initiators' queue depths), so a grant walks them. */
#include "core/range_queue.h"

#include <assert.h>

void range_queue_init(struct range_queue *q)
{
	list_init(&q->entries);
	q->nexclusive = 0;
	q->nwaiting = 0;
}

bool range_entries_conflict(const struct range_entry *a, const struct range_entry *b)
{
	if (!a->exclusive && !b->exclusive)
		return false;
	if (a->nblocks == 0 || b->nblocks == 0)
		return false;
	/* PARSE checked both ranges against the capacity: no sum wraps. */
	return a->lba < b->lba + b->nblocks && b->lba < a->lba + a->nblocks;
}

static bool may_run(const struct range_queue *q, const struct range_entry *e, unsigned untracked)
{
	const struct range_entry *f;

	if (e->exclusive && untracked > 0)
		return false;
	list_for_each_entry(f, &q->entries, entry) {
		if (f == e)
			return true;
		if (range_entries_conflict(f, e))
			return false;
	}
	assert(!"range entry not in its queue");
	return false;
}

bool range_queue_add(struct range_queue *q, struct range_entry *e, unsigned untracked)
{
	list_add_tail(&e->entry, &q->entries);
	q->nexclusive += e->exclusive;
	e->granted = may_run(q, e, untracked);
	q->nwaiting += !e->granted;
	return e->granted;
}

void range_queue_remove(struct range_queue *q, struct range_entry *e)
{
	assert(q->nexclusive >= e->exclusive && (e->granted || q->nwaiting > 0));
	list_del(&e->entry);
	q->nexclusive -= e->exclusive;
	q->nwaiting -= !e->granted;
	e->granted = false;
}

void range_queue_grant(struct range_queue *q, unsigned untracked,
		       void (*grant)(struct range_entry *e, void *ctx), void *ctx)
{
	struct range_entry *e;

	if (q->nwaiting == 0)
		return;
	list_for_each_entry(e, &q->entries, entry) {
		if (e->granted || !may_run(q, e, untracked))
			continue;
		e->granted = true;
		q->nwaiting--;
		grant(e, ctx);
	}
}
