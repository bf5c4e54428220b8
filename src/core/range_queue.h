/* The queue of a device's range lock (range_lock.c): block ranges that
 * writers hold or wait for, in arrival order, and the rule that says which
 * may go. Pure: no lock, no threads; the caller holds the device's mutex
 * and wakes whom grant() names.
 *
 * An entry is shared (an ordinary write: any number may overlap) or
 * exclusive (COMPARE AND WRITE: nothing overlapping may run beside it).
 * An entry may run when no earlier entry conflicts with it (the ranges
 * overlap and one of the two is exclusive), granted or not: first come,
 * first served, so a stream of writes cannot starve a COMPARE AND WRITE
 * that waits for them. An exclusive entry must also wait until no writer
 * the queue does not know of is executing ("untracked": the writes that
 * started on the lock-free path before the first exclusive entry came,
 * whose ranges nobody recorded). */
#ifndef USCST_CORE_RANGE_QUEUE_H
#define USCST_CORE_RANGE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

struct range_entry {
	uint64_t lba;
	uint64_t nblocks;     /* 0: overlaps nothing */
	bool exclusive;
	bool granted;         /* may run; stays so until removed */
	struct list_head entry; /* range_queue.entries */
};

struct range_queue {
	struct list_head entries; /* arrival order */
	unsigned nexclusive;      /* exclusive entries in it */
	unsigned nwaiting;        /* entries not granted */
};

void range_queue_init(struct range_queue *q);
/* Whether two entries may not run at the same time. */
bool range_entries_conflict(const struct range_entry *a, const struct range_entry *b);
/* Queues @e (lba, nblocks and exclusive set) at the tail; returns whether
 * it was granted at once. */
bool range_queue_add(struct range_queue *q, struct range_entry *e, unsigned untracked);
/* Takes @e out of the queue, granted or not. Call range_queue_grant()
 * next: what @e held up may go now. */
void range_queue_remove(struct range_queue *q, struct range_entry *e);
/* Grants, in order, every waiting entry that may run now, calling
 * @grant(e, ctx) for each one just granted. */
void range_queue_grant(struct range_queue *q, unsigned untracked,
		       void (*grant)(struct range_entry *e, void *ctx), void *ctx);

#endif
