/* copy_params.c alone: the EXTENDED COPY(LID1) parameter list decoded,
 * and each fault with the sense and field pointer it must give
 * (docs/copy.md's table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "core/copy_params.h"
#include "scsi/scsi.h"

#define HDR 16
#define CSCD 32
#define SEG 28

static uint8_t list[HDR + 17 * CSCD + 129 * SEG + 64];

/* A good list: two CSCD descriptors (NAA), a 0x02 and a 0x0A segment. */
static size_t good_list(void)
{
	size_t n = HDR + 2 * CSCD + SEG + 32;

	memset(list, 0, sizeof(list));
	list[0] = 9;
	put_be16(list + 2, 2 * CSCD);
	put_be32(list + 8, SEG + 32);
	for (int i = 0; i < 2; i++) {
		uint8_t *d = list + HDR + i * CSCD;

		d[0] = 0xe4;
		d[4] = 0x01;
		d[5] = 0x03;
		d[7] = 8;
		memset(d + 8, 0x60 + i, 8);
		put_be24(d + 29, 512);
	}
	uint8_t *s = list + HDR + 2 * CSCD;

	s[0] = 0x02;
	s[1] = 0x02; /* DC */
	put_be16(s + 2, 0x18);
	put_be16(s + 6, 1);
	put_be16(s + 10, 77);
	put_be64(s + 12, 1000);
	put_be64(s + 20, 2000);
	s += SEG;
	s[0] = 0x0a;
	put_be16(s + 2, 0x1c);
	put_be16(s + 4, 1);
	put_be32(s + 8, 4096);
	put_be64(s + 12, 3);
	put_be64(s + 20, 4);
	return n;
}

static void test_good(void **state)
{
	struct copy_plan plan;
	struct scsi_sense sense;
	size_t n = good_list();

	(void)state;
	assert_true(copy_lid1_parse(list, n, &plan, &sense));
	assert_int_equal(plan.list_id, 9);
	assert_int_equal(plan.list_id_usage, COPY_LIST_ID_HOLD);
	assert_int_equal(plan.ncscds, 2);
	assert_int_equal(plan.nsegments, 2);
	assert_int_equal(plan.cscds[1].designator_type, 3);
	assert_int_equal(plan.cscds[1].designator_len, 8);
	assert_int_equal(plan.cscds[1].designator[0], 0x61);
	assert_int_equal(plan.cscds[1].block_len, 512);
	assert_int_equal(plan.cscds[1].offset, HDR + CSCD);
	assert_true(plan.segments[0].dc);
	assert_int_equal(plan.segments[0].nblocks, 77);
	assert_int_equal(plan.segments[0].src_lba, 1000);
	assert_int_equal(plan.segments[0].dst_lba, 2000);
	assert_int_equal(plan.segments[0].dst, 1);
	assert_int_equal(plan.segments[1].type, 0x0a);
	assert_int_equal(plan.segments[1].nbytes, 4096);
	assert_int_equal(plan.segments[1].src, 1);
	assert_int_equal(plan.segments[1].offset, HDR + 2 * CSCD + SEG);
	/* Bytes past the lists (a longer parameter list) are ignored. */
	assert_true(copy_lid1_parse(list, n + 10, &plan, &sense));
}

/* The fault @mutate makes, with @len bytes sent: @asc and (@byte >= 0)
 * the field pointer. */
struct fault {
	const char *what;
	void (*mutate)(void);
	int len_delta;
	uint16_t asc;
	int byte;
	int bit;
};

