/* Mode pages: MODE SENSE data layout for each page control, block
 * descriptors, and MODE SELECT validation with its field pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scsi/mode_pages.h"
#include "scsi/scsi.h"

static const struct mode_disk_params params = {
	.nblocks = 0x100000000ull + 5, /* beyond 32 bits: short descriptors saturate */
	.block_size = 4096,
	.rotational = false,
	.cur = { .wce = true, .qam = MODE_QAM_RESTRICTED, .tst = MODE_TST_SHARED,
		 .qerr = MODE_QERR_CONTINUE },
	.def = { .wce = true, .qam = MODE_QAM_RESTRICTED, .tst = MODE_TST_SHARED,
		 .qerr = MODE_QERR_CONTINUE },
	.saved = { .wce = true },
};

/* Finds page @code in MODE SENSE data of header length @hdr. */
static const uint8_t *find_page(const uint8_t *buf, int len, size_t hdr, size_t bdl,
				uint8_t code)
{
	for (int off = (int)(hdr + bdl); off + 2 <= len; off += 2 + buf[off + 1])
		if ((buf[off] & 0x3f) == code)
			return buf + off;
	return NULL;
}

static void test_sense6_all_pages(void **state)
{
	struct scsi_mode_sense_cdb req = { .pc = MODE_PC_CURRENT, .page = MODE_PAGE_ALL };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	int len = mode_sense_build(&req, &params, buf, &err);

	/* 4 header + 8 descriptor + 24 + 24 + 20 + 12 bytes of pages. */
	assert_int_equal(len, 4 + 8 + 24 + 24 + 20 + 12);
	assert_int_equal(buf[0], len - 1);
	assert_int_equal(buf[2], 0x10); /* DPOFUA, not write-protected */
	assert_int_equal(buf[3], 8);
	assert_memory_equal(buf + 4, "\xff\xff\xff\xff", 4);
	assert_int_equal(buf[9] << 16 | buf[10] << 8 | buf[11], 4096);

	const uint8_t *caching = find_page(buf, len, 4, 8, MODE_PAGE_CACHING);
	const uint8_t *control = find_page(buf, len, 4, 8, MODE_PAGE_CONTROL);
	const uint8_t *geometry = find_page(buf, len, 4, 8, MODE_PAGE_RIGID_GEOMETRY);
	const uint8_t *format = find_page(buf, len, 4, 8, MODE_PAGE_FORMAT_DEVICE);

	assert_non_null(caching);
	assert_non_null(control);
	assert_non_null(geometry);
	assert_non_null(format);
	assert_int_equal(caching[1], 0x12);
	assert_int_equal(caching[2] & 0x04, 0x04); /* WCE */
	assert_int_equal(control[1], 0x0a);
	assert_int_equal(control[2] & 0x04, 0);    /* D_SENSE off */
	assert_int_equal(control[8] << 8 | control[9], 0xffff);
	assert_int_equal(geometry[20] << 8 | geometry[21], 1); /* non-rotating */
	assert_int_equal(format[12] << 8 | format[13], 4096);
	/* Ascending page order. */
	assert_true(format < geometry && geometry < caching && caching < control);
}

static void test_sense10_long_lba_and_dbd(void **state)
{
	struct scsi_mode_sense_cdb req = { .ten = true, .llbaa = true, .page = MODE_PAGE_CONTROL };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	struct mode_disk_params p = params;

	p.read_only = true;
	p.cur.d_sense = true;
	int len = mode_sense_build(&req, &p, buf, &err);

	assert_int_equal(len, 8 + 16 + 12);
	assert_int_equal(buf[0] << 8 | buf[1], len - 2);
	assert_int_equal(buf[3], 0x90); /* WP | DPOFUA */
	assert_int_equal(buf[4] & 1, 1); /* LONGLBA */
	assert_int_equal(buf[6] << 8 | buf[7], 16);
	assert_int_equal(buf[8 + 7], 5);
	assert_int_equal(buf[8 + 3], 1); /* 0x1_0000_0005 blocks */
	assert_int_equal(buf[24], 0x80 | MODE_PAGE_CONTROL);
	assert_int_equal(buf[26] & 0x04, 0x04);

	req.dbd = true;
	len = mode_sense_build(&req, &p, buf, &err);
	assert_int_equal(len, 8 + 12);
	assert_int_equal(buf[6] << 8 | buf[7], 0);
}

