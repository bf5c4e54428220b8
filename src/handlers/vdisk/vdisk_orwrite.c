/* ORWRITE(16) and ORWRITE(32), SBC-4 5.14: read the blocks, OR the
 * Data-Out into what was read, write the result back. ORWRITE(16) always
 * does the OR; ORWRITE(32) (a variable-length CDB, service action 000Eh)
 * does it for BMOP 000b, the same command with its fields elsewhere. Its
 * other bitmap operations change or check the logical unit's
 * ORWgeneration, a counter for bitmaps kept by an application client
 * that we do not keep: they are refused, INVALID FIELD IN CDB on BMOP,
 * and with BMOP 000b the generation fields and PREVIOUS GENERATION
 * PROCESSING are not looked at.
 *
 * A read-modify-write needs what COMPARE AND WRITE needs: no other writer
 * may change the blocks between our read and our write, or its data would
 * vanish under ours. The read, the write and that atomicity (the op row's
 * SCST_OP_EXCLUSIVE_RANGE) are the read-modify-write's, vdisk_rmw.c,
 * which COMPARE AND WRITE shares; this file parses, and ORs
 * (orwrite_modify).
 *
 * The range is at most the maximum transfer length (Block Limits), the
 * same bound as WRITE: the read buffer is as large as the Data-Out. */
#include <assert.h>

#include "handlers/vdisk/vdisk_internal.h"

int vdisk_parse_orwrite(struct scst_cmd *cmd)
{
	struct scsi_rw_cdb rw;

	if (vdisk_decode_block_cdb(cmd, scsi_cdb_decode_orwrite16,
				   VDISK_MAX_XFER_BYTES / cmd->dev->block_size, &rw))
		return -1;
	return vdisk_parse_data_out_blocks(cmd, &rw);
}

/* The modify step of the read-modify-write (vdisk_rmw.c): the Data-Out
 * ORed into what the medium holds, always written. */
static uint8_t *orwrite_modify(struct scst_cmd *cmd, uint8_t *medium, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		medium[i] |= cmd->buf[i];
	return medium;
}

void vdisk_exec_orwrite(struct scst_cmd *cmd)
{
	/* What the initiator sent: a Data-Out cut short by its expected
	 * length ORs (and writes) only that much, like WRITE. */
	uint32_t len = vdisk_write_len(cmd);
	struct scsi_rw_cdb rw;

	scsi_cdb_decode_orwrite16(cmd->cdb, cmd->cdb_len, &rw); /* PARSE accepted it */
	assert(len <= cmd->nblocks * cmd->dev->block_size);
	vdisk_rmw_start(cmd, len, vdisk_write_needs_sync(cmd, rw.fua), orwrite_modify);
}

/* ORWRITE(32)'s decoder in the shape vdisk_decode_block_cdb() takes. */
static bool decode_orwrite32_rw(const uint8_t *cdb, unsigned cdb_len, struct scsi_rw_cdb *rw)
{
	struct scsi_orwrite32_cdb o;

	if (!scsi_cdb_decode_orwrite32(cdb, cdb_len, &o))
		return false;
	*rw = o.rw;
	return true;
}

/* The ADDITIONAL CDB LENGTH of ORWRITE(32): 32 bytes, less the 8 of the
 * variable-length header. */
#define ORWRITE32_ADDITIONAL_LEN 0x18
#define BMOP_OR 0

int vdisk_parse_orwrite32(struct scst_cmd *cmd)
{
	struct scsi_orwrite32_cdb o;
	struct scsi_rw_cdb rw;

	if (!scsi_cdb_decode_orwrite32(cmd->cdb, cmd->cdb_len, &o)) {
		/* A 0x7f CDB the iSCSI driver cut short (no Extended CDB
		 * AHS): not the 32 bytes the command is. */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(7, -1));
		return -1;
	}
	if (o.additional_len != ORWRITE32_ADDITIONAL_LEN) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(7, -1));
		return -1;
	}
	if (o.bmop != BMOP_OR) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, 2));
		return -1;
	}
	if (vdisk_decode_block_cdb(cmd, decode_orwrite32_rw,
				   VDISK_MAX_XFER_BYTES / cmd->dev->block_size, &rw))
		return -1;
	return vdisk_parse_data_out_blocks(cmd, &rw);
}

void vdisk_exec_orwrite32(struct scst_cmd *cmd)
{
	uint32_t len = vdisk_write_len(cmd);
	struct scsi_orwrite32_cdb o;

	scsi_cdb_decode_orwrite32(cmd->cdb, cmd->cdb_len, &o); /* PARSE accepted it */
	assert(len <= cmd->nblocks * cmd->dev->block_size);
	vdisk_rmw_start(cmd, len, vdisk_write_needs_sync(cmd, o.rw.fua), orwrite_modify);
}
