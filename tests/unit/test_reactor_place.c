/* Where new connections go (reactor_place(), src/base/reactor.c;
 * docs/scale.md): the reactor with the fewest connections placed on it,
 * ties in turn; a connection that moves or closes changes where the next
 * ones go. reactor.c compiled with its base, on two real reactors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/reactor.h"

static struct reactor *r0, *r1;

/* Every test starts with no connection counted anywhere. */
static int no_load(void **state)
{
	(void)state;
	assert_int_equal(reactor_load(r0), 0);
	assert_int_equal(reactor_load(r1), 0);
	return 0;
}

/* Two connections on two idle reactors: one each. */
static void test_one_each(void **state)
{
	(void)state;
	struct reactor *a = reactor_place(), *b = reactor_place();
	assert_ptr_not_equal(a, b);
	assert_int_equal(reactor_load(r0), 1);
	assert_int_equal(reactor_load(r1), 1);
	reactor_load_drop(a);
	reactor_load_drop(b);
}

/* The pattern round-robin got wrong: a session's second connection is
 * placed on the other reactor and moves to its session's; the next
 * session must then go to the other reactor, not the same one again. */
static void test_joined_connection_leaves_room(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++) {
		struct reactor *lead = reactor_place(), *join = reactor_place();
		assert_ptr_not_equal(lead, join);
		reactor_load_move(join, lead);
		struct reactor *next = reactor_place();
		assert_ptr_not_equal(next, lead);
		struct reactor *next_join = reactor_place();
		assert_ptr_equal(next_join, next);
		reactor_load_move(next_join, next);
		assert_int_equal(reactor_load(r0), 2 * (i + 1));
		assert_int_equal(reactor_load(r1), 2 * (i + 1));
	}
	for (int i = 0; i < 20; i++) {
		reactor_load_drop(r0);
		reactor_load_drop(r1);
	}
}

/* Closes on one reactor send the next connections there until the counts
 * are even again. */
static void test_fewest_wins(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		reactor_place();
	assert_int_equal(reactor_load(r0), 2);
	reactor_load_drop(r0);
	reactor_load_drop(r0);
	assert_ptr_equal(reactor_place(), r0);
	assert_ptr_equal(reactor_place(), r0);
	assert_int_equal(reactor_load(r0), reactor_load(r1));
	reactor_load_drop(r0);
	reactor_load_drop(r0);
	reactor_load_drop(r1);
	reactor_load_drop(r1);
}

/* reactor_pick() (vdisk's medium jobs) chooses but counts nothing. */
static void test_pick_counts_nothing(void **state)
{
	(void)state;
	/* r1 one below r0: pick chooses it each time, since it counts none. */
	reactor_load_drop(r1);
	assert_ptr_equal(reactor_pick(), r1);
	assert_ptr_equal(reactor_pick(), r1);
	assert_int_equal(reactor_load(r0), 0);
	assert_int_equal(reactor_load(r1), -1);
	assert_ptr_equal(reactor_place(), r1);
	assert_int_equal(reactor_load(r1), 0);
}

int main(void)
{
	if (reactors_start(2) != 0)
		return 1;
	r0 = reactor_by_index(0);
	r1 = reactor_by_index(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_one_each, no_load),
		cmocka_unit_test_setup(test_joined_connection_leaves_room, no_load),
		cmocka_unit_test_setup(test_fewest_wins, no_load),
		cmocka_unit_test_setup(test_pick_counts_nothing, no_load),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	reactors_stop();
	return rc;
}