static void test_sense_changeable_and_default(void **state)
{
	struct scsi_mode_sense_cdb req = { .dbd = true, .pc = MODE_PC_CHANGEABLE,
					   .page = MODE_PAGE_ALL };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	struct mode_disk_params p = params;
	int len = mode_sense_build(&req, &p, buf, &err);
	const uint8_t *caching = find_page(buf, len, 4, 0, MODE_PAGE_CACHING);
	const uint8_t *control = find_page(buf, len, 4, 0, MODE_PAGE_CONTROL);
	const uint8_t *format = find_page(buf, len, 4, 0, MODE_PAGE_FORMAT_DEVICE);

	assert_int_equal(caching[2], 0x04);
	assert_int_equal(control[2], 0xe4); /* TST, D_SENSE */
	assert_int_equal(control[3], 0xf6); /* QUEUE ALGORITHM MODIFIER, QERR */
	assert_int_equal(control[4], 0x38); /* UA_INTLCK_CTRL, SWP */
	assert_int_equal(control[5], 0x40); /* TAS */
	for (int i = 6; i < 12; i++)
		assert_int_equal(control[i], 0);
	for (int i = 2; i < 24; i++)
		assert_int_equal(format[i], 0);

	/* write_through: WCE is fixed. */
	p.wce_fixed = true;
	len = mode_sense_build(&req, &p, buf, &err);
	caching = find_page(buf, len, 4, 0, MODE_PAGE_CACHING);
	assert_int_equal(caching[2], 0);

	p.cur.wce = false; /* current differs from default */
	req.pc = MODE_PC_DEFAULT;
	len = mode_sense_build(&req, &p, buf, &err);
	caching = find_page(buf, len, 4, 0, MODE_PAGE_CACHING);
	assert_int_equal(caching[2] & 0x04, 0x04);
}

/* PC=saved reports the saved set, which differs from current and
 * default here; PS is 1 on the caching and control pages only. */
static void test_sense_saved(void **state)
{
	struct scsi_mode_sense_cdb req = { .dbd = true, .pc = MODE_PC_SAVED,
					   .page = MODE_PAGE_ALL };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	struct mode_disk_params p = params;
	int len;

	p.saved.wce = false;
	p.saved.swp = true;
	p.saved.d_sense = true;
	p.saved.tst = MODE_TST_PER_NEXUS;
	len = mode_sense_build(&req, &p, buf, &err);
	assert_true(len > 0);

	const uint8_t *caching = find_page(buf, len, 4, 0, MODE_PAGE_CACHING);
	const uint8_t *control = find_page(buf, len, 4, 0, MODE_PAGE_CONTROL);
	const uint8_t *format = find_page(buf, len, 4, 0, MODE_PAGE_FORMAT_DEVICE);
	const uint8_t *geometry = find_page(buf, len, 4, 0, MODE_PAGE_RIGID_GEOMETRY);

	assert_int_equal(caching[0], 0x80 | MODE_PAGE_CACHING);
	assert_int_equal(control[0], 0x80 | MODE_PAGE_CONTROL);
	assert_int_equal(format[0], MODE_PAGE_FORMAT_DEVICE);
	assert_int_equal(geometry[0], MODE_PAGE_RIGID_GEOMETRY);
	assert_int_equal(caching[2] & 0x04, 0);
	assert_int_equal(control[2], 0x20 | 0x04 | 0x02); /* TST 1, D_SENSE, GLTSD */
	assert_int_equal(control[4], 0x08);               /* SWP */
	/* WP follows the current SWP, not the saved one. */
	assert_int_equal(buf[2] & 0x80, 0);
	req.pc = MODE_PC_CURRENT;
	p.cur.swp = true;
	len = mode_sense_build(&req, &p, buf, &err);
	control = find_page(buf, len, 4, 0, MODE_PAGE_CONTROL);
	assert_int_equal(control[4], 0x08);
	assert_int_equal(buf[2] & 0x80, 0x80);
}

