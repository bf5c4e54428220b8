/* copy_sense.c alone: COPY ABORTED sense data forwarding a copy target's
 * status and sense, every byte, both formats, and what is cut when the
 * buffer is short (xcopy_target_sense checks the same on the wire). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scsi/copy_sense.h"

static const uint8_t target[18] = { 0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0x00 };

static const struct copy_target_failure fail_src = {
	.asc = 0x0d01,
	.segment = 0x0102,
	.cscd_byte = 0x0030,
	.side = COPY_SENSE_SOURCE,
	.status = 0x02,
	.sense = target,
	.sense_len = sizeof(target),
};

static void test_fixed(void **state)
{
	uint8_t b[96], want[37] = {
		0x70, 0, 0x0a, 0, 0, 0, 0, 29, 18, 0, 0x01, 0x02, 0x0d, 0x01, 0, 0x80, 0x00, 0x30,
		0x02,
	};
	struct copy_target_failure dst = fail_src;

	(void)state;
	memcpy(want + 19, target, 18);
	assert_int_equal(scsi_copy_aborted_sense(&fail_src, false, b, sizeof(b)), 37);
	assert_memory_equal(b, want, 37);
	/* The destination's: the other offset. */
	dst.side = COPY_SENSE_DESTINATION;
	want[8] = 0;
	want[9] = 18;
	assert_int_equal(scsi_copy_aborted_sense(&dst, false, b, sizeof(b)), 37);
	assert_memory_equal(b, want, 37);
	/* Room for 18 bytes only: no forwarded sense, no offsets. */
	assert_int_equal(scsi_copy_aborted_sense(&fail_src, false, b, 18), 18);
	assert_int_equal(b[7], 10);
	assert_int_equal(b[8], 0);
	assert_int_equal(b[9], 0);
	assert_int_equal(b[17], 0x30);
	/* Room for 25: the status and the first 6 bytes of the sense. */
	assert_int_equal(scsi_copy_aborted_sense(&fail_src, false, b, 25), 25);
	assert_int_equal(b[7], 17);
	assert_int_equal(b[18], 0x02);
	assert_memory_equal(b + 19, target, 6);
}

static void test_descriptor(void **state)
{
	uint8_t b[96];
	static const uint8_t head[] = {
		0x72, 0x0a, 0x0d, 0x01, 0, 0, 0, 42,
		0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02,
		0x02, 0x06, 0, 0, 0x80, 0x00, 0x30, 0,
		0x0c, 20, 0x01, 0x02,
	};

	(void)state;
	assert_int_equal(scsi_copy_aborted_sense(&fail_src, true, b, sizeof(b)), 50);
	assert_memory_equal(b, head, sizeof(head));
	assert_memory_equal(b + 32, target, 18);
	/* Cut to fit 40 bytes: 8 of the sense, FSDT set. */
	assert_int_equal(scsi_copy_aborted_sense(&fail_src, true, b, 40), 40);
	assert_int_equal(b[7], 32);
	assert_int_equal(b[29], 10);
	assert_int_equal(b[30], 0x81);
	assert_memory_equal(b + 32, target, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_descriptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
