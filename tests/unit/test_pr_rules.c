/* The reservation rules (src/core/pr_rules.c) and TransportIDs
 * (src/core/transport_id.c): SPC-4 table 72's access of the holder, of
 * another registrant and of a nexus that is not registered under each of
 * the six types, what that means for a reading and a writing command, the
 * SPC-2 column, and the TransportID formats a parameter list may carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/pr_rules.h"
#include "core/scst.h"
#include "core/transport_id.h"

#define READ_OP SCST_OP_PR_READ
#define WRITE_OP 0u /* no PR flag: conflicts */
#define ANY_OP SCST_OP_PR_ALLOWED

enum who { HOLDER, REGISTRANT, OTHER };

static bool may(uint8_t type, enum who who, uint32_t op)
{
	enum scst_pr_access a = scst_pr_access_of(false, true, type, who == HOLDER,
						  who != OTHER);
	return !scst_pr_conflicts(a, op);
}

/* SPC-4 5.13.1 (table 72's columns) and libiscsi's ProutReserve.Access*:
 * per type, whether another registrant and a nexus not registered may
 * read and write. The holder may always do both. */
static void test_access_table(void **state)
{
	static const struct {
		uint8_t type;
		bool reg_read, reg_write, other_read, other_write;
	} rows[] = {
		{ SCST_PR_TYPE_WE, true, false, true, false },
		{ SCST_PR_TYPE_EA, false, false, false, false },
		{ SCST_PR_TYPE_WERO, true, true, true, false },
		{ SCST_PR_TYPE_EARO, true, true, false, false },
		{ SCST_PR_TYPE_WEAR, true, true, true, false },
		{ SCST_PR_TYPE_EAAR, true, true, false, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t t = rows[i].type;

		assert_true(may(t, HOLDER, READ_OP));
		assert_true(may(t, HOLDER, WRITE_OP));
		assert_int_equal(may(t, REGISTRANT, READ_OP), rows[i].reg_read);
		assert_int_equal(may(t, REGISTRANT, WRITE_OP), rows[i].reg_write);
		assert_int_equal(may(t, OTHER, READ_OP), rows[i].other_read);
		assert_int_equal(may(t, OTHER, WRITE_OP), rows[i].other_write);
		/* INQUIRY, TEST UNIT READY, PERSISTENT RESERVE IN/OUT. */
		assert_true(may(t, OTHER, ANY_OP));
	}
}

static void test_no_reservation_no_conflict(void **state)
{
	enum scst_pr_access a = scst_pr_access_of(false, false, 0, false, false);

	assert_int_equal(a, SCST_PR_ACCESS_FULL);
	assert_false(scst_pr_conflicts(a, WRITE_OP));
	/* Registered without a reservation: still everything. */
	assert_int_equal(scst_pr_access_of(false, false, 0, false, true), SCST_PR_ACCESS_FULL);
}

/* SPC-2: another nexus's RESERVE leaves only SCST_OP_RESERVE_ALLOWED
 * rows, whatever persistent reservations say. */
static void test_spc2_other(void **state)
{
	enum scst_pr_access a = scst_pr_access_of(true, false, 0, false, false);

	assert_int_equal(a, SCST_PR_ACCESS_SPC2_OTHER);
	assert_true(scst_pr_conflicts(a, READ_OP));
	assert_true(scst_pr_conflicts(a, ANY_OP)); /* PR IN/OUT conflict too */
	assert_false(scst_pr_conflicts(a, SCST_OP_RESERVE_ALLOWED));
}

static void test_types(void **state)
{
	for (unsigned t = 0; t < 16; t++) {
		bool valid = t == 1 || t == 3 || t == 5 || t == 6 || t == 7 || t == 8;

		assert_int_equal(scst_pr_type_valid((uint8_t)t), valid);
		assert_int_equal(scst_pr_type_all_registrants((uint8_t)t), t == 7 || t == 8);
		assert_int_equal(scst_pr_type_registrants_access((uint8_t)t),
				 valid && t != 1 && t != 3);
	}
	/* REPORT CAPABILITIES: WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX;
	 * EX_AC_AR. */
	assert_int_equal(scst_pr_type_mask(), 0xea01);
}

/* The holder: the one registration under a single-holder type, every
 * registration under an All Registrants one, nobody without a
 * reservation. */
static void test_holder(void **state)
{
	struct scst_pr_registrant a = { .key = 1 }, b = { .key = 2 };
	struct scst_pr pr = { .reserved = true, .type = SCST_PR_TYPE_WERO, .holder = &a };

	assert_true(scst_pr_is_holder(&pr, &a));
	assert_false(scst_pr_is_holder(&pr, &b));
	assert_false(scst_pr_is_holder(&pr, NULL));
	pr.type = SCST_PR_TYPE_EAAR;
	pr.holder = NULL;
	assert_true(scst_pr_is_holder(&pr, &a) && scst_pr_is_holder(&pr, &b));
	assert_false(scst_pr_is_holder(&pr, NULL));
	pr.reserved = false;
	assert_false(scst_pr_is_holder(&pr, &a));
	assert_string_equal(scst_pr_type_name(SCST_PR_TYPE_EARO), "EARO");
	assert_string_equal(scst_pr_type_name(2), "?");
}

/* ---- TransportIDs ---- */

static unsigned iscsi_tid(uint8_t *buf, unsigned format, const char *s)
{
	unsigned n = (unsigned)strlen(s) + 1;
	unsigned len = 4 + ((n + 3) & ~3u);

	memset(buf, 0, len);
	buf[0] = (uint8_t)(format << 6 | 0x5);
	buf[2] = (uint8_t)((len - 4) >> 8);
	buf[3] = (uint8_t)(len - 4);
	memcpy(buf + 4, s, n);
	return len;
}

static void test_tid_iscsi_port(void **state)
{
	uint8_t in[SCST_TID_MAX], out[SCST_TID_MAX], sess[SCST_TID_MAX];
	unsigned bad, n = iscsi_tid(in, 1, "IQN.2026-12.Test:Host1,I,0X23D000000001");
	unsigned m = iscsi_tid(sess, 1, "iqn.2026-12.test:host1,i,0x23d000000001");

	assert_int_equal(scst_tid_parse(in, n, out, &bad), n);
	/* Canonical: lower case. */
	assert_memory_equal(out + 4, "iqn.2026-12.test:host1,i,0x23d000000001", 39);
	assert_true(scst_tid_is_port(out, n));
	assert_true(scst_tid_matches(out, n, sess, m));
	assert_true(scst_tid_equal(out, n, sess, m));
	/* Another ISID is another port. */
	m = iscsi_tid(sess, 1, "iqn.2026-12.test:host1,i,0x23d000000002");
	assert_false(scst_tid_matches(out, n, sess, m));
}

/* Format 00b names the initiator device: every port of it matches, but
 * it is not equal to any one port. */
static void test_tid_iscsi_device(void **state)
{
	uint8_t dev[SCST_TID_MAX], out[SCST_TID_MAX], port[SCST_TID_MAX];
	unsigned bad, n = iscsi_tid(dev, 0, "iqn.2026-12.test:host1");
	unsigned m = iscsi_tid(port, 1, "iqn.2026-12.test:host1,i,0x23d000000007");

	assert_int_equal(scst_tid_parse(dev, n, out, &bad), n);
	assert_false(scst_tid_is_port(out, n));
	assert_true(scst_tid_matches(out, n, port, m));
	assert_false(scst_tid_equal(out, n, port, m));
	m = iscsi_tid(port, 1, "iqn.2026-12.test:host2,i,0x23d000000007");
	assert_false(scst_tid_matches(out, n, port, m));
}

static void test_tid_malformed(void **state)
{
	uint8_t in[SCST_TID_MAX], out[SCST_TID_MAX];
	unsigned bad, n;

	/* ADDITIONAL LENGTH beyond what is there. */
	n = iscsi_tid(in, 1, "iqn.2026-12.test:h,i,0x1");
	assert_int_equal(scst_tid_parse(in, n - 4, out, &bad), 0);
	assert_int_equal(bad, 2);
	/* ADDITIONAL LENGTH not a multiple of four. */
	in[3] = (uint8_t)(in[3] + 1);
	assert_int_equal(scst_tid_parse(in, n + 4, out, &bad), 0);
	/* No NUL inside. */
	n = iscsi_tid(in, 1, "iqn.2026-12.test:h,i,0x123");
	memset(in + 4, 'a', n - 4);
	assert_int_equal(scst_tid_parse(in, n, out, &bad), 0);
	assert_int_equal(bad, 4);
	/* A port without an ISID, an ISID that is not hex, a device with one. */
	n = iscsi_tid(in, 1, "iqn.2026-12.test:h");
	assert_int_equal(scst_tid_parse(in, n, out, &bad), 0);
	n = iscsi_tid(in, 1, "iqn.2026-12.test:h,i,0xzz");
	assert_int_equal(scst_tid_parse(in, n, out, &bad), 0);
	assert_int_equal(bad, 4 + 23);
	n = iscsi_tid(in, 0, "iqn.2026-12.test:h,i,0x1");
	assert_int_equal(scst_tid_parse(in, n, out, &bad), 0);
	/* FORMAT CODE 10b; an unknown protocol. */
	n = iscsi_tid(in, 2, "iqn.2026-12.test:h");
	assert_int_equal(scst_tid_parse(in, n, out, &bad), 0);
	in[0] = 0x0b;
	assert_int_equal(scst_tid_parse(in, n, out, &bad), 0);
}

/* FCP: 24 bytes, the N_Port_Name in bytes 8..15. */
static void test_tid_fcp(void **state)
{
	uint8_t a[24] = { 0x00 }, b[24] = { 0x00 }, out[SCST_TID_MAX];
	unsigned bad;

	memcpy(a + 8, "\x21\x00\x00\x24\xff\x31\x42\x53", 8);
	memcpy(b + 8, a + 8, 8);
	assert_int_equal(scst_tid_parse(a, 24, out, &bad), 24);
	assert_int_equal(scst_tid_parse(a, 23, out, &bad), 0);
	assert_true(scst_tid_equal(out, 24, b, 24));
	b[15] ^= 1;
	assert_false(scst_tid_matches(out, 24, b, 24));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_table),
		cmocka_unit_test(test_no_reservation_no_conflict),
		cmocka_unit_test(test_spc2_other),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_holder),
		cmocka_unit_test(test_tid_iscsi_port),
		cmocka_unit_test(test_tid_iscsi_device),
		cmocka_unit_test(test_tid_malformed),
		cmocka_unit_test(test_tid_fcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
