/* The UNMAP parameter list check (scsi/unmap_list.c): every fault gets
 * its sense, the first fault in list order wins, and the edges (a range
 * ending at the capacity, the last descriptor allowed, an incomplete
 * descriptor) are accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "scsi/scsi.h"
#include "scsi/unmap_list.h"

#define CAPACITY 1000u
static const struct scsi_unmap_limits limits = {
	.capacity = CAPACITY, .max_lba_count = 100, .max_descriptors = 4,
};

/* A list of @n descriptors from @r, with the header's lengths right. */
static uint32_t make_list(uint8_t *buf, const struct scsi_unmap_range *r, uint32_t n)
{
	uint32_t len = SCSI_UNMAP_HEADER_LEN + n * SCSI_UNMAP_DESCRIPTOR_LEN;

	memset(buf, 0, len);
	put_be16(buf, (uint16_t)(len - 2));
	put_be16(buf + 2, (uint16_t)(n * SCSI_UNMAP_DESCRIPTOR_LEN));
	for (uint32_t i = 0; i < n; i++) {
		put_be64(buf + 8 + 16 * i, r[i].lba);
		put_be32(buf + 8 + 16 * i + 8, r[i].nblocks);
	}
	return len;
}

static void expect_fault(const uint8_t *buf, uint32_t len, uint16_t asc, int byte)
{
	struct scsi_sense s;
	uint32_t n;

	assert_false(scsi_unmap_list_check(buf, len, &limits, &n, &s));
	assert_int_equal(s.key, SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, asc);
	if (byte < 0) {
		assert_false(s.has_field_pointer);
	} else {
		assert_true(s.has_field_pointer);
		assert_false(s.in_cdb);
		assert_int_equal(s.byte, byte);
	}
}

static void valid_list(void **state)
{
	struct scsi_unmap_range r[] = { { 0, 10 }, { 990, 10 }, { CAPACITY, 0 }, { 5, 80 } };
	uint8_t buf[128];
	uint32_t len = make_list(buf, r, 4), n = 0;
	struct scsi_sense s;
	struct scsi_unmap_range d;

	assert_true(scsi_unmap_list_check(buf, len, &limits, &n, &s));
	assert_int_equal(n, 4);
	d = scsi_unmap_descriptor(buf, 1);
	assert_int_equal(d.lba, 990);
	assert_int_equal(d.nblocks, 10);
}

static void short_header(void **state)
{
	uint8_t buf[8] = { 0 };

	expect_fault(buf, 7, ASC_PARAMETER_LIST_LENGTH_ERROR, -1);
	expect_fault(buf, 1, ASC_PARAMETER_LIST_LENGTH_ERROR, -1);
}

static void header_past_the_list(void **state)
{
	struct scsi_unmap_range r[] = { { 0, 1 } };
	uint8_t buf[64];
	uint32_t len = make_list(buf, r, 1);

	put_be16(buf, (uint16_t)(len - 1)); /* one byte more than there is */
	expect_fault(buf, len, ASC_PARAMETER_LIST_LENGTH_ERROR, -1);
	make_list(buf, r, 1);
	put_be16(buf, 6 + 32);
	put_be16(buf + 2, 32);
	expect_fault(buf, len, ASC_PARAMETER_LIST_LENGTH_ERROR, -1);
}

static void descriptors_beyond_data_length(void **state)
{
	struct scsi_unmap_range r[] = { { 0, 1 }, { 2, 1 } };
	uint8_t buf[64];
	uint32_t len = make_list(buf, r, 2);

	put_be16(buf, 6 + 16); /* room for one descriptor, two announced */
	expect_fault(buf, len, ASC_INVALID_FIELD_IN_PARAMETER_LIST, 2);
}

static void too_many_descriptors(void **state)
{
	struct scsi_unmap_range r[5] = { { 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 } };
	uint8_t buf[128];
	uint32_t len = make_list(buf, r, 5);

	expect_fault(buf, len, ASC_INVALID_FIELD_IN_PARAMETER_LIST, 2);
}

static void ranges_past_the_end(void **state)
{
	struct scsi_unmap_range r[] = { { 0, 1 }, { CAPACITY - 1, 2 } };
	uint8_t buf[64];
	uint32_t len = make_list(buf, r, 2);

	expect_fault(buf, len, ASC_LBA_OUT_OF_RANGE, -1);
	r[1] = (struct scsi_unmap_range){ CAPACITY, 1 };
	expect_fault(buf, make_list(buf, r, 2), ASC_LBA_OUT_OF_RANGE, -1);
	/* lba + nblocks wraps 64 bits: still past the end. */
	r[1] = (struct scsi_unmap_range){ UINT64_MAX - 1, 4 };
	expect_fault(buf, make_list(buf, r, 2), ASC_LBA_OUT_OF_RANGE, -1);
}

static void too_many_blocks_in_all(void **state)
{
	struct scsi_unmap_range r[] = { { 0, 60 }, { 100, 41 } };
	uint8_t buf[64];
	uint32_t len = make_list(buf, r, 2), n;
	struct scsi_sense s;

	/* The second descriptor's NUMBER OF LOGICAL BLOCKS crosses 100. */
	expect_fault(buf, len, ASC_INVALID_FIELD_IN_PARAMETER_LIST, 8 + 16 + 8);
	r[1].nblocks = 40; /* exactly 100 */
	assert_true(scsi_unmap_list_check(buf, make_list(buf, r, 2), &limits, &n, &s));
}

static void incomplete_descriptor_ignored(void **state)
{
	struct scsi_unmap_range r[] = { { 0, 1 }, { 5000, 1 } };
	uint8_t buf[64];
	uint32_t len = make_list(buf, r, 2), n = 0;
	struct scsi_sense s;

	/* 24 bytes of descriptors: the second (past the end) is incomplete. */
	put_be16(buf + 2, 24);
	assert_true(scsi_unmap_list_check(buf, len, &limits, &n, &s));
	assert_int_equal(n, 1);
}

static void first_fault_wins(void **state)
{
	/* Too many blocks in descriptor 1, past the end in descriptor 2. */
	struct scsi_unmap_range r[] = { { 0, 100 }, { 200, 1 }, { CAPACITY, 5 } };
	uint8_t buf[64];

	expect_fault(buf, make_list(buf, r, 3), ASC_INVALID_FIELD_IN_PARAMETER_LIST, 8 + 16 + 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_list),
		cmocka_unit_test(short_header),
		cmocka_unit_test(header_past_the_list),
		cmocka_unit_test(descriptors_beyond_data_length),
		cmocka_unit_test(too_many_descriptors),
		cmocka_unit_test(ranges_past_the_end),
		cmocka_unit_test(too_many_blocks_in_all),
		cmocka_unit_test(incomplete_descriptor_ignored),
		cmocka_unit_test(first_fault_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
