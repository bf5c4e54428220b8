/* Unit state commands of a fixed (non-removable) disk: TEST UNIT READY,
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL. The medium is always
 * present and ready; there is nothing to spin up or lock in. */
#include "handlers/vdisk/vdisk_internal.h"

/* START STOP UNIT power conditions (SBC-4 table 88). */
#define PC_START_VALID 0x0

void vdisk_exec_test_unit_ready(struct scst_cmd *cmd)
{
	scst_cmd_done(cmd);
}

int vdisk_parse_start_stop(struct scst_cmd *cmd)
{
	struct scsi_start_stop_cdb ss;

	if (!scsi_cdb_decode_start_stop(cmd->cdb, cmd->cdb_len, &ss)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	/* An eject request (LOEJ=1, START=0) cannot be carried out on a
	 * medium that is not removable (INQUIRY RMB=0): refuse it rather
	 * than claim success. A load (START=1) finds the medium loaded. */
	if (ss.power_condition == PC_START_VALID && ss.loej && !ss.start) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(4, 1));
		return -1;
	}
	/* A start changes nothing another initiator relies on: SBC-3
	 * table 14 allows it under every reservation. */
	if (ss.power_condition == PC_START_VALID && ss.start)
		cmd->op_flags |= SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED;
	return vdisk_parse_no_data(cmd);
}

int vdisk_parse_prevent_allow(struct scst_cmd *cmd)
{
	/* PREVENT 00b (allow removal) is allowed under every reservation
	 * (SBC-3 table 14); preventing it is not. */
	if ((cmd->cdb[4] & 0x03) == 0)
		cmd->op_flags |= SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED;
	return vdisk_parse_no_data(cmd);
}

void vdisk_exec_start_stop(struct scst_cmd *cmd)
{
	struct scsi_start_stop_cdb ss;

	scsi_cdb_decode_start_stop(cmd->cdb, cmd->cdb_len, &ss); /* PARSE accepted it */
	/* A stop, unless NO_FLUSH, first writes the cache to the medium, as
	 * a disk does before it spins down (SBC-4 5.25). */
	if (ss.power_condition == PC_START_VALID && !ss.start && !ss.no_flush) {
		vdisk_flush_and_finish(cmd);
		return;
	}
	scst_cmd_done(cmd);
}

void vdisk_exec_prevent_allow(struct scst_cmd *cmd)
{
	/* Nothing can be removed, so there is nothing to prevent. */
	scst_cmd_done(cmd);
}
