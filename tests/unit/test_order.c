/* The task set of an I_T_L nexus (src/core/order.c), compiled on its own
 * with its two neighbours stubbed: which command may execute while others
 * of the nexus are still in the set, and which parked ones an ending
 * command lets go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/task_mgmt.h"

/* ---- stubs of the neighbours ---- */

struct reactor *reactor_self(void)
{
	return NULL; /* the commands below "live" on reactor NULL */
}

#define MAX_RESUMED 16
static struct scst_cmd *resumed[MAX_RESUMED];
static unsigned nresumed;

void scst_cmd_resume_later(struct scst_cmd *cmd)
{
	assert_true(nresumed < MAX_RESUMED);
	resumed[nresumed++] = cmd;
}

/* ---- fixtures ---- */

static const struct scst_op_desc read_op = { .name = "READ" };
static const struct scst_op_desc write_op = { .name = "WRITE",
					      .flags = SCST_OP_WRITES_MEDIUM };
static const struct scst_op_desc inquiry_op = { .name = "INQUIRY" };

static struct scst_device dev;
static struct scst_tgt_dev td;
static struct scst_cmd cmds[8];

static int setup(void **state)
{
	memset(&dev, 0, sizeof(dev));
	memset(&td, 0, sizeof(td));
	memset(cmds, 0, sizeof(cmds));
	list_init(&td.task_set);
	td.dev = &dev;
	nresumed = 0;
	return 0;
}

static struct scst_cmd *cmd(unsigned i, const struct scst_op_desc *op,
			    enum scst_task_attr attr, uint64_t lba, uint32_t nblocks)
{
	struct scst_cmd *c = &cmds[i];

	c->op = op;
	c->op_flags = op->flags; /* what PARSE copies */
	c->task_attr = attr;
	c->lba = lba;
	c->nblocks = nblocks;
	c->tgt_dev = &td;
	c->dev = &dev;
	list_init(&c->task_entry);
	scst_order_enter(c);
	return c;
}

/* What PRE_EXEC does: run if allowed, else park. */
static bool pre_exec(struct scst_cmd *c)
{
	if (scst_order_may_exec(c))
		return true;
	scst_order_park(c);
	return false;
}

/* ---- tests ---- */

