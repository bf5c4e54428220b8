/* VERIFY and WRITE AND VERIFY (10/12/16).
 *
 * VERIFY reads its whole range from the medium, whatever BYTCHK (SBC-4
 * 5.31) says; BYTCHK picks what is checked besides:
 *   0  the medium only: every block must be readable;
 *   1  the Data-Out buffer against the medium, byte for byte;
 *   3  one block of Data-Out against every block of the range;
 *   2  reserved.
 * A block that cannot be read is MEDIUM ERROR / UNRECOVERED READ ERROR
 * with its LBA in the INFORMATION field; a difference is MISCOMPARE /
 * MISCOMPARE DURING VERIFY OPERATION with the offset of the first
 * differing byte there.
 *
 * The range is read in chunks of at most VERIFY_CHUNK_BYTES, one at a
 * time, into one buffer per command (vdisk_chunks.h): BYTCHK 0 moves no
 * data, so its range is bounded only by the medium (a VERIFY(16) may name
 * 2^32 blocks), and the memory a command takes must not grow with it.
 *
 * WRITE AND VERIFY writes durably (the verification is that the medium
 * took the data) and does not read the data back: a read-back through the
 * page cache would compare the buffer with itself and prove nothing. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/vdisk/vdisk_chunks.h"

#define BYTCHK_NONE 0
#define BYTCHK_ALL 1
#define BYTCHK_RESERVED 2
#define BYTCHK_ONE_BLOCK 3

/* Large enough that a long range is read at the store's streaming speed,
 * small enough that a few hundred concurrent VERIFYs stay harmless. */
#define VERIFY_CHUNK_BYTES (1u << 20)

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

/* One VERIFY in progress: the walk over its range and what it checks. */
struct verify_job {
	struct vdisk_chunk_walk walk; /* reads the range, a chunk at a time */
	uint8_t bytchk;
};

/* Offset, from the start of the range, of the first byte where the chunk
 * just read at @pos (bytes into the range, @len bytes) differs from what
 * the initiator sent, or -1 when they agree. Only the bytes the Data-Out
 * buffer holds (vdisk_write_len()) are compared. */
static int64_t first_difference(const struct scst_cmd *cmd, const struct verify_job *j,
				uint64_t pos, uint32_t len)
{
	uint32_t bs = cmd->dev->block_size;
	uint32_t sent = vdisk_write_len(cmd);
	const uint8_t *medium = j->walk.chunk;

	for (uint32_t base = 0; base < len;) {
		/* BYTCHK 1: the chunk's own part of the buffer; BYTCHK 3:
		 * the buffer's one block, against each block in turn. */
		uint64_t from = j->bytchk == BYTCHK_ONE_BLOCK ? 0 : pos + base;
		uint32_t step = j->bytchk == BYTCHK_ONE_BLOCK ? bs : len;
		uint64_t have = sent > from ? sent - from : 0;
		uint32_t cmp = have < step ? (uint32_t)have : step;

		if (cmp && memcmp(medium + base, cmd->buf + from, cmp)) {
			for (uint32_t i = 0; i < cmp; i++)
				if (medium[base + i] != cmd->buf[from + i])
					return (int64_t)(pos + base + i);
		}
		base += step;
	}
	return -1;
}

/* A chunk was read: with BYTCHK 1 or 3, compare it; a difference ends
 * the walk with MISCOMPARE. (BYTCHK 0 only needed it readable.) */
static bool verify_chunk_done(struct vdisk_chunk_walk *w, uint64_t lba, uint32_t nblocks)
{
	struct verify_job *j = container_of(w, struct verify_job, walk);
	struct scst_cmd *cmd = w->cmd;
	uint32_t bs = cmd->dev->block_size;
	int64_t at;

	if (j->bytchk == BYTCHK_NONE)
		return true;
	at = first_difference(cmd, j, (lba - cmd->lba) * bs, nblocks * bs);
	if (at < 0)
		return true;
	struct scsi_sense s = scsi_sense_make(SK_MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY);

	s.has_information = true;
	s.information = (uint64_t)at;
	scst_set_cmd_error(cmd, s);
	return false;
}

static void verify_finish(struct vdisk_chunk_walk *w)
{
	struct scst_cmd *cmd = w->cmd;

	vdisk_chunk_walk_release(w);
	free(container_of(w, struct verify_job, walk));
	scst_cmd_done(cmd);
}

void vdisk_exec_verify(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct scsi_rw_cdb rw;
	struct verify_job *j;

	scsi_cdb_decode_rw(cmd->cdb, cmd->cdb_len, &rw); /* PARSE accepted it */
	/* No blocks: nothing to read. nullio: there is no medium that could
	 * fail, so BYTCHK 0 succeeds at once; BYTCHK 1 and 3 still compare
	 * the Data-Out against the zeros its reads return. */
	if (cmd->nblocks == 0 || (rw.bytchk == BYTCHK_NONE && vd->mode->backend->no_medium)) {
		scst_cmd_done(cmd);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j) {
		j->bytchk = rw.bytchk;
		j->walk.chunk_done = verify_chunk_done;
		j->walk.finish = verify_finish;
	}
	if (!j || !vdisk_chunk_walk_init(&j->walk, cmd, VDISK_IO_READ, VERIFY_CHUNK_BYTES)) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	vdisk_chunk_walk_start(&j->walk);
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
