/* ORWRITE(16), SBC-4 5.14: read the blocks, OR the Data-Out into what was
 * read, write the result back. ORWRITE(16) always does the OR (SBC-4
 * gives it no BMOP field, which is ORWRITE(32)'s, a variable-length CDB
 * we do not serve).
 *
 * A read-modify-write needs what COMPARE AND WRITE needs: no other writer
 * may change the blocks between our read and our write, or its data would
 * vanish under ours. The op row's SCST_OP_EXCLUSIVE_RANGE gives that (the
 * core's write range lock, core/range_lock.c, holds every other writer of
 * overlapping blocks, of every session and reactor, until our write is
 * done), so this file only moves bytes: one read into a buffer of its own,
 * the OR, one write, on the reactor's io_uring.
 *
 * The range is at most the maximum transfer length (Block Limits), the
 * same bound as WRITE: the read buffer is as large as the Data-Out. */
#include <assert.h>
#include <stdlib.h>

#include "base/buf_pool.h"
#include "handlers/vdisk/vdisk_internal.h"

int vdisk_parse_orwrite(struct scst_cmd *cmd)
{
	struct scsi_rw_cdb rw;

	if (!scsi_cdb_decode_orwrite16(cmd->cdb, cmd->cdb_len, &rw)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	if (vdisk_refuse_protect(cmd, rw.protect, rw.flags_byte))
		return -1;
	if (vdisk_check_range(cmd, rw.lba, rw.nblocks))
		return -1;
	if (rw.nblocks > VDISK_MAX_XFER_BYTES / cmd->dev->block_size) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(rw.len_byte, -1));
		return -1;
	}
	cmd->lba = rw.lba;
	cmd->nblocks = rw.nblocks;
	/* TRANSFER LENGTH 0: nothing is read or written, not an error. */
	if (rw.nblocks == 0)
		return vdisk_parse_no_data(cmd);
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = rw.nblocks * cmd->dev->block_size;
	return 0;
}

/* One ORWRITE in progress: its read, then its write. */
struct orwrite_job {
	struct scst_cmd *cmd;
	struct vdisk_io io;   /* the read, then the write; cmd->dev_priv */
	uint8_t *medium;      /* what the read found, then the OR */
	size_t medium_cap;    /* its size, for buf_pool_free() */
	uint32_t len;         /* bytes of the range */
	bool dsync;           /* the write durable before GOOD (FUA, WCE=0) */
};

static void orwrite_finish(struct orwrite_job *j)
{
	struct scst_cmd *cmd = j->cmd;

	buf_pool_free(j->medium, j->medium_cap);
	cmd->dev_priv = NULL;
	free(j);
	scst_cmd_done(cmd);
}

static void orwrite_write_done(struct vdisk_io *io, int err)
{
	struct orwrite_job *j = container_of(io, struct orwrite_job, io);
	struct scst_cmd *cmd = io->cmd;

	if (err)
		vdisk_set_io_error(cmd, VDISK_IO_WRITE, err,
				   cmd->lba + io->done / cmd->dev->block_size);
	orwrite_finish(j);
}

static void orwrite_read_done(struct vdisk_io *io, int err)
{
	struct orwrite_job *j = container_of(io, struct orwrite_job, io);
	struct scst_cmd *cmd = io->cmd;

	if (err) {
		vdisk_set_io_error(cmd, VDISK_IO_READ, err,
				   cmd->lba + io->done / cmd->dev->block_size);
		orwrite_finish(j);
		return;
	}
	/* Backends run a transfer to its end or fail it. */
	assert(io->done == io->len);
	/* Aborted meanwhile: a write nobody acknowledges is one an initiator
	 * that retries would not expect (and an OR applied twice is not). */
	if (atomic_load(&cmd->aborted)) {
		orwrite_finish(j);
		return;
	}
	for (uint32_t i = 0; i < j->len; i++)
		j->medium[i] |= cmd->buf[i];
	vdisk_io_init(&j->io, cmd, VDISK_IO_WRITE, j->medium, cmd->lba * cmd->dev->block_size,
		      j->len);
	j->io.dsync = j->dsync;
	j->io.complete = orwrite_write_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}

void vdisk_exec_orwrite(struct scst_cmd *cmd)
{
	/* What the initiator sent: a Data-Out cut short by its expected
	 * length ORs (and writes) only that much, like WRITE. */
	uint32_t len = vdisk_write_len(cmd);
	struct scsi_rw_cdb rw;
	struct orwrite_job *j;

	scsi_cdb_decode_orwrite16(cmd->cdb, cmd->cdb_len, &rw); /* PARSE accepted it */
	assert(len <= cmd->nblocks * cmd->dev->block_size);
	if (len == 0) {
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
	j->len = len;
	j->dsync = vdisk_write_needs_sync(cmd, rw.fua);
	/* From the reactor's pool: 4 KiB aligned (O_DIRECT). */
	j->medium = buf_pool_alloc(len, &j->medium_cap);
	if (!j->medium) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	vdisk_io_init(&j->io, cmd, VDISK_IO_READ, j->medium, cmd->lba * cmd->dev->block_size,
		      j->len);
	j->io.complete = orwrite_read_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}
