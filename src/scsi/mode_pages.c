/* Mode pages of a direct-access block device (see mode_pages.h).
 *
 * Each page has one encoder that writes the page for a page control value;
 * the CHANGEABLE variant is a mask with a 1 in every bit MODE SELECT may
 * change, the others report one of the device's sets of values (struct
 * mode_values). MODE SELECT checks a page by encoding the current page
 * and the mask and requiring (sent ^ current) & ~mask == 0, so the rules
 * for what may change live in exactly one place per page. */
#include "scsi/mode_pages.h"

#include <assert.h>
#include <string.h>

#include "base/bytes.h"
#include "scsi/scsi.h"

/* The CHS geometry reported for a disk that has none: 64 heads of 32
 * sectors per track, as SCST and most virtual disks report. */
#define GEOM_HEADS 64
#define GEOM_SECTORS 32

#define DEV_SPECIFIC_WP 0x80
#define DEV_SPECIFIC_DPOFUA 0x10

#define CACHING_WCE 0x04
#define CONTROL_D_SENSE 0x04
#define CONTROL_GLTSD 0x02
/* Byte 3 of the control page: QUEUE ALGORITHM MODIFIER in bits 7..4. */
#define CONTROL_QAM_BYTE 3
#define CONTROL_QAM_SHIFT 4
#define CONTROL_QAM_MASK 0xf0
/* The control page's task management and unit attention fields (SPC-4
 * 7.5.8): TST in byte 2 bits 7..5, QERR in byte 3 bits 2..1,
 * UA_INTLCK_CTRL in byte 4 bits 5..4, TAS in byte 5 bit 6. */
#define CONTROL_TST_SHIFT 5
#define CONTROL_TST_MASK 0xe0
#define CONTROL_QERR_SHIFT 1
#define CONTROL_QERR_MASK 0x06
#define CONTROL_UA_INTLCK_BYTE 4
#define CONTROL_UA_INTLCK_SHIFT 4
#define CONTROL_UA_INTLCK_MASK 0x30
#define CONTROL_TAS_BYTE 5
#define CONTROL_TAS 0x40
/* SWP in byte 4 bit 3 (beside UA_INTLCK_CTRL). */
#define CONTROL_SWP 0x08
/* PS in byte 0 of a page: the page is savable. */
#define PAGE_PS 0x80

struct mode_page_desc {
	uint8_t code;
	uint8_t len; /* PAGE LENGTH: bytes after the two-byte header */
	bool savable; /* PS=1: it has saved values (struct mode_values) */
	void (*encode)(uint8_t *pg, enum mode_page_control pc, const struct mode_disk_params *p);
};

static void encode_format_device(uint8_t *pg, enum mode_page_control pc,
				 const struct mode_disk_params *p)
{
	if (pc == MODE_PC_CHANGEABLE)
		return;
	put_be16(pg + 10, GEOM_SECTORS);   /* sectors per track */
	put_be16(pg + 12, (uint16_t)p->block_size); /* data bytes per physical sector */
	put_be16(pg + 14, 1);              /* interleave */
	pg[20] = 0x40;                     /* HSEC: hard sectored */
}

static void encode_rigid_geometry(uint8_t *pg, enum mode_page_control pc,
				  const struct mode_disk_params *p)
{
	if (pc == MODE_PC_CHANGEABLE)
		return;
	uint64_t cylinders = p->nblocks / (GEOM_HEADS * GEOM_SECTORS);

	if (cylinders > 0xffffff)
		cylinders = 0xffffff;
	put_be24(pg + 2, (uint32_t)cylinders);
	pg[5] = GEOM_HEADS;
	/* Medium rotation rate: 1 = non-rotating medium, 0 = not reported. */
	put_be16(pg + 20, p->rotational ? 0 : 1);
}

/* The values a page control other than CHANGEABLE reports. */
static const struct mode_values *values_of(enum mode_page_control pc,
					   const struct mode_disk_params *p)
{
	switch (pc) {
	case MODE_PC_DEFAULT:
		return &p->def;
	case MODE_PC_SAVED:
		return &p->saved;
	default:
		return &p->cur;
	}
}

static void encode_caching(uint8_t *pg, enum mode_page_control pc,
			   const struct mode_disk_params *p)
{
	if (pc == MODE_PC_CHANGEABLE)
		pg[2] = p->wce_fixed ? 0 : CACHING_WCE;
	else
		pg[2] = values_of(pc, p)->wce ? CACHING_WCE : 0;
}

