/* LOG SENSE (SPC-4 6.6) and LOG SELECT (SPC-4 6.5), and the log pages of
 * a vdisk (one table, below):
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
 * PAGE CONTROL: every parameter here is a list parameter (FORMAT AND
 * LINKING 11b, binary), a state rather than a count: thresholds and
 * cumulative values are those of data counters (FORMAT AND LINKING 00b
 * and 10b), so a list parameter has one value, and each of the four PC
 * values (current threshold, current cumulative, default threshold,
 * default cumulative) returns it.
 *
 * PPC=1 (SPC-4 6.6.1) asks for the parameters that changed since the last
 * LOG SENSE or LOG SELECT of the page, from the PARAMETER POINTER on: the
 * device keeps what each page last reported (struct vdisk_log_memory,
 * one per device, as "the device server" has it: not per nexus); the
 * first LOG SENSE of a page after start-up has nothing to compare with
 * and reports them all. The supported-pages pages have no parameters:
 * PPC=1 there gets INVALID FIELD IN CDB, byte 1 bit 1. Every LOG SENSE
 * of a page, PPC or not, makes its values the new reference.
 *
 * Nothing is counted, so there is nothing to save or reset: SP=1 (save)
 * gets INVALID FIELD IN CDB in both commands, and every page header sets
 * DS (parameters are not savable). LOG SELECT with no parameter list
 * (PCR=1 "reset", or PC's "set to defaults") is GOOD with no value
 * changed, since no parameter has a default other than its value; it
 * makes the current values the reference for PPC. A parameter list
 * (setting thresholds or values) is refused: no parameter is changeable.
 *
 * The PARAMETER POINTER asks for the parameters from that code on; one
 * beyond the largest code the page has gets INVALID FIELD IN CDB (SPC-4
 * 6.6.1). The supported-pages pages have no parameters and take only 0. */
#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "base/bytes.h"
#include "handlers/vdisk/vdisk_internal.h"

#define LOG_HEADER_LEN 4
#define LOG_MAX_LEN 256 /* the largest page we build, with room to spare */
#define LOG_PAGE_DS 0x80 /* disable save */
#define LOG_PAGE_SPF 0x40 /* subpage format */
/* Parameter control byte: binary format list (FORMAT AND LINKING 11b). */
#define LOG_PARAM_BINARY 0x03
/* CDB byte 1 of LOG SENSE: PPC, SP; of LOG SELECT: PCR, SP. */
#define LOG_SENSE_PPC 0x02
#define LOG_SELECT_PCR 0x02
#define LOG_SP 0x01

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
_Static_assert(LOG_NPAGES <= VDISK_LOG_MEMORY_PAGES, "vdisk_log_memory has a slot per page");
_Static_assert(LOG_MAX_LEN - LOG_HEADER_LEN <= VDISK_LOG_PARAMS_MAX,
	       "vdisk_log_memory holds a whole parameter list");

/* Guards every device's vdisk_log_memory: LOG SENSE is rare, and one
 * lock needs no set-up at attach. */
static pthread_mutex_t log_memory_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* The parameter of @p (@len bytes) with @code: its offset, or -1. */
static long find_param(const uint8_t *p, size_t len, uint16_t code)
{
	for (size_t off = 0; off + 4 <= len; off += 4 + p[off + 3])
		if (get_be16(p + off) == code)
			return (long)off;
	return -1;
}

/* Keeps the parameters of @p (@len bytes) that differ from those in
 * @before (@before_len bytes): a code that was not there, or other
 * bytes. Returns the new length. */
static size_t params_changed(uint8_t *p, size_t len, const uint8_t *before, size_t before_len)
{
	size_t in = 0, out = 0;

	while (in + 4 <= len) {
		size_t plen = 4u + p[in + 3];
		long was = find_param(before, before_len, get_be16(p + in));

		assert(in + plen <= len);
		if (was < 0 || before[was + 3] != p[in + 3] || memcmp(before + was, p + in, plen)) {
			memmove(p + out, p + in, plen);
			out += plen;
		}
		in += plen;
	}
	return out;
}

/* Makes @p (@len bytes, page @index's whole list) the reference of PPC,
 * and returns in @before (if not NULL) the reference it replaces, with
 * its length; -1 there when there was none. Under log_memory_lock. */
static long remember_params(struct vdisk_dev *vd, size_t index, const uint8_t *p, size_t len,
			    uint8_t *before)
{
	struct vdisk_log_memory *m = &vd->log_memory;
	long before_len;

	assert(index < VDISK_LOG_MEMORY_PAGES && len <= VDISK_LOG_PARAMS_MAX);
	pthread_mutex_lock(&log_memory_lock);
	before_len = m->valid[index] ? (long)m->len[index] : -1;
	if (before && before_len >= 0)
		memcpy(before, m->params[index], (size_t)before_len);
	memcpy(m->params[index], p, len);
	m->len[index] = (uint16_t)len;
	m->valid[index] = true;
	pthread_mutex_unlock(&log_memory_lock);
	return before_len;
}

/* Whether the PARAMETER POINTER @pointer names a parameter of the page
 * (@p, its whole list of @len bytes) or one before it: 0 always does. */
