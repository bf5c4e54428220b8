/* ALUA's pure rules (src/core/alua_rules.c), compiled alone: which
 * commands each asymmetric access state serves and the sense of the rest,
 * STPG's parameter list checks, and RTPG's data in both formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/alua_rules.h"
#include "core/scst.h"

static void test_state_names(void **state)
{
	static const char *const names[] = { "active",      "nonoptimized", "standby",
					     "unavailable", "offline",      "transitioning" };
	unsigned s;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(scst_alua_state_parse(names[i], &s));
		assert_string_equal(scst_alua_state_name(s), names[i]);
	}
	assert_false(scst_alua_state_parse("Active", &s));
	assert_false(scst_alua_state_parse("lba_dependent", &s));
	assert_null(scst_alua_state_name(SCST_ALUA_LBA_DEPENDENT));
}

/* Each refusing state serves what its flag marks, and refuses the rest
 * with NOT READY and its own ASCQ. */
static void test_allows(void **state)
{
	static const struct {
		unsigned state;
		uint32_t flag;
		uint16_t asc;
	} cases[] = {
		{ SCST_ALUA_STANDBY, SCST_OP_ALUA_STANDBY_OK, 0x040b },
		{ SCST_ALUA_UNAVAILABLE, SCST_OP_ALUA_UNAVAILABLE_OK, 0x040c },
		{ SCST_ALUA_TRANSITIONING, SCST_OP_ALUA_TRANSITIONING_OK, 0x040a },
		{ SCST_ALUA_OFFLINE, SCST_OP_ALUA_OFFLINE_OK, 0x0412 },
	};
	const uint32_t all = SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
			     SCST_OP_ALUA_TRANSITIONING_OK | SCST_OP_ALUA_OFFLINE_OK;
	struct scsi_sense sense;

	assert_true(scst_alua_allows(SCST_ALUA_ACTIVE, 0, &sense));
	assert_true(scst_alua_allows(SCST_ALUA_NONOPTIMIZED, SCST_OP_WRITES_MEDIUM, &sense));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&sense, 0, sizeof(sense));
		assert_true(scst_alua_allows(cases[i].state, cases[i].flag, &sense));
		/* Every other state's flag is not enough. */
		assert_false(scst_alua_allows(cases[i].state, all & ~cases[i].flag, &sense));
		assert_int_equal(sense.key, SK_NOT_READY);
		assert_int_equal(sense.asc, cases[i].asc);
		assert_false(scst_alua_allows(cases[i].state, SCST_OP_WRITES_MEDIUM, &sense));
	}
	/* A state that is never set serves like offline. */
	assert_false(scst_alua_allows(0x7, SCST_OP_ALUA_STANDBY_OK, &sense));
	assert_int_equal(sense.asc, 0x0412);
}

static const struct scst_alua_group_view groups[] = {
	{ .group_id = 1, .state = SCST_ALUA_ACTIVE },
	{ .group_id = 2, .state = SCST_ALUA_STANDBY },
	{ .group_id = 3, .state = SCST_ALUA_TRANSITIONING },
};

static int stpg(const uint8_t *buf, uint32_t len, struct scst_alua_stpg_change *out,
		struct scsi_sense *sense)
{
	memset(sense, 0, sizeof(*sense));
	return scst_alua_stpg_parse(buf, len, groups, 3, out, sense);
}

static void test_stpg_good(void **state)
{
	struct scst_alua_stpg_change ch[SCST_ALUA_STPG_MAX];
	struct scsi_sense sense;
	uint8_t two[] = { 0, 0, 0, 0, 0x02, 0, 0, 1, 0x00, 0, 0, 2 };
	uint8_t twice[] = { 0, 0, 0, 0, 0x01, 0, 0, 2, 0x0e, 0, 0, 2 };

	assert_int_equal(stpg(two, 0, ch, &sense), 0);
	assert_int_equal(stpg(two, sizeof(two), ch, &sense), 2);
	assert_int_equal(ch[0].group, 0);
	assert_int_equal(ch[0].state, SCST_ALUA_STANDBY);
	assert_int_equal(ch[1].group, 1);
	assert_int_equal(ch[1].state, SCST_ALUA_ACTIVE);
	/* The last descriptor for a group wins. */
	assert_int_equal(stpg(twice, sizeof(twice), ch, &sense), 1);
	assert_int_equal(ch[0].group, 1);
	assert_int_equal(ch[0].state, SCST_ALUA_OFFLINE);
	/* A header alone: no change. */
	assert_int_equal(stpg(two, 4, ch, &sense), 0);
}