static void encode_control(uint8_t *pg, enum mode_page_control pc,
			   const struct mode_disk_params *p)
{
	if (pc == MODE_PC_CHANGEABLE) {
		pg[2] = CONTROL_TST_MASK | CONTROL_D_SENSE;
		pg[CONTROL_QAM_BYTE] = CONTROL_QAM_MASK | CONTROL_QERR_MASK;
		pg[CONTROL_UA_INTLCK_BYTE] = CONTROL_UA_INTLCK_MASK | CONTROL_SWP;
		pg[CONTROL_TAS_BYTE] = CONTROL_TAS;
		return;
	}
	const struct mode_values *v = values_of(pc, p);

	assert(mode_values_valid(v));
	pg[2] = (uint8_t)(v->tst << CONTROL_TST_SHIFT) | (v->d_sense ? CONTROL_D_SENSE : 0) |
		CONTROL_GLTSD; /* no log parameters are saved */
	pg[CONTROL_QAM_BYTE] = (uint8_t)(v->qam << CONTROL_QAM_SHIFT) |
			       (uint8_t)(v->qerr << CONTROL_QERR_SHIFT);
	pg[CONTROL_UA_INTLCK_BYTE] = (uint8_t)(v->ua_intlck_ctrl << CONTROL_UA_INTLCK_SHIFT) |
				     (v->swp ? CONTROL_SWP : 0);
	pg[CONTROL_TAS_BYTE] = v->tas ? CONTROL_TAS : 0;
	put_be16(pg + 8, 0xffff); /* busy timeout period: unlimited */
}

bool mode_values_equal(const struct mode_values *a, const struct mode_values *b)
{
	return a->wce == b->wce && a->d_sense == b->d_sense && a->swp == b->swp &&
	       a->qam == b->qam && a->tst == b->tst && a->qerr == b->qerr && a->tas == b->tas &&
	       a->ua_intlck_ctrl == b->ua_intlck_ctrl;
}

bool mode_values_valid(const struct mode_values *v)
{
	/* SPC-4 7.5.8: QAM 2..7 reserved (8..15 vendor specific, none
	 * here), TST 2..7 reserved, QERR 10b reserved, UA_INTLCK_CTRL 01b
	 * reserved. */
	return v->qam <= MODE_QAM_UNRESTRICTED && v->tst <= MODE_TST_PER_NEXUS &&
	       v->qerr <= MODE_QERR_ABORT_NEXUS && v->qerr != 2 && v->ua_intlck_ctrl <= 3 &&
	       v->ua_intlck_ctrl != 1;
}

/* In ascending page code order: the order of the all-pages answer. */
static const struct mode_page_desc disk_pages[] = {
	{ .code = MODE_PAGE_FORMAT_DEVICE, .len = 0x16, .encode = encode_format_device },
	{ .code = MODE_PAGE_RIGID_GEOMETRY, .len = 0x16, .encode = encode_rigid_geometry },
	{ .code = MODE_PAGE_CACHING, .len = 0x12, .savable = true, .encode = encode_caching },
	{ .code = MODE_PAGE_CONTROL, .len = 0x0a, .savable = true, .encode = encode_control },
};

#define NPAGES (sizeof(disk_pages) / sizeof(disk_pages[0]))

static const struct mode_page_desc *page_find(uint8_t code)
{
	for (size_t i = 0; i < NPAGES; i++)
		if (disk_pages[i].code == code)
			return &disk_pages[i];
	return NULL;
}

static size_t page_encode(const struct mode_page_desc *d, enum mode_page_control pc,
			  const struct mode_disk_params *p, uint8_t *pg)
{
	memset(pg, 0, 2u + d->len);
	pg[0] = d->code | (d->savable ? PAGE_PS : 0);
	pg[1] = d->len;
	d->encode(pg, pc, p);
	return 2u + d->len;
}

/* ------------------------------------------------------------------ */
/* MODE SENSE */

/* Block descriptor for a direct-access device (SPC-4 7.5.5): short (8
 * bytes) or long LBA (16). Nothing in it is changeable. */
static size_t block_descriptor_encode(bool long_lba, enum mode_page_control pc,
				      const struct mode_disk_params *p, uint8_t *bd)
{
	size_t len = long_lba ? 16 : 8;

	memset(bd, 0, len);
	if (pc == MODE_PC_CHANGEABLE)
		return len;
	if (long_lba) {
		put_be64(bd, p->nblocks);
		put_be32(bd + 12, p->block_size);
	} else {
		put_be32(bd, p->nblocks > 0xffffffffu ? 0xffffffffu : (uint32_t)p->nblocks);
		put_be24(bd + 5, p->block_size);
	}
	return len;
}

/* PC=saved is answered for every page: the savable ones report their
 * saved values, the others (format device, rigid geometry, where nothing
 * can change) their only ones. */
