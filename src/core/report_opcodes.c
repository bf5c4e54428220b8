/* REPORT SUPPORTED OPERATION CODES (SPC-4 6.35, SPC-5 6.36), answered
 * from the same operation tables PARSE uses: the core's, then the device
 * handler's; with RCTD=1 each command's timeouts descriptor, from its
 * row (struct scst_op_timeouts) or, where the row gives none, from what
 * its flags say it does. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "core/core_internal.h"
#include "core/emulated.h"
#include "scsi/cdb.h"

enum reporting_options {
	REPORT_ALL = 0,
	REPORT_ONE_OPCODE = 1,         /* opcode without service actions */
	REPORT_ONE_SERVICE_ACTION = 2, /* opcode + service action */
	REPORT_ONE_EITHER = 3,         /* opcode, with service action if it has them */
};

#define RSOC_RCTD 0x80
#define ALL_DESCRIPTOR_LEN 8
#define TIMEOUTS_DESCRIPTOR_LEN 12
#define SUPPORT_NOT_SUPPORTED 0x1
#define SUPPORT_STANDARD 0x3
#define CTDP 0x80
#define SERVACTV 0x01

/* The timeouts of a row that gives none, by what its command does. A
 * command that reads or writes blocks moves at most the maximum transfer
 * length (8 MiB) through the page cache or the device: milliseconds
 * usually, but a store under load can take seconds, and 30 s is what
 * Linux's sd and most initiators wait by default. One that touches no
 * block (INQUIRY, MODE SENSE, PERSISTENT RESERVE ...) answers from
 * memory, or writes one small state file (MODE SELECT with SP=1, PR
 * with APTPL=1). */
static const struct scst_op_timeouts media_access_timeouts = { .nominal = 1, .recommended = 30 };
static const struct scst_op_timeouts no_media_timeouts = { .nominal = 1, .recommended = 10 };

#define MEDIA_ACCESS_FLAGS (SCST_OP_WRITES_MEDIUM | SCST_OP_PR_READ | SCST_OP_RANGE_READER)

static struct scst_op_timeouts scst_op_timeouts_of(const struct scst_op_desc *op)
{
	if (op->timeouts.nominal || op->timeouts.recommended) {
		/* SPC-5 6.36.4: the recommended timeout should not be less
		 * than the nominal one; a row that says so is a typo. */
		assert(op->timeouts.recommended >= op->timeouts.nominal);
		return op->timeouts;
	}
	return op->flags & MEDIA_ACCESS_FLAGS ? media_access_timeouts : no_media_timeouts;
}

/* COMMAND SPECIFIC is 0: SPC-5 defines it for WRITE BUFFER's microcode
 * modes only, and SBC-4 for none of the commands we serve. */
static void put_timeouts_descriptor(const struct scst_op_desc *op, uint8_t *d)
{
	struct scst_op_timeouts t = scst_op_timeouts_of(op);

	memset(d, 0, TIMEOUTS_DESCRIPTOR_LEN);
	put_be16(d, TIMEOUTS_DESCRIPTOR_LEN - 2);
	put_be32(d + 4, t.nominal);
	put_be32(d + 8, t.recommended);
}

int scst_report_opcodes_parse(struct scst_cmd *cmd)
{
	uint8_t options = cmd->cdb[2] & 0x07;

	if (options > REPORT_ONE_EITHER) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, 2));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be32(cmd->cdb + 6);
	return 0;
}

/* The tables this command's device answers from, in lookup order. */
static unsigned op_tables(const struct scst_cmd *cmd, const struct scst_op_desc *tables[2])
{
	unsigned n = 0;

	tables[n++] = scst_core_ops;
	if (cmd->dev)
		tables[n++] = cmd->dev->handler->ops;
	return n;
}

/* Whether the LUN serves the row's command (its available() says so). */
static bool served(const struct scst_cmd *cmd, const struct scst_op_desc *op)
{
	return !op->available || (cmd->tgt_dev && op->available(cmd->tgt_dev));
}

/* Whether the all-commands list names the row (SCST_OP_RSOC_ONE_COMMAND_ONLY). */
static bool listed(const struct scst_cmd *cmd, const struct scst_op_desc *op)
{
	return served(cmd, op) && !(op->flags & SCST_OP_RSOC_ONE_COMMAND_ONLY);
}

static const struct scst_op_desc *find_op(const struct scst_cmd *cmd, uint8_t opcode,
					  bool with_sa, uint16_t sa)
{
	const struct scst_op_desc *tables[2];
	unsigned n = op_tables(cmd, tables);

	for (unsigned t = 0; t < n; t++) {
		for (const struct scst_op_desc *d = tables[t]; d->name; d++) {
			bool has_sa = d->flags & SCST_OP_HAS_SERVICE_ACTION;

			if (d->opcode != opcode || !served(cmd, d))
				continue;
			if (!has_sa || !with_sa || d->service_action == sa)
				return d;
		}
	}
	return NULL;
}

