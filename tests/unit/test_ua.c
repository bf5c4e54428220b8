/* The unit attention queue rules (src/core/ua_rules.c), compiled alone:
 * precedence, duplicates, superseding, the bound, UA_INTLCK_CTRL, REQUEST
 * SENSE and REPORT LUNS clearing, and the memory of lost I_T nexuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/ua_rules.h"
#include "scsi/scsi.h"

static struct scsi_sense ua(uint16_t asc)
{
	return scsi_sense_make(SK_UNIT_ATTENTION, asc);
}

/* Reports everything with REQUEST SENSE and checks the order. */
static void expect_order(struct scst_ua_queue *q, const uint16_t *ascs, unsigned n)
{
	struct scsi_sense s;

	for (unsigned i = 0; i < n; i++) {
		assert_true(scst_ua_queue_request_sense(q, &s));
		assert_int_equal(s.key, SK_UNIT_ATTENTION);
		assert_int_equal(s.asc, ascs[i]);
	}
	assert_false(scst_ua_queue_request_sense(q, &s));
	assert_int_equal(q->n, 0);
}

static void test_precedence_table(void **state)
{
	assert_int_equal(scst_ua_precedence(ASC_POWER_ON_RESET), 1);
	assert_int_equal(scst_ua_precedence(ASC_POWER_ON_OCCURRED), 2);
	assert_int_equal(scst_ua_precedence(ASC_BUS_RESET_OCCURRED), 3);
	assert_int_equal(scst_ua_precedence(ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED), 4);
	assert_int_equal(scst_ua_precedence(ASC_I_T_NEXUS_LOSS_OCCURRED), 5);
	assert_int_equal(scst_ua_precedence(ASC_MODE_PARAMETERS_CHANGED), 7);
	assert_int_equal(scst_ua_precedence(ASC_REPORTED_LUNS_DATA_HAS_CHANGED), 7);
}

/* Same precedence: oldest first. A higher one goes before lower ones
 * already queued, after equal ones. */
static void test_order_by_precedence_then_age(void **state)
{
	struct scst_ua_queue q = { 0 };
	const uint16_t want[] = {
		ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED, ASC_I_T_NEXUS_LOSS_OCCURRED,
		ASC_MODE_PARAMETERS_CHANGED, ASC_CAPACITY_DATA_HAS_CHANGED,
		ASC_REPORTED_LUNS_DATA_HAS_CHANGED,
	};

	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED)), SCST_UA_ADDED);
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_CAPACITY_DATA_HAS_CHANGED)), SCST_UA_ADDED);
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_I_T_NEXUS_LOSS_OCCURRED)), SCST_UA_ADDED);
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_REPORTED_LUNS_DATA_HAS_CHANGED)),
			 SCST_UA_ADDED);
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED)),
			 SCST_UA_ADDED);
	assert_int_equal(q.n, 5);
	expect_order(&q, want, 5);
}

static void test_duplicate_ignored(void **state)
{
	struct scst_ua_queue q = { 0 };
	const uint16_t want[] = { ASC_MODE_PARAMETERS_CHANGED, ASC_CAPACITY_DATA_HAS_CHANGED };

	scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED));
	scst_ua_queue_add(&q, ua(ASC_CAPACITY_DATA_HAS_CHANGED));
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED)),
			 SCST_UA_DUPLICATE);
	assert_int_equal(q.n, 2);
	/* The first one keeps its place. */
	expect_order(&q, want, 2);
}

/* POWER ON, RESET: everything of lower precedence is superseded. */
static void test_power_on_supersedes(void **state)
{
	struct scst_ua_queue q = { 0 };
	const uint16_t want[] = { ASC_POWER_ON_RESET };

	scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED));
	scst_ua_queue_add(&q, ua(ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED));
	scst_ua_queue_add(&q, ua(ASC_I_T_NEXUS_LOSS_OCCURRED));
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_POWER_ON_RESET)), SCST_UA_ADDED);
	expect_order(&q, want, 1);
}

/* A LUN reset does not supersede what it did not reset. */
static void test_lun_reset_keeps_others(void **state)
{
	struct scst_ua_queue q = { 0 };
	const uint16_t want[] = { ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED,
				  ASC_CAPACITY_DATA_HAS_CHANGED };

	scst_ua_queue_add(&q, ua(ASC_CAPACITY_DATA_HAS_CHANGED));
	scst_ua_queue_add(&q, ua(ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED));
	expect_order(&q, want, 2);
}

/* A queue nobody collects stays bounded; overflow collapses it into the
 * highest condition. */
