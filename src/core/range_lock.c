/* A device's write range lock: COMPARE AND WRITE (an op row with
 * SCST_OP_EXCLUSIVE_RANGE) reads, compares and writes its blocks with no
 * other writer of the device touching them in between, and two of them on
 * overlapping blocks run one after the other; ordinary writes overlapping
 * one wait for it, and it waits for those already executing. The task set
 * (order.c) cannot give this: it orders the commands of one nexus, on its
 * reactor, and a cluster lock (VMware ATS) is contended by many. ORWRITE
 * and WRITE ATOMIC are exclusive the same way. READs (SCST_OP_RANGE_READER)
 * pass as ordinary writers do, so that none sees half of an exclusive
 * command's write; below, "writer" and "write" include them.
 *
 * Writers pass here at the end of PRE_EXEC and leave at PRE_XMIT (or when
 * they end without executing). Two paths:
 *
 *  - lock-free, while no exclusive command is queued on the device (the
 *    hot path: a 4 KiB write at QD32 must not take a mutex): the writer
 *    counts itself in its nexus's td->untracked_writes, then looks at
 *    dev->range_exclusive. Only the nexus's reactor writes that counter,
 *    so its cache line stays there.
 *  - queued, under dev->lock, in dev->write_ranges (range_queue.c: first
 *    come, first served among conflicting ranges) whenever an exclusive
 *    command is about: every write then records its range.
 *
 * The two meet like Dekker's flags, with sequentially consistent atomics:
 * a writer increments its counter and then reads range_exclusive; an
 * exclusive command increments range_exclusive and then (under dev->lock)
 * sums the counters of every nexus of the device. At least one of them
 * sees the other: either the writer goes the queued way, or the exclusive
 * command counts it as "untracked" and waits until the count is zero.
 * Writers leaving the lock-free path look at range_exclusive again after
 * their decrement and, when one is queued, let the queue re-grant.
 *
 * Waiting is parking in PRE_EXEC (order.c's park), so nothing blocks a
 * reactor and task management reaches a waiting command as it reaches one
 * the task set holds: the abort notification unparks it, PRE_EXEC's first
 * check ends it, and leaving takes it out of the queue. A session that
 * goes away aborts its commands the same way. A grant made on another
 * reactor is carried by a message embedded in the command (reactor_send()
 * cannot fail), holding a reference so that a command that ended
 * meanwhile is still there to be looked at.
 *
 * An in-kernel copy's WRITE (copy_file_range, the copy manager's) reads
 * its source while it executes, on another device or other blocks of its
 * own: it holds that source as a lock-free reader of its nexus there for
 * that time (scst_range_lock_src_try()), and never queues for it.
 *
 * The range is what PARSE set in cmd->lba / cmd->nblocks; a writer without
 * one (nblocks 0) is not held at all. A writer whose blocks are not one
 * range (UNMAP's descriptors, EXTENDED COPY, WRITE USING TOKEN) must give
 * PARSE's range as the span of all of them, or the whole medium, before
 * its row may carry SCST_OP_WRITES_MEDIUM without escaping this lock.
 *
 * A command queued (or granted) that then parks for an earlier check of
 * PRE_EXEC (its task set or an ACA changed while it was woken) leaves the
 * queue: a place kept by a command that waits for its own nexus's
 * commands could deadlock with them. */
#include "core/range_lock.h"

#include <assert.h>

#include "core/core_internal.h"

void scst_range_lock_init(struct scst_device *dev)
{
	range_queue_init(&dev->write_ranges);
	atomic_init(&dev->range_exclusive, 0);
}

/* Lock-free writes executing on every nexus of the device. dev->lock. */
static unsigned untracked_writes_locked(struct scst_device *dev)
{
	struct scst_tgt_dev *td;
	unsigned n = 0;

	list_for_each_entry(td, &dev->tgt_devs, dev_entry)
		n += atomic_load(&td->untracked_writes);
	return n;
}

/* On the command's reactor: it was granted; PRE_EXEC runs again. */
static void range_granted_msg(struct reactor_msg *m)
{
	struct scst_cmd *cmd = container_of(m, struct scst_cmd, range_msg);

	assert(reactor_self() == cmd->reactor);
	/* Cleared before looking: a grant made from now on sends anew. */
	atomic_store(&cmd->range_wake_sent, false);
	/* Not parked: it ended, or a wake of its own (an earlier command of
	 * its task set leaving) is already on the way and PRE_EXEC will see
	 * the grant. */
	if (cmd->parked)
		scst_order_unpark_aborted(cmd);
	scst_cmd_put(cmd);
}

