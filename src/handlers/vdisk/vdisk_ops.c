/* The operation table of a vdisk (SBC direct-access device), shared by
 * fileio, blockio and nullio. Reservation flags follow SBC-3 table 14 and
 * SPC-4 table 72: a row without SCST_OP_PR_* conflicts with a reservation
 * the nexus has no access under (writes, SYNCHRONIZE CACHE, MODE SENSE and
 * SELECT); START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL are widened by
 * their parse for the CDBs the tables allow. CDB usage data (REPORT
 * SUPPORTED OPERATION CODES) marks the fields PARSE decodes or checks; the group number is
 * ignored, and NACA is refused by the core. INQUIRY, REPORT LUNS, REQUEST SENSE and
 * REPORT SUPPORTED OPERATION CODES are the core's. */
#include "handlers/vdisk/vdisk_internal.h"

/* Command timeouts (REPORT SUPPORTED OPERATION CODES, RCTD=1) of the
 * rows whose command does more than one transfer's worth; the others
 * take the core's defaults from their flags (core/report_opcodes.c:
 * 1 s nominal, 30 s recommended for block reads and writes, 10 s for the
 * rest). In seconds. */
/* WRITE SAME writes up to 64 MiB (MAXIMUM WRITE SAME LENGTH), UNMAP
 * deallocates up to 256 ranges: eight times a WRITE's data, or a hole
 * punch the filesystem may take its time over. */
#define RANGE_TIMEOUTS { .nominal = 2, .recommended = 60 }
/* SYNCHRONIZE CACHE and a stop (START STOP UNIT) write back whatever the
 * page cache holds of the device: gigabytes on a large host. */
#define FLUSH_TIMEOUTS { .nominal = 1, .recommended = 120 }
/* SANITIZE and FORMAT UNIT with IMMED=0 answer when the whole medium is
 * written: a terabyte at 100 MB/s is 3 hours (background_rate_mb slows
 * it further). An initiator should send them with IMMED=1 and poll
 * REQUEST SENSE's progress, no sooner than the nominal minute. */
#define WHOLE_MEDIUM_TIMEOUTS { .nominal = 60, .recommended = 10800 }