/* The CONTROL byte's NACA bit: every command honours it (ACA, tmf.c). */
#define USAGE_CONTROL_NACA 0x04

static void fill_usage(const struct scst_op_desc *d, uint8_t *usage)
{
	unsigned control = scsi_cdb_control_byte(d->opcode, d->cdb_len);
	bool given = false;

	assert(d->cdb_len <= sizeof(d->cdb_usage));
	for (unsigned i = 1; i < sizeof(d->cdb_usage); i++)
		given |= d->cdb_usage[i] != 0;
	if (given) {
		memcpy(usage, d->cdb_usage, d->cdb_len);
	} else {
		memset(usage + 1, 0xff, d->cdb_len - 1u);
		usage[control] = 0x00;
	}
	usage[0] = d->opcode;
	usage[control] |= USAGE_CONTROL_NACA;
}

static size_t report_all(const struct scst_cmd *cmd, bool rctd, uint8_t **out)
{
	const struct scst_op_desc *tables[2];
	unsigned ntables = op_tables(cmd, tables), count = 0;
	size_t desc_len = ALL_DESCRIPTOR_LEN + (rctd ? TIMEOUTS_DESCRIPTOR_LEN : 0);
	size_t n = 4;
	uint8_t *d;

	for (unsigned t = 0; t < ntables; t++)
		for (const struct scst_op_desc *op = tables[t]; op->name; op++)
			count += listed(cmd, op);
	d = calloc(1, 4 + count * desc_len);
	if (!d)
		return 0;
	for (unsigned t = 0; t < ntables; t++) {
		for (const struct scst_op_desc *op = tables[t]; op->name; op++) {
			bool has_sa = op->flags & SCST_OP_HAS_SERVICE_ACTION;

			/* A core command shadows a handler's entry for the same
			 * code; a row the LUN does not serve is not listed. */
			if (!listed(cmd, op) ||
			    (t > 0 && find_op(cmd, op->opcode, has_sa, op->service_action) != op))
				continue;
			d[n] = op->opcode;
			put_be16(d + n + 2, has_sa ? op->service_action : 0);
			d[n + 5] = (has_sa ? SERVACTV : 0) | (rctd ? 0x02 : 0);
			put_be16(d + n + 6, op->cdb_len);
			if (rctd)
				put_timeouts_descriptor(op, d + n + ALL_DESCRIPTOR_LEN);
			n += desc_len;
		}
	}
	put_be32(d, (uint32_t)(n - 4));
	*out = d;
	return n;
}

static size_t report_one(const struct scst_op_desc *op, bool rctd, uint8_t *d)
{
	size_t n;

	memset(d, 0, 4);
	if (!op) {
		d[1] = SUPPORT_NOT_SUPPORTED;
		return 4;
	}
	d[1] = SUPPORT_STANDARD | (rctd ? CTDP : 0);
	put_be16(d + 2, op->cdb_len);
	fill_usage(op, d + 4);
	n = 4 + op->cdb_len;
	if (rctd) {
		put_timeouts_descriptor(op, d + n);
		n += TIMEOUTS_DESCRIPTOR_LEN;
	}
	return n;
}

/* Whether @opcode is one with service actions: a property of the code,
 * whether or not this LUN serves any of them. */
static bool opcode_has_service_actions(const struct scst_cmd *cmd, uint8_t opcode)
{
	const struct scst_op_desc *tables[2];
	unsigned n = op_tables(cmd, tables);

	for (unsigned t = 0; t < n; t++)
		for (const struct scst_op_desc *d = tables[t]; d->name; d++)
			if (d->opcode == opcode)
				return d->flags & SCST_OP_HAS_SERVICE_ACTION;
	return false;
}

void scst_report_opcodes_exec(struct scst_cmd *cmd)
{
	uint8_t options = cmd->cdb[2] & 0x07, opcode = cmd->cdb[3];
	uint16_t sa = get_be16(cmd->cdb + 4);
	bool rctd = cmd->cdb[2] & RSOC_RCTD;
	bool has_sa = opcode_has_service_actions(cmd, opcode);
	uint8_t one[4 + SCSI_MAX_CDB_LEN + TIMEOUTS_DESCRIPTOR_LEN], *all = NULL;
	size_t n;

	switch (options) {
	case REPORT_ALL:
		n = report_all(cmd, rctd, &all);
		if (!n) {
			scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
			break;
		}
		scst_cmd_copy_response(cmd, all, n);
		free(all);
		break;
	case REPORT_ONE_OPCODE:
	case REPORT_ONE_SERVICE_ACTION:
		/* Options 1 and 2 each apply to one kind of opcode only. */
		if (has_sa != (options == REPORT_ONE_SERVICE_ACTION)) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(3, -1));
			break;
		}
		/* fall through */
	case REPORT_ONE_EITHER:
		n = report_one(find_op(cmd, opcode, has_sa, sa), rctd, one);
		scst_cmd_copy_response(cmd, one, n);
		break;
	}
	scst_cmd_done(cmd);
}