static void test_overflow(void **state)
{
	struct scst_ua_queue q = { 0 };
	const uint16_t want[] = { ASC_POWER_ON_RESET };
	unsigned i;

	for (i = 0; i < SCST_UA_QUEUE_MAX; i++)
		assert_int_equal(scst_ua_queue_add(&q, ua((uint16_t)(0x3f10 + i))), SCST_UA_ADDED);
	assert_int_equal(q.n, SCST_UA_QUEUE_MAX);
	/* A duplicate of a queued one does not overflow. */
	assert_int_equal(scst_ua_queue_add(&q, ua(0x3f10)), SCST_UA_DUPLICATE);
	assert_int_equal(scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED)),
			 SCST_UA_OVERFLOW);
	assert_int_equal(q.n, 1);
	/* Thousands more: still bounded. */
	for (i = 0; i < 5000; i++) {
		scst_ua_queue_add(&q, ua((uint16_t)(0x3000 + i % 200)));
		assert_true(q.n <= SCST_UA_QUEUE_MAX);
	}
	/* Once collected, the queue is usable again. */
	while (q.n)
		scst_ua_queue_request_sense(&q, &(struct scsi_sense){ 0 });
	scst_ua_queue_add(&q, ua(ASC_POWER_ON_RESET));
	expect_order(&q, want, 1);
}

/* UA_INTLCK_CTRL 00b: the CHECK CONDITION clears what it reported, one
 * condition per command. */
static void test_check_condition_clears_under_00b(void **state)
{
	struct scst_ua_queue q = { 0 };
	struct scsi_sense s = { 0 };

	scst_ua_queue_add(&q, ua(ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED));
	scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED));
	assert_true(scst_ua_queue_check_condition(&q, SCST_UA_INTLCK_CLEAR, &s));
	assert_int_equal(s.asc, ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED);
	assert_true(scst_ua_queue_check_condition(&q, SCST_UA_INTLCK_CLEAR, &s));
	assert_int_equal(s.asc, ASC_MODE_PARAMETERS_CHANGED);
	s.asc = 0x1234;
	assert_false(scst_ua_queue_check_condition(&q, SCST_UA_INTLCK_CLEAR, &s));
	assert_int_equal(s.asc, 0x1234); /* untouched */
}

/* 10b and 11b: reported again and again until REQUEST SENSE takes it. */
static void test_check_condition_keeps_under_10b_11b(void **state)
{
	const unsigned modes[] = { SCST_UA_INTLCK_KEEP, SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS };

	for (unsigned m = 0; m < 2; m++) {
		struct scst_ua_queue q = { 0 };
		struct scsi_sense s = { 0 };

		scst_ua_queue_add(&q, ua(ASC_CAPACITY_DATA_HAS_CHANGED));
		scst_ua_queue_add(&q, ua(ASC_INQUIRY_DATA_HAS_CHANGED));
		for (int i = 0; i < 3; i++) {
			assert_true(scst_ua_queue_check_condition(&q, modes[m], &s));
			assert_int_equal(s.asc, ASC_CAPACITY_DATA_HAS_CHANGED);
			assert_int_equal(q.n, 2);
		}
		assert_true(scst_ua_queue_request_sense(&q, &s));
		assert_int_equal(s.asc, ASC_CAPACITY_DATA_HAS_CHANGED);
		assert_true(scst_ua_queue_check_condition(&q, modes[m], &s));
		assert_int_equal(s.asc, ASC_INQUIRY_DATA_HAS_CHANGED);
		assert_int_equal(q.n, 1);
	}
}

/* 01b is reserved: treated as the default. */
static void test_reserved_intlck_is_default(void **state)
{
	struct scst_ua_queue q = { 0 };
	struct scsi_sense s;

	scst_ua_queue_add(&q, ua(ASC_CAPACITY_DATA_HAS_CHANGED));
	assert_true(scst_ua_queue_check_condition(&q, 1, &s));
	assert_int_equal(q.n, 0);
}

/* REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED only. */
static void test_report_luns_clears_its_condition(void **state)
{
	struct scst_ua_queue q = { 0 };
	const uint16_t want[] = { ASC_MODE_PARAMETERS_CHANGED, ASC_CAPACITY_DATA_HAS_CHANGED };

	scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED));
	scst_ua_queue_add(&q, ua(ASC_REPORTED_LUNS_DATA_HAS_CHANGED));
	scst_ua_queue_add(&q, ua(ASC_CAPACITY_DATA_HAS_CHANGED));
	assert_true(scst_ua_queue_remove(&q, ASC_REPORTED_LUNS_DATA_HAS_CHANGED));
	assert_false(scst_ua_queue_remove(&q, ASC_REPORTED_LUNS_DATA_HAS_CHANGED));
	expect_order(&q, want, 2);
}

