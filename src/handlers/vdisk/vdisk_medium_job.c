/* A job over the whole medium, in the background: what SANITIZE (SBC-4
 * 5.30, 4.11) and FORMAT UNIT (SBC-4 5.3) run once their command has
 * been checked.
 *
 * While it runs the logical unit is not ready for every session: each
 * command but those the core lets through (INQUIRY, REPORT LUNS, REQUEST
 * SENSE, REPORT SUPPORTED OPERATION CODES ...) ends with NOT READY and
 * SANITIZE IN PROGRESS (04/1B) or FORMAT IN PROGRESS (04/04), with how far
 * the job has come in the sense-key-specific progress indication
 * (vdisk_medium_op_not_ready(), which the device's not_ready hook asks).
 *
 * The job is not a command. Its command either completed at once (IMMED)
 * or waits for it as its "waiter", and the job outlives both: an abort
 * (ABORT TASK, a LUN or target reset, the session's end) ends the waiting
 * command, never the job, as SBC-4 4.11.2 asks of a sanitize (it goes on
 * through a logical unit reset and an I_T nexus loss). It runs on the
 * reactor of the command that started it, one chunk in flight at a time
 * through the backend, from one buffer of the reactor's pool, and holds a
 * device reference, so the store stays open however many sessions come
 * and go. It stops early only when the device has been destroyed (the
 * reference is the last one: nobody can see the medium any more).
 *
 * What it writes: each pass a chunk buffer filled with the pattern
 * (SANITIZE OVERWRITE: the initialization pattern, restarting at each
 * block, inverted every other pass when INVERT asks so that the last pass
 * writes it as given), or zeros; or, on a thin LUN, nothing: the whole
 * range is deallocated (VDISK_IO_DISCARD) and reads as zeros. Then a
 * flush, so that the result is durable before the unit is ready again.
 *
 * The start: a record of the job (what it writes) is made durable first
 * (vdisk_medium_store.c), so that a restart in the middle finds it: a
 * sanitize then runs again from its first pass (SBC-4 4.11.2 resumes a
 * sanitize after a power on; vdisk_medium_job_resume(), on a reactor of
 * its choosing, with no waiter), a format leaves the unit in its failure
 * mode. The unit is not ready from the moment the job exists, so no
 * command that comes later writes the medium; one already executing (a
 * WRITE past its checks) could still land behind the first pass. So the
 * job waits, a second at a time and 10 s at most, until nothing but its
 * own command is active on the device. Every command of the device
 * counts, also one the not-ready check has not met yet (a WRITE waiting
 * for its Data-Out, which will be refused once it comes): only such a
 * command, held by its initiator, makes the job wait the whole 10 s
 * (tests/integration/sanitize_resume.sh shows it).
 *
 * Pacing: background_rate_mb bounds the bytes written per second (the
 * reactor's one-second tick refills the budget), so that a sanitize of a
 * large LUN does not take the whole store from the other LUNs on it; 0
 * (the default) lets it run as fast as the store takes it. Deallocation
 * is not paced: it moves no data.
 *
 * The end: success makes the unit ready and queues NOT READY TO READY
 * CHANGE, MEDIUM MAY HAVE CHANGED on every other nexus (the medium they
 * knew is gone; the nexus whose waiting command gets GOOD learns it from
 * that); failure leaves the unit in the failure mode the spec names
 * (SANITIZE: MEDIUM ERROR / SANITIZE COMMAND FAILED until a sanitize
 * succeeds, or EXIT FAILURE MODE after one with AUSE=1; FORMAT UNIT:
 * MEDIUM FORMAT CORRUPTED until a format succeeds), and its waiter gets
 * that sense. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

/* One write of the walk: large enough that a fast store is kept busy,
 * small enough that an abort or the pacing reacts soon. */
#define MEDIUM_JOB_CHUNK_BYTES (1u << 20)
/* Seconds the job waits at most for the commands that were already
 * executing when it began (a WRITE whose data may still land). */
