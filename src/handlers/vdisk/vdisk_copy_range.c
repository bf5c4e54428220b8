/* vdisk_fileio's copy_range() (scst.h): the copy manager's chunk copied
 * from one fileio LUN's file to another's inside the kernel, with
 * copy_file_range(2), so that the bytes never cross into user space (and a
 * file system that can share extents, XFS or Btrfs, may not copy them at
 * all).
 *
 * liburing 2.3 (Debian 12's) has no copy_file_range operation, and the
 * call blocks for as long as the copy takes, so it runs on a worker
 * thread: COPY_WORKERS of them, started at the first copy, joined by
 * vdisk_copy_workers_stop() at shutdown. A worker loops until the chunk
 * is done and posts the completion to the command's reactor, which alone
 * touches the command.
 *
 * "Not done" (cmd->copy_range_refused, the core then reads and writes the
 * chunk itself and remembers it for the device): the destination is
 * O_DIRECT (the page cache and direct I/O must not mix for one file; we
 * say so at once), or the first call fails with EXDEV (another file
 * system), EOPNOTSUPP, EINVAL (a file system that cannot) or ENOSYS,
 * having written nothing. A failure after part of the chunk is written,
 * or a copy cut short, is MEDIUM ERROR as a failed pwrite() is.
 *
 * Durability: copy_file_range goes through the page cache whatever the
 * destination's O_DSYNC, so when the WRITE must be durable before GOOD
 * (write-through, or WCE 0; the copy's WRITEs carry no FUA) the worker
 * ends with fdatasync() of the destination. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/list.h"
#include "base/log.h"
#include "base/reactor.h"
#include "handlers/vdisk/vdisk.h"
#include "handlers/vdisk/vdisk_internal.h"

#define COPY_WORKERS 2

struct copy_work {
	struct reactor_msg msg; /* the completion, to cmd->reactor */
	struct copy_work *next; /* the queue */
	struct scst_cmd *cmd;
	const char *src_name;   /* for the log: the device outlives the command */
	int in_fd, out_fd;
	uint64_t in_off, out_off, len;
	bool sync;              /* fdatasync() the destination at the end */
	/* The worker's answer: nothing written and the call cannot be made
	 * (refused, errno in err), or err 0 / the errno with done bytes
	 * written. */
	bool refused;
	int err;
	uint64_t done;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct copy_work *head, **tail;
	unsigned nthreads;
	pthread_t threads[COPY_WORKERS];
	bool stopping;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.tail = &pool.head,
};

static bool refusal_errno(int err)
{
	return err == EXDEV || err == EOPNOTSUPP || err == EINVAL || err == ENOSYS;
}

/* On a worker: the whole chunk, or the reason it stopped. */
static void copy_chunk(struct copy_work *w)
{
	loff_t in = (loff_t)w->in_off, out = (loff_t)w->out_off;

	while (w->done < w->len) {
		ssize_t n = copy_file_range(w->in_fd, &in, w->out_fd, &out,
					    (size_t)(w->len - w->done), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->err = errno;
			w->refused = w->done == 0 && refusal_errno(w->err);
			return;
		}
		if (n == 0) {
			/* The source ends before the chunk: the file shrank
			 * under its LUN. */
			w->err = EIO;
			return;
		}
		w->done += (uint64_t)n;
	}
	if (w->sync && fdatasync(w->out_fd) < 0)
		w->err = errno;
}

/* On the command's reactor. */
static void copy_done(struct reactor_msg *m)
{
	struct copy_work *w = container_of(m, struct copy_work, msg);
	struct scst_cmd *cmd = w->cmd;
	struct vdisk_dev *vd = vdisk_of(cmd);

	assert(reactor_self() == cmd->reactor);
	if (w->refused) {
		if (!atomic_exchange(&vd->copy_range_refusal_logged, true))
			log_info("device %s: copy offload: copy_file_range from %s refused (%s)",
				 cmd->dev->name, w->src_name, strerror(w->err));
		cmd->copy_range_refused = true;
	} else if (w->err) {
		log_warn_rl("device %s: copy_file_range from %s failed after %llu of %llu bytes: %s",
			    cmd->dev->name, w->src_name, (unsigned long long)w->done,
			    (unsigned long long)w->len, strerror(w->err));
		vdisk_set_io_error(cmd, VDISK_IO_WRITE, w->err,
				   cmd->lba + w->done / cmd->dev->block_size);
	} else if (!atomic_exchange(&vd->copy_range_logged, true)) {
		log_info("device %s: copy offload: copy_file_range (first chunk from %s)",
			 cmd->dev->name, w->src_name);
	}
	free(w);
	scst_cmd_done(cmd);
}

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct copy_work *w = pool.head;

		if (!w) {
			if (pool.stopping)
				break;
			pthread_cond_wait(&pool.wake, &pool.lock);
			continue;
		}
		pool.head = w->next;
		if (!pool.head)
			pool.tail = &pool.head;
		pthread_mutex_unlock(&pool.lock);
		copy_chunk(w);
		reactor_send(w->cmd->reactor, &w->msg, copy_done);
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* Queues @w; false when no worker runs and none could be started. Under
 * no lock. */
static bool pool_submit(struct copy_work *w)
{
	bool ok;

	pthread_mutex_lock(&pool.lock);
	while (!pool.stopping && pool.nthreads < COPY_WORKERS) {
		int rc = pthread_create(&pool.threads[pool.nthreads], NULL, worker_main, NULL);

		if (rc) {
			log_warn("copy_file_range worker: pthread_create: %s", strerror(rc));
			break;
		}
		pool.nthreads++;
	}
	ok = !pool.stopping && pool.nthreads > 0;
	if (ok) {
		w->next = NULL;
		*pool.tail = w;
		pool.tail = &w->next;
		pthread_cond_signal(&pool.wake);
	}
	pthread_mutex_unlock(&pool.lock);
	return ok;
}

bool vdisk_copy_range(struct scst_cmd *cmd, struct scst_device *src, uint64_t src_lba)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct vdisk_dev *svd = src->handler_priv;
	uint32_t len = vdisk_write_len(cmd);
	struct copy_work *w;
	int in_fd, out_fd;

	assert(reactor_self() == cmd->reactor);
	if (len == 0) {
		scst_cmd_done(cmd);
		return true;
	}
	in_fd = svd ? vdisk_file_copy_fd(svd) : -1;
	out_fd = vdisk_file_copy_fd(vd);
	if (in_fd < 0 || out_fd < 0 || vd->cfg.o_direct) {
		if (!atomic_exchange(&vd->copy_range_logged, true))
			log_info("device %s: copy offload: no copy_file_range (%s)", cmd->dev->name,
				 vd->cfg.o_direct ? "o_direct" : "not a regular file");
		return false;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return false;
	w->cmd = cmd;
	w->src_name = src->name;
	w->in_fd = in_fd;
	w->out_fd = out_fd;
	w->in_off = src_lba * src->block_size;
	w->out_off = cmd->lba * cmd->dev->block_size;
	w->len = len;
	w->sync = vdisk_write_needs_sync(cmd, false);
	if (!pool_submit(w)) {
		free(w);
		return false;
	}
	return true;
}

void vdisk_copy_workers_stop(void)
{
	unsigned n;

	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	n = pool.nthreads;
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(pool.threads[i], NULL);
}
