/* ORWRITE(16), SBC-4 5.14: read the blocks, OR the Data-Out into what was
 * read, write the result back. ORWRITE(16) always does the OR (SBC-4
 * gives it no BMOP field, which is ORWRITE(32)'s, a variable-length CDB
 * we do not serve).
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
