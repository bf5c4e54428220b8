/* COMPARE AND WRITE, SBC-4 5.2: read NUMBER OF LOGICAL BLOCKS blocks,
 * compare them with the first half of the Data-Out (the verify instance)
 * and, only when every byte matches, write the second half (the write
 * instance) in their place. On a difference nothing is written and the
 * command ends with MISCOMPARE / MISCOMPARE DURING VERIFY OPERATION, the
 * offset of the first differing byte in INFORMATION (VALID=1), in fixed
 * or descriptor format as D_SENSE says, like VERIFY with BYTCHK=1.
 *
 * The read, the write and their atomicity (the op row's
 * SCST_OP_EXCLUSIVE_RANGE: every other writer of the overlapping blocks
 * is held from before the read until the write has completed, and
 * overlapping COMPARE AND WRITEs run one after the other) are the
 * read-modify-write's, vdisk_rmw.c, which ORWRITE shares; this file
 * parses, and compares (caw_modify).
 *
 * The range is at most VDISK_MAX_CAW_BLOCKS (Block Limits' MAXIMUM
 * COMPARE AND WRITE LENGTH): the read goes into a buffer of its own, and
 * the other writers of those blocks wait for the whole command. */
#include <assert.h>
#include <string.h>

#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

int vdisk_parse_compare_and_write(struct scst_cmd *cmd)
{
	uint32_t bs = cmd->dev->block_size;
	struct scsi_caw_cdb caw;

	if (!scsi_cdb_decode_compare_and_write(cmd->cdb, cmd->cdb_len, &caw)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	if (vdisk_refuse_protect(cmd, caw.protect, caw.flags_byte))
		return -1;
	/* Above the maximum; or a Data-Out longer than any COMPARE AND
	 * WRITE may carry, which says the initiator meant more blocks than
	 * the one-byte field holds (256 wraps to 0: libiscsi's Simple and
	 * Miscompare send exactly that and expect this refusal, where a
	 * zero-block command would otherwise end GOOD having done nothing). */
	if (caw.nblocks > VDISK_MAX_CAW_BLOCKS ||
	    (cmd->expected_dir == SCST_DATA_WRITE &&
	     cmd->expected_len > 2u * VDISK_MAX_CAW_BLOCKS * bs)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(caw.len_byte, -1));
		return -1;
	}
	if (vdisk_check_range(cmd, caw.lba, caw.nblocks))
		return -1;
	cmd->lba = caw.lba;
	cmd->nblocks = caw.nblocks;
	/* SBC-4: zero blocks is not an error; nothing is compared or written. */
	if (caw.nblocks == 0)
		return vdisk_parse_no_data(cmd);
	/* Both instances, whole. A Data-Out of another length would have us
	 * compare or write what the initiator did not mean (libiscsi's
	 * InvalidDataOutSize); the fault is the transport's expected length,
	 * as for WRITE SAME. A Data-Out that does not come at all is the
	 * core's direction check. */
	if (cmd->expected_dir == SCST_DATA_WRITE && cmd->expected_len != 2u * caw.nblocks * bs) {
		log_warn_rl("session %s: COMPARE AND WRITE of %u block(s) with %u byte(s) of "
			    "Data-Out instead of %u: refused", cmd->sess->initiator_name,
			    caw.nblocks, cmd->expected_len, 2u * caw.nblocks * bs);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST,
				       ASC_INVALID_FIELD_IN_COMMAND_INFO_UNIT);
		return -1;
	}
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = 2u * caw.nblocks * bs;
	return 0;
}

/* Offset of the first byte where the medium differs from the verify
 * instance, or -1. */
static int64_t first_difference(const uint8_t *medium, const uint8_t *verify, uint32_t len)
{
	if (memcmp(medium, verify, len) == 0)
		return -1;
	for (uint32_t i = 0; i < len; i++)
		if (medium[i] != verify[i])
			return i;
	return -1;
}

/* The modify step of the read-modify-write (vdisk_rmw.c): the write
 * instance when the medium matches the verify instance, else nothing
 * and MISCOMPARE. */
static uint8_t *caw_modify(struct scst_cmd *cmd, uint8_t *medium, uint32_t len)
{
	int64_t at = first_difference(medium, cmd->buf, len);

	if (at >= 0) {
		struct scsi_sense s = scsi_sense_make(SK_MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY);

		s.has_information = true;
		s.information = (uint64_t)at;
		scst_set_cmd_error(cmd, s);
		return NULL;
	}
	return cmd->buf + len;
}

void vdisk_exec_compare_and_write(struct scst_cmd *cmd)
{
	uint32_t len = cmd->nblocks * cmd->dev->block_size;
	struct scsi_caw_cdb caw;

	scsi_cdb_decode_compare_and_write(cmd->cdb, cmd->cdb_len, &caw); /* PARSE accepted it */
	/* PARSE took exactly both instances (none for zero blocks); the core
	 * received them. */
	assert(vdisk_write_len(cmd) == 2u * len);
	vdisk_rmw_start(cmd, len, vdisk_write_needs_sync(cmd, caw.fua), caw_modify);
}