static bool pointer_valid(const uint8_t *p, size_t len, uint16_t pointer)
{
	for (size_t off = 0; off + 4 <= len; off += 4 + p[off + 3])
		if (get_be16(p + off) >= pointer)
			return true;
	return pointer == 0;
}

/* Keeps the parameters of @p (@len bytes) whose code is @pointer or more
 * (in ascending order, as every page here lists them); returns the new
 * length. */
static size_t params_from(uint8_t *p, size_t len, uint16_t pointer)
{
	size_t off = 0;

	while (off + 4 <= len && get_be16(p + off) < pointer)
		off += 4 + p[off + 3];
	memmove(p, p + off, len - off);
	return len - off;
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

	if (cdb[1] & LOG_SP) { /* save the parameters */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 0));
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
	if (!lp->has_params && (cdb[1] & LOG_SENSE_PPC)) {
		/* "Changed since the last read" of a list of pages. */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 1));
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
		uint16_t pointer = get_be16(cdb + 5);
		uint8_t before[VDISK_LOG_PARAMS_MAX];
		long before_len;

		/* Beyond the largest code the page has, changed or not. */
		if (!pointer_valid(data + LOG_HEADER_LEN, (size_t)len, pointer)) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(5, -1));
			scst_cmd_done(cmd);
			return;
		}
		before_len = remember_params(c.vd, (size_t)(lp - log_pages), data + LOG_HEADER_LEN,
					     (size_t)len, before);
		/* A page not read since start-up: everything counts as
		 * changed. */
		if ((cdb[1] & LOG_SENSE_PPC) && before_len >= 0)
			len = (long)params_changed(data + LOG_HEADER_LEN, (size_t)len, before,
						   (size_t)before_len);
		len = (long)params_from(data + LOG_HEADER_LEN, (size_t)len, pointer);
	}
	data[0] = LOG_PAGE_DS | (lp->subpage ? LOG_PAGE_SPF : 0) | lp->page;
	data[1] = lp->subpage;
	put_be16(data + 2, (uint16_t)len);
	scst_cmd_copy_response(cmd, data, LOG_HEADER_LEN + (size_t)len);
	scst_cmd_done(cmd);
}

/* ---- LOG SELECT ---- */

int vdisk_parse_log_select(struct scst_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint16_t list_len = get_be16(cdb + 7);

	if (cdb[1] & LOG_SP) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 0));
		return -1;
	}
	if (list_len == 0) {
		/* The page(s) to reset or set to defaults: 0/0 all of them;
		 * else one we have. */
		uint8_t page = cdb[2] & 0x3f, subpage = cdb[3];

		if ((page || subpage) && !find_page(page, subpage, vdisk_of(cmd))) {
			bool page_known = find_page(page, 0, vdisk_of(cmd)) != NULL;

			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(page_known ? 3 : 2, -1));
			return -1;
		}
		return vdisk_parse_no_data(cmd);
	}
	/* SPC-4 6.5: a reset with a parameter list, or a list with the
	 * page named in the CDB too, is an invalid CDB. */
	if (cdb[1] & LOG_SELECT_PCR) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 1));
		return -1;
	}
	if ((cdb[2] & 0x3f) || cdb[3]) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(cdb[2] & 0x3f ? 2 : 3, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = list_len;
	return 0;
}

/* The parameter list: log pages, each header and parameters. Any
 * parameter is one we cannot change; a page with none changes nothing.
 * Returns false with the sense set. */
static bool check_select_list(struct scst_cmd *cmd, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const struct log_page *lp;
		size_t page_len;

		if (off + LOG_HEADER_LEN > len) {
			scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		lp = find_page(p[off] & 0x3f, p[off] & LOG_PAGE_SPF ? p[off + 1] : 0, vdisk_of(cmd));
		page_len = get_be16(p + off + 2);
		if (!lp || !lp->has_params) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_param_field((uint16_t)off, 5));
			return false;
		}
		if (off + LOG_HEADER_LEN + page_len > len) {
			scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		if (page_len) {
			/* Its first parameter: not changeable. */
			scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(
							(uint16_t)(off + LOG_HEADER_LEN), -1));
			return false;
		}
		off += LOG_HEADER_LEN + page_len;
	}
	return true;
}

void vdisk_exec_log_select(struct scst_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct log_ctx c = { .dev = cmd->dev, .vd = vdisk_of(cmd) };
	uint8_t page = cdb[2] & 0x3f, subpage = cdb[3];

	if (cmd->data_dir == SCST_DATA_WRITE) {
		check_select_list(cmd, cmd->buf, vdisk_write_len(cmd));
		scst_cmd_done(cmd);
		return;
	}
	/* Nothing has a default other than its value: the values stay, and
	 * become what PPC=1 compares with. */
	for (size_t i = 0; i < LOG_NPAGES; i++) {
		const struct log_page *lp = &log_pages[i];
		uint8_t params[LOG_MAX_LEN - LOG_HEADER_LEN];
		size_t len;

		if (!lp->has_params || !page_available(lp, c.vd) ||
		    ((page || subpage) && (lp->page != page || lp->subpage != subpage)))
			continue;
		memset(params, 0, sizeof(params));
		len = lp->params(&c, params);
		remember_params(c.vd, i, params, len, NULL);
	}
	scst_cmd_done(cmd);
}
