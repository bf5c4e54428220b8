/* WRITE SAME (10/16), SBC-4 5.50 and 5.51: one block, written to every
 * block of a range.
 *
 * The block is the Data-Out (exactly one block of it), or zeros when
 * WRITE SAME(16) sets NDOB. NUMBER OF LOGICAL BLOCKS 0 means "through the
 * last block": Block Limits reports WSNZ=0 (LIO sets WSNZ=1), because
 * SBC-4 makes that the default meaning and libiscsi's WriteSame*.ZeroBlocks
 * counts WSNZ=1 as a skipped feature. Every range, implied or not, is bounded by
 * the MAXIMUM WRITE SAME LENGTH that Block Limits reports.
 *
 * The range is written in chunks of at most WRITE_SAME_CHUNK_BYTES, one at
 * a time, from one buffer filled once with copies of the block: a range
 * may be 64 MiB, and neither the memory a command takes nor the time one
 * submission holds the ring may grow with it. An abort between chunks
 * ends the command (the core sends no response to an aborted one).
 *
 * On a thin-provisioned LUN (thin_provisioned 1), UNMAP=1 deallocates the
 * range instead of writing it (vdisk_unmap.c: a hole punch on a file, a
 * zeroing discard on a block device), whatever the block holds, as LIO
 * does: the range then reads as zeros (LBPRZ=1), which is what libiscsi's
 * WriteSame*.Unmap* check after sending a block of 0xff with UNMAP. An
 * initiator sets UNMAP to discard, never to store a pattern. ANCHOR stays
 * refused: we offer no anchored state (ANC_SUP=0).
 *
 * MAXIMUM WRITE SAME LENGTH stays below 2^16 blocks: libiscsi's
 * WriteSame16.Unmap, given a limit of 65536 or more, first writes 65536
 * blocks with one WRITE(16), four times our MAXIMUM TRANSFER LENGTH;
 * below it, it checks that such a WRITE SAME is refused instead. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "handlers/vdisk/vdisk_chunks.h"

#define WRITE_SAME_CHUNK_BYTES (1u << 20)

#define WRITE_SAME_MAX_BLOCKS 0xffffu

uint32_t vdisk_max_write_same_blocks(const struct scst_device *dev)
{
	uint32_t by_bytes = VDISK_MAX_WRITE_SAME_BYTES / dev->block_size;

	return by_bytes < WRITE_SAME_MAX_BLOCKS ? by_bytes : WRITE_SAME_MAX_BLOCKS;
}

/* Whether UNMAP=1 may deallocate blocks of this LUN: only of a thin one
 * (LBPME in READ CAPACITY(16), LBPWS/LBPWS10 in VPD 0xb2). SBC-4 lets a
 * fully provisioned device either write the data or refuse the bit;
 * writing it would claim the support that LBPWS denies (libiscsi's
 * WriteSame*.UnmapVpd fails a GOOD with LBPME=0), so there the bit is
 * refused with INVALID FIELD IN CDB, as LIO does. */
static bool write_same_may_unmap(const struct vdisk_dev *vd)
{
	return vdisk_is_thin(vd);
}