static void grant_one(struct range_entry *e, void *ctx)
{
	struct scst_cmd *cmd = container_of(e, struct scst_cmd, range);

	(void)ctx;
	if (!atomic_exchange(&cmd->range_wake_sent, true)) {
		scst_cmd_get(cmd);
		reactor_send(cmd->reactor, &cmd->range_msg, range_granted_msg);
	}
}

static void regrant_locked(struct scst_device *dev)
{
	if (dev->write_ranges.nwaiting == 0)
		return;
	range_queue_grant(&dev->write_ranges, untracked_writes_locked(dev), grant_one, NULL);
}

bool scst_range_lock_enter(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;
	struct scst_tgt_dev *td = cmd->tgt_dev;
	bool exclusive = cmd->op_flags & SCST_OP_EXCLUSIVE_RANGE;
	bool granted;

	assert(reactor_self() == cmd->reactor);
	switch (cmd->range_state) {
	case SCST_RANGE_UNTRACKED:
		assert(!"a lock-free writer is executing, not in PRE_EXEC");
		return true;
	case SCST_RANGE_QUEUED:
		pthread_mutex_lock(&dev->lock);
		granted = cmd->range.granted;
		pthread_mutex_unlock(&dev->lock);
		return granted;
	case SCST_RANGE_NONE:
		break;
	}
	/* Writes nothing (NUMBER OF LOGICAL BLOCKS 0): nothing to protect. */
	if (cmd->nblocks == 0)
		return true;
	if (!exclusive) {
		atomic_fetch_add(&td->untracked_writes, 1);
		if (atomic_load(&dev->range_exclusive) == 0) {
			cmd->range_state = SCST_RANGE_UNTRACKED;
			return true;
		}
	}
	cmd->range.lba = cmd->lba;
	cmd->range.nblocks = cmd->nblocks;
	cmd->range.exclusive = exclusive;
	pthread_mutex_lock(&dev->lock);
	if (exclusive)
		atomic_fetch_add(&dev->range_exclusive, 1);
	else
		atomic_fetch_sub(&td->untracked_writes, 1); /* it is queued instead */
	granted = range_queue_add(&dev->write_ranges, &cmd->range, untracked_writes_locked(dev));
	/* Its own count going down may let an exclusive one go. */
	if (!exclusive)
		regrant_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	cmd->range_state = SCST_RANGE_QUEUED;
	return granted;
}

/* The lock-free writer's path, for a nexus rather than a command: one
 * more executing on @td that an exclusive command sums, and when it was
 * the last of the nexus, a queued exclusive one may go. */
bool scst_range_lock_src_try(struct scst_tgt_dev *td)
{
	atomic_fetch_add(&td->untracked_writes, 1);
	if (atomic_load(&td->dev->range_exclusive) == 0)
		return true;
	/* Queued behind one would make this WRITE wait for the source's
	 * queue while holding its place in the destination's: not taken. */
	scst_range_lock_src_leave(td);
	return false;
}

void scst_range_lock_src_leave(struct scst_tgt_dev *td)
{
	struct scst_device *dev = td->dev;

	assert(atomic_load(&td->untracked_writes) > 0);
	if (atomic_fetch_sub(&td->untracked_writes, 1) == 1 &&
	    atomic_load(&dev->range_exclusive) > 0) {
		pthread_mutex_lock(&dev->lock);
		regrant_locked(dev);
		pthread_mutex_unlock(&dev->lock);
	}
}

void scst_range_lock_leave(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;

	assert(reactor_self() == cmd->reactor);
	switch (cmd->range_state) {
	case SCST_RANGE_NONE:
		return;
	case SCST_RANGE_UNTRACKED:
		cmd->range_state = SCST_RANGE_NONE;
		/* The last lock-free write of the nexus may be what a queued
		 * exclusive command waits for. */
		if (atomic_fetch_sub(&cmd->tgt_dev->untracked_writes, 1) == 1 &&
		    atomic_load(&dev->range_exclusive) > 0) {
			pthread_mutex_lock(&dev->lock);
			regrant_locked(dev);
			pthread_mutex_unlock(&dev->lock);
		}
		return;
	case SCST_RANGE_QUEUED:
		cmd->range_state = SCST_RANGE_NONE;
		pthread_mutex_lock(&dev->lock);
		if (cmd->range.exclusive)
			atomic_fetch_sub(&dev->range_exclusive, 1);
		range_queue_remove(&dev->write_ranges, &cmd->range);
		regrant_locked(dev);
		pthread_mutex_unlock(&dev->lock);
		return;
	}
}