#define MEDIUM_JOB_DRAIN_TICKS 10
/* One deallocation: within what one vdisk_io carries (32-bit length). */
#define MEDIUM_JOB_DISCARD_BYTES (1u << 30)
#define PROGRESS_ONE 65536u

enum job_phase {
	JOB_RECORDING, /* its record is being made durable (vdisk_medium_store.c) */
	JOB_DRAINING, /* commands from before the job still executing */
	JOB_WRITING,  /* the passes over the medium */
	JOB_FLUSHING, /* what was written, made durable */
	JOB_OVER,
};

struct medium_job {
	struct vdisk_dev *vd;
	struct scst_device *dev;  /* holds a reference */
	struct reactor *reactor;  /* where every callback of the job runs */
	struct vdisk_medium_job_spec spec;
	struct scst_cmd *waiter;  /* the command waiting for the end, if any */
	struct vdisk_io io;       /* the piece in flight */
	struct vdisk_medium_record record; /* the record of its beginning */
	uint8_t *chunk;           /* the pattern, repeated; NULL when deallocating */
	size_t chunk_cap;
	uint32_t chunk_bytes;     /* bytes per full piece */
	uint64_t end;             /* the medium's size in bytes */
	uint64_t next;            /* first byte of the piece to go next */
	unsigned pass;            /* 0 .. spec.passes - 1 */
	enum job_phase phase;
	int err;                  /* the first failure, -errno */
	uint64_t err_lba;
	bool in_flight;
	bool running;             /* job_run() is on the stack */
	/* Pacing: bytes that may still go in this second; the tick refills. */
	uint64_t budget;
	uint64_t rate;            /* bytes per second; 0: unpaced */
	bool waiting_tick;
	unsigned drain_ticks;
	struct reactor_tick tick;
	struct reactor_msg resume_msg; /* a resumed job's start on its reactor */
};

static void job_run(struct medium_job *j);

bool vdisk_medium_op_not_ready(const struct vdisk_dev *vd, struct scsi_sense *sense)
{
	const struct vdisk_medium_op *m = &vd->medium_op;
	unsigned state = atomic_load_explicit(&m->state, memory_order_acquire);

	switch (state) {
	case VDISK_OP_IDLE:
		return false;
	case VDISK_OP_SANITIZING:
	case VDISK_OP_FORMATTING:
		*sense = scsi_sense_make(SK_NOT_READY, state == VDISK_OP_SANITIZING
							       ? ASC_LUN_NOT_READY_SANITIZE_IN_PROGRESS
							       : ASC_LUN_NOT_READY_FORMAT_IN_PROGRESS);
		sense->has_progress = true;
		sense->progress = (uint16_t)atomic_load_explicit(&m->progress,
								 memory_order_relaxed);
		return true;
	case VDISK_OP_SANITIZE_FAILED:
		*sense = scsi_sense_make(SK_MEDIUM_ERROR, ASC_SANITIZE_COMMAND_FAILED);
		return true;
	case VDISK_OP_FORMAT_FAILED:
		*sense = scsi_sense_make(SK_MEDIUM_ERROR, ASC_MEDIUM_FORMAT_CORRUPTED);
		return true;
	}
	assert(!"unknown medium state");
	return false;
}

/* ---- the piece in flight ---- */

static uint64_t job_total(const struct medium_job *j)
{
	return j->spec.deallocate ? j->end : j->end * j->spec.passes;
}

static void job_publish_progress(struct medium_job *j)
{
	uint64_t done = j->phase <= JOB_DRAINING ? 0
			: j->phase != JOB_WRITING ? job_total(j)
						  : j->pass * j->end + j->next;
	uint64_t p = job_total(j) ? done * PROGRESS_ONE / job_total(j) : 0;

	atomic_store_explicit(&j->vd->medium_op.progress, p >= PROGRESS_ONE ? PROGRESS_ONE - 1 : p,
			      memory_order_relaxed);
}

