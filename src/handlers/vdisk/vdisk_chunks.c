/* The chunked walk over a command's range (vdisk_chunks.h). */
#include "handlers/vdisk/vdisk_chunks.h"

#include <assert.h>

#include "base/buf_pool.h"

bool vdisk_chunk_walk_init(struct vdisk_chunk_walk *w, struct scst_cmd *cmd,
			   enum vdisk_io_kind kind, uint32_t chunk_bytes)
{
	uint32_t bs = cmd->dev->block_size;

	assert(cmd->nblocks > 0 && w->finish);
	w->cmd = cmd;
	w->kind = kind;
	w->chunk_blocks = bs < chunk_bytes ? chunk_bytes / bs : 1;
	if (w->chunk_blocks > cmd->nblocks)
		w->chunk_blocks = cmd->nblocks;
	w->next_lba = cmd->lba;
	w->end_lba = cmd->lba + cmd->nblocks;
	/* From the reactor's pool: 4 KiB aligned (O_DIRECT), and recycled,
	 * so that a long command does not fault in a fresh mapping. */
	w->chunk = buf_pool_alloc((size_t)w->chunk_blocks * bs, &w->chunk_cap);
	return w->chunk != NULL;
}

void vdisk_chunk_walk_release(struct vdisk_chunk_walk *w)
{
	assert(!w->in_flight);
	buf_pool_free(w->chunk, w->chunk_cap);
	w->chunk = NULL;
	w->cmd->dev_priv = NULL;
}

static void walk_run(struct vdisk_chunk_walk *w);

static void walk_chunk_done(struct vdisk_io *io, int err)
{
	struct vdisk_chunk_walk *w = container_of(io, struct vdisk_chunk_walk, io);
	struct scst_cmd *cmd = io->cmd;
	uint32_t bs = cmd->dev->block_size;

	assert(w->in_flight);
	w->in_flight = false;
	if (err) {
		vdisk_set_io_error(cmd, w->kind, err, w->next_lba + io->done / bs);
		w->over = true;
	} else {
		uint32_t n = io->len / bs;

		/* Backends run a transfer to its end or fail it. */
		assert(io->done == io->len);
		if (w->chunk_done && !w->chunk_done(w, w->next_lba, n))
			w->over = true;
		w->next_lba += n;
		if (w->next_lba == w->end_lba || atomic_load(&cmd->aborted))
			w->over = true;
	}
	/* Completed from inside submit (a synchronous backend): the loop in
	 * walk_run() goes on from there. */
	if (!w->running)
		walk_run(w);
}

/* Submits chunk after chunk until one is in flight (its completion calls
 * back here) or the walk is over; looping here rather than submitting
 * from the completion keeps the stack flat. */
static void walk_run(struct vdisk_chunk_walk *w)
{
	struct scst_cmd *cmd = w->cmd;
	uint32_t bs = cmd->dev->block_size;

	w->running = true;
	while (!w->over) {
		uint64_t left = w->end_lba - w->next_lba;
		uint32_t n = left < w->chunk_blocks ? (uint32_t)left : w->chunk_blocks;

		assert(n > 0);
		vdisk_io_init(&w->io, cmd, w->kind, w->chunk, w->next_lba * bs, n * bs);
		w->io.dsync = w->dsync;
		w->io.complete = walk_chunk_done;
		w->in_flight = true;
		vdisk_of(cmd)->mode->backend->submit(&w->io);
		if (w->in_flight) {
			w->running = false;
			return;
		}
	}
	w->running = false;
	w->finish(w);
}

void vdisk_chunk_walk_start(struct vdisk_chunk_walk *w)
{
	walk_run(w);
}
