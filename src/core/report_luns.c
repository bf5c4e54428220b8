/* REPORT LUNS (SPC-4 6.33): the session's LUN map, whichever LUN the
 * command is addressed to (LUN 0 need not exist). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "core/core_internal.h"
#include "core/emulated.h"

enum select_report {
	SELECT_ALL_BUT_WELL_KNOWN = 0x00,
	SELECT_WELL_KNOWN = 0x01,
	SELECT_ALL = 0x02,
	SELECT_ADMINISTRATIVE = 0x10,
	SELECT_TOP_LEVEL = 0x11,
	SELECT_SUBSIDIARY = 0x12,
};

int scst_report_luns_parse(struct scst_cmd *cmd)
{
	switch (cmd->cdb[2]) {
	case SELECT_ALL_BUT_WELL_KNOWN:
	case SELECT_WELL_KNOWN:
	case SELECT_ALL:
	case SELECT_ADMINISTRATIVE:
	case SELECT_TOP_LEVEL:
	case SELECT_SUBSIDIARY:
		break;
	default:
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be32(cmd->cdb + 6);
	return 0;
}

/* SAM-5 4.7: peripheral device addressing below 256, flat space above. */
static void encode_lun(uint8_t *d, uint64_t lun)
{
	memset(d, 0, 8);
	if (lun < 256) {
		d[1] = (uint8_t)lun;
	} else {
		d[0] = 0x40 | (uint8_t)((lun >> 8) & 0x3f);
		d[1] = (uint8_t)lun;
	}
}

/* Whether a LUN of ours belongs in the list the SELECT REPORT asks for.
 * Every LUN we map is an ordinary (not well-known, not administrative,
 * not subsidiary) logical unit. */
static bool selected(uint8_t select_report)
{
	switch (select_report) {
	case SELECT_ALL_BUT_WELL_KNOWN:
	case SELECT_ALL:
	case SELECT_TOP_LEVEL:
		return true;
	default:
		return false;
	}
}

void scst_report_luns_exec(struct scst_cmd *cmd)
{
	/* The session's current table: the LUNs its group maps now. */
	const struct scst_lun_table *t = scst_session_luns(cmd->sess);
	unsigned nluns = t ? t->n : 0, n = 0;
	uint8_t *d = calloc(1, 8 + 8 * (size_t)nluns);

	if (!d) {
		scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
		scst_cmd_done(cmd);
		return;
	}
	if (selected(cmd->cdb[2])) {
		for (unsigned i = 0; i < nluns; i++)
			encode_lun(d + 8 + 8 * n++, t->tgt_devs[i]->lun);
	}
	put_be32(d, 8 * n);
	scst_cmd_copy_response(cmd, d, 8 + 8 * (size_t)n);
	free(d);
	scst_session_ua_report_luns(cmd->sess);
	scst_cmd_done(cmd);
}
