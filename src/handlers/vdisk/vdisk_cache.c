/* SYNCHRONIZE CACHE (10/16): written data reaches the medium.
 *
 * The whole store is flushed whatever the range (fdatasync has no range
 * that io_uring exposes), which SBC allows: the range only bounds what must
 * be flushed. With nv_cache the cache counts as the medium and there is
 * nothing to do. IMMED is honoured by finishing only when the flush has,
 * which SBC permits for IMMED=1 too. */
#include "handlers/vdisk/vdisk_internal.h"

int vdisk_parse_sync_cache(struct scst_cmd *cmd)
{
	struct scsi_sync_cache_cdb sc;

	if (!scsi_cdb_decode_sync_cache(cmd->cdb, cmd->cdb_len, &sc)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	/* NUMBER OF LOGICAL BLOCKS 0 means "through the last block". */
	if (vdisk_check_range(cmd, sc.lba, sc.nblocks))
		return -1;
	cmd->lba = sc.lba;
	cmd->nblocks = sc.nblocks;
	return vdisk_parse_no_data(cmd);
}

static void flush_done(struct vdisk_io *io, int err)
{
	struct scst_cmd *cmd = io->cmd;

	if (err)
		vdisk_set_io_error(cmd, VDISK_IO_FLUSH, err, cmd->lba);
	vdisk_io_free(io);
	scst_cmd_done(cmd);
}

void vdisk_flush_and_finish(struct scst_cmd *cmd)
{
	struct vdisk_io *io;

	if (vdisk_of(cmd)->cfg.nv_cache) {
		scst_cmd_done(cmd);
		return;
	}
	io = vdisk_io_new(cmd, VDISK_IO_FLUSH, NULL, 0, 0);
	if (!io) {
		scst_cmd_done(cmd);
		return;
	}
	io->complete = flush_done;
	vdisk_of(cmd)->mode->backend->submit(io);
}

void vdisk_exec_sync_cache(struct scst_cmd *cmd)
{
	vdisk_flush_and_finish(cmd);
}