/* The chunk buffer for pass @pass: the pattern (or its inversion) from the
 * start of every block. With INVERT the passes alternate, the last one
 * writing the pattern as given (SBC-4 5.30.2): so pass i is inverted when
 * the passes left after it, passes - 1 - i, are odd. */
static void job_fill_chunk(struct medium_job *j)
{
	const struct vdisk_medium_job_spec *s = &j->spec;
	uint32_t bs = j->dev->block_size;
	bool invert = s->invert && (s->passes - 1 - j->pass) % 2 == 1;

	if (!s->pattern_len) {
		memset(j->chunk, 0, j->chunk_bytes);
		return;
	}
	for (uint32_t b = 0; b < j->chunk_bytes; b += bs) {
		for (uint32_t i = 0; i < bs; i++) {
			uint8_t v = s->pattern[i % s->pattern_len];

			j->chunk[b + i] = invert ? (uint8_t)~v : v;
		}
	}
}

static void job_piece_done(struct vdisk_io *io, int err)
{
	struct medium_job *j = container_of(io, struct medium_job, io);

	assert(reactor_self() == j->reactor && j->in_flight);
	j->in_flight = false;
	if (err) {
		j->err = err;
		j->err_lba = (io->off + io->done) / j->dev->block_size;
		j->phase = JOB_OVER;
	} else if (j->phase == JOB_FLUSHING) {
		j->phase = JOB_OVER;
	} else {
		j->next += io->len;
	}
	if (!j->running)
		job_run(j);
}

static void job_submit(struct medium_job *j, enum vdisk_io_kind kind, uint64_t off, uint32_t len)
{
	j->io = (struct vdisk_io){
		.kind = kind,
		.vd = j->vd,
		.reactor = j->reactor,
		.buf = j->chunk,
		.off = off,
		.len = len,
		.complete = job_piece_done,
	};
	j->in_flight = true;
	j->vd->mode->backend->submit(&j->io);
}

/* ---- the waiting command ---- */

/* Ends the waiting command with the job's outcome. */
static void job_release_waiter(struct medium_job *j, const struct scsi_sense *sense)
{
	struct scst_cmd *cmd = j->waiter;

	if (!cmd)
		return;
	j->waiter = NULL;
	if (sense)
		scst_set_cmd_error(cmd, *sense);
	scst_cmd_done(cmd);
}

/* An aborted waiter ends now (the core sends what its abort asks for);
 * the job goes on. */
static void job_check_waiter(struct medium_job *j)
{
	if (j->waiter && atomic_load(&j->waiter->aborted)) {
		log_info("device %s: the command waiting for the %s was aborted; the %s goes on",
			 j->dev->name, j->spec.name, j->spec.name);
		job_release_waiter(j, NULL);
	}
}

/* ---- the end ---- */

static void job_free(struct medium_job *j)
{
	struct scst_device *dev = j->dev;

	assert(!j->in_flight && !j->waiter);
	reactor_tick_remove(&j->tick);
	if (j->chunk)
		buf_pool_free(j->chunk, j->chunk_cap);
	free(j);
	/* Possibly the last reference: the device detaches here. */
	scst_device_put(dev);
}