static bool mode_sense_check(const struct scsi_mode_sense_cdb *req, struct scsi_sense *err)
{
	if (req->page != MODE_PAGE_ALL && !page_find(req->page)) {
		*err = scsi_sense_invalid_cdb_field(2, 5);
		return false;
	}
	/* No page here has subpages: only subpage 0, or 0xff ("every
	 * subpage"), which then means the page itself. */
	if (req->subpage != 0 && req->subpage != 0xff) {
		*err = scsi_sense_invalid_cdb_field(3, -1);
		return false;
	}
	return true;
}

int mode_sense_build(const struct scsi_mode_sense_cdb *req, const struct mode_disk_params *p,
		     uint8_t *buf, struct scsi_sense *err)
{
	if (!mode_sense_check(req, err))
		return -1;

	enum mode_page_control pc = req->pc;
	size_t hdr = req->ten ? 8 : 4;
	size_t off = hdr;

	memset(buf, 0, hdr);
	if (!req->dbd) {
		bool long_lba = req->ten && req->llbaa;
		size_t bdl = block_descriptor_encode(long_lba, pc, p, buf + off);

		off += bdl;
		if (req->ten) {
			buf[4] = long_lba ? 0x01 : 0;
			put_be16(buf + 6, (uint16_t)bdl);
		} else {
			buf[3] = (uint8_t)bdl;
		}
	}
	for (size_t i = 0; i < NPAGES; i++) {
		if (req->page == MODE_PAGE_ALL || req->page == disk_pages[i].code)
			off += page_encode(&disk_pages[i], pc, p, buf + off);
	}

	/* WP: the LUN is read-only, or SWP write-protects the medium
	 * (SBC-3 6.4.1: the current write protection). */
	uint8_t dev_specific = DEV_SPECIFIC_DPOFUA |
			       (p->read_only || p->cur.swp ? DEV_SPECIFIC_WP : 0);

	/* MODE DATA LENGTH counts the bytes after itself. */
	if (req->ten) {
		put_be16(buf, (uint16_t)(off - 2));
		buf[3] = dev_specific;
	} else {
		buf[0] = (uint8_t)(off - 1);
		buf[2] = dev_specific;
	}
	return (int)off;
}

/* ------------------------------------------------------------------ */
/* MODE SELECT */

static struct scsi_sense param_list_length_error(void)
{
	return scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
}

static int highest_bit(uint8_t v)
{
	int bit = 7;

	while (bit > 0 && !(v & (1u << bit)))
		bit--;
	return bit;
}

/* Checks the block descriptors at @bd (@bdl bytes, at list offset @base). */
static int check_block_descriptors(const uint8_t *bd, size_t bdl, size_t base, bool long_lba,
				   const struct mode_disk_params *p, struct scsi_sense *err)
{
	size_t each = long_lba ? 16 : 8;
	uint64_t short_nblocks = p->nblocks > 0xffffffffu ? 0xffffffffu : p->nblocks;

	for (size_t off = 0; off + each <= bdl; off += each) {
		const uint8_t *d = bd + off;
		uint64_t nblocks = long_lba ? get_be64(d) : get_be32(d);
		uint32_t block_len = long_lba ? get_be32(d + 12) : get_be24(d + 5);
		uint64_t current = long_lba ? p->nblocks : short_nblocks;

		/* NUMBER OF LOGICAL BLOCKS 0 means "keep the capacity". */
		if (nblocks != 0 && nblocks != current) {
			*err = scsi_sense_invalid_param_field((uint16_t)(base + off), -1);
			return -1;
		}
		if (block_len != p->block_size) {
			*err = scsi_sense_invalid_param_field(
				(uint16_t)(base + off + (long_lba ? 12 : 5)), -1);
			return -1;
		}
	}
	return 0;
}

/* Checks one page at list offset @off (at least 2 bytes are there) and
 * records its changeable fields in @out. Returns the page's total length
 * or -1. */
static int select_one_page(const uint8_t *data, size_t len, size_t off,
			   const struct mode_disk_params *p, struct mode_select_result *out,
			   struct scsi_sense *err)
{
	const uint8_t *pg = data + off;
	/* PS is reserved in MODE SELECT; SPC lets the device ignore it, and
	 * initiators echo back what MODE SENSE gave them. */
	if (pg[0] & 0x40) { /* SPF: we have no subpages */
		*err = scsi_sense_invalid_param_field((uint16_t)off, 6);
		return -1;
	}
	const struct mode_page_desc *d = page_find(pg[0] & 0x3f);

	if (!d) {
		*err = scsi_sense_invalid_param_field((uint16_t)off, 5);
		return -1;
	}
	if (pg[1] != d->len) {
		*err = scsi_sense_invalid_param_field((uint16_t)(off + 1), -1);
		return -1;
	}
	if (off + 2u + d->len > len) {
		*err = param_list_length_error();
		return -1;
	}

