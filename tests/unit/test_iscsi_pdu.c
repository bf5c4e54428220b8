/* iSCSI PDU helpers: SAM LUN encoding, serial number arithmetic, BHS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targets/iscsi/pdu.h"

static void test_lun_peripheral_and_flat(void **state)
{
	uint8_t l[8] = { 0 };
	l[1] = 5;
	assert_int_equal(pdu_lun_decode(l), 5);
	uint8_t flat[8] = { 0x41, 0x2c, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(pdu_lun_decode(flat), 0x12c);
	for (uint64_t lun = 0; lun < 16384; lun += 97) {
		pdu_lun_encode(l, lun);
		assert_int_equal(pdu_lun_decode(l), lun);
	}
	pdu_lun_encode(l, 300);
	assert_int_equal(l[0], 0x41);
	assert_int_equal(l[1], 0x2c);
}

static void test_lun_invalid(void **state)
{
	uint8_t bus[8] = { 0x01, 0x00 };
	assert_true(pdu_lun_decode(bus) == ISCSI_LUN_INVALID);
	uint8_t second_level[8] = { 0, 1, 0, 1, 0, 0, 0, 0 };
	assert_true(pdu_lun_decode(second_level) == ISCSI_LUN_INVALID);
	uint8_t extended[8] = { 0xc0, 0 };
	assert_true(pdu_lun_decode(extended) == ISCSI_LUN_INVALID);
}

static void test_serial_numbers(void **state)
{
	assert_true(sn_lt(1, 2));
	assert_false(sn_lt(2, 2));
	assert_true(sn_le(2, 2));
	assert_true(sn_lt(0xfffffff0u, 5)); /* wraps */
	assert_false(sn_lt(5, 0xfffffff0u));
}

static void test_bhs_fields(void **state)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	pdu_init(bhs, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL);
	pdu_set_data_len(bhs, 0x123456);
	assert_int_equal(pdu_opcode(bhs), ISCSI_OP_SCSI_RSP);
	assert_true(pdu_final(bhs));
	assert_int_equal(pdu_data_len(bhs), 0x123456);
	bhs[0] |= ISCSI_FLAG_IMMEDIATE;
	bhs[ISCSI_OFF_AHS_LEN] = 3;
	assert_true(pdu_immediate(bhs));
	assert_int_equal(pdu_opcode(bhs), ISCSI_OP_SCSI_RSP);
	assert_int_equal(pdu_ahs_len(bhs), 12);
	assert_int_equal(pdu_pad_len(5), 3);
	assert_int_equal(pdu_pad_len(8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lun_peripheral_and_flat),
		cmocka_unit_test(test_lun_invalid),
		cmocka_unit_test(test_serial_numbers),
		cmocka_unit_test(test_bhs_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
