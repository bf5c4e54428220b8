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
 * time, into one buffer per command: BYTCHK 0 moves no data, so its range
 * is bounded only by the medium (a VERIFY(16) may name 2^32 blocks), and
 * the memory a command takes must not grow with it.
 *
 * WRITE AND VERIFY writes durably (the verification is that the medium
 * took the data) and does not read the data back: a read-back through the
 * page cache would compare the buffer with itself and prove nothing. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
#include "handlers/vdisk/vdisk_internal.h"

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

/* One VERIFY in progress: the walk over its range, a chunk at a time. */
struct verify_job {
	struct scst_cmd *cmd;
	struct vdisk_io io;      /* the chunk being read; cmd->dev_priv */
	uint8_t bytchk;
	uint8_t *chunk;          /* one buffer for every chunk */
	size_t chunk_cap;        /* its size, for buf_pool_free() */
	uint32_t chunk_blocks;   /* blocks per full chunk */
	uint64_t next_lba;       /* first block of the chunk to read next */
	uint64_t end_lba;        /* one past the range */
	bool over;               /* an error, a miscompare, the end or an abort */
	bool running;            /* verify_run() is on the stack */
	bool in_flight;          /* a chunk was submitted and has not completed */
};

/* Offset, from the start of the range, of the first byte where the chunk
 * read at @pos (bytes into the range, @len bytes) differs from what the
 * initiator sent, or -1 when they agree. Only the bytes the Data-Out
 * buffer holds (vdisk_write_len()) are compared. */
static int64_t first_difference(const struct scst_cmd *cmd, const struct verify_job *j,
				uint64_t pos, uint32_t len)
{
	uint32_t bs = cmd->dev->block_size;
	uint32_t sent = vdisk_write_len(cmd);
	const uint8_t *medium = j->chunk;

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

static void verify_finish(struct verify_job *j)
{
	struct scst_cmd *cmd = j->cmd;

	assert(!j->in_flight);
	buf_pool_free(j->chunk, j->chunk_cap);
	cmd->dev_priv = NULL;
	free(j);
	scst_cmd_done(cmd);
}

static void verify_run(struct verify_job *j);

static void verify_chunk_done(struct vdisk_io *io, int err)
{
	struct verify_job *j = container_of(io, struct verify_job, io);
	struct scst_cmd *cmd = io->cmd;
	uint32_t bs = cmd->dev->block_size;
	uint64_t pos = (j->next_lba - cmd->lba) * bs;

	assert(j->in_flight);
	j->in_flight = false;
	if (err) {
		vdisk_set_io_error(cmd, VDISK_IO_READ, err, j->next_lba + io->done / bs);
		j->over = true;
	} else {
		/* Backends run a transfer to its end or fail it. */
		assert(io->done == io->len);
		int64_t at = j->bytchk == BYTCHK_NONE ? -1 : first_difference(cmd, j, pos, io->len);

		if (at >= 0) {
			struct scsi_sense s = scsi_sense_make(SK_MISCOMPARE,
							      ASC_MISCOMPARE_DURING_VERIFY);

			s.has_information = true;
			s.information = (uint64_t)at;
			scst_set_cmd_error(cmd, s);
			j->over = true;
		}
		j->next_lba += io->len / bs;
		/* The rest of a long range is not worth reading for a command
		 * whose result nobody will see (task management, a closing
		 * session): the core ends an aborted command without a
		 * response. */
		if (j->next_lba == j->end_lba || atomic_load(&cmd->aborted))
			j->over = true;
	}
	/* Completed from inside submit (a synchronous backend): the loop in
	 * verify_run() goes on from there. */
	if (!j->running)
		verify_run(j);
}

/* Reads chunk after chunk until one is in flight (its completion calls
 * back here) or the job is over. A backend may complete an I/O before
 * submit returns; looping here instead of submitting from the completion
 * keeps the stack flat however many chunks the range has. */
static void verify_run(struct verify_job *j)
{
	struct scst_cmd *cmd = j->cmd;
	uint32_t bs = cmd->dev->block_size;

	j->running = true;
	while (!j->over) {
		uint64_t left = j->end_lba - j->next_lba;
		uint32_t n = left < j->chunk_blocks ? (uint32_t)left : j->chunk_blocks;

		assert(n > 0);
		vdisk_io_init(&j->io, cmd, VDISK_IO_READ, j->chunk, j->next_lba * bs, n * bs);
		j->io.complete = verify_chunk_done;
		j->in_flight = true;
		vdisk_of(cmd)->mode->backend->submit(&j->io);
		if (j->in_flight) {
			j->running = false;
			return;
		}
	}
	j->running = false;
	verify_finish(j);
}

void vdisk_exec_verify(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	uint32_t bs = cmd->dev->block_size;
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
	if (!j) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	j->cmd = cmd;
	j->bytchk = rw.bytchk;
	j->chunk_blocks = bs < VERIFY_CHUNK_BYTES ? VERIFY_CHUNK_BYTES / bs : 1;
	j->next_lba = cmd->lba;
	j->end_lba = cmd->lba + cmd->nblocks;
	if (j->chunk_blocks > cmd->nblocks)
		j->chunk_blocks = cmd->nblocks;
	/* From the reactor's pool: 4 KiB aligned (O_DIRECT), and recycled,
	 * so that a VERIFY does not fault in a fresh mapping. */
	j->chunk = buf_pool_alloc((size_t)j->chunk_blocks * bs, &j->chunk_cap);
	if (!j->chunk) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	verify_run(j);
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
