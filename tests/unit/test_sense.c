/* Sense data encoding: fixed and descriptor formats, field pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi/scsi.h"
#include "scsi/sense.h"

static void fixed_format_basic(void **state)
{
	struct scsi_sense s = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	uint8_t buf[96];
	size_t n = scsi_sense_encode(&s, false, buf, sizeof(buf));

	assert_int_equal(n, 18);
	assert_int_equal(buf[0], 0x70);
	assert_int_equal(buf[2], SK_ILLEGAL_REQUEST);
	assert_int_equal(buf[7], 10);
	assert_int_equal(buf[12], 0x21);
	assert_int_equal(buf[13], 0x00);
	assert_int_equal(buf[15], 0); /* no SKSV */
}

static void fixed_format_field_pointer(void **state)
{
	struct scsi_sense s = scsi_sense_invalid_cdb_field(9, 2);
	uint8_t buf[96];

	scsi_sense_encode(&s, false, buf, sizeof(buf));
	assert_int_equal(buf[12], 0x24);
	/* SKSV | C/D | BPV | bit 2 */
	assert_int_equal(buf[15], 0x80 | 0x40 | 0x08 | 2);
	assert_int_equal(buf[16], 0);
	assert_int_equal(buf[17], 9);
}

static void param_field_pointer_clears_cd(void **state)
{
	struct scsi_sense s = scsi_sense_invalid_param_field(300, -1);
	uint8_t buf[96];

	scsi_sense_encode(&s, false, buf, sizeof(buf));
	assert_int_equal(buf[12], 0x26);
	assert_int_equal(buf[15], 0x80);
	assert_int_equal(buf[16], 300 >> 8);
	assert_int_equal(buf[17], 300 & 0xff);
}

static void fixed_format_information(void **state)
{
	struct scsi_sense s = scsi_sense_make(SK_MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY);
	uint8_t buf[96];

	s.has_information = true;
	s.information = 0x1234;
	scsi_sense_encode(&s, false, buf, sizeof(buf));
	assert_int_equal(buf[0], 0xf0); /* VALID */
	assert_int_equal(buf[5], 0x12);
	assert_int_equal(buf[6], 0x34);
}

static void descriptor_format(void **state)
{
	struct scsi_sense s = scsi_sense_invalid_cdb_field(2, -1);
	uint8_t buf[96];
	size_t n;

	s.has_information = true;
	s.information = 0x0102030405060708ull;
	n = scsi_sense_encode(&s, true, buf, sizeof(buf));
	assert_int_equal(buf[0], 0x72);
	assert_int_equal(buf[1], SK_ILLEGAL_REQUEST);
	assert_int_equal(buf[2], 0x24);
	assert_int_equal(buf[3], 0x00);
	assert_int_equal(n, 8 + 12 + 8);
	assert_int_equal(buf[7], 20);
	/* information descriptor */
	assert_int_equal(buf[8], 0x00);
	assert_int_equal(buf[9], 0x0a);
	assert_int_equal(buf[10], 0x80);
	assert_int_equal(buf[12], 0x01);
	assert_int_equal(buf[19], 0x08);
	/* sense key specific descriptor */
	assert_int_equal(buf[20], 0x02);
	assert_int_equal(buf[21], 0x06);
	assert_int_equal(buf[24], 0x80 | 0x40);
	assert_int_equal(buf[26], 2);
}

/* NOT READY with a progress indication (SANITIZE or FORMAT UNIT in
 * progress): SKSV set, the fraction done in bytes 16-17 (fixed) or 5-6
 * of the sense key specific descriptor. */
static void progress_indication(void **state)
{
	struct scsi_sense s = scsi_sense_make(SK_NOT_READY, ASC_LUN_NOT_READY_SANITIZE_IN_PROGRESS);
	uint8_t buf[96];
	size_t n;

	s.has_progress = true;
	s.progress = 0x8001;
	n = scsi_sense_encode(&s, false, buf, sizeof(buf));
	assert_int_equal(n, 18);
	assert_int_equal(buf[2], SK_NOT_READY);
	assert_int_equal(buf[12], 0x04);
	assert_int_equal(buf[13], 0x1b);
	assert_int_equal(buf[15], 0x80);
	assert_int_equal(buf[16], 0x80);
	assert_int_equal(buf[17], 0x01);
	n = scsi_sense_encode(&s, true, buf, sizeof(buf));
	assert_int_equal(n, 8 + 8);
	assert_int_equal(buf[8], 0x02);
	assert_int_equal(buf[12], 0x80);
	assert_int_equal(buf[13], 0x80);
	assert_int_equal(buf[14], 0x01);
}

static void truncated_to_buffer(void **state)
{
	struct scsi_sense s = scsi_sense_make(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET);
	uint8_t buf[8] = { 0 };

	assert_int_equal(scsi_sense_encode(&s, false, buf, sizeof(buf)), 8);
	assert_int_equal(buf[0], 0x70);
}

static void decode_both_formats(void **state)
{
	struct scsi_sense s = scsi_sense_make(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET);
	uint8_t buf[96], key;
	uint16_t asc;
	size_t n;

	n = scsi_sense_encode(&s, false, buf, sizeof(buf));
	assert_true(scsi_sense_decode(buf, n, &key, &asc));
	assert_int_equal(key, SK_UNIT_ATTENTION);
	assert_int_equal(asc, ASC_POWER_ON_RESET);
	n = scsi_sense_encode(&s, true, buf, sizeof(buf));
	assert_true(scsi_sense_decode(buf, n, &key, &asc));
	assert_int_equal(asc, ASC_POWER_ON_RESET);
	buf[0] = 0x00;
	assert_false(scsi_sense_decode(buf, n, &key, &asc));
	assert_false(scsi_sense_decode(buf, 0, &key, &asc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_format_basic),
		cmocka_unit_test(fixed_format_field_pointer),
		cmocka_unit_test(param_field_pointer_clears_cd),
		cmocka_unit_test(fixed_format_information),
		cmocka_unit_test(descriptor_format),
		cmocka_unit_test(progress_indication),
		cmocka_unit_test(truncated_to_buffer),
		cmocka_unit_test(decode_both_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