const struct scst_op_desc vdisk_ops[] = {
	{ .opcode = TEST_UNIT_READY, .cdb_len = 6, .name = "TEST UNIT READY",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED,
	  .parse = vdisk_parse_no_data, .exec = vdisk_exec_test_unit_ready },
	{ .opcode = START_STOP_UNIT, .cdb_len = 6, .name = "START STOP UNIT",
	  .flags = SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { START_STOP_UNIT, 0x01, 0x00, 0x0f, 0xf7, 0x00 },
	  .timeouts = FLUSH_TIMEOUTS,
	  .parse = vdisk_parse_start_stop, .exec = vdisk_exec_start_stop },
	{ .opcode = PREVENT_ALLOW_MEDIUM_REMOVAL, .cdb_len = 6,
	  .name = "PREVENT ALLOW MEDIUM REMOVAL", .flags = SCST_OP_NO_MEDIUM_OK,
	  .parse = vdisk_parse_prevent_allow, .exec = vdisk_exec_prevent_allow },

	{ .opcode = READ_6, .cdb_len = 6, .flags = SCST_OP_PR_READ | SCST_OP_RANGE_READER,
	  .name = "READ(6)",
	  .cdb_usage = { READ_6, 0x1f, 0xff, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },
	{ .opcode = READ_10, .cdb_len = 10, .flags = SCST_OP_PR_READ | SCST_OP_RANGE_READER,
	  .name = "READ(10)",
	  .cdb_usage = { READ_10, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },
	{ .opcode = READ_12, .cdb_len = 12, .flags = SCST_OP_PR_READ | SCST_OP_RANGE_READER,
	  .name = "READ(12)",
	  .cdb_usage = { READ_12, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },
	{ .opcode = READ_16, .cdb_len = 16, .flags = SCST_OP_PR_READ | SCST_OP_RANGE_READER,
	  .name = "READ(16)",
	  .cdb_usage = { READ_16, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_read, .exec = vdisk_exec_read },

	{ .opcode = WRITE_6, .cdb_len = 6, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(6)",
	  .cdb_usage = { WRITE_6, 0x1f, 0xff, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },
	{ .opcode = WRITE_10, .cdb_len = 10, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(10)",
	  .cdb_usage = { WRITE_10, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },
	{ .opcode = WRITE_12, .cdb_len = 12, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(12)",
	  .cdb_usage = { WRITE_12, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },
	{ .opcode = WRITE_16, .cdb_len = 16, .flags = SCST_OP_WRITES_MEDIUM, .name = "WRITE(16)",
	  .cdb_usage = { WRITE_16, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_write, .exec = vdisk_exec_write },

	/* Byte 1: WRPROTECT (refused unless 0), ANCHOR (refused: ANC_SUP=0),
	 * UNMAP (served on a thin LUN, refused on others), and for (16) NDOB;
	 * PBDATA/LBDATA unused. */
	{ .opcode = WRITE_SAME_10, .cdb_len = 10, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE SAME(10)",
	  .cdb_usage = { WRITE_SAME_10, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },
	  .timeouts = RANGE_TIMEOUTS,
	  .parse = vdisk_parse_write_same, .exec = vdisk_exec_write_same },
	{ .opcode = WRITE_SAME_16, .cdb_len = 16, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE SAME(16)",
	  .cdb_usage = { WRITE_SAME_16, 0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .timeouts = RANGE_TIMEOUTS,
	  .parse = vdisk_parse_write_same, .exec = vdisk_exec_write_same },

	/* Byte 1: WRPROTECT (refused unless 0), DPO, FUA; byte 13 NUMBER
	 * OF LOGICAL BLOCKS. Atomic against every writer of the device. */
	{ .opcode = COMPARE_AND_WRITE, .cdb_len = 16,
	  .flags = SCST_OP_WRITES_MEDIUM | SCST_OP_EXCLUSIVE_RANGE, .name = "COMPARE AND WRITE",
	  .cdb_usage = { COMPARE_AND_WRITE, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_compare_and_write, .exec = vdisk_exec_compare_and_write },

	{ .opcode = VERIFY_10, .cdb_len = 10, .flags = SCST_OP_PR_READ, .name = "VERIFY(10)",
	  .cdb_usage = { VERIFY_10, 0xf6, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_verify, .exec = vdisk_exec_verify },
	{ .opcode = VERIFY_12, .cdb_len = 12, .flags = SCST_OP_PR_READ, .name = "VERIFY(12)",
	  .cdb_usage = { VERIFY_12, 0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_verify, .exec = vdisk_exec_verify },
	{ .opcode = VERIFY_16, .cdb_len = 16, .flags = SCST_OP_PR_READ, .name = "VERIFY(16)",
	  .cdb_usage = { VERIFY_16, 0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_verify, .exec = vdisk_exec_verify },

	{ .opcode = WRITE_VERIFY_10, .cdb_len = 10, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE AND VERIFY(10)",
	  .cdb_usage = { WRITE_VERIFY_10, 0xf2, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_write_verify, .exec = vdisk_exec_write_verify },
	{ .opcode = WRITE_VERIFY_12, .cdb_len = 12, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE AND VERIFY(12)",
	  .cdb_usage = { WRITE_VERIFY_12, 0xf2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_write_verify, .exec = vdisk_exec_write_verify },
	{ .opcode = WRITE_VERIFY_16, .cdb_len = 16, .flags = SCST_OP_WRITES_MEDIUM,
	  .name = "WRITE AND VERIFY(16)",
	  .cdb_usage = { WRITE_VERIFY_16, 0xf2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_write_verify, .exec = vdisk_exec_write_verify },

	{ .opcode = SYNCHRONIZE_CACHE_10, .cdb_len = 10, .name = "SYNCHRONIZE CACHE(10)",
	  .cdb_usage = { SYNCHRONIZE_CACHE_10, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff,
			 0xff, 0x00 },
	  .timeouts = FLUSH_TIMEOUTS,
	  .parse = vdisk_parse_sync_cache, .exec = vdisk_exec_sync_cache },
	{ .opcode = SYNCHRONIZE_CACHE_16, .cdb_len = 16, .name = "SYNCHRONIZE CACHE(16)",
	  .cdb_usage = { SYNCHRONIZE_CACHE_16, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .timeouts = FLUSH_TIMEOUTS,
	  .parse = vdisk_parse_sync_cache, .exec = vdisk_exec_sync_cache },

	{ .opcode = READ_CAPACITY_10, .cdb_len = 10, .name = "READ CAPACITY(10)",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_ALUA_UNAVAILABLE_OK | SCST_OP_ALUA_TRANSITIONING_OK,
	  .parse = vdisk_parse_read_capacity10, .exec = vdisk_exec_read_capacity10 },
	{ .opcode = SERVICE_ACTION_IN_16, .service_action = SAI_READ_CAPACITY_16,
	  .cdb_len = 16, .name = "READ CAPACITY(16)",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED |
		   SCST_OP_ALUA_STANDBY_OK | SCST_OP_ALUA_UNAVAILABLE_OK |
		   SCST_OP_ALUA_TRANSITIONING_OK,
	  .cdb_usage = { SERVICE_ACTION_IN_16, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_read_capacity16, .exec = vdisk_exec_read_capacity16 },

	{ .opcode = MODE_SENSE_6, .cdb_len = 6, .name = "MODE SENSE(6)",
	  .flags = SCST_OP_ALUA_STANDBY_OK | SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { MODE_SENSE_6, 0x08, 0xff, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_mode_sense, .exec = vdisk_exec_mode_sense },
	{ .opcode = MODE_SENSE_10, .cdb_len = 10, .name = "MODE SENSE(10)",
	  .flags = SCST_OP_ALUA_STANDBY_OK | SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { MODE_SENSE_10, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_mode_sense, .exec = vdisk_exec_mode_sense },
	{ .opcode = MODE_SELECT_6, .cdb_len = 6, .name = "MODE SELECT(6)",
	  .flags = SCST_OP_ALUA_STANDBY_OK | SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { MODE_SELECT_6, 0x11, 0x00, 0x00, 0xff, 0x00 },
	  .parse = vdisk_parse_mode_select, .exec = vdisk_exec_mode_select },
	{ .opcode = MODE_SELECT_10, .cdb_len = 10, .name = "MODE SELECT(10)",
	  .flags = SCST_OP_ALUA_STANDBY_OK | SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { MODE_SELECT_10, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_mode_select, .exec = vdisk_exec_mode_select },

	/* ORWRITE(16): byte 1 ORPROTECT (refused unless 0), DPO, FUA; byte 1
	 * bit 1 (SBC-3's FUA_NV) is obsolete and ignored. Reads, ORs and
	 * writes: atomic against every writer of the device, like COMPARE
	 * AND WRITE. */
	{ .opcode = ORWRITE_16, .cdb_len = 16,
	  .flags = SCST_OP_WRITES_MEDIUM | SCST_OP_EXCLUSIVE_RANGE, .name = "ORWRITE(16)",
	  .cdb_usage = { ORWRITE_16, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_orwrite, .exec = vdisk_exec_orwrite },
	/* ORWRITE(32), the same with a variable-length CDB: byte 1 CONTROL,
	 * byte 2 BMOP (000b only), 7 ADDITIONAL CDB LENGTH, 8..9 the service
	 * action, byte 10 ORPROTECT, DPO, FUA; the ORWgeneration fields
	 * (PREVIOUS GENERATION PROCESSING, bytes 20..27) are not used.
	 * Reported by REPORT SUPPORTED OPERATION CODES in its one-command
	 * forms only: libiscsi's suite cannot take 32 bytes of usage data. */
	{ .opcode = VARIABLE_LENGTH_CMD, .service_action = VLC_ORWRITE_32, .cdb_len = 32,
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_WRITES_MEDIUM | SCST_OP_EXCLUSIVE_RANGE |
		   SCST_OP_RSOC_ONE_COMMAND_ONLY,
	  .name = "ORWRITE(32)",
	  .cdb_usage = { VARIABLE_LENGTH_CMD, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0xff,
			 0xff, 0xff, 0xf8, 0x00, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
			 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff },
	  .parse = vdisk_parse_orwrite32, .exec = vdisk_exec_orwrite32 },
	/* WRITE ATOMIC(16): byte 1 WRPROTECT (refused unless 0), DPO, FUA;
	 * TRANSFER LENGTH in bytes 12..13. */
	{ .opcode = WRITE_ATOMIC_16, .cdb_len = 16,
	  .flags = SCST_OP_WRITES_MEDIUM | SCST_OP_EXCLUSIVE_RANGE, .name = "WRITE ATOMIC(16)",
	  .cdb_usage = { WRITE_ATOMIC_16, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_write_atomic, .exec = vdisk_exec_write_atomic },
	/* PRE-FETCH: IMMED; SBC-4 table 13 (PR): a read, allowed under the
	 * Write Exclusive types. */
	{ .opcode = PRE_FETCH_10, .cdb_len = 10, .flags = SCST_OP_PR_READ, .name = "PRE-FETCH(10)",
	  .cdb_usage = { PRE_FETCH_10, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_prefetch, .exec = vdisk_exec_prefetch },
	{ .opcode = PRE_FETCH_16, .cdb_len = 16, .flags = SCST_OP_PR_READ, .name = "PRE-FETCH(16)",
	  .cdb_usage = { PRE_FETCH_16, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_prefetch, .exec = vdisk_exec_prefetch },
	/* READ DEFECT DATA: REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT; (12)'s
	 * ADDRESS DESCRIPTOR INDEX. SBC-4 table 13: a read (Write Exclusive
	 * allows it, Exclusive Access does not). */
	{ .opcode = READ_DEFECT_DATA_10, .cdb_len = 10, .flags = SCST_OP_PR_READ,
	  .name = "READ DEFECT DATA(10)",
	  .cdb_usage = { READ_DEFECT_DATA_10, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
			 0x00 },
	  .parse = vdisk_parse_read_defect_data, .exec = vdisk_exec_read_defect_data },
	{ .opcode = READ_DEFECT_DATA_12, .cdb_len = 12, .flags = SCST_OP_PR_READ,
	  .name = "READ DEFECT DATA(12)",
	  .cdb_usage = { READ_DEFECT_DATA_12, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_read_defect_data, .exec = vdisk_exec_read_defect_data },

	/* Thin provisioning (vdisk_unmap.c, vdisk_lba_status.c): served on
	 * a thin_provisioned LUN only; elsewhere INVALID COMMAND OPERATION
	 * CODE (SBC-4 allows it) and absent from REPORT SUPPORTED OPERATION
	 * CODES. UNMAP byte 1: ANCHOR (refused); group ignored. */
	{ .opcode = UNMAP, .cdb_len = 10, .flags = SCST_OP_WRITES_MEDIUM, .name = "UNMAP",
	  .cdb_usage = { UNMAP, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00 },
	  .timeouts = RANGE_TIMEOUTS,
	  .parse = vdisk_parse_unmap, .exec = vdisk_exec_unmap,
	  .available = vdisk_thin_available },
	{ .opcode = SERVICE_ACTION_IN_16, .service_action = SAI_GET_LBA_STATUS,
	  .cdb_len = 16, .name = "GET LBA STATUS",
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_PR_READ,
	  .cdb_usage = { SERVICE_ACTION_IN_16, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	  .parse = vdisk_parse_get_lba_status, .exec = vdisk_exec_get_lba_status,
	  .available = vdisk_thin_available },
	/* vdisk_log.c. Byte 1: PPC (served on pages with parameters) and SP
	 * (refused). Allowed under every reservation (SPC-4 table 72,
	 * SPC-2's), in ALUA standby, and without a medium (none of its pages
	 * reads the medium). */
	{ .opcode = LOG_SENSE, .cdb_len = 10, .name = "LOG SENSE",
	  .flags = SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED | SCST_OP_ALUA_STANDBY_OK |
		   SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { LOG_SENSE, 0x03, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_log_sense, .exec = vdisk_exec_log_sense },
	/* LOG SELECT: byte 1 PCR and SP (refused), byte 2 PC and PAGE CODE,
	 * 3 SUBPAGE CODE, 7..8 PARAMETER LIST LENGTH. It changes what the
	 * device reports, as MODE SELECT does: it conflicts with a
	 * reservation the nexus has no access under (SPC-4 table 72). */
	{ .opcode = LOG_SELECT, .cdb_len = 10, .name = "LOG SELECT",
	  .flags = SCST_OP_ALUA_STANDBY_OK | SCST_OP_NO_MEDIUM_OK,
	  .cdb_usage = { LOG_SELECT, 0x03, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00 },
	  .parse = vdisk_parse_log_select, .exec = vdisk_exec_log_select },

	/* SANITIZE (vdisk_sanitize.c): one row per service action, so that
	 * REPORT SUPPORTED OPERATION CODES lists each one libiscsi looks
	 * for. Byte 1: IMMED, AUSE and the service action (ZNR is reserved:
	 * not a zoned device); bytes 7..8 PARAMETER LIST LENGTH. They write
	 * the medium (refused on a read-only LUN) and conflict with every
	 * reservation (SBC-4 table 13). SCST_OP_NOT_READY_OK: a SANITIZE is
	 * what ends a sanitize failure mode, so exec asks the not-ready hook
	 * itself, for everything else. */
#define SANITIZE_ROW(sa, row_name, flags_more, row_timeouts)                             \
	{ .opcode = SANITIZE, .service_action = sa, .cdb_len = 10, .name = row_name,     \
	  .flags = SCST_OP_HAS_SERVICE_ACTION | SCST_OP_NOT_READY_OK | flags_more,       \
	  .cdb_usage = { SANITIZE, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,  \
			 0x00 },                                                         \
	  .timeouts = row_timeouts,                                                      \
	  .parse = vdisk_parse_sanitize, .exec = vdisk_exec_sanitize }
	SANITIZE_ROW(SANITIZE_SA_OVERWRITE, "SANITIZE OVERWRITE", SCST_OP_WRITES_MEDIUM,
		     WHOLE_MEDIUM_TIMEOUTS),
	SANITIZE_ROW(SANITIZE_SA_BLOCK_ERASE, "SANITIZE BLOCK ERASE", SCST_OP_WRITES_MEDIUM,
		     WHOLE_MEDIUM_TIMEOUTS),
	SANITIZE_ROW(SANITIZE_SA_CRYPTO_ERASE, "SANITIZE CRYPTOGRAPHIC ERASE",
		     SCST_OP_WRITES_MEDIUM, WHOLE_MEDIUM_TIMEOUTS),
	/* Leaves a failure mode: no medium access, the default timeouts. */
	SANITIZE_ROW(SANITIZE_SA_EXIT_FAILURE_MODE, "SANITIZE EXIT FAILURE MODE", 0, {}),
#undef SANITIZE_ROW
	/* FORMAT UNIT (vdisk_format.c). Byte 1: FMTPINFO and RTO_REQ
	 * (refused), LONGLIST, FMTDATA, CMPLST (no defect list to keep or
	 * replace: ignored), DEFECT LIST FORMAT; byte 4: FFMT. Writes the
	 * medium; conflicts with every reservation. SCST_OP_NOT_READY_OK: a
	 * FORMAT UNIT is what clears a medium format corrupted; exec asks
	 * the hook for the rest. */
	{ .opcode = FORMAT_UNIT, .cdb_len = 6, .name = "FORMAT UNIT",
	  .flags = SCST_OP_WRITES_MEDIUM | SCST_OP_NOT_READY_OK,
	  .cdb_usage = { FORMAT_UNIT, 0xff, 0x00, 0x00, 0x03, 0x00 },
	  .timeouts = WHOLE_MEDIUM_TIMEOUTS,
	  .parse = vdisk_parse_format_unit, .exec = vdisk_exec_format_unit },

	{ .name = NULL },
};
