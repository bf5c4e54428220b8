/* READ and WRITE (6/10/12/16): the data path.
 *
 * PARSE checks the CDB and the LBA range, so EXEC only moves bytes: one
 * backend transfer per command, straight between the command's buffer
 * and the store. */
#include "handlers/vdisk/vdisk_internal.h"

int vdisk_parse_block_cdb(struct scst_cmd *cmd, struct scsi_rw_cdb *rw, bool moves_data)
{
	uint32_t max_blocks = moves_data ? VDISK_MAX_XFER_BYTES / cmd->dev->block_size
					 : UINT32_MAX;

	if (vdisk_decode_block_cdb(cmd, scsi_cdb_decode_rw, max_blocks, rw))
		return -1;
	cmd->lba = rw->lba;
	cmd->nblocks = rw->nblocks;
	return 0;
}

/* A block transfer in direction @dir: nblocks (checked against the
 * maximum transfer, so the product fits) blocks of data. */
static int parse_transfer(struct scst_cmd *cmd, enum scst_data_dir dir)
{
	struct scsi_rw_cdb rw;

	if (vdisk_parse_block_cdb(cmd, &rw, true))
		return -1;
	cmd->data_dir = dir;
	cmd->data_len = rw.nblocks * cmd->dev->block_size;
	return 0;
}

int vdisk_parse_read(struct scst_cmd *cmd)
{
	return parse_transfer(cmd, SCST_DATA_READ);
}

int vdisk_parse_write(struct scst_cmd *cmd)
{
	return parse_transfer(cmd, SCST_DATA_WRITE);
}

static void read_done(struct vdisk_io *io, int err)
{
	struct scst_cmd *cmd = io->cmd;

	if (err)
		vdisk_set_io_error(cmd, VDISK_IO_READ, err,
				   cmd->lba + io->done / cmd->dev->block_size);
	else
		scst_set_resp_data_len(cmd, io->len);
	vdisk_io_free(io);
	scst_cmd_done(cmd);
}

void vdisk_exec_read(struct scst_cmd *cmd)
{
	struct vdisk_io *io;

	/* bufflen is what the initiator will take (at most the CDB's
	 * length): reading more would only be thrown away. */
	if (cmd->bufflen == 0) {
		scst_cmd_done(cmd);
		return;
	}
	io = vdisk_io_new(cmd, VDISK_IO_READ, cmd->buf, cmd->lba * cmd->dev->block_size,
			  cmd->bufflen);
	if (!io) {
		scst_cmd_done(cmd);
		return;
	}
	io->complete = read_done;
	vdisk_of(cmd)->mode->backend->submit(io);
}

static void write_done(struct vdisk_io *io, int err)
{
	struct scst_cmd *cmd = io->cmd;

	if (err)
		vdisk_set_io_error(cmd, VDISK_IO_WRITE, err,
				   cmd->lba + io->done / cmd->dev->block_size);
	vdisk_io_free(io);
	scst_cmd_done(cmd);
}

void vdisk_submit_write(struct scst_cmd *cmd, bool dsync)
{
	uint32_t len = vdisk_write_len(cmd);
	struct vdisk_io *io;

	if (len == 0) {
		scst_cmd_done(cmd);
		return;
	}
	io = vdisk_io_new(cmd, VDISK_IO_WRITE, cmd->buf, cmd->lba * cmd->dev->block_size, len);
	if (!io) {
		scst_cmd_done(cmd);
		return;
	}
	io->dsync = dsync;
	io->complete = write_done;
	vdisk_of(cmd)->mode->backend->submit(io);
}

void vdisk_exec_write(struct scst_cmd *cmd)
{
	struct scsi_rw_cdb rw;

	scsi_cdb_decode_rw(cmd->cdb, cmd->cdb_len, &rw); /* PARSE accepted it */
	vdisk_submit_write(cmd, vdisk_write_needs_sync(cmd, rw.fua));
}