/* QUERY ASYNCHRONOUS EVENT looks without clearing. */
static void test_peek(void **state)
{
	struct scst_ua_queue q = { 0 };
	struct scsi_sense s = { 0 };
	unsigned n = 99;

	assert_false(scst_ua_queue_peek(&q, &s, &n));
	assert_int_equal(n, 0);
	scst_ua_queue_add(&q, ua(ASC_MODE_PARAMETERS_CHANGED));
	scst_ua_queue_add(&q, ua(ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED));
	for (int i = 0; i < 2; i++) {
		assert_true(scst_ua_queue_peek(&q, &s, &n));
		assert_int_equal(s.asc, ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED);
		assert_int_equal(n, 2);
	}
}

static void test_status_conditions(void **state)
{
	assert_int_equal(scst_ua_for_status(SAM_STAT_BUSY, SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS),
			 0x2c07);
	assert_int_equal(scst_ua_for_status(SAM_STAT_TASK_SET_FULL,
					    SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS),
			 0x2c08);
	assert_int_equal(scst_ua_for_status(SAM_STAT_RESERVATION_CONFLICT,
					    SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS),
			 0x2c09);
	assert_int_equal(scst_ua_for_status(SAM_STAT_GOOD, SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS),
			 0);
	assert_int_equal(scst_ua_for_status(SAM_STAT_BUSY, SCST_UA_INTLCK_CLEAR), 0);
	assert_int_equal(scst_ua_for_status(SAM_STAT_BUSY, SCST_UA_INTLCK_KEEP), 0);
}

static size_t key_of(const char *tgt, const char *tid, uint8_t *key)
{
	return scst_lost_nexus_key(tgt, (const uint8_t *)tid, strlen(tid), key);
}

static void test_lost_nexus_memory(void **state)
{
	static struct scst_lost_nexuses l;
	uint8_t a[SCST_LOST_NEXUS_KEY_MAX], b[SCST_LOST_NEXUS_KEY_MAX];
	uint8_t other_tgt[SCST_LOST_NEXUS_KEY_MAX];
	size_t la = key_of("iqn.t", "iqn.i,i,0x400001370001", a);
	size_t lb = key_of("iqn.t", "iqn.i,i,0x400001370002", b); /* other ISID */
	size_t lo = key_of("iqn.u", "iqn.i,i,0x400001370001", other_tgt);

	memset(&l, 0, sizeof(l));
	assert_false(scst_lost_nexus_take(&l, a, la));
	scst_lost_nexus_add(&l, a, la);
	scst_lost_nexus_add(&l, a, la); /* twice: one entry */
	assert_false(scst_lost_nexus_take(&l, b, lb));
	assert_false(scst_lost_nexus_take(&l, other_tgt, lo));
	assert_true(scst_lost_nexus_take(&l, a, la));
	assert_false(scst_lost_nexus_take(&l, a, la)); /* told once */

	/* Bounded: the oldest is forgotten first. */
	for (unsigned i = 0; i < SCST_LOST_NEXUS_MAX + 1; i++) {
		char tid[32];
		uint8_t k[SCST_LOST_NEXUS_KEY_MAX];

		snprintf(tid, sizeof(tid), "iqn.i,i,0x%012x", i);
		scst_lost_nexus_add(&l, k, key_of("iqn.t", tid, k));
	}
	{
		uint8_t k[SCST_LOST_NEXUS_KEY_MAX];

		assert_false(scst_lost_nexus_take(&l, k, key_of("iqn.t", "iqn.i,i,0x000000000000", k)));
		assert_true(scst_lost_nexus_take(&l, k, key_of("iqn.t", "iqn.i,i,0x000000000001", k)));
		assert_true(scst_lost_nexus_take(&l, k, key_of("iqn.t", "iqn.i,i,0x000000000040", k)));
	}
	/* A key that does not fit is never remembered. */
	{
		char huge[SCST_LOST_NEXUS_KEY_MAX + 1];
		uint8_t k[SCST_LOST_NEXUS_KEY_MAX];

		memset(huge, 'x', sizeof(huge) - 1);
		huge[sizeof(huge) - 1] = 0;
		assert_int_equal(key_of(huge, "", k), 0);
		scst_lost_nexus_add(&l, k, 0);
		assert_false(scst_lost_nexus_take(&l, k, 0));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence_table),
		cmocka_unit_test(test_order_by_precedence_then_age),
		cmocka_unit_test(test_duplicate_ignored),
		cmocka_unit_test(test_power_on_supersedes),
		cmocka_unit_test(test_lun_reset_keeps_others),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_check_condition_clears_under_00b),
		cmocka_unit_test(test_check_condition_keeps_under_10b_11b),
		cmocka_unit_test(test_reserved_intlck_is_default),
		cmocka_unit_test(test_report_luns_clears_its_condition),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_status_conditions),
		cmocka_unit_test(test_lost_nexus_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