static void job_end(struct medium_job *j)
{
	struct vdisk_medium_op *m = &j->vd->medium_op;
	struct scsi_sense sense;

	if (j->err == -ECANCELED) {
		/* Destroyed: nobody holds the device but us, and nobody waits. */
		log_warn("device %s: destroyed during a %s; the medium is left part-written",
			 j->dev->name, j->spec.name);
		job_release_waiter(j, NULL);
		job_free(j);
		return;
	}
	atomic_store_explicit(&m->progress, 0, memory_order_relaxed);
	if (j->err) {
		log_error("device %s: %s failed at LBA %llu: %s; the unit stays in failure mode",
			  j->dev->name, j->spec.name, (unsigned long long)j->err_lba,
			  strerror(-j->err));
		atomic_store(&m->failed_ause, j->spec.ause);
		/* Its record says so: after a restart too, the failure mode
		 * (SBC-4 4.11.3), not the job again. */
		vdisk_medium_transition(j->vd, j->spec.running, j->spec.failed, VDISK_RECORD_FAILED,
					&j->spec, NULL);
		sense = scsi_sense_make(SK_MEDIUM_ERROR, j->spec.failure_asc);
		job_release_waiter(j, &sense);
		job_free(j);
		return;
	}
	log_info("device %s: %s done", j->dev->name, j->spec.name);
	vdisk_medium_transition(j->vd, j->spec.running, VDISK_OP_IDLE, VDISK_RECORD_CLEAR, NULL,
				NULL);
	/* The other nexuses saw the unit not ready and find it ready with a
	 * medium that is not the one they knew. */
	scst_dev_queue_ua(j->dev, j->waiter ? j->waiter->tgt_dev : NULL,
			  scsi_sense_make(SK_UNIT_ATTENTION, ASC_NOT_READY_TO_READY_CHANGE));
	job_release_waiter(j, NULL);
	job_free(j);
}

/* ---- the walk ---- */

static void job_tick(struct reactor_tick *t)
{
	struct medium_job *j = container_of(t, struct medium_job, tick);

	j->budget = j->rate;
	j->drain_ticks += j->phase == JOB_DRAINING;
	if (j->waiting_tick) {
		j->waiting_tick = false;
		job_run(j);
	}
}

/* The device was destroyed: only the job's reference is left. */
static bool job_device_gone(const struct medium_job *j)
{
	return atomic_load(&j->dev->refs) == 1;
}

/* Whether the commands that had passed their not-ready check before the
 * job began are done: nothing is active on the device but the job's own
 * command. Those that come later are refused (the unit is not ready), but
 * a WRITE already executing would land behind the job's first pass and
 * survive it. Commands of any kind count (the lock-free state of another
 * reactor's command is not ours to read); they end soon, refused or
 * done. */
static bool job_device_quiet(const struct medium_job *j)
{
	unsigned active;

	pthread_mutex_lock(&j->dev->lock);
	active = j->dev->active_cmds;
	pthread_mutex_unlock(&j->dev->lock);
	return active <= (j->waiter ? 1u : 0u);
}

/* Submits piece after piece until one is in flight (its completion calls
 * back here), the pacing makes it wait for the tick, or the job is over.
 * Looping here rather than submitting from the completion keeps the stack
 * flat when the backend completes at once. */
static void job_run(struct medium_job *j)
{
	j->running = true;
	while (!j->in_flight && !j->waiting_tick && j->phase != JOB_RECORDING) {
		uint64_t left;
		uint32_t n;

		job_check_waiter(j);
		if (j->phase == JOB_OVER) {
			j->running = false;
			job_end(j);
			return;
		}
		if (job_device_gone(j)) {
			j->err = -ECANCELED;
			j->phase = JOB_OVER;
			continue;
		}
		job_publish_progress(j);
		if (j->phase == JOB_DRAINING) {
			if (!job_device_quiet(j) && j->drain_ticks < MEDIUM_JOB_DRAIN_TICKS) {
				/* Look again at the next tick. */
				j->waiting_tick = true;
				break;
			}
			if (!job_device_quiet(j))
				log_warn("device %s: commands from before the %s still active after "
					 "%d s; it starts anyway", j->dev->name, j->spec.name,
					 MEDIUM_JOB_DRAIN_TICKS);
			j->phase = JOB_WRITING;
		}
		if (j->phase == JOB_WRITING && j->next == j->end) {
			if (!j->spec.deallocate && ++j->pass < j->spec.passes) {
				j->next = 0;
				job_fill_chunk(j);
				continue;
			}
			j->phase = JOB_FLUSHING;
		}
		if (j->phase == JOB_FLUSHING) {
			if (j->vd->cfg.nv_cache || j->vd->mode->backend->no_medium) {
				j->phase = JOB_OVER;
				continue;
			}
			job_submit(j, VDISK_IO_FLUSH, 0, 0);
			continue;
		}
		left = j->end - j->next;
		if (j->spec.deallocate) {
			n = left < MEDIUM_JOB_DISCARD_BYTES ? (uint32_t)left : MEDIUM_JOB_DISCARD_BYTES;
			job_submit(j, VDISK_IO_DISCARD, j->next, n);
			continue;
		}
		if (j->rate && j->budget == 0) {
			j->waiting_tick = true;
			break;
		}
		n = left < j->chunk_bytes ? (uint32_t)left : j->chunk_bytes;
		if (j->rate)
			j->budget = j->budget > n ? j->budget - n : 0;
		job_submit(j, VDISK_IO_WRITE, j->next, n);
	}
	j->running = false;
}

