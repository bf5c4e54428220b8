/* The medium's capacity: READ CAPACITY (10) and (16), the last LBA and
 * the block length, and following a backing store that was resized. */
#include <stdio.h>

#include "base/bytes.h"
#include "handlers/vdisk/vdisk_internal.h"

#define READ_CAPACITY10_LEN 8
#define READ_CAPACITY16_LEN 32

int vdisk_parse_read_capacity10(struct scst_cmd *cmd)
{
	struct scsi_read_capacity10_cdb rc;

	if (!scsi_cdb_decode_read_capacity10(cmd->cdb, cmd->cdb_len, &rc)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	/* SBC-3: with PMI 0 the LOGICAL BLOCK ADDRESS field shall be 0. */
	if (!rc.pmi && rc.lba != 0) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = READ_CAPACITY10_LEN;
	return 0;
}

void vdisk_exec_read_capacity10(struct scst_cmd *cmd)
{
	uint8_t data[READ_CAPACITY10_LEN];
	uint64_t last = scst_dev_nblocks(cmd->dev) - 1;

	/* Too big for 32 bits: 0xffffffff tells the initiator to use (16). */
	put_be32(data, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	put_be32(data + 4, cmd->dev->block_size);
	scst_cmd_copy_response(cmd, data, sizeof(data));
	scst_cmd_done(cmd);
}

int vdisk_parse_read_capacity16(struct scst_cmd *cmd)
{
	uint32_t alloc_len;

	if (!scsi_cdb_sai16_alloc_len(cmd->cdb, cmd->cdb_len, &alloc_len)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = alloc_len; /* 0 is legal: GOOD, no data */
	return 0;
}

void vdisk_exec_read_capacity16(struct scst_cmd *cmd)
{
	uint8_t data[READ_CAPACITY16_LEN] = { 0 };

	put_be64(data, scst_dev_nblocks(cmd->dev) - 1);
	put_be32(data + 8, cmd->dev->block_size);
	/* Byte 12: no protection (P_TYPE 0, PROT_EN 0). Byte 13: LOGICAL
	 * BLOCKS PER PHYSICAL BLOCK EXPONENT (physical_blocksize). Bytes
	 * 14-15: LBPME and LBPRZ on a thin LUN (deallocated blocks read as
	 * zeros on every backend: vdisk_unmap.c), lowest aligned LBA 0: LBA
	 * 0 starts a physical block. */
	data[13] = (uint8_t)__builtin_ctz(vdisk_blocks_per_physical(vdisk_of(cmd)));
	if (vdisk_is_thin(vdisk_of(cmd)))
		data[14] = 0x80 | 0x40; /* LBPME, LBPRZ */
	scst_cmd_copy_response(cmd, data, sizeof(data));
	scst_cmd_done(cmd);
}

/* A LUN whose size the configuration gave (size, size_mb) keeps it; one
 * that is the whole store follows the store, in whole blocks. */
int vdisk_resync_size(struct scst_device *dev, char *err, size_t errlen)
{
	struct vdisk_dev *vd = dev->handler_priv;
	uint64_t nblocks;

	if (!vd->mode->backend->resize || vd->cfg.size_bytes)
		return 0;
	if (vd->mode->backend->resize(vd, err, errlen))
		return -1;
	nblocks = vd->store_bytes / dev->block_size;
	if (nblocks == 0) {
		snprintf(err, errlen, "%s now holds less than one %u-byte block", vd->cfg.filename,
			 dev->block_size);
		return -1;
	}
	if (nblocks == scst_dev_nblocks(dev))
		return 0;
	atomic_store_explicit(&dev->nblocks, nblocks, memory_order_relaxed);
	return 1;
}
