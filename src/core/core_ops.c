/* The core's operation table: commands answered the same way for every
 * device type, looked up before the handler's own table. */
#include <string.h>

#include "core/core_internal.h"
#include "core/emulated.h"

const struct scst_op_desc scst_core_ops[] = {
	{ .opcode = INQUIRY, .cdb_len = 6, .name = "INQUIRY",
	  .flags = SCST_OP_SKIP_UA | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { INQUIRY, 0x01, 0xff, 0xff, 0xff, 0x00 },
	  .parse = scst_inquiry_parse, .exec = scst_inquiry_exec },
	{ .opcode = REPORT_LUNS, .cdb_len = 12, .name = "REPORT LUNS",
	  .flags = SCST_OP_SKIP_UA | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { REPORT_LUNS, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff },
	  .parse = scst_report_luns_parse, .exec = scst_report_luns_exec },
	{ .opcode = REQUEST_SENSE, .cdb_len = 6, .name = "REQUEST SENSE",
	  .flags = SCST_OP_SKIP_UA | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { REQUEST_SENSE, 0x01, 0x00, 0x00, 0xff, 0x00 },
	  .parse = scst_request_sense_parse, .exec = scst_request_sense_exec },
	{ .opcode = MAINTENANCE_IN, .service_action = MI_REPORT_SUPPORTED_OPCODES, .cdb_len = 12,
	  .name = "REPORT SUPPORTED OPERATION CODES",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0x00, 0x00 },
	  .parse = scst_report_opcodes_parse, .exec = scst_report_opcodes_exec },
	{ .opcode = MAINTENANCE_IN, .service_action = MI_REPORT_SUPPORTED_TMFS, .cdb_len = 12,
	  .name = "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { MAINTENANCE_IN, 0x1f, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			 0x00, 0x00 },
	  .parse = scst_report_tmfs_parse, .exec = scst_report_tmfs_exec },
	{ .name = NULL },
};

static struct scst_op_index *core_index;

const struct scst_op_index *scst_core_op_index(void)
{
	return core_index;
}

void scst_core_init(void)
{
	core_index = scst_op_index_build(scst_core_ops);
}

void scst_cmd_copy_response(struct scst_cmd *cmd, const void *data, size_t len)
{
	size_t n = len < cmd->bufflen ? len : cmd->bufflen;

	if (n)
		memcpy(cmd->buf, data, n);
	cmd->resp_data_len = (uint32_t)n;
}
