/* Task management scope (src/core/tmf_scope.c) and the ACA rules
 * (src/core/aca_rules.c): which tasks of which I_T nexuses each function
 * reaches under TST 0 and 1, how each ends under TAS 0 and 1, and what an
 * ACA condition does to a command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/aca_rules.h"
#include "core/tmf_scope.h"

static const struct tmf_task_view own = { .same_nexus = true };
static const struct tmf_task_view other = { .same_nexus = false };

/* The acting nexus's tasks end silently for every function that reaches
 * them, whatever TST and TAS say: their initiator asked. */
static void test_own_tasks_end_silently(void **state)
{
	static const enum tmf_scope_action all[] = {
		TMF_SCOPE_ABORT_TASK_SET, TMF_SCOPE_CLEAR_TASK_SET, TMF_SCOPE_LUN_RESET,
		TMF_SCOPE_I_T_NEXUS_RESET, TMF_SCOPE_QERR_ABORT_ALL, TMF_SCOPE_QERR_ABORT_NEXUS,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		for (unsigned tst = 0; tst <= 1; tst++)
			for (int tas = 0; tas <= 1; tas++)
				assert_int_equal(tmf_scope_fate(all[i], tst, tas, &own),
						 TMF_FATE_ABORT_SILENT);
}

/* The expected fate of another nexus's task, per function, TST and TAS:
 * SAM-5 7.2 (ABORT TASK SET: the acting nexus only, TST or not), 7.4
 * (CLEAR TASK SET: the task set, so every nexus under TST 0), 7.6
 * (LOGICAL UNIT RESET: every nexus; its own unit attention, no COMMANDS
 * CLEARED), 7.7 (I_T NEXUS RESET: the acting nexus), SPC-4 7.5.8 (QErr). */
static void test_other_nexus_matrix(void **state)
{
	static const struct {
		enum tmf_scope_action action;
		enum tmf_fate fate[2][2]; /* [tst][tas] */
	} rows[] = {
		{ TMF_SCOPE_ABORT_TASK_SET,
		  { { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED },
		    { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED } } },
		{ TMF_SCOPE_CLEAR_TASK_SET,
		  { { TMF_FATE_ABORT_CLEARED_UA, TMF_FATE_ABORT_TASK_ABORTED },
		    { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED } } },
		{ TMF_SCOPE_LUN_RESET,
		  { { TMF_FATE_ABORT_SILENT, TMF_FATE_ABORT_TASK_ABORTED },
		    { TMF_FATE_ABORT_SILENT, TMF_FATE_ABORT_TASK_ABORTED } } },
		{ TMF_SCOPE_I_T_NEXUS_RESET,
		  { { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED },
		    { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED } } },
		{ TMF_SCOPE_QERR_ABORT_ALL,
		  { { TMF_FATE_ABORT_CLEARED_UA, TMF_FATE_ABORT_TASK_ABORTED },
		    { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED } } },
		{ TMF_SCOPE_QERR_ABORT_NEXUS,
		  { { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED },
		    { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED } } },
		{ TMF_SCOPE_CLEAR_ACA,
		  { { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED },
		    { TMF_FATE_UNTOUCHED, TMF_FATE_UNTOUCHED } } },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (unsigned tst = 0; tst <= 1; tst++)
			for (int tas = 0; tas <= 1; tas++) {
				enum tmf_fate f = tmf_scope_fate(rows[i].action, tst, tas, &other);

				if (f != rows[i].fate[tst][tas])
					fail_msg("action %d TST %u TAS %d: fate %d, expected %d",
						 rows[i].action, tst, tas, f,
						 rows[i].fate[tst][tas]);
			}
}

static void test_reaches_others(void **state)
{
	assert_true(tmf_scope_reaches_others(TMF_SCOPE_CLEAR_TASK_SET, 0));
	assert_false(tmf_scope_reaches_others(TMF_SCOPE_CLEAR_TASK_SET, 1));
	assert_true(tmf_scope_reaches_others(TMF_SCOPE_LUN_RESET, 1));
	assert_false(tmf_scope_reaches_others(TMF_SCOPE_ABORT_TASK_SET, 0));
	assert_false(tmf_scope_reaches_others(TMF_SCOPE_QERR_ABORT_NEXUS, 0));
}

/* ABORT TASK reaches the one referenced task of the acting nexus; a task
 * of another nexus with the same tag is not it. CLEAR ACA reaches the
 * acting nexus's ACA tasks only. */
static void test_single_task_functions(void **state)
{
	struct tmf_task_view t = { .same_nexus = true, .referenced = true };

	assert_int_equal(tmf_scope_fate(TMF_SCOPE_ABORT_TASK, 0, true, &t), TMF_FATE_ABORT_SILENT);
	t.referenced = false;
	assert_int_equal(tmf_scope_fate(TMF_SCOPE_ABORT_TASK, 0, true, &t), TMF_FATE_UNTOUCHED);
	t.same_nexus = false;
	t.referenced = true;
	assert_int_equal(tmf_scope_fate(TMF_SCOPE_ABORT_TASK, 0, true, &t), TMF_FATE_UNTOUCHED);

	t = (struct tmf_task_view){ .same_nexus = true, .aca_attr = true };
	assert_int_equal(tmf_scope_fate(TMF_SCOPE_CLEAR_ACA, 0, false, &t), TMF_FATE_ABORT_SILENT);
	t.aca_attr = false;
	assert_int_equal(tmf_scope_fate(TMF_SCOPE_CLEAR_ACA, 0, false, &t), TMF_FATE_UNTOUCHED);
	t = (struct tmf_task_view){ .same_nexus = false, .aca_attr = true };
	assert_int_equal(tmf_scope_fate(TMF_SCOPE_CLEAR_ACA, 0, false, &t), TMF_FATE_UNTOUCHED);
}

/* ---- ACA ---- */

static void test_aca_none(void **state)
{
	struct aca_view v = { 0 };

	assert_int_equal(aca_rules_check(&v), ACA_PASS);
	v.entered_before = true;
	assert_int_equal(aca_rules_check(&v), ACA_PASS);
	v.aca_attr = true; /* an ACA command with no ACA */
	assert_int_equal(aca_rules_check(&v), ACA_NO_ACA);
}

static void test_aca_faulted_nexus(void **state)
{
	struct aca_view v = { .own_nexus_faulted = true };

	/* A new command: ACA ACTIVE. */
	assert_int_equal(aca_rules_check(&v), ACA_ACTIVE_STATUS);
	/* One that waited since before the fault: held. */
	v.entered_before = true;
	assert_int_equal(aca_rules_check(&v), ACA_BLOCK);
	/* The ACA command runs; a second one meanwhile does not. */
	v = (struct aca_view){ .own_nexus_faulted = true, .aca_attr = true };
	assert_int_equal(aca_rules_check(&v), ACA_PASS);
	v.other_aca_cmd = true;
	assert_int_equal(aca_rules_check(&v), ACA_ACTIVE_STATUS);
}

static void test_aca_other_nexus_shared_set(void **state)
{
	struct aca_view v = { .shared_set_faulted = true };

	assert_int_equal(aca_rules_check(&v), ACA_ACTIVE_STATUS);
	v.aca_attr = true; /* not the faulted nexus: its ACA command is refused too */
	assert_int_equal(aca_rules_check(&v), ACA_ACTIVE_STATUS);
	v = (struct aca_view){ .shared_set_faulted = true, .entered_before = true };
	assert_int_equal(aca_rules_check(&v), ACA_BLOCK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_tasks_end_silently),
		cmocka_unit_test(test_other_nexus_matrix),
		cmocka_unit_test(test_reaches_others),
		cmocka_unit_test(test_single_task_functions),
		cmocka_unit_test(test_aca_none),
		cmocka_unit_test(test_aca_faulted_nexus),
		cmocka_unit_test(test_aca_other_nexus_shared_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