static void read_waits_for_overlapping_write(void **state)
{
	struct scst_cmd *w = cmd(0, &write_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *r = cmd(1, &read_op, SCST_TASK_SIMPLE, 104, 8);

	/* The WRITE is still waiting for its Data-Out; the READ arrives. */
	assert_false(pre_exec(r));
	assert_int_equal(td.nparked, 1);
	assert_true(pre_exec(w));
	scst_order_leave(w); /* the WRITE has been executed */
	assert_int_equal(nresumed, 1);
	assert_ptr_equal(resumed[0], r);
	assert_false(r->parked);
	assert_true(scst_order_may_exec(r));
	scst_order_leave(r);
	assert_true(list_empty(&td.task_set));
}

static void disjoint_and_read_only_commands_pass(void **state)
{
	cmd(0, &write_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *beside = cmd(1, &write_op, SCST_TASK_SIMPLE, 108, 8);
	struct scst_cmd *r1 = cmd(2, &read_op, SCST_TASK_SIMPLE, 0, 8);
	struct scst_cmd *r2 = cmd(3, &read_op, SCST_TASK_SIMPLE, 0, 8);
	struct scst_cmd *inq = cmd(4, &inquiry_op, SCST_TASK_SIMPLE, 0, 0);

	assert_true(scst_order_may_exec(beside)); /* adjacent, not overlapping */
	assert_true(scst_order_may_exec(r1));
	assert_true(scst_order_may_exec(r2)); /* two READs of one range */
	assert_true(scst_order_may_exec(inq)); /* no block range at all */
}

static void write_waits_for_overlapping_read(void **state)
{
	cmd(0, &read_op, SCST_TASK_SIMPLE, 0, 16);
	struct scst_cmd *w = cmd(1, &write_op, SCST_TASK_SIMPLE, 15, 1);

	assert_false(scst_order_may_exec(w));
}

static void qam_unrestricted_reorders(void **state)
{
	cmd(0, &write_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *r = cmd(1, &read_op, SCST_TASK_SIMPLE, 100, 8);

	atomic_store(&dev.qam, 1);
	assert_true(scst_order_may_exec(r));
}

static void ordered_waits_for_all_and_holds_later(void **state)
{
	struct scst_cmd *a = cmd(0, &read_op, SCST_TASK_SIMPLE, 0, 1);
	struct scst_cmd *o = cmd(1, &read_op, SCST_TASK_ORDERED, 500, 1);
	struct scst_cmd *later = cmd(2, &read_op, SCST_TASK_SIMPLE, 900, 1);

	atomic_store(&dev.qam, 1); /* ORDERED does not depend on QAM */
	assert_true(pre_exec(a));
	assert_false(pre_exec(o));
	assert_false(pre_exec(later));
	scst_order_leave(a);
	/* Only the ORDERED one may go: the later one is still behind it. */
	assert_int_equal(nresumed, 1);
	assert_ptr_equal(resumed[0], o);
	assert_true(later->parked);
	scst_order_leave(o);
	assert_int_equal(nresumed, 2);
	assert_ptr_equal(resumed[1], later);
	assert_int_equal(td.nparked, 0);
}

static void head_of_queue_goes_first(void **state)
{
	cmd(0, &write_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *o = cmd(1, &read_op, SCST_TASK_ORDERED, 0, 1);
	struct scst_cmd *hoq = cmd(2, &read_op, SCST_TASK_HEAD_OF_QUEUE, 100, 8);

	/* It overlaps the WRITE and comes behind an ORDERED: it still runs. */
	assert_true(scst_order_may_exec(hoq));
	/* It went to the front, so the ORDERED one counts it as before. */
	assert_ptr_equal(list_first_entry(&td.task_set, struct scst_cmd, task_entry), hoq);
	assert_false(scst_order_may_exec(o));
}

static void aborted_parked_command_is_let_go(void **state)
{
	cmd(0, &write_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *r = cmd(1, &read_op, SCST_TASK_SIMPLE, 100, 8);

	assert_false(pre_exec(r));
	scst_order_unpark_aborted(r);
	assert_int_equal(nresumed, 1);
	assert_false(r->parked);
	assert_int_equal(td.nparked, 0);
	/* Not parked: nothing to let go. */
	scst_order_unpark_aborted(r);
	assert_int_equal(nresumed, 1);
}

/* An ACA command (SAM-5 5.9) goes to the front and never waits: it is how
 * the initiator looks at a fault while the rest of the set is held; when
 * it leaves, the nexus no longer has a running ACA command. */
static void aca_command_goes_first(void **state)
{
	struct scst_cmd *o = cmd(0, &write_op, SCST_TASK_ORDERED, 0, 8);
	struct scst_cmd *a = cmd(1, &read_op, SCST_TASK_ACA, 0, 8);

	assert_ptr_equal(td.task_set.next, &a->task_entry);
	assert_true(scst_order_may_exec(a));
	assert_false(scst_order_may_exec(cmd(2, &read_op, SCST_TASK_SIMPLE, 0, 8)));
	td.aca_cmd = a;
	scst_order_leave(a);
	assert_null(td.aca_cmd);
	(void)o;
}

/* A command takes the device's ACA generation as it enters, so the check
 * in PRE_EXEC can tell those that waited since before an ACA. */
static void entering_records_aca_generation(void **state)
{
	atomic_store(&dev.aca_gen, 7);
	assert_int_equal(cmd(0, &read_op, SCST_TASK_SIMPLE, 0, 8)->aca_gen, 7);
}

/* Once an ACA is cleared every parked command runs PRE_EXEC again, even
 * one the task set's order alone would still hold (it parks again). */
static void recheck_lets_every_parked_command_go(void **state)
{
	cmd(0, &write_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *r = cmd(1, &read_op, SCST_TASK_SIMPLE, 100, 8);
	struct scst_cmd *r2 = cmd(2, &read_op, SCST_TASK_SIMPLE, 0, 8);

	assert_false(pre_exec(r));
	scst_order_park(r2); /* as the ACA check parks it */
	assert_int_equal(td.nparked, 2);
	scst_order_recheck(&td);
	assert_int_equal(nresumed, 2);
	assert_int_equal(td.nparked, 0);
	assert_false(pre_exec(r)); /* still behind the WRITE */
	assert_true(pre_exec(r2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(read_waits_for_overlapping_write, setup),
		cmocka_unit_test_setup(disjoint_and_read_only_commands_pass, setup),
		cmocka_unit_test_setup(write_waits_for_overlapping_read, setup),
		cmocka_unit_test_setup(qam_unrestricted_reorders, setup),
		cmocka_unit_test_setup(ordered_waits_for_all_and_holds_later, setup),
		cmocka_unit_test_setup(head_of_queue_goes_first, setup),
		cmocka_unit_test_setup(aborted_parked_command_is_let_go, setup),
		cmocka_unit_test_setup(aca_command_goes_first, setup),
		cmocka_unit_test_setup(entering_records_aca_generation, setup),
		cmocka_unit_test_setup(recheck_lets_every_parked_command_go, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
