/* VERIFY and WRITE AND VERIFY (10/12/16).
 *
 * VERIFY's BYTCHK (SBC-4 5.31) picks what is checked:
 *   0  the medium only: the range is on it, so the check succeeds;
 *   1  the Data-Out buffer against the medium, byte for byte;
 *   3  one block of Data-Out against every block of the range;
 *   2  reserved.
 * A difference is MISCOMPARE / MISCOMPARE DURING VERIFY OPERATION with
 * the offset of the first differing byte in the INFORMATION field.
 *
 * WRITE AND VERIFY writes durably (the verification is that the medium
 * took the data) and does not read the data back: a read-back through the
 * page cache would compare the buffer with itself and prove nothing. */
#include <stdlib.h>
#include <string.h>

#include "handlers/vdisk/vdisk_internal.h"

#define BYTCHK_NONE 0
#define BYTCHK_ALL 1
#define BYTCHK_RESERVED 2
#define BYTCHK_ONE_BLOCK 3

int vdisk_parse_verify(struct scst_cmd *cmd)
{
	struct scsi_rw_cdb rw;

	if (!scsi_cdb_decode_rw(cmd->cdb, cmd->cdb_len, &rw)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	if (rw.bytchk == BYTCHK_RESERVED) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 2));
		return -1;
	}
	if (vdisk_parse_block_cdb(cmd, &rw, rw.bytchk != BYTCHK_NONE))
		return -1;
	switch (rw.bytchk) {
	case BYTCHK_ALL:
		cmd->data_dir = SCST_DATA_WRITE;
		cmd->data_len = rw.nblocks * cmd->dev->block_size;
		break;
	case BYTCHK_ONE_BLOCK:
		cmd->data_dir = SCST_DATA_WRITE;
		cmd->data_len = rw.nblocks ? cmd->dev->block_size : 0;
		break;
	default:
		vdisk_parse_no_data(cmd);
		break;
	}
	return 0;
}

/* Offset of the first byte where @medium (@len bytes) differs from what
 * the initiator sent, or -1 when they agree. Only the bytes the buffer
 * holds are compared (vdisk_write_len()). */
static int64_t first_difference(const struct scst_cmd *cmd, const uint8_t *medium, uint32_t len,
				bool one_block)
{
	uint32_t step = one_block ? cmd->dev->block_size : len;
	uint32_t sent = vdisk_write_len(cmd);
	uint32_t cmp = step < sent ? step : sent;

	for (uint32_t base = 0; base < len; base += step) {
		if (!memcmp(medium + base, cmd->buf, cmp))
			continue;
		for (uint32_t i = 0; i < cmp; i++)
			if (medium[base + i] != cmd->buf[i])
				return (int64_t)base + i;
	}
	return -1;
}

static void verify_read_done(struct vdisk_io *io, int err)
{
	struct scst_cmd *cmd = io->cmd;
	struct scsi_rw_cdb rw;

	scsi_cdb_decode_rw(cmd->cdb, cmd->cdb_len, &rw); /* PARSE accepted it */
	if (err) {
		vdisk_set_io_error(cmd, VDISK_IO_READ, err,
				   cmd->lba + io->done / cmd->dev->block_size);
	} else {
		int64_t at = first_difference(cmd, io->buf, io->len,
					      rw.bytchk == BYTCHK_ONE_BLOCK);

		if (at >= 0) {
			struct scsi_sense s = scsi_sense_make(SK_MISCOMPARE,
							      ASC_MISCOMPARE_DURING_VERIFY);

			s.has_information = true;
			s.information = (uint64_t)at;
			scst_set_cmd_error(cmd, s);
		}
	}
	free(io->buf);
	vdisk_io_free(io);
	scst_cmd_done(cmd);
}

void vdisk_exec_verify(struct scst_cmd *cmd)
{
	uint32_t len = cmd->nblocks * cmd->dev->block_size;
	struct vdisk_io *io;
	uint8_t *medium;

	if (cmd->data_len == 0) { /* BYTCHK 0, or no blocks: the range is all */
		scst_cmd_done(cmd);
		return;
	}
	/* Aligned like the core's buffers, for O_DIRECT. */
	if (posix_memalign((void **)&medium, 4096, (len + 4095) & ~4095u)) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	io = vdisk_io_new(cmd, VDISK_IO_READ, medium, cmd->lba * cmd->dev->block_size, len);
	if (!io) {
		free(medium);
		scst_cmd_done(cmd);
		return;
	}
	io->complete = verify_read_done;
	vdisk_of(cmd)->mode->backend->submit(io);
}

int vdisk_parse_write_verify(struct scst_cmd *cmd)
{
	struct scsi_rw_cdb rw;

	if (!scsi_cdb_decode_rw(cmd->cdb, cmd->cdb_len, &rw)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	/* WRITE AND VERIFY knows BYTCHK 0 and 1 only. */
	if (rw.bytchk > BYTCHK_ALL) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 2));
		return -1;
	}
	return vdisk_parse_write(cmd);
}

/* The write is made durable before GOOD (unless nv_cache): reading it back
 * through the page cache would only compare the buffer with itself. */
void vdisk_exec_write_verify(struct scst_cmd *cmd)
{
	vdisk_submit_write(cmd, !vdisk_of(cmd)->cfg.nv_cache);
}
