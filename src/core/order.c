/* The task set of an I_T_L nexus (SAM-5 8.6, SPC-4 7.5.8): which command
 * may execute while others of the same nexus are still executing.
 *
 * A command enters the set when the driver starts it, which is the order
 * the initiator numbered its commands in (iSCSI: CmdSN), and leaves it
 * when its execution is over (PRE_XMIT) or it ends without executing.
 * A WRITE waiting for its Data-Out is in the set, so a READ of the same
 * blocks sent right behind it waits until the WRITE has been executed,
 * rather than returning the old data.
 *
 * The rules, for a command C against every command E before it in the set:
 *   HEAD OF QUEUE   C never waits (and enters at the front, so that the
 *                   others count it as before them);
 *   ACA             the same: it is how an initiator looks at a fault
 *                   while an ACA condition holds the rest of the set
 *                   (SAM-5 5.9; whether it may run at all is tmf.c's
 *                   check, before this one);
 *   ORDERED         C waits while any E remains; while C remains, every
 *                   later SIMPLE command waits;
 *   SIMPLE          under QUEUE ALGORITHM MODIFIER 0 (restricted
 *                   reordering), C waits for an E whose block range
 *                   overlaps C's when either of them writes the medium;
 *                   under 1 (unrestricted), only for ORDERED ones.
 * Block ranges are what PARSE set in cmd->lba / cmd->nblocks; a command
 * without one (INQUIRY, MODE SENSE, ...) overlaps nothing.
 *
 * The set is one list per nexus, touched only on the session's reactor,
 * so none of this takes a lock. The set is kept per nexus, not per device
 * (SCST keeps one per device under TST 0): ORDERED orders the commands of
 * the initiator that sent it; commands of different initiators are not
 * ordered against each other. */
#include <assert.h>

#include "core/task_mgmt.h"

static bool writes_medium(const struct scst_cmd *cmd)
{
	return cmd->op && (cmd->op_flags & SCST_OP_WRITES_MEDIUM);
}

static bool ranges_overlap(const struct scst_cmd *a, const struct scst_cmd *b)
{
	if (a->nblocks == 0 || b->nblocks == 0)
		return false;
	/* PARSE checked both ranges against the capacity: no sum wraps. */
	return a->lba < b->lba + b->nblocks && b->lba < a->lba + a->nblocks;
}

static bool conflicts(const struct scst_cmd *earlier, const struct scst_cmd *cmd)
{
	return (writes_medium(earlier) || writes_medium(cmd)) && ranges_overlap(earlier, cmd);
}

void scst_order_enter(struct scst_cmd *cmd)
{
	struct scst_tgt_dev *td = cmd->tgt_dev;

	assert(reactor_self() == cmd->reactor && !cmd->in_task_set);
	/* Which ACA conditions came after it (tmf.c): those block it rather
	 * than refuse it. */
	cmd->aca_gen = atomic_load(&cmd->dev->aca_gen);
	if (cmd->task_attr == SCST_TASK_HEAD_OF_QUEUE || cmd->task_attr == SCST_TASK_ACA)
		list_add_head(&cmd->task_entry, &td->task_set);
	else
		list_add_tail(&cmd->task_entry, &td->task_set);
	cmd->in_task_set = true;
	td->nordered += cmd->task_attr == SCST_TASK_ORDERED;
	td->nwriters += writes_medium(cmd);
}

bool scst_order_may_exec(const struct scst_cmd *cmd)
{
	const struct scst_tgt_dev *td = cmd->tgt_dev;
	const struct scst_cmd *e;
	bool restricted;

	assert(cmd->in_task_set);
	if (cmd->task_attr == SCST_TASK_HEAD_OF_QUEUE || cmd->task_attr == SCST_TASK_ACA)
		return true;
	/* The common case: nothing before it. */
	if (td->task_set.next == &cmd->task_entry)
		return true;
	if (cmd->task_attr == SCST_TASK_ORDERED)
		return false;
	restricted = atomic_load(&cmd->dev->qam) == 0;
	/* What nothing in the set can stand in the way of, without walking
	 * it: the walk touches every earlier command, and a random read
	 * workload keeps the set a queue depth long. */
	if (td->nordered == 0 && (!restricted || (td->nwriters == 0 && !writes_medium(cmd))))
		return true;
	list_for_each_entry(e, &td->task_set, task_entry) {
		if (e == cmd)
			break;
		if (e->task_attr == SCST_TASK_ORDERED)
			return false;
		if (restricted && conflicts(e, cmd))
			return false;
	}
	return true;
}

void scst_order_park(struct scst_cmd *cmd)
{
	assert(cmd->in_task_set && !cmd->parked);
	cmd->parked = true;
	cmd->tgt_dev->nparked++;
}

static void unpark(struct scst_cmd *cmd)
{
	assert(cmd->parked && cmd->tgt_dev->nparked > 0);
	cmd->parked = false;
	cmd->tgt_dev->nparked--;
	scst_cmd_resume_later(cmd);
}

void scst_order_leave(struct scst_cmd *cmd)
{
	struct scst_tgt_dev *td = cmd->tgt_dev;
	struct scst_cmd *e;

	assert(reactor_self() == cmd->reactor && cmd->in_task_set && !cmd->parked);
	list_del(&cmd->task_entry);
	cmd->in_task_set = false;
	td->nordered -= cmd->task_attr == SCST_TASK_ORDERED;
	td->nwriters -= writes_medium(cmd);
	if (td->aca_cmd == cmd)
		td->aca_cmd = NULL;
	if (td->nparked == 0)
		return;
	list_for_each_entry(e, &td->task_set, task_entry) {
		if (e->parked && scst_order_may_exec(e))
			unpark(e);
	}
}

void scst_order_unpark_aborted(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor);
	if (cmd->parked)
		unpark(cmd);
}

void scst_order_recheck(struct scst_tgt_dev *td)
{
	struct scst_cmd *e;

	assert(reactor_self() == td->reactor);
	if (td->nparked == 0)
		return;
	/* Every parked command goes through PRE_EXEC again, where the task
	 * set's order and the ACA check each park it anew if they must. */
	list_for_each_entry(e, &td->task_set, task_entry) {
		if (e->parked)
			unpark(e);
	}
}
