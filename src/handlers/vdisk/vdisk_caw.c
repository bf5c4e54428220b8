/* COMPARE AND WRITE, SBC-4 5.2: read NUMBER OF LOGICAL BLOCKS blocks,
 * compare them with the first half of the Data-Out (the verify instance)
 * and, only when every byte matches, write the second half (the write
 * instance) in their place. On a difference nothing is written and the
 * command ends with MISCOMPARE / MISCOMPARE DURING VERIFY OPERATION, the
 * offset of the first differing byte in INFORMATION (VALID=1), in fixed
 * or descriptor format as D_SENSE says, like VERIFY with BYTCHK=1.
 *
 * The atomicity is not here: the op row's SCST_OP_EXCLUSIVE_RANGE makes
 * the core's write range lock (core/range_lock.c) hold every other writer
 * of the overlapping blocks, of every session and reactor, from before
 * the read until the write has completed, and run overlapping COMPARE AND
 * WRITEs one after the other. So this file only moves bytes: one read and
 * one write on the reactor's io_uring, like READ and WRITE.
 *
 * The range is at most VDISK_MAX_CAW_BLOCKS (Block Limits' MAXIMUM
 * COMPARE AND WRITE LENGTH): the read goes into a buffer of its own, and
 * the other writers of those blocks wait for the whole command. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
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
	/* No protection information (READ CAPACITY(16) PROT_EN=0). */
	if (caw.protect) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(caw.flags_byte, 7));
		return -1;
	}
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

/* One COMPARE AND WRITE in progress: its read, then its write. */
struct caw_job {
	struct scst_cmd *cmd;
	struct vdisk_io io;   /* the read, then the write; cmd->dev_priv */
	uint8_t *medium;      /* what the read found */
	size_t medium_cap;    /* its size, for buf_pool_free() */
	bool dsync;           /* the write durable before GOOD (FUA, WCE=0) */
};

static void caw_finish(struct caw_job *j)
{
	struct scst_cmd *cmd = j->cmd;

	buf_pool_free(j->medium, j->medium_cap);
	cmd->dev_priv = NULL;
	free(j);
	scst_cmd_done(cmd);
}

static void caw_write_done(struct vdisk_io *io, int err)
{
	struct caw_job *j = container_of(io, struct caw_job, io);
	struct scst_cmd *cmd = io->cmd;

	if (err)
		vdisk_set_io_error(cmd, VDISK_IO_WRITE, err,
				   cmd->lba + io->done / cmd->dev->block_size);
	caw_finish(j);
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

static void caw_read_done(struct vdisk_io *io, int err)
{
	struct caw_job *j = container_of(io, struct caw_job, io);
	struct scst_cmd *cmd = io->cmd;
	uint32_t bs = cmd->dev->block_size;
	uint32_t len = cmd->nblocks * bs;
	int64_t at;

	if (err) {
		vdisk_set_io_error(cmd, VDISK_IO_READ, err, cmd->lba + io->done / bs);
		caw_finish(j);
		return;
	}
	/* Backends run a transfer to its end or fail it. */
	assert(io->done == io->len);
	at = first_difference(j->medium, cmd->buf, len);
	if (at >= 0) {
		struct scsi_sense s = scsi_sense_make(SK_MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY);

		s.has_information = true;
		s.information = (uint64_t)at;
		scst_set_cmd_error(cmd, s);
		caw_finish(j);
		return;
	}
	/* Aborted meanwhile (task management, a closing session): nobody
	 * will see the result, and a write nobody acknowledges is one an
	 * initiator that retries would not expect. */
	if (atomic_load(&cmd->aborted)) {
		caw_finish(j);
		return;
	}
	vdisk_io_init(&j->io, cmd, VDISK_IO_WRITE, cmd->buf + len, cmd->lba * bs, len);
	j->io.dsync = j->dsync;
	j->io.complete = caw_write_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}

void vdisk_exec_compare_and_write(struct scst_cmd *cmd)
{
	uint32_t bs = cmd->dev->block_size;
	struct scsi_caw_cdb caw;
	struct caw_job *j;

	scsi_cdb_decode_compare_and_write(cmd->cdb, cmd->cdb_len, &caw); /* PARSE accepted it */
	if (cmd->nblocks == 0) {
		scst_cmd_done(cmd);
		return;
	}
	/* PARSE took exactly both instances; the core received them. */
	assert(vdisk_write_len(cmd) == 2u * cmd->nblocks * bs);
	j = calloc(1, sizeof(*j));
	if (!j) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	j->cmd = cmd;
	j->dsync = vdisk_write_needs_sync(cmd, caw.fua);
	/* From the reactor's pool: 4 KiB aligned (O_DIRECT). */
	j->medium = buf_pool_alloc((size_t)cmd->nblocks * bs, &j->medium_cap);
	if (!j->medium) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	vdisk_io_init(&j->io, cmd, VDISK_IO_READ, j->medium, cmd->lba * bs, cmd->nblocks * bs);
	j->io.complete = caw_read_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}