static void test_values_valid(void **state)
{
	struct mode_values v = params.cur;

	assert_true(mode_values_valid(&v));
	v.qerr = 2;
	assert_false(mode_values_valid(&v));
	v = params.cur;
	v.ua_intlck_ctrl = 1;
	assert_false(mode_values_valid(&v));
	v = params.cur;
	v.tst = 2;
	assert_false(mode_values_valid(&v));
	v = params.cur;
	v.qam = 2;
	assert_false(mode_values_valid(&v));
}

/* QUEUE ALGORITHM MODIFIER, control page byte 3 bits 7..4, for each page
 * control: the current value, the mask, and the default. */
static void test_sense_qam(void **state)
{
	struct scsi_mode_sense_cdb req = { .dbd = true, .page = MODE_PAGE_CONTROL };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	struct mode_disk_params p = params;

	p.cur.qerr = 1; /* shares the byte: must survive beside QAM */
	assert_int_equal(mode_sense_build(&req, &p, buf, &err), 4 + 12);
	assert_int_equal(buf[4], 0x80 | MODE_PAGE_CONTROL); /* PS: savable */
	assert_int_equal(buf[4 + 3], 0x02);

	p.cur.qam = MODE_QAM_UNRESTRICTED;
	mode_sense_build(&req, &p, buf, &err);
	assert_int_equal(buf[4 + 3], 0x12);

	req.pc = MODE_PC_CHANGEABLE;
	mode_sense_build(&req, &p, buf, &err);
	assert_int_equal(buf[4 + 3], 0xf6);

	req.pc = MODE_PC_DEFAULT; /* neither current value is the default */
	mode_sense_build(&req, &p, buf, &err);
	assert_int_equal(buf[4 + 3], 0x00);
}

/* TST, QERR, UA_INTLCK_CTRL and TAS: where each sits in the current page,
 * and that DEFAULT reports them all 0 whatever they are now. */
static void test_sense_task_fields(void **state)
{
	struct scsi_mode_sense_cdb req = { .dbd = true, .page = MODE_PAGE_CONTROL };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	struct mode_disk_params p = params;

	p.cur.tst = MODE_TST_PER_NEXUS;
	p.cur.qerr = MODE_QERR_ABORT_NEXUS;
	p.cur.ua_intlck_ctrl = 2;
	p.cur.tas = true;
	assert_int_equal(mode_sense_build(&req, &p, buf, &err), 4 + 12);
	assert_int_equal(buf[4 + 2], 0x20 | 0x02); /* TST 1, GLTSD */
	assert_int_equal(buf[4 + 3], 0x06);        /* QERR 11b */
	assert_int_equal(buf[4 + 4], 0x20);        /* UA_INTLCK_CTRL 10b */
	assert_int_equal(buf[4 + 5], 0x40);        /* TAS */

	req.pc = MODE_PC_DEFAULT;
	mode_sense_build(&req, &p, buf, &err);
	assert_int_equal(buf[4 + 2], 0x02);
	assert_int_equal(buf[4 + 3], 0x00);
	assert_int_equal(buf[4 + 4], 0x00);
	assert_int_equal(buf[4 + 5], 0x00);
}

