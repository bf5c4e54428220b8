/* LOG SENSE, SPC-4 6.6, and the log pages of a vdisk (one table, below):
 *
 *   0x00/0x00  Supported Log Pages
 *   0x00/0xff  Supported Log Pages and Subpages
 *   0x0c       Logical Block Provisioning (SBC-4 6.4.3), thin LUNs only:
 *              available and used LBA mapping resource counts
 *   0x0d       Temperature: a virtual disk has none (0xff, "no valid
 *              temperature"), reported so that tools that poll it get an
 *              answer rather than an error
 *   0x2f       Informational Exceptions: no exception, ever
 *
 * Nothing is counted, so there is nothing to save or reset: SP=1 (save)
 * gets INVALID FIELD IN CDB, and so does PPC=1 (SPC-3's "changed since
 * the last read", which needs exactly that bookkeeping). Every PAGE
 * CONTROL gets the same, current, values: thresholds we do not have read
 * as the values themselves, and "default cumulative" values of counts
 * that are not counters are the counts. Every page header sets DS
 * (parameters are not savable).
 *
 * The PARAMETER POINTER asks for the parameters from that code on; one
 * beyond the largest code the page has gets INVALID FIELD IN CDB (SPC-4
 * 6.6.1). The supported-pages pages have no parameters and take only 0. */
#include <string.h>

#include "base/bytes.h"
#include "handlers/vdisk/vdisk_internal.h"

#define LOG_HEADER_LEN 4
#define LOG_MAX_LEN 256 /* the largest page we build, with room to spare */
#define LOG_PAGE_DS 0x80 /* disable save */
#define LOG_PAGE_SPF 0x40 /* subpage format */
/* Parameter control byte: binary format list (FORMAT AND LINKING 11b). */
#define LOG_PARAM_BINARY 0x03

/* What a page builder needs. */
struct log_ctx {
	const struct scst_device *dev;
	struct vdisk_dev *vd;
};

/* One log page: its codes, whether the LUN has it, and its parameter
 * list (written at @p, its length returned; at most LOG_MAX_LEN - 4). */
struct log_page {
	uint8_t page;
	uint8_t subpage;
	bool (*available)(const struct vdisk_dev *vd); /* NULL: always */
	size_t (*params)(const struct log_ctx *c, uint8_t *p);
	/* Whether its parameters are log parameters the PARAMETER POINTER
	 * selects from (not so for the lists of pages). */
	bool has_params;
};

static size_t supported_pages(const struct log_ctx *c, uint8_t *p);
static size_t supported_subpages(const struct log_ctx *c, uint8_t *p);
static size_t provisioning_params(const struct log_ctx *c, uint8_t *p);
static size_t temperature_params(const struct log_ctx *c, uint8_t *p);
static size_t exception_params(const struct log_ctx *c, uint8_t *p);

static bool thin_only(const struct vdisk_dev *vd)
{
	return vdisk_is_thin(vd);
}

/* In ascending (page, subpage) order: the supported-pages lists are
 * built from it in that order. */
static const struct log_page log_pages[] = {
	{ .page = 0x00, .subpage = 0x00, .params = supported_pages },
	{ .page = 0x00, .subpage = 0xff, .params = supported_subpages },
	{ .page = 0x0c, .subpage = 0x00, .available = thin_only, .params = provisioning_params,
	  .has_params = true },
	{ .page = 0x0d, .subpage = 0x00, .params = temperature_params, .has_params = true },
	{ .page = 0x2f, .subpage = 0x00, .params = exception_params, .has_params = true },
};
#define LOG_NPAGES (sizeof(log_pages) / sizeof(log_pages[0]))

static bool page_available(const struct log_page *lp, const struct vdisk_dev *vd)
{
	return !lp->available || lp->available(vd);
}

static size_t supported_pages(const struct log_ctx *c, uint8_t *p)
{
	size_t n = 0;

	for (size_t i = 0; i < LOG_NPAGES; i++)
		if (log_pages[i].subpage == 0 && page_available(&log_pages[i], c->vd))
			p[n++] = log_pages[i].page;
	return n;
}

static size_t supported_subpages(const struct log_ctx *c, uint8_t *p)
{
	size_t n = 0;

	for (size_t i = 0; i < LOG_NPAGES; i++) {
		if (!page_available(&log_pages[i], c->vd))
			continue;
		p[n++] = log_pages[i].page;
		p[n++] = log_pages[i].subpage;
	}
	return n;
}

/* A log parameter's 4-byte header; returns where its value goes. */
static uint8_t *put_param(uint8_t *p, uint16_t code, uint8_t len)
{
	put_be16(p, code);
	p[2] = LOG_PARAM_BINARY;
	p[3] = len;
	return p + 4;
}

/* SBC-4 table 207: RESOURCE COUNT in threshold sets (VPD 0xb2's exponent),
 * then the SCOPE: 01b dedicated to this LUN, 10b shared with others. */
#define LBP_AVAILABLE_RESOURCE 0x0001
#define LBP_USED_RESOURCE 0x0002
#define LBP_SCOPE_DEDICATED 0x01
#define LBP_SCOPE_NOT_DEDICATED 0x02
#define LBP_PARAM_LEN 8

