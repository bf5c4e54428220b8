/* A walk over a command's block range in chunks, one chunk in flight at a
 * time, through one buffer taken from the reactor's pool: what VERIFY
 * (reads) and WRITE SAME (writes) do, and what UNMAP, ORWRITE and the copy
 * commands will do. A range may be far larger than any buffer a command
 * should hold (VERIFY(16) names 2^32 blocks); the walk keeps the memory
 * bounded and the stack flat however many chunks there are.
 *
 * Lifetime: the owner embeds the walk in its per-command state, sets it up
 * with vdisk_chunk_walk_init(), fills the buffer if it writes, and starts
 * it. Each chunk that completed goes to ->chunk_done; the walk ends at the
 * end of the range, on an I/O error (the error set on the command, with
 * the failing LBA), when ->chunk_done says so, or when the command has
 * been aborted (nobody will see its result, and its task management
 * function waits for it). Then ->finish runs once, with no I/O in flight;
 * it frees the owner's state (vdisk_chunk_walk_release() gives the buffer
 * back) and calls scst_cmd_done(). Everything on the command's reactor. */
#ifndef USCST_HANDLERS_VDISK_CHUNKS_H
#define USCST_HANDLERS_VDISK_CHUNKS_H

#include "handlers/vdisk/vdisk_internal.h"

struct vdisk_chunk_walk {
	struct scst_cmd *cmd;
	struct vdisk_io io;      /* the chunk in flight; cmd->dev_priv */
	enum vdisk_io_kind kind; /* VDISK_IO_READ or VDISK_IO_WRITE */
	bool dsync;              /* writes: each chunk durable before the next */
	uint8_t *chunk;          /* one buffer for every chunk */
	size_t chunk_cap;        /* its size, for buf_pool_free() */
	uint32_t chunk_blocks;   /* blocks per full chunk */
	uint64_t next_lba;       /* first block of the chunk to move next */
	uint64_t end_lba;        /* one past the range */
	bool over;               /* an error, the end, an abort, or chunk_done's word */
	bool running;            /* the submit loop is on the stack */
	bool in_flight;          /* a chunk was submitted and has not completed */
	/* The chunk of @nblocks blocks from @lba has moved (its data is in
	 * w->chunk for a read). Returns false to end the walk (having set
	 * the command's result). Optional. */
	bool (*chunk_done)(struct vdisk_chunk_walk *w, uint64_t lba, uint32_t nblocks);
	void (*finish)(struct vdisk_chunk_walk *w); /* required */
};

/* Sets @w up over the command's range (cmd->lba, cmd->nblocks > 0) with
 * chunks of at most @chunk_bytes, and takes the buffer. Returns false
 * without memory (nothing to release). */
bool vdisk_chunk_walk_init(struct vdisk_chunk_walk *w, struct scst_cmd *cmd,
			   enum vdisk_io_kind kind, uint32_t chunk_bytes);
/* Submits the first chunk; the walk goes on from the completions. */
void vdisk_chunk_walk_start(struct vdisk_chunk_walk *w);
/* Gives the buffer back; in ->finish. */
void vdisk_chunk_walk_release(struct vdisk_chunk_walk *w);

#endif