static void test_sense_errors(void **state)
{
	struct scsi_mode_sense_cdb req = { .pc = MODE_PC_CURRENT, .page = MODE_PAGE_CACHING };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;

	req.page = 0x1c; /* informational exceptions: not served */
	assert_int_equal(mode_sense_build(&req, &params, buf, &err), -1);
	assert_int_equal(err.asc, ASC_INVALID_FIELD_IN_CDB);
	assert_true(err.in_cdb);
	assert_int_equal(err.byte, 2);

	req.page = MODE_PAGE_CONTROL;
	req.subpage = 0x01;
	assert_int_equal(mode_sense_build(&req, &params, buf, &err), -1);
	assert_int_equal(err.byte, 3);

	req.page = MODE_PAGE_ALL;
	req.subpage = 0xff; /* every page and subpage */
	assert_true(mode_sense_build(&req, &params, buf, &err) > 0);
}

/* MODE SELECT's refusal of a parameter list field: ILLEGAL REQUEST,
 * INVALID FIELD IN PARAMETER LIST, pointing at list byte @byte, bit @bit. */
static void assert_list_field(const struct scsi_sense *err, unsigned byte, unsigned bit)
{
	assert_int_equal(err->key, SK_ILLEGAL_REQUEST);
	assert_int_equal(err->asc, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	assert_true(err->has_field_pointer);
	assert_false(err->in_cdb);
	assert_int_equal(err->byte, byte);
	assert_true(err->bit_valid);
	assert_int_equal(err->bit, bit);
}

/* A MODE SELECT(6) list: header, no descriptor, then the current page
 * @code as MODE SENSE reports it (so an unchanged list is valid). */
static size_t select6_list(uint8_t *list, uint8_t code, const struct mode_disk_params *p)
{
	struct scsi_mode_sense_cdb req = { .dbd = true, .page = code };
	uint8_t buf[MODE_SENSE_MAX_LEN];
	struct scsi_sense err;
	int len = mode_sense_build(&req, p, buf, &err);

	assert_true(len > 4);
	memset(list, 0, 4);
	memcpy(list + 4, buf + 4, (size_t)len - 4);
	return (size_t)len;
}

static void test_select_changes_wce_and_d_sense(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[64];
	size_t len = select6_list(list, MODE_PAGE_CACHING, &params);

	list[4 + 2] &= (uint8_t)~0x04; /* WCE off */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), 0);
	assert_false(r.v.wce);
	assert_false(r.v.d_sense);

	len = select6_list(list, MODE_PAGE_CONTROL, &params);
	list[4 + 2] |= 0x04; /* D_SENSE on */
	list[4] |= 0x80;     /* PS echoed back from MODE SENSE: ignored */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), 0);
	assert_true(r.v.wce);
	assert_true(r.v.d_sense);
}

static void test_select_refuses_fixed_field(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[64];
	size_t len = select6_list(list, MODE_PAGE_CONTROL, &params);

	list[4 + 4] |= 0x40; /* RAC: not changeable */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
	assert_list_field(&err, 8, 6);

	/* The busy timeout period (bytes 8-9) is fixed too. */
	len = select6_list(list, MODE_PAGE_CONTROL, &params);
	list[4 + 9] = 0x10;
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
	assert_list_field(&err, 4 + 9, 7); /* 0xff became 0x10 */

	/* WCE under write_through. */
	struct mode_disk_params p = params;

	p.wce_fixed = true;
	len = select6_list(list, MODE_PAGE_CACHING, &p);
	list[4 + 2] &= (uint8_t)~0x04;
	assert_int_equal(mode_select_parse(&req, list, len, &p, &r, &err), -1);
	assert_list_field(&err, 4 + 2, 2);
}

/* SWP on and off; SP=1 asks for the values to be saved. */
static void test_select_swp_and_save(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[64];
	size_t len = select6_list(list, MODE_PAGE_CONTROL, &params);

	list[4 + 4] |= 0x08;
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), 0);
	assert_true(r.v.swp);
	assert_false(r.save);

	struct mode_disk_params p = params;

	p.cur.swp = true;
	len = select6_list(list, MODE_PAGE_CONTROL, &p);
	list[4 + 4] &= (uint8_t)~0x08;
	req.sp = true;
	assert_int_equal(mode_select_parse(&req, list, len, &p, &r, &err), 0);
	assert_false(r.v.swp);
	assert_true(r.save);
}

