/* Helpers the vdisk command files share: responses, range and block CDB
 * checks, the mapping of I/O errors to sense data, and the per-command
 * I/O request. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

int vdisk_parse_no_data(struct scst_cmd *cmd)
{
	cmd->data_dir = SCST_DATA_NONE;
	cmd->data_len = 0;
	return 0;
}

int vdisk_check_range(struct scst_cmd *cmd, uint64_t lba, uint64_t nblocks)
{
	uint64_t capacity = scst_dev_nblocks(cmd->dev);

	/* Written so that no sum can wrap: lba may be anything the CDB holds.
	 * Even a zero-block transfer must name an LBA on the medium. */
	if (lba >= capacity || nblocks > capacity - lba) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		return -1;
	}
	return 0;
}

int vdisk_decode_block_cdb(struct scst_cmd *cmd, vdisk_block_cdb_decoder *decode,
			   uint32_t max_blocks, struct scsi_rw_cdb *rw)
{
	if (!decode(cmd->cdb, cmd->cdb_len, rw)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	if (vdisk_refuse_protect(cmd, rw->protect, rw->flags_byte))
		return -1;
	if (vdisk_check_range(cmd, rw->lba, rw->nblocks))
		return -1;
	if (rw->nblocks > max_blocks) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(rw->len_byte, -1));
		return -1;
	}
	return 0;
}

int vdisk_parse_data_out_blocks(struct scst_cmd *cmd, const struct scsi_rw_cdb *rw)
{
	cmd->lba = rw->lba;
	cmd->nblocks = rw->nblocks;
	/* TRANSFER LENGTH 0: nothing is read or written, not an error. */
	if (rw->nblocks == 0)
		return vdisk_parse_no_data(cmd);
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = rw->nblocks * cmd->dev->block_size;
	return 0;
}

static const char *io_kind_name(enum vdisk_io_kind kind)
{
	switch (kind) {
	case VDISK_IO_READ:
		return "read";
	case VDISK_IO_WRITE:
		return "write";
	case VDISK_IO_FLUSH:
		return "flush";
	case VDISK_IO_DISCARD:
		return "deallocation";
	default:
		return "I/O";
	}
}

void vdisk_set_io_error(struct scst_cmd *cmd, enum vdisk_io_kind kind, int err, uint64_t lba)
{
	struct scsi_sense s;

	if (err == -ENOSPC || err == -EDQUOT) {
		/* A sparse or thin store ran out of room (SBC-4 4.7.3.6):
		 * SPACE ALLOCATION FAILED WRITE PROTECT, 27/07. The LUN is
		 * not made read-only: a write may succeed once space is
		 * freed (an UNMAP, or room made on the file system). */
		s = scsi_sense_make(SK_DATA_PROTECT, ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
	} else {
		s = scsi_sense_make(SK_MEDIUM_ERROR, kind == VDISK_IO_READ
							 ? ASC_UNRECOVERED_READ_ERROR
							 : ASC_WRITE_ERROR);
		if (kind != VDISK_IO_FLUSH) {
			s.has_information = true;
			s.information = lba;
		}
	}
	log_warn("device %s: %s at LBA %llu failed: %s", cmd->dev->name, io_kind_name(kind),
		 (unsigned long long)lba, strerror(-err));
	scst_set_cmd_error(cmd, s);
}

void vdisk_io_init(struct vdisk_io *io, struct scst_cmd *cmd, enum vdisk_io_kind kind,
		   uint8_t *buf, uint64_t off, uint32_t len)
{
	*io = (struct vdisk_io){
		.kind = kind,
		.vd = vdisk_of(cmd),
		.cmd = cmd,
		.reactor = cmd->reactor,
		.buf = buf,
		.off = off,
		.len = len,
	};
	cmd->dev_priv = io;
}

struct vdisk_io *vdisk_io_new(struct scst_cmd *cmd, enum vdisk_io_kind kind, uint8_t *buf,
			      uint64_t off, uint32_t len)
{
	struct vdisk_io *io = malloc(sizeof(*io));

	if (!io) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		return NULL;
	}
	vdisk_io_init(io, cmd, kind, buf, off, len);
	return io;
}

void vdisk_io_free(struct vdisk_io *io)
{
	/* Its CQE would land in freed memory. */
	assert(!io->in_ring);
	io->cmd->dev_priv = NULL;
	free(io);
}

bool vdisk_write_needs_sync(struct scst_cmd *cmd, bool fua)
{
	struct vdisk_dev *vd = vdisk_of(cmd);

	if (vd->cfg.nv_cache)
		return false;
	return fua || !atomic_load(&cmd->dev->wce);
}