static void m_usage01(void) { list[1] = 0x08; }
static void m_usage11(void) { list[1] = 0x18; }
static void m_usage11_zero(void) { list[1] = 0x18; list[0] = 0; }
static void m_reserved_hdr(void) { list[7] = 1; }
static void m_reserved_b1(void) { list[1] = 0x80; }
static void m_inline(void) { put_be32(list + 12, 4); }
static void m_cscd_len(void) { put_be16(list + 2, 2 * CSCD - 4); put_be32(list + 8, SEG + 32 + 4); }
static void m_cscd_type(void) { list[HDR] = 0xe5; }
static void m_pdt(void) { list[HDR + CSCD + 1] = 0x05; }
static void m_desig_len(void) { list[HDR + 7] = 21; }
static void m_byte28(void) { list[HDR + 28] = 0x80; }
static void m_pad_ok(void) { list[HDR + 28] = 0x04; list[HDR + 1] = 0xe0; }
static void m_block_len0(void) { put_be24(list + HDR + CSCD + 29, 0); }
static void m_seg_type(void) { list[HDR + 2 * CSCD + SEG] = 0x0b; }
static void m_seg_len(void) { put_be16(list + HDR + 2 * CSCD + 2, 0x1c); }
static void m_seg_b1(void) { list[HDR + 2 * CSCD + 1] = 0x04; }
static void m_seg_b1_0a(void) { list[HDR + 2 * CSCD + SEG + 1] = 0x02; }
static void m_seg_b8(void) { list[HDR + 2 * CSCD + 8] = 1; }
static void m_offsets(void)
{
	put_be16(list + HDR + 2 * CSCD + SEG + 28, 511);
	put_be16(list + HDR + 2 * CSCD + SEG + 30, 1);
	put_be32(list + HDR + 2 * CSCD + SEG + 8, 1001);
}
static void m_too_long(void) { put_be32(list + 8, 4096); }
static void m_seg_cut(void) { put_be32(list + 8, SEG + 30); }

static void m_17_cscds(void)
{
	put_be16(list + 2, 17 * CSCD);
	put_be32(list + 8, 0);
	for (int i = 0; i < 17; i++) {
		list[HDR + i * CSCD] = 0xe4;
		put_be24(list + HDR + i * CSCD + 29, 512);
	}
}

static void m_129_segs(void)
{
	put_be32(list + 8, 129 * SEG);
	for (int i = 0; i < 129; i++) {
		uint8_t *s = list + HDR + 2 * CSCD + i * SEG;

		memset(s, 0, SEG);
		s[0] = 0x02;
		put_be16(s + 2, 0x18);
	}
}

#define PLL_ERR ASC_PARAMETER_LIST_LENGTH_ERROR
#define BAD ASC_INVALID_FIELD_IN_PARAMETER_LIST
static const struct fault faults[] = {
	{ "LIST ID USAGE 01b", m_usage01, 0, BAD, 1, 4 },
	{ "LIST ID USAGE 11b, list id 9", m_usage11, 0, BAD, 0, -1 },
	{ "reserved header byte 1 bit 7", m_reserved_b1, 0, BAD, 1, 7 },
	{ "reserved header byte 7", m_reserved_hdr, 0, BAD, 4, -1 },
	{ "inline data", m_inline, 4, ASC_INLINE_DATA_LENGTH_EXCEEDED, -1, -1 },
	{ "CSCD list of 60 bytes", m_cscd_len, 0, BAD, 2, -1 },
	{ "CSCD type 0xE5", m_cscd_type, 0, ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE, HDR, -1 },
	{ "device type 5", m_pdt, 0, BAD, HDR + CSCD + 1, 4 },
	{ "designator length 21", m_desig_len, 0, BAD, HDR + 7, -1 },
	{ "byte 28 bit 7", m_byte28, 0, BAD, HDR + 28, -1 },
	{ "DISK BLOCK LENGTH 0", m_block_len0, 0, BAD, HDR + CSCD + 29, -1 },
	{ "segment type 0x0B", m_seg_type, 0, ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE,
	  HDR + 2 * CSCD + SEG, -1 },
	{ "0x02 descriptor length 0x1C", m_seg_len, 0, BAD, HDR + 2 * CSCD + 2, -1 },
	{ "0x02 byte 1 bit 2", m_seg_b1, 0, BAD, HDR + 2 * CSCD + 1, -1 },
	{ "0x0A byte 1 bit 1 (no DC)", m_seg_b1_0a, 0, BAD, HDR + 2 * CSCD + SEG + 1, -1 },
	{ "0x02 reserved byte 8", m_seg_b8, 0, BAD, HDR + 2 * CSCD + 8, -1 },
	{ "17 CSCD descriptors", m_17_cscds, 17 * CSCD, ASC_TOO_MANY_TARGET_DESCRIPTORS, -1, -1 },
	{ "129 segments", m_129_segs, 129 * SEG, ASC_TOO_MANY_SEGMENT_DESCRIPTORS, -1, -1 },
	{ "lists longer than 4096", m_too_long, 4096, PLL_ERR, -1, -1 },
	{ "a segment cut by the list length", m_seg_cut, 0, PLL_ERR, -1, -1 },
};