static void test_select_qam(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[64];
	size_t len = select6_list(list, MODE_PAGE_CONTROL, &params);

	list[4 + 3] = (uint8_t)((list[4 + 3] & 0x0f) | MODE_QAM_UNRESTRICTED << 4);
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), 0);
	assert_int_equal(r.v.qam, MODE_QAM_UNRESTRICTED);
	assert_false(r.v.d_sense);
	assert_true(r.v.wce);

	/* And back to restricted, from unrestricted. */
	struct mode_disk_params p = params;

	p.cur.qam = MODE_QAM_UNRESTRICTED;
	len = select6_list(list, MODE_PAGE_CONTROL, &p);
	assert_int_equal(list[4 + 3] >> 4, MODE_QAM_UNRESTRICTED);
	list[4 + 3] &= 0x0f;
	assert_int_equal(mode_select_parse(&req, list, len, &p, &r, &err), 0);
	assert_int_equal(r.v.qam, MODE_QAM_RESTRICTED);

	/* 2 is reserved (and 8..15 vendor specific, none ours): the field
	 * pointer names the QAM field's first bit, list byte 4 + 3 bit 7. */
	static const uint8_t refused[] = { 2, 7, 8, 15 };

	for (size_t i = 0; i < sizeof(refused); i++) {
		len = select6_list(list, MODE_PAGE_CONTROL, &params);
		list[4 + 3] = (uint8_t)((list[4 + 3] & 0x0f) | refused[i] << 4);
		assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
		assert_list_field(&err, 4 + 3, 7);
	}
}

static void test_select_task_fields(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[64];
	size_t len = select6_list(list, MODE_PAGE_CONTROL, &params);

	list[4 + 2] |= 0x20; /* TST 1 */
	list[4 + 3] |= 0x02; /* QERR 01b */
	list[4 + 4] |= 0x30; /* UA_INTLCK_CTRL 11b */
	list[4 + 5] |= 0x40; /* TAS */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), 0);
	assert_int_equal(r.v.tst, MODE_TST_PER_NEXUS);
	assert_int_equal(r.v.qerr, MODE_QERR_ABORT_ALL);
	assert_int_equal(r.v.ua_intlck_ctrl, 3);
	assert_true(r.v.tas);
	assert_int_equal(r.v.qam, MODE_QAM_RESTRICTED); /* the rest unchanged */
	assert_true(r.v.wce);

	/* And each back to 0 from a page that has them set. */
	struct mode_disk_params p = params;

	p.cur.tst = MODE_TST_PER_NEXUS;
	p.cur.qerr = MODE_QERR_ABORT_NEXUS;
	p.cur.ua_intlck_ctrl = 2;
	p.cur.tas = true;
	len = select6_list(list, MODE_PAGE_CONTROL, &p);
	list[4 + 2] &= 0x1f;
	list[4 + 3] &= 0xf9;
	list[4 + 4] &= 0xcf;
	list[4 + 5] &= 0xbf;
	assert_int_equal(mode_select_parse(&req, list, len, &p, &r, &err), 0);
	assert_int_equal(r.v.tst, MODE_TST_SHARED);
	assert_int_equal(r.v.qerr, MODE_QERR_CONTINUE);
	assert_int_equal(r.v.ua_intlck_ctrl, 0);
	assert_false(r.v.tas);

	/* Reserved values: TST 2..7, QERR 10b, UA_INTLCK_CTRL 01b, each
	 * refused with a pointer at its field's first bit. */
	static const struct {
		uint8_t byte, set, bit;
	} refused[] = {
		{ 2, 0x40, 7 }, { 2, 0xe0, 7 }, { 3, 0x04, 2 }, { 4, 0x10, 5 },
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		len = select6_list(list, MODE_PAGE_CONTROL, &params);
		list[4 + refused[i].byte] |= refused[i].set;
		assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
		assert_list_field(&err, 4 + refused[i].byte, refused[i].bit);
	}
}