/* The record of the job's beginning is durable (or could not be made,
 * which the writer logged): the job may write. */
static void job_recorded(struct vdisk_medium_record *r)
{
	struct medium_job *j = container_of(r, struct medium_job, record);

	assert(reactor_self() == j->reactor && j->phase == JOB_RECORDING);
	j->phase = j->vd->mode->backend->no_medium ? JOB_OVER : JOB_DRAINING;
	job_run(j);
}

/* ---- the start ---- */

static enum vdisk_medium_op_state medium_state(const struct vdisk_dev *vd)
{
	return atomic_load_explicit(&vd->medium_op.state, memory_order_acquire);
}

bool vdisk_medium_job_unit_ready(struct scst_cmd *cmd, unsigned may_leave)
{
	struct scsi_sense sense;

	if (medium_state(vdisk_of(cmd)) == may_leave)
		return true;
	if (cmd->dev->handler->not_ready &&
	    cmd->dev->handler->not_ready(cmd->dev, cmd->op_flags, &sense)) {
		scst_set_cmd_error(cmd, sense);
		return false;
	}
	return true;
}

/* A job for @spec on a medium of @bs-byte blocks, with its chunk buffer
 * (none when it deallocates); NULL when out of memory. */
static struct medium_job *job_alloc(const struct vdisk_medium_job_spec *spec, uint32_t bs)
{
	struct medium_job *j;

	assert(spec->running == VDISK_OP_SANITIZING || spec->running == VDISK_OP_FORMATTING);
	assert(spec->deallocate || spec->passes > 0);
	assert(spec->pattern_len <= sizeof(spec->pattern) && spec->pattern_len <= bs);
	j = calloc(1, sizeof(*j));
	if (j && !spec->deallocate) {
		/* Whole blocks, so that every block starts with the pattern. */
		j->chunk_bytes = MEDIUM_JOB_CHUNK_BYTES / bs * bs;
		j->chunk = buf_pool_alloc(j->chunk_bytes, &j->chunk_cap);
		if (!j->chunk) {
			free(j);
			j = NULL;
		}
	}
	return j;
}

static void job_discard(struct medium_job *j)
{
	if (j->chunk)
		buf_pool_free(j->chunk, j->chunk_cap);
	free(j);
}

/* What every job sets up before its record (or, resumed, its first
 * piece): the device reference, the medium's end, the pacing. */
static void job_setup(struct medium_job *j, struct vdisk_dev *vd, struct reactor *r,
		      const struct vdisk_medium_job_spec *spec)
{
	atomic_store_explicit(&vd->medium_op.progress, 0, memory_order_relaxed);
	j->vd = vd;
	j->dev = vd->dev;
	scst_device_get(j->dev);
	j->reactor = r;
	j->spec = *spec;
	j->end = scst_dev_nblocks(vd->dev) * vd->dev->block_size;
	j->rate = (uint64_t)vd->cfg.background_rate_mb << 20;
	j->budget = j->rate;
	/* The pacing's refill and the drain's second look. */
	j->tick.on_tick = job_tick;
	if (j->chunk)
		job_fill_chunk(j);
}