static void test_faults(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		const struct fault *f = &faults[i];
		struct copy_plan plan;
		struct scsi_sense sense;
		size_t n = good_list();

		f->mutate();
		print_message("%s\n", f->what);
		assert_false(copy_lid1_parse(list, (size_t)((long)n + f->len_delta), &plan, &sense));
		assert_int_equal(sense.key, SK_ILLEGAL_REQUEST);
		assert_int_equal(sense.asc, f->asc);
		if (f->byte < 0)
			continue;
		assert_true(sense.has_field_pointer);
		assert_false(sense.in_cdb);
		assert_int_equal(sense.byte, f->byte);
		assert_int_equal(sense.bit_valid, f->bit >= 0);
		if (f->bit >= 0)
			assert_int_equal(sense.bit, f->bit);
	}
}

static void test_lengths(void **state)
{
	struct copy_plan plan;
	struct scsi_sense sense;
	size_t n = good_list();

	(void)state;
	/* Shorter than the header, shorter than the header says. */
	assert_false(copy_lid1_parse(list, 15, &plan, &sense));
	assert_int_equal(sense.asc, PLL_ERR);
	assert_false(copy_lid1_parse(list, n - 1, &plan, &sense));
	assert_int_equal(sense.asc, PLL_ERR);
	/* No descriptors at all is a valid (empty) list. */
	memset(list, 0, HDR);
	assert_true(copy_lid1_parse(list, HDR, &plan, &sense));
	assert_int_equal(plan.nsegments, 0);
}

static void test_accepted(void **state)
{
	struct copy_plan plan;
	struct scsi_sense sense;
	size_t n = good_list();

	(void)state;
	/* LIST ID USAGE 11b with list id 0; obsolete LU ID TYPE and NUL,
	 * PAD: all taken. */
	m_usage11_zero();
	assert_true(copy_lid1_parse(list, n, &plan, &sense));
	assert_int_equal(plan.list_id_usage, COPY_LIST_ID_NONE);
	n = good_list();
	m_pad_ok();
	assert_true(copy_lid1_parse(list, n, &plan, &sense));
	/* 0x0A byte offsets and a length of no whole blocks are decoded;
	 * copy_job.c checks them against the block sizes
	 * (test_copy_offset.c). */
	n = good_list();
	m_offsets();
	assert_true(copy_lid1_parse(list, n, &plan, &sense));
	assert_int_equal(plan.segments[1].src_byte_off, 511);
	assert_int_equal(plan.segments[1].dst_byte_off, 1);
	assert_int_equal(plan.segments[1].nbytes, 1001);
	assert_int_equal(plan.segments[0].src_byte_off, 0);
	/* The longest list taken: 16 CSCD and 128 segments fit. */
	n = good_list();
	put_be16(list + 2, 16 * CSCD);
	put_be32(list + 8, 128 * SEG);
	for (int i = 0; i < 16; i++) {
		memset(list + HDR + i * CSCD, 0, CSCD);
		list[HDR + i * CSCD] = 0xe4;
		put_be24(list + HDR + i * CSCD + 29, 512);
	}
	for (int i = 0; i < 128; i++) {
		uint8_t *s = list + HDR + 16 * CSCD + i * SEG;

		memset(s, 0, SEG);
		s[0] = 0x02;
		put_be16(s + 2, 0x18);
	}
	assert_true(copy_lid1_parse(list, HDR + 16 * CSCD + 128 * SEG, &plan, &sense));
	assert_int_equal(plan.ncscds, 16);
	assert_int_equal(plan.nsegments, 128);
}

