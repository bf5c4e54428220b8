/* PRE-FETCH (10/16), SBC-4 5.15 and 5.16: the initiator will soon read
 * these blocks; have them in the cache.
 *
 * Status. SBC-4 ends a PRE-FETCH with CONDITION MET when the blocks are
 * (IMMED=0), or will be (IMMED=1), in the cache, and with GOOD when the
 * cache cannot hold them all. We always answer GOOD, because the only
 * cache there is, is not ours to promise anything about:
 *  - fileio on the page cache: the kernel's. posix_fadvise(WILLNEED)
 *    (io_uring's FADVISE, so the reactor never blocks) starts reading the
 *    blocks in, but neither says when it is done nor keeps them there:
 *    memory pressure may evict them before the READ comes. Claiming
 *    CONDITION MET would be a promise we cannot keep;
 *  - blockio and fileio with o_direct: reads bypass the page cache, so
 *    there is nothing to fill; the command only checks its range;
 *  - nullio: no medium, nothing to read.
 * (libiscsi's PreFetch tests also want GOOD: its check_result() takes
 * CONDITION MET for a failure.)
 *
 * IMMED is accepted and changes nothing: the advice only starts the
 * reads, so the status comes as soon as it is given either way. */
#include "handlers/vdisk/vdisk_internal.h"

/* Most one PRE-FETCH advises the page cache to read: the cache is shared
 * with every other LUN and process, and asking it for more than it would
 * keep only evicts what others read. The rest of the range is checked but
 * not advised. */
#define VDISK_MAX_PREFETCH_BYTES (64u << 20)

int vdisk_parse_prefetch(struct scst_cmd *cmd)
{
	struct scsi_prefetch_cdb pf;
	uint64_t nblocks;

	if (!scsi_cdb_decode_prefetch(cmd->cdb, cmd->cdb_len, &pf)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	if (vdisk_check_range(cmd, pf.lba, pf.nblocks))
		return -1;
	/* NUMBER OF LOGICAL BLOCKS 0: through the last block. */
	nblocks = pf.nblocks ? pf.nblocks : scst_dev_nblocks(cmd->dev) - pf.lba;
	cmd->lba = pf.lba;
	/* The range orders it in the task set like a READ; clamp so that a
	 * whole-medium PRE-FETCH still fits nblocks' type. */
	cmd->nblocks = nblocks > UINT32_MAX ? UINT32_MAX : (uint32_t)nblocks;
	return vdisk_parse_no_data(cmd);
}

static bool store_has_page_cache(const struct vdisk_dev *vd)
{
	return !vd->mode->backend->no_medium && !vd->mode->direct && !vd->cfg.o_direct;
}

static void prefetch_done(struct vdisk_io *io, int err)
{
	struct scst_cmd *cmd = io->cmd;

	/* Advice that failed (a store that refuses fadvise) is not an error
	 * of the command: it reads the blocks all the same when asked. */
	(void)err;
	vdisk_io_free(io);
	scst_cmd_done(cmd);
}

void vdisk_exec_prefetch(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	uint64_t bytes = (uint64_t)cmd->nblocks * cmd->dev->block_size;
	struct vdisk_io *io;

	if (!store_has_page_cache(vd) || cmd->nblocks == 0) {
		scst_cmd_done(cmd);
		return;
	}
	if (bytes > VDISK_MAX_PREFETCH_BYTES)
		bytes = VDISK_MAX_PREFETCH_BYTES;
	io = vdisk_io_new(cmd, VDISK_IO_PREFETCH, NULL, cmd->lba * cmd->dev->block_size,
			  (uint32_t)bytes);
	if (!io) {
		/* BUSY is set; the initiator may try again. */
		scst_cmd_done(cmd);
		return;
	}
	io->complete = prefetch_done;
	vd->mode->backend->submit(io);
}