void vdisk_medium_job_start(struct scst_cmd *cmd, const struct vdisk_medium_job_spec *spec)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	unsigned expected = medium_state(vd);
	struct medium_job *j = job_alloc(spec, cmd->dev->block_size);

	if (!j) {
		log_warn("device %s: no memory for a %s", cmd->dev->name, spec->name);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	j->record.reactor = cmd->reactor;
	j->record.done = job_recorded;
	/* The caller saw the unit idle (or in a failure mode it may leave);
	 * another session's job may have started since: one job at a time. */
	if (expected == VDISK_OP_SANITIZING || expected == VDISK_OP_FORMATTING ||
	    !vdisk_medium_transition(vd, expected, spec->running, VDISK_RECORD_BEGIN, spec,
				     &j->record)) {
		struct scsi_sense sense;

		job_discard(j);
		if (!vdisk_medium_op_not_ready(vd, &sense))
			sense = scsi_sense_make(SK_NOT_READY, ASC_LUN_NOT_READY_CAUSE_NOT_REPORTABLE);
		scst_set_cmd_error(cmd, sense);
		scst_cmd_done(cmd);
		return;
	}
	job_setup(j, vd, cmd->reactor, spec);
	/* job_recorded() goes on once the record is durable: not a byte is
	 * written before a restart would find it. */
	j->phase = JOB_RECORDING;
	reactor_tick_add(j->reactor, &j->tick);
	log_info("device %s: %s of %llu blocks started by %s%s", cmd->dev->name, spec->name,
		 (unsigned long long)scst_dev_nblocks(cmd->dev), cmd->sess->initiator_name,
		 spec->immed ? " (IMMED)" : "");
	if (spec->immed)
		scst_cmd_done(cmd);
	else
		j->waiter = cmd;
}

/* ---- a sanitize resumed after a restart ---- */

static void job_resume_here(struct reactor_msg *m)
{
	struct medium_job *j = container_of(m, struct medium_job, resume_msg);

	assert(reactor_self() == j->reactor && j->phase == JOB_RECORDING);
	reactor_tick_add(j->reactor, &j->tick);
	/* Its record is there already: it was found at attach. */
	j->phase = j->vd->mode->backend->no_medium ? JOB_OVER : JOB_DRAINING;
	job_run(j);
}

void vdisk_medium_job_resume(struct vdisk_dev *vd)
{
	struct vdisk_medium_job_spec *spec = vd->medium_op.resume;
	struct medium_job *j;

	if (!spec)
		return;
	vd->medium_op.resume = NULL;
	/* vdisk_medium_store_load() made it SANITIZING: no command has
	 * touched the medium since the start. */
	assert(medium_state(vd) == VDISK_OP_SANITIZING && spec->running == VDISK_OP_SANITIZING);
	j = job_alloc(spec, vd->dev->block_size);
	if (!j) {
		/* Its record stays: the next start tries again. */
		log_error("device %s: no memory to resume the %s; the unit is in its failure mode",
			  vd->dev->name, spec->name);
		atomic_store(&vd->medium_op.failed_ause, spec->ause);
		vdisk_medium_transition(vd, VDISK_OP_SANITIZING, VDISK_OP_SANITIZE_FAILED,
					VDISK_RECORD_NONE, NULL, NULL);
		free(spec);
		return;
	}
	job_setup(j, vd, reactor_pick(), spec);
	j->phase = JOB_RECORDING;
	log_info("device %s: %s of %llu blocks resumed from its first pass", vd->dev->name,
		 spec->name, (unsigned long long)scst_dev_nblocks(vd->dev));
	free(spec);
	reactor_send(j->reactor, &j->resume_msg, job_resume_here);
}
