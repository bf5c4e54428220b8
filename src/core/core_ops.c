/* The core's operation table: commands answered the same way for every
 * device type, looked up before the handler's own table. */
#include <string.h>

#include "core/alua.h"
#include "core/copy_mgr.h"
#include "core/copy_odx.h"
#include "core/core_internal.h"
#include "core/emulated.h"

/* EXTENDED COPY moves up to 128 segments of 256 MiB (copy_params.h)
 * with IMMED=0: 32 GiB at 100 MB/s is over 5 minutes (REPORT SUPPORTED
 * OPERATION CODES' timeouts, in seconds). */
#define COPY_TIMEOUTS { .nominal = 5, .recommended = 600 }

const struct scst_op_desc scst_core_ops[] = {
	{ .opcode = INQUIRY, .cdb_len = 6, .name = "INQUIRY",
	  .flags = SCST_OP_SKIP_UA | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ANY_LUN | SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK | SCST_OP_ALUA_OFFLINE_OK |
		   SCST_OP_NOT_READY_OK,
	  .cdb_usage = { INQUIRY, 0x01, 0xff, 0xff, 0xff, 0x00 },
	  .parse = scst_inquiry_parse, .exec = scst_inquiry_exec },
	{ .opcode = REPORT_LUNS, .cdb_len = 12, .name = "REPORT LUNS",
	  .flags = SCST_OP_SKIP_UA | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ANY_LUN | SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK | SCST_OP_ALUA_OFFLINE_OK |
		   SCST_OP_NOT_READY_OK,
	  .cdb_usage = { REPORT_LUNS, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff },
	  .parse = scst_report_luns_parse, .exec = scst_report_luns_exec },
	{ .opcode = REQUEST_SENSE, .cdb_len = 6, .name = "REQUEST SENSE",
	  .flags = SCST_OP_SKIP_UA | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ANY_LUN | SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK | SCST_OP_ALUA_OFFLINE_OK |
		   SCST_OP_NOT_READY_OK,
	  .cdb_usage = { REQUEST_SENSE, 0x01, 0x00, 0x00, 0xff, 0x00 },
	  .parse = scst_request_sense_parse, .exec = scst_request_sense_exec },
	{ .opcode = MAINTENANCE_IN, .service_action = MI_REPORT_SUPPORTED_OPCODES, .cdb_len = 12,
	  .name = "REPORT SUPPORTED OPERATION CODES",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK |
		   SCST_OP_NOT_READY_OK,
	  .cdb_usage = { MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0x00, 0x00 },
	  .parse = scst_report_opcodes_parse, .exec = scst_report_opcodes_exec },
	{ .opcode = MAINTENANCE_IN, .service_action = MI_REPORT_SUPPORTED_TMFS, .cdb_len = 12,
	  .name = "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK |
		   SCST_OP_NOT_READY_OK,
	  .cdb_usage = { MAINTENANCE_IN, 0x1f, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			 0x00, 0x00 },
	  .parse = scst_report_tmfs_parse, .exec = scst_report_tmfs_exec },
	/* ALUA (alua.c). STPG has no PR flag: it conflicts with a persistent
	 * reservation the nexus has no access under (SPC-4 table 72). */
	{ .opcode = MAINTENANCE_IN, .service_action = MI_REPORT_TARGET_PGS, .cdb_len = 12,
	  .name = "REPORT TARGET PORT GROUPS",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK | SCST_OP_ALUA_OFFLINE_OK,
	  .cdb_usage = { MAINTENANCE_IN, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			 0x00, 0x00 },
	  .parse = scst_rtpg_parse, .exec = scst_rtpg_exec },
	{ .opcode = MAINTENANCE_OUT, .service_action = MO_SET_TARGET_PGS, .cdb_len = 12,
	  .name = "SET TARGET PORT GROUPS",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_ALUA_UNAVAILABLE_OK | SCST_OP_ALUA_OFFLINE_OK,
	  .cdb_usage = { MAINTENANCE_OUT, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			 0x00, 0x00 },
	  .parse = scst_stpg_parse, .exec = scst_stpg_exec, .available = scst_stpg_available },
	/* Reservations. PERSISTENT RESERVE IN and OUT run under every
	 * persistent reservation (SPC-4 table 72; OUT checks its own rules,
	 * 5.13) but conflict with another nexus's SPC-2 reservation (SPC-3
	 * 5.6.3); RESERVE and RELEASE decide about persistent reservations
	 * themselves, and RELEASE from another nexus is a no-op (SPC-2 7.24). */
	{ .opcode = PERSISTENT_RESERVE_IN, .cdb_len = 10, .name = "PERSISTENT RESERVE IN",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { PERSISTENT_RESERVE_IN, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
			 0x00 },
	  .parse = scst_pr_in_parse, .exec = scst_pr_in_exec },
	{ .opcode = PERSISTENT_RESERVE_OUT, .cdb_len = 10, .name = "PERSISTENT RESERVE OUT",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { PERSISTENT_RESERVE_OUT, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			 0x00 },
	  .parse = scst_pr_out_parse, .exec = scst_pr_out_exec },
	{ .opcode = RESERVE_6, .cdb_len = 6, .name = "RESERVE(6)",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { RESERVE_6, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  .parse = scst_reserve_parse, .exec = scst_reserve_exec },
	{ .opcode = RESERVE_10, .cdb_len = 10, .name = "RESERVE(10)",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { RESERVE_10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  .parse = scst_reserve_parse, .exec = scst_reserve_exec },
	{ .opcode = RELEASE_6, .cdb_len = 6, .name = "RELEASE(6)",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { RELEASE_6, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  .parse = scst_reserve_parse, .exec = scst_release_exec },
	{ .opcode = RELEASE_10, .cdb_len = 10, .name = "RELEASE(10)",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { RELEASE_10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  .parse = scst_reserve_parse, .exec = scst_release_exec },
	/* The copy manager (copy_job.c, copy_results.c). EXTENDED COPY is
	 * allowed under every reservation of its own LUN: what it reads and
	 * writes goes through internal commands, each checked against the
	 * reservations of the LUN it reaches, on the requesting nexus. */
	{ .opcode = EXTENDED_COPY, .service_action = COPY_SA_EXTENDED_COPY_LID1, .cdb_len = 16,
	  .name = "EXTENDED COPY(LID1)",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { EXTENDED_COPY, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .timeouts = COPY_TIMEOUTS,
	  .parse = scst_ext_copy_parse, .exec = scst_ext_copy_exec,
	  .available = scst_copy_available },
	{ .opcode = EXTENDED_COPY, .service_action = COPY_SA_EXTENDED_COPY_LID4, .cdb_len = 16,
	  .name = "EXTENDED COPY(LID4)",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { EXTENDED_COPY, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .timeouts = COPY_TIMEOUTS,
	  .parse = scst_ext_copy_parse, .exec = scst_ext_copy_exec,
	  .available = scst_copy_available },
	/* Windows ODX (copy_odx.c): allowed under reservations as EXTENDED
	 * COPY is; WRITE USING TOKEN's reads and writes are internal
	 * commands, each checked at the LUN it reaches. */
#define ODX_ROW(sa, label)                                                                     \
	{ .opcode = EXTENDED_COPY, .service_action = (sa), .cdb_len = 16, .name = label,       \
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,  \
	  .cdb_usage = { EXTENDED_COPY, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,   \
			 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00 },                                 \
	  .parse = scst_odx_parse, .exec = scst_odx_exec, .available = scst_copy_available }
	ODX_ROW(COPY_SA_POPULATE_TOKEN, "POPULATE TOKEN"),
	ODX_ROW(COPY_SA_WRITE_USING_TOKEN, "WRITE USING TOKEN"),
#undef ODX_ROW
	/* COPY OPERATION ABORT (copy_job.c) stops only the requesting
	 * nexus's own copies: allowed under every reservation. */
	{ .opcode = EXTENDED_COPY, .service_action = COPY_SA_COPY_OPERATION_ABORT,
	  .cdb_len = 16, .name = "COPY OPERATION ABORT",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { EXTENDED_COPY, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
			 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  .parse = scst_copy_op_abort_parse, .exec = scst_copy_op_abort_exec,
	  .available = scst_copy_available },
	{ .opcode = RECEIVE_COPY_RESULTS, .service_action = COPY_SA_ROD_TOKEN_INFORMATION,
	  .cdb_len = 16, .name = "RECEIVE ROD TOKEN INFORMATION",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .cdb_usage = { RECEIVE_COPY_RESULTS, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
			 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = scst_rrti_parse, .exec = scst_rrti_exec,
	  .available = scst_copy_available },
#define RECEIVE_COPY_RESULTS_ROW(sa, label, list_id_mask)                                      \
	{ .opcode = RECEIVE_COPY_RESULTS, .service_action = (sa), .cdb_len = 16,               \
	  .name = "RECEIVE COPY RESULTS " label,                                               \
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,  \
	  .cdb_usage = { RECEIVE_COPY_RESULTS, 0x1f, (list_id_mask), 0x00, 0x00, 0x00, 0x00,   \
			 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },               \
	  .parse = scst_rcv_copy_results_parse, .exec = scst_rcv_copy_results_exec,            \
	  .available = scst_copy_available }
	RECEIVE_COPY_RESULTS_ROW(COPY_SA_COPY_STATUS_LID1, "(COPY STATUS)", 0xff),
	RECEIVE_COPY_RESULTS_ROW(COPY_SA_RECEIVE_DATA_LID1, "(RECEIVE DATA)", 0xff),
	RECEIVE_COPY_RESULTS_ROW(COPY_SA_OPERATING_PARAMETERS, "(OPERATING PARAMETERS)", 0x00),
	RECEIVE_COPY_RESULTS_ROW(COPY_SA_FAILED_SEGMENT_DETAILS_LID1, "(FAILED SEGMENT DETAILS)",
				 0xff),
#undef RECEIVE_COPY_RESULTS_ROW
	/* LID4 forms: a 4-byte LIST IDENTIFIER at bytes 2-5. */
#define RECEIVE_COPY_RESULTS_LID4_ROW(sa, label)                                               \
	{ .opcode = RECEIVE_COPY_RESULTS, .service_action = (sa), .cdb_len = 16, .name = label, \
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,  \
	  .cdb_usage = { RECEIVE_COPY_RESULTS, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,  \
			 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },                           \
	  .parse = scst_rcv_copy_results_parse, .exec = scst_rcv_copy_results_exec,            \
	  .available = scst_copy_available }
	RECEIVE_COPY_RESULTS_LID4_ROW(COPY_SA_COPY_STATUS_LID4, "RECEIVE COPY STATUS(LID4)"),
	RECEIVE_COPY_RESULTS_LID4_ROW(COPY_SA_RECEIVE_DATA_LID4, "RECEIVE COPY DATA(LID4)"),
#undef RECEIVE_COPY_RESULTS_LID4_ROW
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
