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
 * Not here yet, and meant to be added (issue 9): on a thin-provisioned
 * LUN, UNMAP=1 deallocates the range instead of writing it (a hole punch
 * on a file, BLKDISCARD on a block device) when the block is all zeros
 * and reads of deallocated blocks return zeros (LBPRZ). That is one more
 * job kind in exec (a single deallocating I/O instead of the chunk walk)
 * and write_same_may_unmap() answering from the LUN's thin_provisioned
 * attribute; PARSE already checks everything else UNMAP needs. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

#define WRITE_SAME_CHUNK_BYTES (1u << 20)

uint32_t vdisk_max_write_same_blocks(const struct scst_device *dev)
{
	return VDISK_MAX_WRITE_SAME_BYTES / dev->block_size;
}

/* Whether UNMAP=1 may deallocate blocks of this LUN: only of a thin one
 * (LBPME in READ CAPACITY(16), LBPWS/LBPWS10 in VPD 0xb2), which vdisk
 * does not offer yet. SBC-4 lets a fully provisioned device either write
 * the data or refuse the bit; writing it would claim the support that
 * LBPWS denies (libiscsi's WriteSame*.UnmapVpd fails a GOOD with LBPME=0),
 * so the bit is refused with INVALID FIELD IN CDB, as LIO does. */
static bool write_same_may_unmap(const struct vdisk_dev *vd)
{
	(void)vd;
	return false;
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
	/* No protection information (READ CAPACITY(16) PROT_EN=0). */
	if (ws.protect) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(ws.flags_byte, 7));
		return -1;
	}
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

/* One WRITE SAME in progress: the walk over its range, a chunk at a time. */
struct write_same_job {
	struct scst_cmd *cmd;
	struct vdisk_io io;    /* the chunk being written; cmd->dev_priv */
	uint8_t *chunk;        /* copies of the block, for every chunk */
	size_t chunk_cap;      /* its size, for buf_pool_free() */
	uint32_t chunk_blocks; /* blocks per full chunk */
	uint64_t next_lba;     /* first block of the chunk to write next */
	uint64_t end_lba;      /* one past the range */
	bool dsync;            /* each chunk durable before the next (WCE=0) */
	bool over;             /* an error, the end or an abort */
	bool running;          /* write_same_run() is on the stack */
	bool in_flight;        /* a chunk was submitted and has not completed */
};

static void write_same_finish(struct write_same_job *j)
{
	struct scst_cmd *cmd = j->cmd;

	assert(!j->in_flight);
	buf_pool_free(j->chunk, j->chunk_cap);
	cmd->dev_priv = NULL;
	free(j);
	scst_cmd_done(cmd);
}

static void write_same_run(struct write_same_job *j);

static void write_same_chunk_done(struct vdisk_io *io, int err)
{
	struct write_same_job *j = container_of(io, struct write_same_job, io);
	struct scst_cmd *cmd = io->cmd;
	uint32_t bs = cmd->dev->block_size;

	assert(j->in_flight);
	j->in_flight = false;
	if (err) {
		vdisk_set_io_error(cmd, VDISK_IO_WRITE, err, j->next_lba + io->done / bs);
		j->over = true;
	} else {
		/* Backends run a transfer to its end or fail it. */
		assert(io->done == io->len);
		j->next_lba += io->len / bs;
		/* Nobody will see the result of an aborted command, and the
		 * task management function waits for it to end. */
		if (j->next_lba == j->end_lba || atomic_load(&cmd->aborted))
			j->over = true;
	}
	/* Completed from inside submit (a synchronous backend): the loop in
	 * write_same_run() goes on from there. */
	if (!j->running)
		write_same_run(j);
}

/* Writes chunk after chunk until one is in flight (its completion calls
 * back here) or the job is over; looping here rather than submitting from
 * the completion keeps the stack flat however many chunks there are. */
static void write_same_run(struct write_same_job *j)
{
	struct scst_cmd *cmd = j->cmd;
	uint32_t bs = cmd->dev->block_size;

	j->running = true;
	while (!j->over) {
		uint64_t left = j->end_lba - j->next_lba;
		uint32_t n = left < j->chunk_blocks ? (uint32_t)left : j->chunk_blocks;

		assert(n > 0);
		vdisk_io_init(&j->io, cmd, VDISK_IO_WRITE, j->chunk, j->next_lba * bs, n * bs);
		j->io.dsync = j->dsync;
		j->io.complete = write_same_chunk_done;
		j->in_flight = true;
		vdisk_of(cmd)->mode->backend->submit(&j->io);
		if (j->in_flight) {
			j->running = false;
			return;
		}
	}
	j->running = false;
	write_same_finish(j);
}

void vdisk_exec_write_same(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	uint32_t bs = cmd->dev->block_size;
	struct scsi_write_same_cdb ws;
	struct write_same_job *j;

	scsi_cdb_decode_write_same(cmd->cdb, cmd->cdb_len, &ws); /* PARSE accepted it */
	assert(cmd->nblocks > 0);
	/* PARSE took exactly one block of Data-Out; the core received it. */
	assert(ws.ndob || vdisk_write_len(cmd) == bs);
	/* nullio: nothing is stored, so there is nothing to write. */
	if (vd->mode->backend->no_medium) {
		scst_cmd_done(cmd);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	j->cmd = cmd;
	j->chunk_blocks = bs < WRITE_SAME_CHUNK_BYTES ? WRITE_SAME_CHUNK_BYTES / bs : 1;
	if (j->chunk_blocks > cmd->nblocks)
		j->chunk_blocks = cmd->nblocks;
	j->next_lba = cmd->lba;
	j->end_lba = cmd->lba + cmd->nblocks;
	/* As WRITE without FUA (WRITE SAME has no FUA bit): durable before
	 * GOOD when the write cache is off, unless the cache is non-volatile. */
	j->dsync = vdisk_write_needs_sync(cmd, false);
	/* From the reactor's pool: 4 KiB aligned (O_DIRECT), and recycled. */
	j->chunk = buf_pool_alloc((size_t)j->chunk_blocks * bs, &j->chunk_cap);
	if (!j->chunk) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	if (ws.ndob)
		memset(j->chunk, 0, (size_t)j->chunk_blocks * bs);
	else
		for (uint32_t i = 0; i < j->chunk_blocks; i++)
			memcpy(j->chunk + (size_t)i * bs, cmd->buf, bs);
	write_same_run(j);
}