static uint32_t threshold_sets(uint64_t bytes)
{
	uint64_t sets = bytes / VDISK_THRESHOLD_BYTES;

	return sets > UINT32_MAX ? UINT32_MAX : (uint32_t)sets;
}

/* A file: what it occupies (st_blocks) is used, and what its file system
 * has left (statvfs) is available, shared with every other file there. A
 * block device cannot tell: the page has no parameters. */
static size_t provisioning_params(const struct log_ctx *c, uint8_t *p)
{
	uint64_t used, avail;
	uint8_t *v;

	if (!c->vd->mode->backend->space || !c->vd->mode->backend->space(c->vd, &used, &avail))
		return 0;
	v = put_param(p, LBP_AVAILABLE_RESOURCE, LBP_PARAM_LEN);
	put_be32(v, threshold_sets(avail));
	v[4] = c->vd->mode->backend->no_medium ? LBP_SCOPE_DEDICATED : LBP_SCOPE_NOT_DEDICATED;
	v = put_param(v + LBP_PARAM_LEN, LBP_USED_RESOURCE, LBP_PARAM_LEN);
	put_be32(v, threshold_sets(used));
	v[4] = LBP_SCOPE_DEDICATED;
	return 2 * (4 + LBP_PARAM_LEN);
}

#define NO_TEMPERATURE 0xff

/* SPC-4 7.3.21: TEMPERATURE (0x0000) and REFERENCE TEMPERATURE (0x0001),
 * each a reserved byte and the degrees Celsius. */
static size_t temperature_params(const struct log_ctx *c, uint8_t *p)
{
	uint8_t *v;

	(void)c;
	v = put_param(p, 0x0000, 2);
	v[1] = NO_TEMPERATURE;
	v = put_param(v + 2, 0x0001, 2);
	v[1] = NO_TEMPERATURE;
	return 2 * (4 + 2);
}

/* SPC-4 7.3.8: parameter 0x0000, INFORMATIONAL EXCEPTION ADDITIONAL SENSE
 * CODE and QUALIFIER 0 (no exception), MOST RECENT TEMPERATURE READING. */
static size_t exception_params(const struct log_ctx *c, uint8_t *p)
{
	uint8_t *v;

	(void)c;
	v = put_param(p, 0x0000, 4);
	v[2] = NO_TEMPERATURE;
	return 4 + 4;
}

/* Keeps the parameters of @p (@len bytes) whose code is @pointer or more;
 * returns the new length, or -1 when no parameter has such a code. */
static long params_from(uint8_t *p, size_t len, uint16_t pointer)
{
	size_t off = 0;

	if (pointer == 0)
		return (long)len;
	while (off + 4 <= len && get_be16(p + off) < pointer)
		off += 4 + p[off + 3];
	if (off >= len)
		return -1;
	memmove(p, p + off, len - off);
	return (long)(len - off);
}

static const struct log_page *find_page(uint8_t page, uint8_t subpage, const struct vdisk_dev *vd)
{
	for (size_t i = 0; i < LOG_NPAGES; i++)
		if (log_pages[i].page == page && log_pages[i].subpage == subpage &&
		    page_available(&log_pages[i], vd))
			return &log_pages[i];
	return NULL;
}

int vdisk_parse_log_sense(struct scst_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint8_t page = cdb[2] & 0x3f, subpage = cdb[3];
	const struct log_page *lp;

	if (cdb[1] & 0x01) { /* SP: save the parameters */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 0));
		return -1;
	}
	if (cdb[1] & 0x02) { /* PPC */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 1));
		return -1;
	}
	lp = find_page(page, subpage, vdisk_of(cmd));
	if (!lp) {
		/* A page we have, with a subpage we do not: the subpage is
		 * the field at fault. */
		bool page_known = find_page(page, 0, vdisk_of(cmd)) != NULL;

		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(page_known ? 3 : 2, -1));
		return -1;
	}
	if (!lp->has_params && get_be16(cdb + 5)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(5, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be16(cdb + 7); /* 0 is legal: GOOD, no data */
	return 0;
}

void vdisk_exec_log_sense(struct scst_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct log_ctx c = { .dev = cmd->dev, .vd = vdisk_of(cmd) };
	const struct log_page *lp = find_page(cdb[2] & 0x3f, cdb[3], c.vd);
	uint8_t data[LOG_MAX_LEN];
	long len;

	/* PARSE found it, and what a LUN has does not change at run time. */
	if (!lp) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, -1));
		scst_cmd_done(cmd);
		return;
	}
	memset(data, 0, sizeof(data));
	len = (long)lp->params(&c, data + LOG_HEADER_LEN);
	if (lp->has_params) {
		len = params_from(data + LOG_HEADER_LEN, (size_t)len, get_be16(cdb + 5));
		if (len < 0) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(5, -1));
			scst_cmd_done(cmd);
			return;
		}
	}
	data[0] = LOG_PAGE_DS | (lp->subpage ? LOG_PAGE_SPF : 0) | lp->page;
	data[1] = lp->subpage;
	put_be16(data + 2, (uint16_t)len);
	scst_cmd_copy_response(cmd, data, LOG_HEADER_LEN + (size_t)len);
	scst_cmd_done(cmd);
}
