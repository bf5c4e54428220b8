/* The range lock's queue (src/core/range_queue.c) alone: which writers
 * may run beside an exclusive one (COMPARE AND WRITE), first come first
 * served among conflicting ranges, the wait for untracked writers, and
 * what a removal lets go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/range_queue.h"

static struct range_entry entry(uint64_t lba, uint64_t nblocks, bool exclusive)
{
	return (struct range_entry){ .lba = lba, .nblocks = nblocks, .exclusive = exclusive };
}

/* grant() callback: records the order of the grants. */
struct grants {
	struct range_entry *got[8];
	unsigned n;
};

static void record(struct range_entry *e, void *ctx)
{
	struct grants *g = ctx;

	assert_true(g->n < 8);
	g->got[g->n++] = e;
}

static void test_conflicts(void **state)
{
	struct range_entry w1 = entry(10, 5, false), w2 = entry(12, 5, false);
	struct range_entry c1 = entry(14, 1, true), c2 = entry(15, 1, true);
	struct range_entry none = entry(10, 0, true);

	assert_false(range_entries_conflict(&w1, &w2)); /* two writes may overlap */
	assert_true(range_entries_conflict(&w1, &c1));  /* block 14 */
	assert_true(range_entries_conflict(&c1, &w1));
	assert_false(range_entries_conflict(&c1, &c2)); /* adjacent, not overlapping */
	assert_true(range_entries_conflict(&w2, &c2));  /* block 15 is 12 + 5 - 2 */
	assert_false(range_entries_conflict(&none, &w1)); /* no blocks, no conflict */
	w1 = entry(0, 10, false);
	c1 = entry(10, 1, true);
	assert_false(range_entries_conflict(&w1, &c1)); /* [0,10) ends before 10 */
}

static void test_exclusive_one_after_the_other(void **state)
{
	struct range_queue q;
	struct range_entry a = entry(0, 1, true), b = entry(0, 1, true), c = entry(0, 1, true);
	struct grants g = { 0 };

	range_queue_init(&q);
	assert_true(range_queue_add(&q, &a, 0));
	assert_false(range_queue_add(&q, &b, 0));
	assert_false(range_queue_add(&q, &c, 0));
	assert_int_equal(q.nexclusive, 3);
	assert_int_equal(q.nwaiting, 2);
	range_queue_remove(&q, &a);
	range_queue_grant(&q, 0, record, &g);
	/* Only b: c conflicts with b, which is earlier. */
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.got[0], &b);
	range_queue_grant(&q, 0, record, &g); /* nothing new */
	assert_int_equal(g.n, 1);
	range_queue_remove(&q, &b);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 2);
	assert_ptr_equal(g.got[1], &c);
	range_queue_remove(&q, &c);
	assert_int_equal(q.nexclusive, 0);
	assert_int_equal(q.nwaiting, 0);
}

static void test_writes_wait_for_exclusive_fifo(void **state)
{
	struct range_queue q;
	struct range_entry w1 = entry(0, 8, false);     /* executing */
	struct range_entry caw = entry(4, 1, true);     /* waits for w1 */
	struct range_entry w2 = entry(4, 1, false);     /* waits for caw, not jumping it */
	struct range_entry far = entry(100, 8, false);  /* overlaps nothing exclusive */
	struct grants g = { 0 };

	range_queue_init(&q);
	assert_true(range_queue_add(&q, &w1, 0));
	assert_false(range_queue_add(&q, &caw, 0));
	assert_false(range_queue_add(&q, &w2, 0));
	assert_true(range_queue_add(&q, &far, 0));
	range_queue_remove(&q, &w1);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.got[0], &caw);
	range_queue_remove(&q, &caw);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 2);
	assert_ptr_equal(g.got[1], &w2);
}

static void test_exclusive_waits_for_untracked(void **state)
{
	struct range_queue q;
	struct range_entry caw = entry(7, 1, true), w = entry(7, 1, false);
	struct range_entry other = entry(50, 1, true);
	struct grants g = { 0 };

	range_queue_init(&q);
	/* Two writes started on the lock-free path: their ranges are not
	 * known, so even a COMPARE AND WRITE elsewhere waits for them. */
	assert_false(range_queue_add(&q, &caw, 2));
	assert_false(range_queue_add(&q, &w, 2));  /* behind the waiting caw */
	assert_false(range_queue_add(&q, &other, 2));
	range_queue_grant(&q, 1, record, &g);
	assert_int_equal(g.n, 0);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 2);
	assert_ptr_equal(g.got[0], &caw);
	assert_ptr_equal(g.got[1], &other);
	/* Removing a waiting entry is allowed (an abort) and lets w go. */
	range_queue_remove(&q, &caw);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 3);
	assert_ptr_equal(g.got[2], &w);
}

static void test_remove_waiting(void **state)
{
	struct range_queue q;
	struct range_entry a = entry(0, 1, true), b = entry(0, 1, true), c = entry(0, 1, false);
	struct grants g = { 0 };

	range_queue_init(&q);
	assert_true(range_queue_add(&q, &a, 0));
	assert_false(range_queue_add(&q, &b, 0));
	assert_false(range_queue_add(&q, &c, 0));
	/* b is aborted while it waits: c still waits for a. */
	range_queue_remove(&q, &b);
	assert_int_equal(q.nwaiting, 1);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 0);
	range_queue_remove(&q, &a);
	range_queue_grant(&q, 0, record, &g);
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.got[0], &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_exclusive_one_after_the_other),
		cmocka_unit_test(test_writes_wait_for_exclusive_fifo),
		cmocka_unit_test(test_exclusive_waits_for_untracked),
		cmocka_unit_test(test_remove_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