	uint8_t current[2 + 255], mask[2 + 255];

	page_encode(d, MODE_PC_CURRENT, p, current);
	page_encode(d, MODE_PC_CHANGEABLE, p, mask);
	for (size_t i = 2; i < 2u + d->len; i++) {
		uint8_t bad = (uint8_t)((pg[i] ^ current[i]) & ~mask[i]);

		if (bad) {
			*err = scsi_sense_invalid_param_field((uint16_t)(off + i),
							      highest_bit(bad));
			return -1;
		}
	}
	if (d->code == MODE_PAGE_CACHING) {
		out->v.wce = pg[2] & CACHING_WCE;
	} else if (d->code == MODE_PAGE_CONTROL) {
		uint8_t qam = pg[CONTROL_QAM_BYTE] >> CONTROL_QAM_SHIFT;
		uint8_t tst = pg[2] >> CONTROL_TST_SHIFT;
		uint8_t qerr = (pg[CONTROL_QAM_BYTE] & CONTROL_QERR_MASK) >> CONTROL_QERR_SHIFT;
		uint8_t ua_intlck = (pg[CONTROL_UA_INTLCK_BYTE] & CONTROL_UA_INTLCK_MASK) >>
				    CONTROL_UA_INTLCK_SHIFT;

		/* The mask lets whole fields through; of their values only
		 * those below exist (the others are reserved in SPC-4). */
		if (qam > MODE_QAM_UNRESTRICTED) {
			*err = scsi_sense_invalid_param_field((uint16_t)(off + CONTROL_QAM_BYTE),
							      7);
			return -1;
		}
		if (tst > MODE_TST_PER_NEXUS) {
			*err = scsi_sense_invalid_param_field((uint16_t)(off + 2), 7);
			return -1;
		}
		if (qerr == 2) {
			*err = scsi_sense_invalid_param_field((uint16_t)(off + CONTROL_QAM_BYTE),
							      2);
			return -1;
		}
		if (ua_intlck == 1) {
			*err = scsi_sense_invalid_param_field(
				(uint16_t)(off + CONTROL_UA_INTLCK_BYTE), 5);
			return -1;
		}
		out->v.d_sense = pg[2] & CONTROL_D_SENSE;
		out->v.swp = pg[CONTROL_UA_INTLCK_BYTE] & CONTROL_SWP;
		out->v.qam = qam;
		out->v.tst = tst;
		out->v.qerr = qerr;
		out->v.ua_intlck_ctrl = ua_intlck;
		out->v.tas = pg[CONTROL_TAS_BYTE] & CONTROL_TAS;
	}
	return 2 + d->len;
}

static bool mode_select_check_cdb(const struct scsi_mode_select_cdb *req,
				  struct scsi_sense *err)
{
	if (!req->pf) { /* only the SPC page format is understood */
		*err = scsi_sense_invalid_cdb_field(1, 4);
		return false;
	}
	return true;
}

int mode_select_parse(const struct scsi_mode_select_cdb *req, const uint8_t *data, size_t len,
		      const struct mode_disk_params *p, struct mode_select_result *out,
		      struct scsi_sense *err)
{
	out->v = p->cur;
	/* SP=1: the caller saves the values (the caching and control
	 * pages' are all there is to save; the other pages' fields cannot
	 * differ from their current values). An empty list sends nothing to
	 * save. */
	out->save = req->sp && len > 0;
	if (!mode_select_check_cdb(req, err))
		return -1;
	if (len == 0) /* no parameter list: nothing to change (SPC-4 6.9) */
		return 0;

	size_t hdr = req->ten ? 8 : 4;

	if (len < hdr) {
		*err = param_list_length_error();
		return -1;
	}
	uint8_t medium_type = data[req->ten ? 2 : 1];
	size_t bdl = req->ten ? get_be16(data + 6) : data[3];
	bool long_lba = req->ten && (data[4] & 0x01);

	if (medium_type != 0) {
		*err = scsi_sense_invalid_param_field(req->ten ? 2 : 1, -1);
		return -1;
	}
	if (bdl % (long_lba ? 16 : 8) != 0) {
		*err = scsi_sense_invalid_param_field(req->ten ? 6 : 3, -1);
		return -1;
	}
	if (hdr + bdl > len) {
		*err = param_list_length_error();
		return -1;
	}
	if (check_block_descriptors(data + hdr, bdl, hdr, long_lba, p, err) < 0)
		return -1;

	for (size_t off = hdr + bdl; off < len;) {
		if (len - off < 2) {
			*err = param_list_length_error();
			return -1;
		}
		int n = select_one_page(data, len, off, p, out, err);

		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}