static void test_stpg_bad(void **state)
{
	struct scst_alua_stpg_change ch[SCST_ALUA_STPG_MAX];
	struct scsi_sense sense;
	uint8_t list[12] = { 0, 0, 0, 0, 0x00, 0, 0, 1, 0x00, 0, 0, 2 };
	uint8_t big[4 + 4 * (SCST_ALUA_STPG_MAX + 1)] = { 0 };

	/* Lengths that are no header plus whole descriptors. */
	assert_int_equal(stpg(list, 3, ch, &sense), -1);
	assert_int_equal(sense.key, SK_ILLEGAL_REQUEST);
	assert_int_equal(sense.asc, ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_int_equal(stpg(list, 10, ch, &sense), -1);
	assert_int_equal(sense.asc, ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_int_equal(stpg(big, sizeof(big), ch, &sense), -1);
	assert_int_equal(sense.asc, ASC_PARAMETER_LIST_LENGTH_ERROR);

	/* States STPG may not set, in the second descriptor: pointer at its
	 * byte 0, bit 3. */
	for (unsigned s = 0; s < 16; s++) {
		bool ok = s <= 3 || s == 0xe;

		list[8] = (uint8_t)s;
		assert_int_equal(stpg(list, sizeof(list), ch, &sense), ok ? 2 : -1);
		if (ok)
			continue;
		assert_int_equal(sense.asc, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
		assert_true(sense.has_field_pointer);
		assert_false(sense.in_cdb);
		assert_int_equal(sense.byte, 8);
		assert_true(sense.bit_valid);
		assert_int_equal(sense.bit, 3);
	}
	list[8] = 0;
	/* An unknown group: pointer at the descriptor's group id. */
	list[11] = 9;
	assert_int_equal(stpg(list, sizeof(list), ch, &sense), -1);
	assert_int_equal(sense.asc, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	assert_int_equal(sense.byte, 10);
	assert_false(sense.bit_valid);
	/* A group in transition. */
	list[11] = 3;
	assert_int_equal(stpg(list, sizeof(list), ch, &sense), -1);
	assert_int_equal(sense.key, SK_NOT_READY);
	assert_int_equal(sense.asc, 0x040a);
}

static void test_rtpg(void **state)
{
	static const uint16_t ports_a[] = { 1 }, ports_b[] = { 2, 7 };
	const struct scst_alua_rtpg_group g[] = {
		{ .group_id = 1, .state = SCST_ALUA_ACTIVE, .preferred = true,
		  .status = SCST_ALUA_STATUS_NONE, .rel_tgt_ids = ports_a, .nports = 1 },
		{ .group_id = 0x102, .state = SCST_ALUA_STANDBY,
		  .status = SCST_ALUA_STATUS_BY_STPG, .rel_tgt_ids = ports_b, .nports = 2 },
	};
	static const uint8_t want[] = {
		0, 0, 0, 28,                             /* RETURN DATA LENGTH */
		0x80, 0xcf, 0, 1, 0, 0, 0, 1,           /* group 1: PREF, active */
		0, 0, 0, 1,
		0x02, 0xcf, 1, 2, 0, 1, 0, 2,           /* group 0x102: standby, by STPG */
		0, 0, 0, 2, 0, 0, 0, 7,
	};
	uint8_t buf[64];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(scst_alua_rtpg_build(g, 2, false, 9, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[sizeof(want)], 0xaa);

	/* Extended header: 4 more bytes, counted in the length. */
	assert_int_equal(scst_alua_rtpg_build(g, 2, true, 9, buf, sizeof(buf)), sizeof(want) + 4);
	assert_int_equal(buf[3], 32);
	assert_int_equal(buf[4], 0x10);
	assert_int_equal(buf[5], 9);
	assert_memory_equal(buf + 8, want + 4, sizeof(want) - 4);

	/* Cut short: the full length is still reported, nothing written past
	 * the room given. */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(scst_alua_rtpg_build(g, 2, false, 0, buf, 10), sizeof(want));
	assert_memory_equal(buf, want, 10);
	assert_int_equal(buf[10], 0xaa);

	/* No group: the header alone. */
	assert_int_equal(scst_alua_rtpg_build(NULL, 0, false, 0, buf, sizeof(buf)), 4);
	assert_int_equal(buf[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names), cmocka_unit_test(test_allows),
		cmocka_unit_test(test_stpg_good),   cmocka_unit_test(test_stpg_bad),
		cmocka_unit_test(test_rtpg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