static void test_select_page_structure_errors(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[64];
	size_t len = select6_list(list, MODE_PAGE_CACHING, &params);

	list[5] = 0x10; /* wrong page length */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
	assert_int_equal(err.asc, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	assert_int_equal(err.byte, 5);

	len = select6_list(list, MODE_PAGE_CACHING, &params);
	assert_int_equal(mode_select_parse(&req, list, len - 1, &params, &r, &err), -1);
	assert_int_equal(err.asc, ASC_PARAMETER_LIST_LENGTH_ERROR);

	list[4] = 0x1c; /* unknown page */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
	assert_int_equal(err.byte, 4);

	list[4] = 0x40 | MODE_PAGE_CACHING; /* SPF: no subpages here */
	assert_int_equal(mode_select_parse(&req, list, len, &params, &r, &err), -1);
	assert_int_equal(err.bit, 6);

	assert_int_equal(mode_select_parse(&req, list, 3, &params, &r, &err), -1);
	assert_int_equal(err.asc, ASC_PARAMETER_LIST_LENGTH_ERROR);
}

static void test_select_cdb_bits(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = false };
	struct mode_select_result r;
	struct scsi_sense err;

	assert_int_equal(mode_select_parse(&req, NULL, 0, &params, &r, &err), -1);
	assert_true(err.in_cdb);
	assert_int_equal(err.byte, 1);
	assert_int_equal(err.bit, 4);

	req.pf = true; /* an empty list changes nothing */
	assert_int_equal(mode_select_parse(&req, NULL, 0, &params, &r, &err), 0);
	assert_true(r.v.wce);
}

static void test_select10_block_descriptor(void **state)
{
	struct scsi_mode_select_cdb req = { .pf = true, .ten = true };
	struct mode_select_result r;
	struct scsi_sense err;
	uint8_t list[8 + 8] = { 0 };

	list[7] = 8; /* one short descriptor, nothing else */
	list[8 + 6] = 0x10; /* block length 4096 */
	assert_int_equal(mode_select_parse(&req, list, sizeof(list), &params, &r, &err), 0);

	list[8 + 6] = 0x02; /* 512: a change we cannot make */
	assert_int_equal(mode_select_parse(&req, list, sizeof(list), &params, &r, &err), -1);
	assert_int_equal(err.asc, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	assert_int_equal(err.byte, 8 + 5);

	list[7] = 16; /* descriptor runs past the list */
	assert_int_equal(mode_select_parse(&req, list, sizeof(list), &params, &r, &err), -1);
	assert_int_equal(err.asc, ASC_PARAMETER_LIST_LENGTH_ERROR);

	list[7] = 4; /* not a whole descriptor */
	assert_int_equal(mode_select_parse(&req, list, sizeof(list), &params, &r, &err), -1);
	assert_int_equal(err.byte, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sense6_all_pages),
		cmocka_unit_test(test_sense10_long_lba_and_dbd),
		cmocka_unit_test(test_sense_changeable_and_default),
		cmocka_unit_test(test_sense_qam),
		cmocka_unit_test(test_sense_task_fields),
		cmocka_unit_test(test_sense_saved),
		cmocka_unit_test(test_values_valid),
		cmocka_unit_test(test_sense_errors),
		cmocka_unit_test(test_select_changes_wce_and_d_sense),
		cmocka_unit_test(test_select_refuses_fixed_field),
		cmocka_unit_test(test_select_swp_and_save),
		cmocka_unit_test(test_select_qam),
		cmocka_unit_test(test_select_task_fields),
		cmocka_unit_test(test_select_page_structure_errors),
		cmocka_unit_test(test_select_cdb_bits),
		cmocka_unit_test(test_select10_block_descriptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
