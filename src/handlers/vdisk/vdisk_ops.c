/* The operation table of a vdisk (SBC direct-access device), shared by
 * fileio, blockio and nullio. INQUIRY, REPORT LUNS, REQUEST SENSE and
 * REPORT SUPPORTED OPERATION CODES are the core's. */
#include "handlers/vdisk/vdisk_internal.h"

const struct scst_op_desc vdisk_ops[] = {
	{ .opcode = TEST_UNIT_READY, .cdb_len = 6, .name = "TEST UNIT READY",
	  .parse = vdisk_parse_no_data, .exec = vdisk_exec_test_unit_ready },
	{ .opcode = START_STOP_UNIT, .cdb_len = 6, .name = "START STOP UNIT",
	  .parse = vdisk_parse_start_stop, .exec = vdisk_exec_start_stop },
	{ .opcode = PREVENT_ALLOW_MEDIUM_REMOVAL, .cdb_len = 6,
	  .name = "PREVENT ALLOW MEDIUM REMOVAL",
	  .parse = vdisk_parse_no_data, .exec = vdisk_exec_prevent_allow },

	{ .opcode = READ_6, .cdb_len = 6, .name = "READ(6)",
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },
	{ .opcode = READ_10, .cdb_len = 10, .name = "READ(10)",
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },
	{ .opcode = READ_12, .cdb_len = 12, .name = "READ(12)",
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },
	{ .opcode = READ_16, .cdb_len = 16, .name = "READ(16)",
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },

	{ .opcode = WRITE_6, .cdb_len = 6, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(6)",
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },
	{ .opcode = WRITE_10, .cdb_len = 10, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(10)",
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },
	{ .opcode = WRITE_12, .cdb_len = 12, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(12)",
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },
	{ .opcode = WRITE_16, .cdb_len = 16, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(16)",
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },

	{ .opcode = VERIFY_10, .cdb_len = 10, .name = "VERIFY(10)",
	  .parse = vdisk_parse_verify, .exec = vdisk_exec_verify },
	{ .opcode = VERIFY_12, .cdb_len = 12, .name = "VERIFY(12)",
	  .parse = vdisk_parse_verify, .exec = vdisk_exec_verify },
	{ .opcode = VERIFY_16, .cdb_len = 16, .name = "VERIFY(16)",
	  .parse = vdisk_parse_verify, .exec = vdisk_exec_verify },

	{ .opcode = WRITE_VERIFY_10, .cdb_len = 10, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE AND VERIFY(10)",
	  .parse = vdisk_parse_write_verify, .exec = vdisk_exec_write_verify },
	{ .opcode = WRITE_VERIFY_12, .cdb_len = 12, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE AND VERIFY(12)",
	  .parse = vdisk_parse_write_verify, .exec = vdisk_exec_write_verify },
	{ .opcode = WRITE_VERIFY_16, .cdb_len = 16, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE AND VERIFY(16)",
	  .parse = vdisk_parse_write_verify, .exec = vdisk_exec_write_verify },

	{ .opcode = SYNCHRONIZE_CACHE_10, .cdb_len = 10, .name = "SYNCHRONIZE CACHE(10)",
	  .parse = vdisk_parse_sync_cache, .exec = vdisk_exec_sync_cache },
	{ .opcode = SYNCHRONIZE_CACHE_16, .cdb_len = 16, .name = "SYNCHRONIZE CACHE(16)",
	  .parse = vdisk_parse_sync_cache, .exec = vdisk_exec_sync_cache },

	{ .opcode = READ_CAPACITY_10, .cdb_len = 10, .name = "READ CAPACITY(10)",
	  .parse = vdisk_parse_read_capacity10, .exec = vdisk_exec_read_capacity10 },
	{ .opcode = SERVICE_ACTION_IN_16, .service_action = SAI_READ_CAPACITY_16,
	  .cdb_len = 16, .flags = SCST_OP_HAS_SERVICE_ACTION, .name = "READ CAPACITY(16)",
	  .parse = vdisk_parse_read_capacity16, .exec = vdisk_exec_read_capacity16 },

	{ .opcode = MODE_SENSE_6, .cdb_len = 6, .name = "MODE SENSE(6)",
	  .parse = vdisk_parse_mode_sense, .exec = vdisk_exec_mode_sense },
	{ .opcode = MODE_SENSE_10, .cdb_len = 10, .name = "MODE SENSE(10)",
	  .parse = vdisk_parse_mode_sense, .exec = vdisk_exec_mode_sense },
	{ .opcode = MODE_SELECT_6, .cdb_len = 6, .name = "MODE SELECT(6)",
	  .parse = vdisk_parse_mode_select, .exec = vdisk_exec_mode_select },
	{ .opcode = MODE_SELECT_10, .cdb_len = 10, .name = "MODE SELECT(10)",
	  .parse = vdisk_parse_mode_select, .exec = vdisk_exec_mode_select },

	{ .name = NULL },
};