/* The same lists behind a LID4 header (48 bytes). */
static size_t good_lid4(uint8_t *l)
{
	size_t n = good_list();

	memset(l, 0, 48);
	l[0] = 0x01;
	put_be32(l + 20, 0x12345678);
	put_be16(l + 42, 2 * CSCD);
	put_be16(l + 44, SEG + 32);
	memcpy(l + 48, list + HDR, n - HDR);
	return 48 + n - HDR;
}

static void test_lid4(void **state)
{
	static uint8_t l[sizeof(list) + 48];
	static const struct { size_t byte; uint8_t value; int bit; } bad[] = {
		{ 0, 0x02, -1 },  /* LIST FORMAT */
		{ 9, 0x01, -1 },  /* reserved */
		{ 15, 0x04, -1 }, /* reserved bit */
		{ 17, 0x01, -1 }, /* reserved */
		{ 30, 0x01, -1 }, /* reserved */
	};
	struct copy_plan plan;
	struct scsi_sense sense;
	size_t n = good_lid4(l);

	(void)state;
	assert_true(copy_lid4_parse(l, n, &plan, &sense));
	assert_true(plan.lid4);
	assert_int_equal(plan.list_id, 0x12345678);
	assert_int_equal(plan.ncscds, 2);
	assert_int_equal(plan.nsegments, 2);
	assert_int_equal(plan.cscds[1].offset, 48 + CSCD);
	assert_int_equal(plan.segments[1].offset, 48 + 2 * CSCD + SEG);
	assert_false(plan.immed);
	l[15] = 0x02; /* G_SENSE: taken */
	assert_true(copy_lid4_parse(l, n, &plan, &sense));
	assert_false(plan.immed);
	l[15] = 0x03; /* IMMED: taken, the copy runs in the background */
	assert_true(copy_lid4_parse(l, n, &plan, &sense));
	assert_true(plan.immed);
	/* IMMED without a list identifier (LIST ID USAGE 11b): refused. */
	l[1] = 3 << 3;
	put_be32(l + 20, 0);
	assert_false(copy_lid4_parse(l, n, &plan, &sense));
	assert_int_equal(sense.asc, BAD);
	assert_int_equal(sense.byte, 15);
	assert_true(sense.bit_valid);
	assert_int_equal(sense.bit, 0);
	l[15] = 0x00;
	assert_true(copy_lid4_parse(l, n, &plan, &sense));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = good_lid4(l);
		l[bad[i].byte] |= bad[i].value;
		assert_false(copy_lid4_parse(l, n, &plan, &sense));
		assert_int_equal(sense.asc, BAD);
		assert_int_equal(sense.byte, bad[i].byte);
		assert_int_equal(sense.bit_valid, bad[i].bit >= 0);
	}
	n = good_lid4(l);
	assert_false(copy_lid4_parse(l, 47, &plan, &sense));
	assert_int_equal(sense.asc, PLL_ERR);
	assert_false(copy_lid4_parse(l, n - 1, &plan, &sense));
	assert_int_equal(sense.asc, PLL_ERR);
	/* LIST ID USAGE 11b wants LIST IDENTIFIER 0, pointed at byte 20. */
	l[1] = 0x18;
	assert_false(copy_lid4_parse(l, n, &plan, &sense));
	assert_int_equal(sense.byte, 20);
	/* A header CSCD descriptor list: refused at its first descriptor
	 * whatever its type (an ROD CSCD descriptor, FEh; E4h), once it
	 * fits in the list. */
	for (int type = 0; type < 2; type++) {
		n = good_lid4(l);
		memmove(l + 48 + CSCD, l + 48, n - 48);
		memset(l + 48, 0, CSCD);
		l[48] = type ? 0xe4 : 0xfe;
		put_be16(l + 2, CSCD);
		assert_false(copy_lid4_parse(l, n + CSCD, &plan, &sense));
		assert_int_equal(sense.key, SK_ILLEGAL_REQUEST);
		assert_int_equal(sense.asc, ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE);
		assert_true(sense.has_field_pointer && !sense.in_cdb && !sense.bit_valid);
		assert_int_equal(sense.byte, 48);
		assert_false(copy_lid4_parse(l, n + CSCD - 1, &plan, &sense));
		assert_int_equal(sense.asc, PLL_ERR);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_lid4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
