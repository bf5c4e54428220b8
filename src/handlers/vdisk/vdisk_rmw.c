/* The read-modify-write of COMPARE AND WRITE and ORWRITE: read the range
 * into a buffer of its own, let the command decide what to write (its
 * modify callback), write that back in place.
 *
 * Atomicity is not here: both op rows carry SCST_OP_EXCLUSIVE_RANGE, so
 * the core's write range lock (core/range_lock.c) holds every other
 * writer of the overlapping blocks, of every session and reactor, from
 * before our read until our write has completed. Without it another
 * writer's data could land between the read and the write and vanish
 * under ours. This file only moves bytes: one read and at most one write
 * on the command's reactor's io_uring, like READ and WRITE.
 *
 * Lifetime of a job: vdisk_rmw_start() allocates it (and its medium
 * buffer, from the reactor's buf_pool) in the command's EXEC, on the
 * command's reactor; the backend completes each transfer on that same
 * reactor; rmw_finish() frees both there, then completes the command.
 * Nothing else holds a pointer to it but cmd->dev_priv (through its io),
 * which is cleared before it is freed. */
#include <assert.h>
#include <stdlib.h>

#include "base/buf_pool.h"
#include "base/reactor.h"
#include "handlers/vdisk/vdisk_internal.h"

/* One read-modify-write in progress: its read, then its write. */
struct vdisk_rmw_job {
	struct scst_cmd *cmd;
	struct vdisk_io io;     /* the read, then the write; cmd->dev_priv */
	uint8_t *medium;        /* what the read found (len bytes) */
	size_t medium_cap;      /* its size, for buf_pool_free() */
	uint32_t len;           /* bytes of the range, from cmd->lba */
	bool dsync;             /* the write durable before GOOD (FUA, WCE=0) */
	vdisk_rmw_modify *modify;
};

static void rmw_finish(struct vdisk_rmw_job *j)
{
	struct scst_cmd *cmd = j->cmd;

	/* The buffer goes back to the pool it came from; a CQE still owed
	 * would land in freed memory. */
	assert(reactor_self() == cmd->reactor);
	assert(!j->io.in_ring && cmd->dev_priv == &j->io);
	buf_pool_free(j->medium, j->medium_cap);
	cmd->dev_priv = NULL;
	free(j);
	scst_cmd_done(cmd);
}

static void rmw_write_done(struct vdisk_io *io, int err)
{
	struct vdisk_rmw_job *j = container_of(io, struct vdisk_rmw_job, io);
	struct scst_cmd *cmd = io->cmd;

	if (err)
		vdisk_set_io_error(cmd, VDISK_IO_WRITE, err,
				   cmd->lba + io->done / cmd->dev->block_size);
	rmw_finish(j);
}

static void rmw_read_done(struct vdisk_io *io, int err)
{
	struct vdisk_rmw_job *j = container_of(io, struct vdisk_rmw_job, io);
	struct scst_cmd *cmd = io->cmd;
	uint8_t *out;

	if (err) {
		vdisk_set_io_error(cmd, VDISK_IO_READ, err,
				   cmd->lba + io->done / cmd->dev->block_size);
		rmw_finish(j);
		return;
	}
	/* Backends run a transfer to its end or fail it: modify sees the
	 * whole range. */
	assert(io->done == io->len && io->len == j->len);
	out = j->modify(cmd, j->medium, j->len);
	if (!out) {
		rmw_finish(j);
		return;
	}
	/* Aborted meanwhile (task management, a closing session): nobody
	 * will see the result, and a write nobody acknowledges is one an
	 * initiator that retries would not expect (an OR applied twice is
	 * not the OR it asked for). */
	if (atomic_load(&cmd->aborted)) {
		rmw_finish(j);
		return;
	}
	vdisk_io_init(&j->io, cmd, VDISK_IO_WRITE, out,
		      cmd->lba * cmd->dev->block_size, j->len);
	j->io.dsync = j->dsync;
	j->io.complete = rmw_write_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}

void vdisk_rmw_start(struct scst_cmd *cmd, uint32_t len, bool dsync, vdisk_rmw_modify *modify)
{
	uint32_t bs = cmd->dev->block_size;
	struct vdisk_rmw_job *j;

	/* Within what PARSE checked against the medium. */
	assert(reactor_self() == cmd->reactor);
	assert(len <= (uint64_t)cmd->nblocks * bs);
	if (len == 0) {
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
	j->len = len;
	j->dsync = dsync;
	j->modify = modify;
	/* From the reactor's pool: 4 KiB aligned (O_DIRECT). */
	j->medium = buf_pool_alloc(len, &j->medium_cap);
	if (!j->medium) {
		free(j);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	vdisk_io_init(&j->io, cmd, VDISK_IO_READ, j->medium, cmd->lba * bs, len);
	j->io.complete = rmw_read_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}