int vdisk_parse_write_same(struct scst_cmd *cmd)
{
	uint32_t bs = cmd->dev->block_size;
	struct scsi_write_same_cdb ws;
	uint64_t nblocks;

	if (!scsi_cdb_decode_write_same(cmd->cdb, cmd->cdb_len, &ws)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	if (vdisk_refuse_protect(cmd, ws.protect, ws.flags_byte))
		return -1;
	/* SBC-3's PBDATA/LBDATA (stamp each block with its address): we
	 * have no such blocks to offer. Bit 2 is PBDATA, bit 1 LBDATA. */
	if (ws.lbdata_pbdata) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(ws.flags_byte,
								     cmd->cdb[1] & 0x04 ? 2 : 1));
		return -1;
	}
	/* ANCHOR asks for anchored (not deallocated) blocks; we report no
	 * ANC_SUP, and without UNMAP the bit is invalid anyway (SBC-4 5.51). */
	if (ws.anchor) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(ws.flags_byte, 4));
		return -1;
	}
	if (ws.unmap && !write_same_may_unmap(vdisk_of(cmd))) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(ws.flags_byte, 3));
		return -1;
	}
	if (vdisk_check_range(cmd, ws.lba, ws.nblocks))
		return -1;
	/* WSNZ=0: no blocks means through the last one. check_range saw the
	 * LBA on the medium, so the difference is at least one. */
	nblocks = ws.nblocks ? ws.nblocks : scst_dev_nblocks(cmd->dev) - ws.lba;
	if (nblocks > vdisk_max_write_same_blocks(cmd->dev)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(ws.len_byte, -1));
		return -1;
	}
	cmd->lba = ws.lba;
	cmd->nblocks = (uint32_t)nblocks;
	if (ws.ndob)
		return vdisk_parse_no_data(cmd);
	/* With UNMAP the block is not used (the range is deallocated
	 * whatever it holds), so one sent without any Data-Out loses
	 * nothing and is served as with NDOB: libiscsi's ReadOnly.ReadOnlySBC
	 * sends none and expects the read-only LUN's WRITE PROTECTED, which
	 * PRE_EXEC gives only to a command that passed PARSE. */
	if (ws.unmap && cmd->expected_dir != SCST_DATA_WRITE && cmd->expected_len == 0)
		return vdisk_parse_no_data(cmd);
	/* Exactly one block of Data-Out. Less would leave us a pattern the
	 * initiator never sent; more means the initiator thinks it sent a
	 * different command. Either way the fault is the transport's
	 * expected length, which SAM calls the command information unit. A
	 * Data-Out that does not come at all is the core's direction check. */
	if (cmd->expected_dir == SCST_DATA_WRITE && cmd->expected_len != bs) {
		log_warn_rl("session %s: WRITE SAME with %u byte(s) of Data-Out for a %u-byte "
			    "block: refused", cmd->sess->initiator_name, cmd->expected_len, bs);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST,
				       ASC_INVALID_FIELD_IN_COMMAND_INFO_UNIT);
		return -1;
	}
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = bs;
	return 0;
}

/* One WRITE SAME in progress: the walk over its range, writing from one
 * buffer of copies of the block (vdisk_chunks.h). */
struct write_same_job {
	struct vdisk_chunk_walk walk;
};

static void write_same_finish(struct vdisk_chunk_walk *w)
{
	struct scst_cmd *cmd = w->cmd;

	vdisk_chunk_walk_release(w);
	free(container_of(w, struct write_same_job, walk));
	scst_cmd_done(cmd);
}

void vdisk_exec_write_same(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	uint32_t bs = cmd->dev->block_size;
	struct scsi_write_same_cdb ws;
	struct write_same_job *j;

	scsi_cdb_decode_write_same(cmd->cdb, cmd->cdb_len, &ws); /* PARSE accepted it */
	assert(cmd->nblocks > 0);
	if (ws.unmap) {
		assert(write_same_may_unmap(vd)); /* PARSE refused it otherwise */
		vdisk_deallocate_and_finish(cmd, cmd->lba, cmd->nblocks);
		return;
	}
	/* PARSE took exactly one block of Data-Out; the core received it. */
	assert(ws.ndob || vdisk_write_len(cmd) == bs);
	/* nullio: nothing is stored, so there is nothing to write. */
	if (vd->mode->backend->no_medium) {
		scst_cmd_done(cmd);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j)
		j->walk.finish = write_same_finish;
	if (!j || !vdisk_chunk_walk_init(&j->walk, cmd, VDISK_IO_WRITE, WRITE_SAME_CHUNK_BYTES)) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	/* As WRITE without FUA (WRITE SAME has no FUA bit): durable before
	 * GOOD when the write cache is off, unless the cache is non-volatile. */
	j->walk.dsync = vdisk_write_needs_sync(cmd, false);
	if (ws.ndob)
		memset(j->walk.chunk, 0, (size_t)j->walk.chunk_blocks * bs);
	else
		for (uint32_t i = 0; i < j->walk.chunk_blocks; i++)
			memcpy(j->walk.chunk + (size_t)i * bs, cmd->buf, bs);
	vdisk_chunk_walk_start(&j->walk);
}
