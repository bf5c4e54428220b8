/* EXTENDED COPY(LID1) and (LID4) (SPC-4 6.4): the copy manager's job.
 *
 * The command's parameter list is decoded (copy_params.c), each CSCD
 * descriptor is resolved to a LUN of the requesting session's own LUN
 * table (so LUN masking holds: a designator of a device the session does
 * not see reaches nothing, COPY TARGET DEVICE NOT REACHABLE), every
 * segment is checked against its devices before anything moves, and
 * then the segments are copied one after the other, each in chunks of at
 * most COPY_CHUNK_BYTES through COPY_LANES buffers: a lane READs a chunk
 * from the source LUN and WRITEs it to the destination LUN, as internal
 * commands of the same session (internal_cmd.h). They go through the
 * whole pipeline on the I_T_L nexus they name, so reservations, ALUA,
 * not-ready, read-only and the write range lock apply to each LUN as
 * to the initiator's own READ and WRITE.
 *
 * In-kernel chunks (lane_offloads(), docs/copy.md "In-kernel copies"):
 * when both devices are of one handler with a copy_range() (vdisk_fileio:
 * copy_file_range), the lane's READ is a probe that only passes the
 * source's checks, and its WRITE has the handler copy the chunk from the
 * source; a refusal (another file system, O_DIRECT) reads and writes
 * that chunk, and the destination device remembers it.
 *
 * Everything runs on the session's reactor, asynchronously: the
 * EXTENDED COPY stays in EXEC while its job issues internal commands;
 * their completions only mark the lane and schedule the job's pump
 * (reactor_defer), which issues what comes next. So a handler that
 * completes at once (nullio) never makes the pump recurse.
 *
 * Abort: task management marks the EXTENDED COPY aborted (ABORT TASK,
 * ABORT TASK SET, a LUN or target reset, the session's end); the pump
 * then issues nothing more, and once the internal commands in flight
 * (at most COPY_LANES) have ended the command completes and the task
 * management function with it. An internal command a reset of the
 * other LUN aborts fails the copy.
 *
 * Task management of a device the copy reads or writes (a LUN reset, a
 * task set cleared, by any nexus) must stop it even when none of its
 * internal commands is on that device at the moment: the job is listed
 * on each device it touches (struct scst_copy_link, dev->copy_links),
 * and tmf.c, on whichever reactor it runs, posts a notice to the job's
 * reactor (scst_copy_link_fail_locked()); only that reactor touches the
 * job. The notice fails the copy (COPY ABORTED, THIRD PARTY DEVICE
 * FAILURE) and holds the function until the copy has stopped.
 *
 * IMMED (EXTENDED COPY(LID4)): once the list is checked, every CSCD
 * descriptor resolved, every segment checked and the lanes' buffers are
 * there, the command completes GOOD and the job goes on alone, "in the
 * background": job->ec is NULL from then on, its result is kept in the
 * job (status, sense) and goes to its list identifier's record for
 * RECEIVE COPY STATUS(LID4). Task management reaches it only through
 * its device links (there is no task to abort: ABORT TASK cannot name
 * it), I_T NEXUS RESET and PREEMPT AND ABORT through the links too
 * (tmf.c), COPY OPERATION ABORT through its list identifier
 * (scst_copy_op_abort_exec()); each of these, and the session's end,
 * terminates it (COPY OPERATION STATUS 60h).
 *
 * Lifetimes:
 * - struct copy_job: allocated by the exec of its EXTENDED COPY, freed
 *   by job_finish(). A foreground job ends right before scst_cmd_done()
 *   of that command; the command (in EXEC all along) holds the session,
 *   and so the session's LUN table entries the job refers to stay valid
 *   for it. A background job holds the session itself
 *   (sess->background_copies, from the moment its command completes to
 *   job_finish()): the session is not detached while it runs; when the
 *   session ends first (sess->unregistering: logout, connection loss,
 *   daemon shutdown) the pump issues nothing more, the lanes' commands
 *   in flight are aborted with the session's, and job_finish() frees
 *   the job and lets the session go (scst_session_cmd_gone()).
 * - the reactor's list of live jobs (live_jobs, reactor-local like the
 *   records): every job from job_start() to job_finish(), for COPY
 *   OPERATION ABORT to find by list identifier; the COPY OPERATION ABORT
 *   commands waiting for a job to stop are on job->abort_waiters and
 *   complete in job_finish().
 * - the steps' I_T_L nexuses: a reference each (scst_tgt_dev_get()),
 *   taken at resolution and dropped in job_finish().
 * - a lane's buffer: from the reactor's buffer pool at the start, back
 *   in job_finish(); lent to one internal command at a time, which
 *   never frees it (buf_borrowed). job_finish() runs only once no lane
 *   is busy, so no internal command still points into a buffer.
 * - the list identifier's record: copy_results.h.
 * - the device links: linked (under each dev->lock) when the copy
 *   starts, unlinked by job_finish() before the nexuses go; a notice
 *   posted meanwhile may arrive after job_finish(): the job's memory
 *   then stays (job->ended) until the last notice is delivered. */
#include <assert.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
#include "base/bytes.h"
#include "base/log.h"
#include "core/copy_mgr.h"
#include "core/copy_odx.h"
#include "core/copy_offset.h"
#include "core/copy_params.h"
#include "core/copy_results.h"
#include "core/copy_token.h"
#include "core/core_internal.h"
#include "core/internal_cmd.h"
#include "scsi/copy_sense.h"

#define COPY_CHUNK_BYTES (1u << 20)
#define COPY_LANES 2
/* Chunks the pump starts before it lets the reactor's other work run
 * (a message to itself): a handler that completes at once (nullio)
 * would otherwise keep the reactor inside its deferred work for the
 * whole copy, and nothing else of that reactor, the COPY STATUS or the
 * ABORT TASK about this very copy included, would be served meanwhile. */
#define COPY_BURST 8
/* MISCOMPAREs of a chunk's partial destination blocks (another writer
 * changed a kept byte between their READ and their COMPARE AND WRITE)
 * that read and merge the block again; one more fails the copy. */
#define COPY_EDGE_RETRIES 8

struct copy_job;

/* Task management reached a device of the copy: from the reactor that
 * ran the function to the job's. */
struct copy_notice {
	struct reactor_msg msg;
	struct copy_job *job;
	struct scst_mgmt_cmd *mcmd; /* held (scst_tmf_hold()); NULL: none waits */
	struct copy_notice *next;   /* job->held */
	char why[64];
};

/* One buffer and the chunk in it: read from the source, then written to
 * the destination. */
struct copy_lane {
	struct copy_job *job;
	uint8_t *buf;
	size_t cap;
	enum { LANE_IDLE, LANE_READING, LANE_READ_DONE, LANE_WRITING } state;
	uint64_t src_lba, dst_lba; /* of the chunk, in each device's blocks */
	uint32_t len;              /* bytes */
	uint64_t seq;              /* where the chunk starts in the step's issue order */
	/* The chunk is copied inside the kernel (lane_offloads()): its READ
	 * is a probe, its WRITE the destination handler's copy_range(). */
	bool offload;
	/* Bytes the READ and the WRITE move: len for a step of whole
	 * blocks; for one with byte offsets (copy_step.bytes) the source
	 * blocks the chunk's bytes are in and the destination blocks it
	 * writes, whose partial ones (oc.edge_lba) are read first, into the
	 * buffer's edge area, and merged (copy_offset.h). */
	uint32_t src_io, dst_io;
	bool bytes;
	struct copy_offset_chunk oc;
	unsigned edges_read;
	/* The partial blocks are written first, each by a COMPARE AND
	 * WRITE against the block as read (lane_edge_written()), then the
	 * whole ones by a WRITE(16): edges_written of them so far, the
	 * MISCOMPAREs met (each reads that block again: edge_reread, and
	 * merges its kept bytes again). */
	unsigned edges_written, miscompares;
	bool edge_reread;
};

/* A segment resolved: which nexuses, which blocks, which way. */
struct copy_step {
	struct scst_tgt_dev *src, *dst; /* referenced */
	uint64_t src_lba, dst_lba;
	uint64_t len;                   /* bytes, a multiple of both block sizes */
	/* The same device, the destination above an overlapping source:
	 * copied from the end down, so no chunk is read after a write has
	 * overwritten it. */
	bool backward;
	/* The same device, the source and destination overlapping: one
	 * chunk at a time, each written before the next is read. The task
	 * set's order is not enough: an in-kernel chunk reads its source at
	 * its WRITE, after the probe READ a later chunk's WRITE waited for,
	 * and QUEUE ALGORITHM MODIFIER 1 lets overlapping commands pass. */
	bool serial;
	uint16_t offset;                /* the segment descriptor's, for sense */
	/* WRITE USING TOKEN with the zero ROD token: nothing is read, the
	 * lane writes zeros (src is dst then). */
	bool zeros;
	/* A 0x0A segment with byte offsets, or whose NUMBER OF BYTES is not
	 * whole blocks of both devices: len bytes from byte src_off of
	 * src_lba to byte dst_off of dst_lba, chunked by copy_offset.h. */
	bool bytes;
	uint16_t src_off, dst_off;
	/* An EXTENDED COPY's segment: its number and its CSCD descriptors'
	 * places in the list, for the COPY ABORTED sense data that forwards
	 * a copy target's sense (scsi/copy_sense.h). */
	bool forward_sense;
	uint16_t segment, src_cscd_byte, dst_cscd_byte;
};

struct copy_job {
	struct scst_cmd *ec;      /* the EXTENDED COPY, in EXEC until the end */
	struct scst_session *sess;
	struct copy_record *rec;  /* NULL under LIST ID USAGE 11b */
	struct copy_plan plan;
	unsigned nsteps, cur;
	struct copy_step steps[COPY_MAX_SEG_DESCS];
	uint64_t issued;          /* bytes of steps[cur] handed to lanes */
	uint64_t written;         /* bytes of steps[cur] written */
	/* TRANSFER COUNT (job_progress()): the bytes of the steps before
	 * cur, and where in steps[cur]'s issue order the first chunk that
	 * will never be written starts (UINT64_MAX: none). */
	uint64_t done_before;
	uint64_t hole;
	unsigned busy;            /* lanes not idle */
	bool failed;              /* the EXTENDED COPY's status is set */
	/* job_finish() found the pump queued (a completion inside the pump
	 * scheduled it) or the yield message on its way: the next run of
	 * the pump ends the job, so that the reactor never runs a deferred
	 * entry or a message of a freed job. */
	bool finish_pending;
	/* Chunks started since the job last yielded; the message that
	 * resumes the pump after a yield, and whether it is on its way. */
	unsigned burst;
	bool yield_sent;
	struct reactor_msg yield_msg;
	struct copy_lane lanes[COPY_LANES];
	struct reactor_deferred pump;
	/* WRITE USING TOKEN (copy_odx.c): the token read from (referenced;
	 * checked for revocation after each read), the bytes written, and
	 * who hears of the end. */
	struct copy_token *token;
	/* Its claim of the token when it writes the token's own blocks
	 * (copy_token_claim(), made by copy_odx.c; 0: none): its WRITEs
	 * carry it and spare the token. */
	uint64_t token_claim;
	uint64_t total_written;
	copy_job_ended_fn on_end;
	void *on_end_ctx;
	/* Who hears of the end of a job put in the background by
	 * copy_job_background() (on_end is NULL then). */
	copy_job_bg_ended_fn bg_end;
	void *bg_end_ctx;
	/* The session's reactor, the only one that touches the job; kept
	 * here because a notice may come after the session has gone. */
	struct reactor *reactor;
	/* One per distinct device of the steps; linked while the copy runs. */
	unsigned nlinks;
	struct scst_copy_link links[COPY_MAX_CSCD_DESCS];
	/* Notices posted and not yet delivered: added under a device's lock
	 * on any reactor (only while linked), taken on the job's. */
	atomic_uint notices;
	/* Delivered notices whose function waits for the copy to stop. */
	struct copy_notice *held;
	/* job_finish() is done; the memory stays for undelivered notices. */
	bool ended;
	/* IMMED: the command has completed (ec is NULL) and the job holds
	 * the session; its result, what the command would have ended with,
	 * is kept here for its record. descriptor_sense is the command's
	 * LUN's D_SENSE when it completed. */
	bool background;
	bool descriptor_sense;
	uint8_t status;
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_BUFFERSIZE];
	/* Stopped by COPY OPERATION ABORT, or (background) by task
	 * management, PREEMPT AND ABORT or the session's end: its record says
	 * 60h (status TASK ABORTED). */
	bool terminated;
	/* The copy operation's LIST IDENTIFIER on its nexus (EXTENDED COPY's
	 * unless LIST ID USAGE 11b, WRITE USING TOKEN's), for COPY OPERATION
	 * ABORT; its place on the reactor's live_jobs from job_start() to
	 * job_finish(). */
	bool has_list_id;
	uint32_t list_id;
	struct list_head live_entry;
	struct copy_abort_waiter *abort_waiters;
};

/* A COPY OPERATION ABORT waiting for the jobs it stopped to end (one
 * waiter on each job; the command completes with the last). */
struct copy_abort_req {
	struct scst_cmd *cmd;
	unsigned pending;
};

struct copy_abort_waiter {
	struct copy_abort_req *req;
	struct copy_abort_waiter *next;
};

/* Every job between job_start() and job_finish() on this reactor: a
 * job lives on its session's reactor, and so does a COPY OPERATION
 * ABORT of that session. */
static _Thread_local struct list_head live_jobs;

static struct list_head *reactor_live_jobs(void)
{
	if (!live_jobs.next)
		list_init(&live_jobs);
	return &live_jobs;
}

bool scst_copy_available(const struct scst_tgt_dev *td)
{
	return td->dev->handler->type == TYPE_DISK;
}

/* ---- PARSE ---- */

#define EC_CDB_LIST_LEN 10

int scst_ext_copy_parse(struct scst_cmd *cmd)
{
	/* Bytes 2-9 and 14 are reserved. */
	for (unsigned i = 2; i < EC_CDB_LIST_LEN; i++) {
		if (cmd->cdb[i]) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field((uint16_t)i, -1));
			return -1;
		}
	}
	if (cmd->cdb[14]) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(14, -1));
		return -1;
	}
	unsigned max = ((cmd->cdb[1] & 0x1f) == COPY_SA_EXTENDED_COPY_LID4 ? COPY_LID4_HEADER_LEN
									   : COPY_LID1_HEADER_LEN) +
		       COPY_MAX_DESC_LIST_LEN;

	cmd->data_len = get_be32(cmd->cdb + EC_CDB_LIST_LEN);
	cmd->data_dir = cmd->data_len ? SCST_DATA_WRITE : SCST_DATA_NONE;
	/* A list longer than the longest one taken is refused before its
	 * data moves (SPC-4 6.4.1: PARAMETER LIST LENGTH ERROR). */
	if (cmd->data_len > max) {
		log_warn_rl("session %s: EXTENDED COPY with a %u-byte parameter list (at most %u): "
			    "refused", cmd->sess->initiator_name, cmd->data_len, max);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	return 0;
}

/* ---- results ---- */

/* COPY ABORTED (or ILLEGAL REQUEST) with a pointer to byte @byte of the
 * parameter list: SD 0, relative to its start (SPC-4 4.5.2.4.5). */
static struct scsi_sense list_sense(uint8_t key, uint16_t asc, size_t byte)
{
	struct scsi_sense s = scsi_sense_invalid_param_field((uint16_t)byte, -1);

	s.key = key;
	s.asc = asc;
	return s;
}

static void job_log_end(const struct copy_job *job, const char *how, const char *why)
{
	if (job->ec)
		log_info_rl("session %s: copy (tag %#llx, list id %" PRIu32 ") %s: %s",
			    job->sess->initiator_name, (unsigned long long)job->ec->tag,
			    job->list_id, how, why);
	else
		log_info_rl("session %s: background copy (list id %" PRIu32 ") %s: %s",
			    job->sess->initiator_name, job->list_id, how, why);
}

static void job_fail(struct copy_job *job, struct scsi_sense sense, const char *why)
{
	if (job->failed)
		return;
	job->failed = true;
	job_log_end(job, "fails", why);
	if (job->ec) {
		scst_set_cmd_error(job->ec, sense);
		return;
	}
	job->status = SAM_STAT_CHECK_CONDITION;
	job->sense_len = (uint8_t)scsi_sense_encode(&sense, job->descriptor_sense, job->sense,
						     sizeof(job->sense));
}

/* A copy target's command failed with CHECK CONDITION: COPY ABORTED with
 * its status and sense forwarded, in the format of the EXTENDED COPY's
 * LUN (its D_SENSE; in the background, as it was when the command
 * completed). */
static void job_fail_forwarded(struct copy_job *job, const struct copy_target_failure *f,
			       const char *why)
{
	if (job->failed)
		return;
	job->failed = true;
	job_log_end(job, "fails", why);
	if (job->ec) {
		struct scst_cmd *ec = job->ec;

		ec->status = SAM_STAT_CHECK_CONDITION;
		ec->sense_len = (uint8_t)scsi_copy_aborted_sense(
			f, scst_cmd_wants_descriptor_sense(ec), ec->sense, sizeof(ec->sense));
		ec->resp_data_len = 0;
		return;
	}
	job->status = SAM_STAT_CHECK_CONDITION;
	job->sense_len = (uint8_t)scsi_copy_aborted_sense(f, job->descriptor_sense, job->sense,
							  sizeof(job->sense));
}

static void job_fail_status(struct copy_job *job, uint8_t status, const char *why)
{
	if (job->failed)
		return;
	job->failed = true;
	job_log_end(job, "fails", why);
	if (job->ec) {
		scst_set_cmd_status(job->ec, status);
		return;
	}
	job->status = status;
	job->sense_len = 0;
}

/* The copy operation stops as ABORT TASK would stop it (SPC-5 6.3):
 * COPY OPERATION ABORT, or for a background copy, task management, PREEMPT
 * AND ABORT or the session's end. Its record says 60h; a foreground
 * command ends with TASK ABORTED status (not silently: the initiator did
 * not abort the task itself and waits for its status). A copy already
 * failed, or all written (job_finish() waits for the pump's next run),
 * keeps its result. */
static void job_terminate(struct copy_job *job, const char *why)
{
	if (job->failed || job->cur >= job->nsteps)
		return;
	job->failed = true;
	job->terminated = true;
	job_log_end(job, "terminated", why);
	if (job->ec)
		scst_set_cmd_status(job->ec, SAM_STAT_TASK_ABORTED);
	else {
		job->status = SAM_STAT_TASK_ABORTED;
		job->sense_len = 0;
	}
}

/* Whether the pump must issue nothing more. */
static bool job_stopping(const struct copy_job *job)
{
	return job->failed || (job->ec && atomic_load(&job->ec->aborted)) ||
	       job->sess->unregistering;
}

/* ---- resolving CSCD descriptors ---- */

#define DESIG_T10_VENDOR 0x1
#define DESIG_NAA 0x3
#define CODE_SET_BINARY 0x1
#define CODE_SET_ASCII 0x2

/* Whether @c names @dev by one of the logical unit designators VPD page
 * 0x83 reports for it (inquiry.c): the NAA IEEE Registered one, or the
 * T10 vendor ID one. */
static bool designates(const struct copy_cscd *c, struct scst_device *dev)
{
	uint8_t id[8 + 64];
	size_t len, n;
	bool same;

	if (c->association != 0)
		return false;
	if (c->designator_type == DESIG_NAA && c->code_set == CODE_SET_BINARY) {
		put_be64(id, dev->naa_id);
		return c->designator_len == 8 && !memcmp(c->designator, id, 8);
	}
	if (c->designator_type != DESIG_T10_VENDOR || c->code_set != CODE_SET_ASCII)
		return false;
	/* The identity strings change at run time under dev->lock. */
	pthread_mutex_lock(&dev->lock);
	n = strnlen(dev->t10_vend_id, 8);
	memcpy(id, dev->t10_vend_id, n);
	memset(id + n, ' ', 8 - n);
	len = strlen(dev->t10_dev_id);
	memcpy(id + 8, dev->t10_dev_id, len);
	pthread_mutex_unlock(&dev->lock);
	same = c->designator_len == 8 + len && !memcmp(c->designator, id, 8 + len);
	return same;
}

/* The nexus of the session that @c designates, or NULL: only LUNs of the
 * session's own table are candidates. */
static struct scst_tgt_dev *resolve_cscd(struct scst_session *sess, const struct copy_cscd *c)
{
	struct scst_lun_table *t = scst_session_luns(sess);

	for (unsigned i = 0; t && i < t->n; i++) {
		if (designates(c, t->tgt_devs[i]->dev))
			return t->tgt_devs[i];
	}
	return NULL;
}

/* One side of a segment: its CSCD descriptor index at @index_byte of the
 * list. Returns the nexus, or NULL with the job failed. */
static struct scst_tgt_dev *segment_side(struct copy_job *job, struct scst_tgt_dev **resolved,
					 uint16_t index, size_t index_byte)
{
	const struct copy_cscd *c;
	struct scst_tgt_dev *td;

	if (index >= job->plan.ncscds) {
		job_fail(job, list_sense(SK_COPY_ABORTED, ASC_NO_ADDITIONAL_SENSE, index_byte),
			 "a segment names a CSCD descriptor the list does not have");
		return NULL;
	}
	c = &job->plan.cscds[index];
	td = resolved[index];
	if (!td) {
		job_fail(job, list_sense(SK_COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE,
					 c->offset),
			 "a CSCD descriptor designates no LUN of the session");
		return NULL;
	}
	if (td->dev->handler->type != c->device_type) {
		job_fail(job, list_sense(SK_COPY_ABORTED, ASC_INCORRECT_COPY_TARGET_DEVICE_TYPE,
					 c->offset + 1),
			 "a CSCD descriptor's device type is not its LUN's");
		return NULL;
	}
	if (td->dev->block_size != c->block_len) {
		job_fail(job, list_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST,
					 c->offset + 29),
			 "a CSCD descriptor's DISK BLOCK LENGTH is not its LUN's");
		return NULL;
	}
	return td;
}

/* Whether @nblocks blocks from @lba are all on @dev. */
static bool in_range(const struct scst_device *dev, uint64_t lba, uint64_t nblocks)
{
	uint64_t end = scst_dev_nblocks(dev);

	return lba <= end && nblocks <= end - lba;
}

/* Whether @td serves COMPARE AND WRITE, which writes a 0x0A segment's
 * partial destination blocks (vdisk does, up to its MAXIMUM COMPARE AND
 * WRITE LENGTH of VDISK_MAX_CAW_BLOCKS; the copy asks for one block). */
static bool serves_compare_and_write(const struct scst_tgt_dev *td)
{
	const uint8_t cdb[16] = { COMPARE_AND_WRITE };
	const struct scst_op_desc *op = scst_op_index_lookup(scst_dev_op_index(td->dev), cdb);

	return op && (!op->available || op->available(td));
}

/* Every segment against its devices, before anything is copied: a list
 * that cannot be done whole writes nothing. */
/* A copy within one device whose destination starts inside its source,
 * above it, runs from the end down (copy_step.backward); @st has its
 * devices, LBAs and length. */
static bool step_overlaps_from_above(const struct copy_step *st)
{
	uint64_t bs = st->src->dev->block_size;
	uint64_t src = st->src_lba * bs + st->src_off, dst = st->dst_lba * bs + st->dst_off;

	return st->src->dev == st->dst->dev && dst > src && dst < src + st->len;
}

/* Whether a copy within one device writes blocks it also reads
 * (copy_step.serial); in blocks, not bytes: a partial destination block
 * is read and written whole. */
static bool step_overlaps(const struct copy_step *st)
{
	uint32_t bs = st->src->dev->block_size;

	if (st->src->dev != st->dst->dev)
		return false;
	return st->dst_lba < st->src_lba + copy_offset_blocks(st->src_off, st->len, bs) &&
	       st->src_lba < st->dst_lba + copy_offset_blocks(st->dst_off, st->len, bs);
}

static bool resolve_steps(struct copy_job *job)
{
	struct scst_tgt_dev *resolved[COPY_MAX_CSCD_DESCS];

	for (unsigned i = 0; i < job->plan.ncscds; i++)
		resolved[i] = resolve_cscd(job->sess, &job->plan.cscds[i]);
	for (unsigned i = 0; i < job->plan.nsegments; i++) {
		const struct copy_segment *s = &job->plan.segments[i];
		struct copy_step *st = &job->steps[i];
		size_t len_byte = s->offset + (s->type == COPY_SEG_BLOCK_TO_BLOCK ? 10 : 8);
		uint32_t sbs, dbs;

		st->src = segment_side(job, resolved, s->src, s->offset + 4);
		if (!st->src)
			return false;
		st->dst = segment_side(job, resolved, s->dst, s->offset + 6);
		if (!st->dst)
			return false;
		sbs = st->src->dev->block_size;
		dbs = st->dst->dev->block_size;
		if (s->type == COPY_SEG_BLOCK_TO_BLOCK) {
			st->len = (uint64_t)s->nblocks * (s->dc ? dbs : sbs);
		} else {
			/* 0x0A: any NUMBER OF BYTES from any byte of a block;
			 * the destination's partial blocks are merged, so
			 * nothing is left over (no residue for CAT to act
			 * on). */
			struct scsi_sense sense;

			if (!copy_offset_check(s->src_byte_off, s->dst_byte_off, sbs, dbs, s->offset,
					       &sense)) {
				job_fail(job, sense, "a segment's byte offset is beyond its block");
				return false;
			}
			st->len = s->nbytes;
			st->src_off = s->src_byte_off;
			st->dst_off = s->dst_byte_off;
			st->bytes = st->src_off || st->dst_off || st->len % sbs || st->len % dbs;
			/* Its partial destination blocks are written by COMPARE
			 * AND WRITE; a LUN without one could only lose another
			 * writer's update of their kept bytes. */
			if ((st->dst_off || (st->dst_off + st->len) % dbs) &&
			    !serves_compare_and_write(st->dst)) {
				job_fail(job, list_sense(SK_ILLEGAL_REQUEST,
							 ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE,
							 s->offset),
					 "a segment's destination has partial blocks and no COMPARE "
					 "AND WRITE");
				return false;
			}
		}
		if (!st->bytes && (st->len % sbs || st->len % dbs)) {
			job_fail(job, list_sense(SK_ILLEGAL_REQUEST,
						 ASC_COPY_SEGMENT_GRANULARITY_VIOLATION, len_byte),
				 "a segment's length is not a whole number of blocks");
			return false;
		}
		if (st->len > COPY_MAX_SEGMENT_LEN) {
			job_fail(job, list_sense(SK_ILLEGAL_REQUEST,
						 ASC_INVALID_FIELD_IN_PARAMETER_LIST, len_byte),
				 "a segment is longer than the maximum segment length");
			return false;
		}
		/* Beyond the end of a device: COPY ABORTED pointing at the
		 * LBA (SCST's answer; libiscsi's ValidSegDescr expects COPY
		 * ABORTED). */
		if (!in_range(st->src->dev, s->src_lba, copy_offset_blocks(st->src_off, st->len, sbs))) {
			job_fail(job, list_sense(SK_COPY_ABORTED, ASC_NO_ADDITIONAL_SENSE,
						 s->offset + 12),
				 "a segment's source blocks are beyond the end of its LUN");
			return false;
		}
		if (!in_range(st->dst->dev, s->dst_lba, copy_offset_blocks(st->dst_off, st->len, dbs))) {
			job_fail(job, list_sense(SK_COPY_ABORTED, ASC_NO_ADDITIONAL_SENSE,
						 s->offset + 20),
				 "a segment's destination blocks are beyond the end of its LUN");
			return false;
		}
		st->src_lba = s->src_lba;
		st->dst_lba = s->dst_lba;
		st->offset = s->offset;
		st->forward_sense = true;
		st->segment = (uint16_t)i;
		st->src_cscd_byte = job->plan.cscds[s->src].offset;
		st->dst_cscd_byte = job->plan.cscds[s->dst].offset;
		st->backward = step_overlaps_from_above(st);
		st->serial = step_overlaps(st);
		scst_tgt_dev_get(st->src);
		scst_tgt_dev_get(st->dst);
		job->nsteps++;
	}
	return true;
}

/* ---- the copy ---- */

static void schedule(struct copy_job *job)
{
	reactor_defer(job->sess->reactor, &job->pump);
}

/* Whether an internal command of a lane did what it was asked; if not,
 * the copy fails with what the standard has the copy manager report: the
 * status itself when it is not CHECK CONDITION (RESERVATION CONFLICT,
 * BUSY, TASK SET FULL: the requesting nexus's own state at that LUN),
 * else COPY ABORTED, THIRD PARTY DEVICE FAILURE with the copy target's
 * status and sense forwarded (an EXTENDED COPY's, job_fail_forwarded();
 * a WRITE USING TOKEN's points at its segment, the sense in the log). */
static void lane_read_done(struct scst_cmd *cmd);
static bool internal_ok(struct copy_lane *l, struct scst_cmd *cmd, const char *what)
{
	struct copy_job *job = l->job;
	const struct copy_step *st = &job->steps[job->cur];
	uint8_t key = 0;
	uint16_t asc = 0;
	char why[128];

	if (atomic_load(&cmd->aborted)) {
		snprintf(why, sizeof(why), "its %s of LUN %llu was aborted", what,
			 (unsigned long long)cmd->lun);
		/* In the background it is the copy's nexus or device that
		 * task management (or the session's end) reached: the copy
		 * is terminated as its task would have been. */
		if (job->background)
			job_terminate(job, why);
		else
			job_fail(job, list_sense(SK_COPY_ABORTED, ASC_THIRD_PARTY_DEVICE_FAILURE,
						 st->offset), why);
		return false;
	}
	if (cmd->status == SAM_STAT_GOOD)
		return true;
	if (cmd->status != SAM_STAT_CHECK_CONDITION) {
		snprintf(why, sizeof(why), "its %s of LUN %llu ended with status %#x", what,
			 (unsigned long long)cmd->lun, cmd->status);
		job_fail_status(job, cmd->status, why);
		return false;
	}
	scsi_sense_decode(cmd->sense, cmd->sense_len, &key, &asc);
	snprintf(why, sizeof(why), "its %s of LUN %llu got sense %x/%02x/%02x", what,
		 (unsigned long long)cmd->lun, key, asc >> 8, asc & 0xff);
	if (st->forward_sense) {
		/* The source's READ, or the destination's WRITE or the READ
		 * of its partial blocks (byte offsets). */
		bool src = cmd->internal_done == lane_read_done;
		struct copy_target_failure f = {
			.asc = ASC_THIRD_PARTY_DEVICE_FAILURE,
			.segment = st->segment,
			.cscd_byte = src ? st->src_cscd_byte : st->dst_cscd_byte,
			.side = src ? COPY_SENSE_SOURCE : COPY_SENSE_DESTINATION,
			.status = cmd->status,
			.sense = cmd->sense,
			.sense_len = cmd->sense_len,
		};

		job_fail_forwarded(job, &f, why);
		return false;
	}
	job_fail(job, list_sense(SK_COPY_ABORTED, ASC_THIRD_PARTY_DEVICE_FAILURE, st->offset),
		 why);
	return false;
}

/* @l's chunk will not be written (its READ or WRITE failed, or the copy
 * stopped before its WRITE): the copy's progress ends before it. */
static void lane_lost(struct copy_lane *l)
{
	if (l->seq < l->job->hole)
		l->job->hole = l->seq;
	l->state = LANE_IDLE;
}

/* The TRANSFER COUNT: the finished steps, and the current step's prefix
 * (in issue order) whose every chunk is written. A lane's chunk written
 * while the other lane's earlier one is still on its way, or was lost,
 * does not count: everything below the count is on the destination,
 * and beyond it at most the COPY_LANES chunks that were on their way
 * when the copy stopped (an aborted WRITE may or may not have reached
 * the medium), so an initiator that resumes a stopped copy from the
 * count loses nothing. */
static uint64_t job_progress(const struct copy_job *job)
{
	uint64_t p = job->issued;

	if (job->cur >= job->nsteps)
		return job->done_before;
	for (unsigned i = 0; i < COPY_LANES; i++) {
		const struct copy_lane *l = &job->lanes[i];

		if (l->state != LANE_IDLE && l->seq < p)
			p = l->seq;
	}
	if (job->hole < p)
		p = job->hole;
	return job->done_before + p;
}

static void job_note_progress(struct copy_job *job)
{
	job->total_written = job_progress(job);
	if (job->rec)
		job->rec->bytes_written = job->total_written;
}

static bool lane_issue(struct copy_lane *l, bool write);

/* Whether @l's chunk may be copied by the handler's copy_range() (the
 * in-kernel copy, docs/copy.md): both devices of one handler that has
 * one, the destination has not refused it, and the chunk does not
 * overlap itself (copy_file_range refuses overlapping ranges of one
 * file, and the destination would be overwritten as it is read). */
static bool lane_offloads(const struct copy_lane *l, const struct copy_step *st)
{
	const struct scst_device *src = st->src->dev, *dst = st->dst->dev;
	uint64_t n = l->len / dst->block_size;

	if (st->zeros || st->bytes || src->handler != dst->handler || !dst->handler->copy_range ||
	    atomic_load(&dst->copy_range_refused))
		return false;
	return src != dst || l->src_lba >= l->dst_lba + n || l->dst_lba >= l->src_lba + n;
}

/* The chunk of @cmd, a copy_range() WRITE, was written by nobody: the
 * destination remembers it (every later chunk reads and writes), and
 * this one is read and written now. */
static void lane_offload_refused(struct copy_lane *l, struct scst_cmd *cmd)
{
	struct copy_job *job = l->job;

	if (!atomic_exchange(&cmd->dev->copy_range_refused, true))
		log_info("device %s: copy offload refused: copies to it read and write from now on",
			 cmd->dev->name);
	l->offload = false;
	if (job_stopping(job) || !lane_issue(l, false)) {
		lane_lost(l);
		job->busy--;
		schedule(job);
	}
}

/* The chunk of @cmd, a copy_range() WRITE, found an exclusive command
 * (COMPARE AND WRITE) queued on its source and wrote nothing: this one
 * chunk is read and written, its READ taking its turn behind it; the
 * next goes in-kernel again. */
static void lane_offload_busy(struct copy_lane *l)
{
	struct copy_job *job = l->job;

	atomic_fetch_add(&job->steps[job->cur].src->dev->copy_range_busy_chunks, 1);
	l->offload = false;
	if (job_stopping(job) || !lane_issue(l, false)) {
		lane_lost(l);
		job->busy--;
		schedule(job);
	}
}

static void lane_read_done(struct scst_cmd *cmd)
{
	struct copy_lane *l = cmd->internal_ctx;

	assert(l->state == LANE_READING);
	if (internal_ok(l, cmd, "READ")) {
		/* Written since POPULATE TOKEN: what was read is not the
		 * point-in-time copy the token stands for. */
		if (l->job->token && !copy_token_stands(l->job->token, l->job->token_claim))
			job_fail(l->job, scsi_sense_make(SK_COPY_ABORTED, ASC_TOKEN_REVOKED),
				 "its ROD token was revoked by a write to its source");
		else if (cmd->resp_data_len == l->src_io) {
			if (l->bytes)
				copy_offset_merge(&l->oc, l->buf, l->cap,
						  l->job->steps[l->job->cur].dst->dev->block_size);
			l->state = LANE_READ_DONE;
			schedule(l->job);
			return;
		}
		job_fail(l->job, list_sense(SK_COPY_ABORTED, ASC_THIRD_PARTY_DEVICE_FAILURE,
					    l->job->steps[l->job->cur].offset),
			 "a READ returned less than asked");
	}
	lane_lost(l);
	l->job->busy--;
	schedule(l->job);
}

static void lane_write_done(struct scst_cmd *cmd)
{
	struct copy_lane *l = cmd->internal_ctx;
	struct copy_job *job = l->job;

	assert(l->state == LANE_WRITING);
	if (internal_ok(l, cmd, "WRITE")) {
		if (cmd->copy_range_refused) {
			lane_offload_refused(l, cmd);
			return;
		}
		if (cmd->copy_range_busy) {
			lane_offload_busy(l);
			return;
		}
		atomic_fetch_add(l->offload ? &cmd->dev->copy_range_chunks
					    : &cmd->dev->copy_rw_chunks, 1);
		job->written += l->len;
		l->state = LANE_IDLE;
		/* An in-kernel copy reads the source as of its WRITE, not of
		 * its probe: a write to the token's blocks meanwhile is found
		 * here, the chunk written staying written (as one revoked
		 * after lane_read_done() would have). */
		if (l->offload && job->token && !copy_token_stands(job->token, job->token_claim))
			job_fail(job, scsi_sense_make(SK_COPY_ABORTED, ASC_TOKEN_REVOKED),
				 "its ROD token was revoked by a write to its source");
	} else {
		lane_lost(l);
	}
	job_note_progress(job);
	job->busy--;
	schedule(job);
}

/* A partial destination block of a chunk with byte offsets is read (its
 * kept bytes): the next one, or the source blocks, follow at once. */
static void lane_edge_done(struct scst_cmd *cmd)
{
	struct copy_lane *l = cmd->internal_ctx;
	struct copy_job *job = l->job;
	uint32_t dbs = job->steps[job->cur].dst->dev->block_size;

	assert(l->state == LANE_READING && l->bytes &&
	       (l->edge_reread ? l->edges_written : l->edges_read) < l->oc.nedges);
	if (internal_ok(l, cmd, "READ of a partial destination block")) {
		if (cmd->resp_data_len == dbs && l->edge_reread) {
			/* After a MISCOMPARE: its kept bytes as they are now
			 * around the chunk's, and its COMPARE AND WRITE again. */
			l->edge_reread = false;
			copy_offset_keep(&l->oc, l->buf, l->cap, dbs, l->edges_written);
			if (!job_stopping(job) && lane_issue(l, true))
				return;
		} else if (cmd->resp_data_len == dbs) {
			l->edges_read++;
			l->state = LANE_IDLE;
			if (!job_stopping(job) && lane_issue(l, false))
				return;
		} else {
			job_fail(job, list_sense(SK_COPY_ABORTED, ASC_THIRD_PARTY_DEVICE_FAILURE,
						 job->steps[job->cur].offset),
				 "a READ returned less than asked");
		}
	}
	lane_lost(l);
	job->busy--;
	schedule(job);
}

/* The COMPARE AND WRITE of a partial destination block ended. GOOD:
 * the next partial block, or the whole ones, or (none) the chunk is
 * written. MISCOMPARE: someone wrote the block since its READ, and
 * writing the merged block would undo that write's kept bytes; the
 * block is read and merged again, at most COPY_EDGE_RETRIES times a
 * chunk. Any other failure, or one more MISCOMPARE, is the copy
 * target's, as for a WRITE (its sense forwarded). */
static void lane_edge_written(struct scst_cmd *cmd)
{
	struct copy_lane *l = cmd->internal_ctx;
	struct copy_job *job = l->job;
	uint8_t key = 0;
	uint16_t asc = 0;

	assert(l->state == LANE_WRITING && l->bytes && l->edges_written < l->oc.nedges);
	if (!atomic_load(&cmd->aborted) && cmd->status == SAM_STAT_CHECK_CONDITION)
		scsi_sense_decode(cmd->sense, cmd->sense_len, &key, &asc);
	if (key == SK_MISCOMPARE && asc == ASC_MISCOMPARE_DURING_VERIFY &&
	    l->miscompares < COPY_EDGE_RETRIES) {
		l->miscompares++;
		log_info_rl("session %s: copy (list id %" PRIu32 "): LUN %llu block %llu was written "
			    "between the READ of its kept bytes and their COMPARE AND WRITE: read "
			    "again (%u of %u)", job->sess->initiator_name, job->list_id,
			    (unsigned long long)cmd->lun,
			    (unsigned long long)l->oc.edge_lba[l->edges_written], l->miscompares,
			    COPY_EDGE_RETRIES);
		l->edge_reread = true;
		if (!job_stopping(job) && lane_issue(l, false))
			return;
	} else if (internal_ok(l, cmd, "COMPARE AND WRITE of a partial destination block")) {
		l->edges_written++;
		/* Every block of the chunk was partial: it is written. */
		if (l->edges_written == l->oc.nedges && l->oc.whole_nblocks == 0) {
			lane_write_done(cmd);
			return;
		}
		if (!job_stopping(job) && lane_issue(l, true))
			return;
	}
	lane_lost(l);
	job->busy--;
	schedule(job);
}

static void rw16(uint8_t *cdb, uint8_t opcode, uint64_t lba, uint32_t nblocks)
{
	memset(cdb, 0, 16);
	cdb[0] = opcode;
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, nblocks);
}

/* Starts @l's internal command; false (the lane idle again, the job
 * failed) when it could not be. */
static bool lane_issue(struct copy_lane *l, bool write)
{
	struct copy_job *job = l->job;
	const struct copy_step *st = &job->steps[job->cur];
	/* A chunk with byte offsets reads its partial destination blocks
	 * before its source blocks, each into its slot of the buffer's edge
	 * area (and one again after its COMPARE AND WRITE miscompared);
	 * it writes them before its whole blocks. */
	bool edge = !write && l->bytes && (l->edge_reread || l->edges_read < l->oc.nedges);
	bool edge_write = write && l->bytes && l->edges_written < l->oc.nedges;
	const struct scst_tgt_dev *td = write || edge ? st->dst : st->src;
	struct scst_internal_opts opts = { 0 };
	uint64_t lba = write ? l->dst_lba : l->src_lba;
	uint32_t io = write ? l->dst_io : l->src_io;
	uint8_t *at = l->buf;
	uint8_t cdb[16];
	bool unmap;

	/* The LUN must still be the device the descriptor resolved to: a
	 * reload may have mapped another one there meanwhile. */
	if (scst_session_tgt_dev(job->sess, td->lun) != td) {
		job_fail(job, list_sense(SK_COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE,
					 st->offset),
			 "a LUN it copies was unmapped");
		return false;
	}
	/* The block device zero ROD token: nothing to read. A thin LUN
	 * whose deallocated blocks read as zeros (LBPRZ) deallocates them,
	 * so that zeroing by token frees space as WRITE SAME UNMAP does,
	 * through the same row (reservations, read-only, the range lock);
	 * any other LUN gets a chunk of zeros written. */
	unmap = write && st->zeros && st->dst->dev->unmap_reads_zeros;
	if (!write && st->zeros) {
		if (!st->dst->dev->unmap_reads_zeros)
			memset(l->buf, 0, l->len);
		l->state = LANE_READ_DONE;
		schedule(job);
		return true;
	}
	if (edge || edge_write) {
		uint32_t dbs = td->dev->block_size;
		unsigned i = edge_write || l->edge_reread ? l->edges_written : l->edges_read;
		uint8_t *slot = copy_offset_edge_slot(l->buf, l->cap, dbs, i);

		/* COMPARE AND WRITE of one block: the Data-Out is the slot,
		 * the block as read, then the block to write (SBC-4 5.2). */
		rw16(cdb, edge_write ? COMPARE_AND_WRITE : READ_16, l->oc.edge_lba[i], 1);
		if (edge_write) {
			memset(cdb + 10, 0, 6);
			cdb[13] = 1;
		}
		l->state = edge_write ? LANE_WRITING : LANE_READING;
		if (scst_internal_cmd_start(job->sess, td->lun, cdb, sizeof(cdb),
					    edge_write ? SCST_DATA_WRITE : SCST_DATA_READ, slot,
					    edge_write ? 2 * dbs : dbs,
					    edge_write ? lane_edge_written : lane_edge_done, l))
			return true;
		l->state = LANE_IDLE;
		job_fail_status(job, SAM_STAT_BUSY, "no internal command could be issued");
		return false;
	}
	/* The whole destination blocks of a chunk with byte offsets, from
	 * where they are in its span. */
	if (write && l->bytes) {
		assert(l->oc.whole_nblocks > 0);
		lba = l->oc.whole_lba;
		io = l->oc.whole_nblocks * td->dev->block_size;
		at = l->buf + (lba - l->dst_lba) * td->dev->block_size;
	}
	rw16(cdb, write ? WRITE_16 : READ_16, lba, io / td->dev->block_size);
	/* In-kernel: the READ only checks, the WRITE copies from the
	 * source (never with unmap: the zero ROD token does not offload). */
	if (l->offload) {
		opts.flags = write ? 0 : SCST_INTERNAL_PROBE;
		opts.copy_src = write ? st->src->dev : NULL;
		opts.copy_src_nexus = write ? st->src : NULL;
		opts.copy_src_lba = l->src_lba;
	}
	if (write)
		opts.rod_token_claim = job->token_claim;
	if (unmap) {
		/* WRITE SAME(16), UNMAP and NDOB: no Data-Out. A chunk is far
		 * below any MAXIMUM WRITE SAME LENGTH. */
		cdb[0] = WRITE_SAME_16;
		cdb[1] = 0x08 | 0x01;
	}
	l->state = write ? LANE_WRITING : LANE_READING;
	if (scst_internal_cmd_start_opts(job->sess, td->lun, cdb, sizeof(cdb),
					 unmap   ? SCST_DATA_NONE
					 : write ? SCST_DATA_WRITE
						 : SCST_DATA_READ,
					 at, unmap ? 0 : io, &opts,
					 write ? lane_write_done : lane_read_done, l))
		return true;
	l->state = LANE_IDLE;
	job_fail_status(job, SAM_STAT_BUSY, "no internal command could be issued");
	return false;
}

/* The next chunk of the current step, for an idle lane. */
static void lane_take_chunk(struct copy_lane *l)
{
	struct copy_job *job = l->job;
	const struct copy_step *st = &job->steps[job->cur];
	uint64_t left = st->len - job->issued;
	uint64_t at;

	l->seq = job->issued;
	l->bytes = st->bytes;
	if (st->bytes) {
		uint32_t sbs = st->src->dev->block_size, dbs = st->dst->dev->block_size;
		struct copy_offset_span span = {
			.src_byte = st->src_lba * sbs + st->src_off,
			.dst_byte = st->dst_lba * dbs + st->dst_off,
			.len = st->len,
			.sbs = sbs,
			.dbs = dbs,
			.backward = st->backward,
		};

		copy_offset_next_chunk(&span, job->issued, copy_offset_max_span(l->cap, sbs, dbs),
				       &l->oc);
		l->len = l->oc.len;
		l->src_lba = l->oc.src_lba;
		l->dst_lba = l->oc.dst_lba;
		l->src_io = l->oc.src_nblocks * sbs;
		l->dst_io = l->oc.dst_nblocks * dbs;
		l->edges_read = l->edges_written = l->miscompares = 0;
		l->edge_reread = false;
		job->issued += l->len;
		l->offload = false;
		return;
	}
	l->len = left < COPY_CHUNK_BYTES ? (uint32_t)left : COPY_CHUNK_BYTES;
	at = st->backward ? st->len - job->issued - l->len : job->issued;
	job->issued += l->len;
	l->src_lba = st->src_lba + at / st->src->dev->block_size;
	l->dst_lba = st->dst_lba + at / st->dst->dev->block_size;
	l->src_io = l->dst_io = l->len;
	l->offload = lane_offloads(l, st);
}

/* ---- task management of a device the copy touches ---- */

/* Lists the job on each device its steps read or write. */
static void job_link_devices(struct copy_job *job)
{
	for (unsigned i = 0; i < job->nsteps; i++) {
		struct scst_device *devs[2] = { job->steps[i].src->dev, job->steps[i].dst->dev };

		for (unsigned k = 0; k < 2; k++) {
			struct scst_copy_link *l;
			bool listed = false;

			for (unsigned j = 0; j < job->nlinks; j++)
				listed |= job->links[j].dev == devs[k];
			if (listed)
				continue;
			/* Every device is a resolved CSCD descriptor's. */
			assert(job->nlinks < COPY_MAX_CSCD_DESCS);
			l = &job->links[job->nlinks++];
			l->dev = devs[k];
			l->sess = job->sess;
			l->job = job;
			pthread_mutex_lock(&l->dev->lock);
			list_add_tail(&l->dev_entry, &l->dev->copy_links);
			pthread_mutex_unlock(&l->dev->lock);
		}
	}
}

/* After this no notice can be posted any more. */
static void job_unlink_devices(struct copy_job *job)
{
	assert(reactor_self() == job->reactor);
	for (unsigned i = 0; i < job->nlinks; i++) {
		struct scst_copy_link *l = &job->links[i];

		pthread_mutex_lock(&l->dev->lock);
		list_del(&l->dev_entry);
		pthread_mutex_unlock(&l->dev->lock);
	}
	job->nlinks = 0;
}

static void notice_free(struct copy_notice *n)
{
	if (n->mcmd)
		scst_tmf_release(n->mcmd);
	free(n);
}

/* On the job's reactor: the copy stops (its lanes' commands in flight
 * end first), and the function that sent this completes after it. */
static void job_notice(struct reactor_msg *m)
{
	struct copy_notice *n = container_of(m, struct copy_notice, msg);
	struct copy_job *job = n->job;

	assert(reactor_self() == job->reactor && atomic_load(&job->notices) > 0);
	atomic_fetch_sub(&job->notices, 1);
	if (job->ended) {
		/* It stopped before the notice came. */
		notice_free(n);
		if (atomic_load(&job->notices) == 0)
			free(job);
		return;
	}
	n->next = job->held;
	job->held = n;
	/* Aborted itself (the same function reached the EXTENDED COPY), it
	 * ends as task management says; all written (job_finish() waits
	 * for the pump's next run), it has succeeded; in the background
	 * there is no command, and the copy is terminated. */
	if (job->background)
		job_terminate(job, n->why);
	else if (!atomic_load(&job->ec->aborted) && job->cur < job->nsteps)
		job_fail(job, list_sense(SK_COPY_ABORTED, ASC_THIRD_PARTY_DEVICE_FAILURE,
					 job->steps[job->cur].offset),
			 n->why);
	schedule(job);
}

void scst_copy_link_fail_locked(struct scst_copy_link *link, struct scst_mgmt_cmd *mcmd,
				const char *why)
{
	struct copy_job *job = link->job;
	struct copy_notice *n = calloc(1, sizeof(*n));

	if (!n) {
		log_error("out of memory: %s of %s does not stop a copy running on it", why,
			  link->dev->name);
		return;
	}
	n->job = job;
	n->mcmd = mcmd;
	if (mcmd)
		scst_tmf_hold(mcmd);
	snprintf(n->why, sizeof(n->why), "%s of %s", why, link->dev->name);
	atomic_fetch_add(&job->notices, 1);
	reactor_send(job->reactor, &n->msg, job_notice);
}

static void job_finish(struct copy_job *job)
{
	struct scst_cmd *ec = job->ec;
	struct scst_session *sess = job->sess;
	struct copy_abort_waiter *waiters = job->abort_waiters;
	bool background = job->background;
	struct copy_notice *held;

	assert(job->busy == 0);
	if (job->pump.queued || job->yield_sent) {
		job->finish_pending = true;
		return;
	}
	job_unlink_devices(job);
	for (unsigned i = 0; i < COPY_LANES; i++) {
		assert(job->lanes[i].state == LANE_IDLE);
		buf_pool_free(job->lanes[i].buf, job->lanes[i].cap);
	}
	for (unsigned i = 0; i < job->nsteps; i++) {
		scst_tgt_dev_put(job->steps[i].src);
		scst_tgt_dev_put(job->steps[i].dst);
	}
	list_del(&job->live_entry);
	job->abort_waiters = NULL;
	job_note_progress(job);
	if (ec) {
		/* An aborted copy is recorded as terminated; the command
		 * itself ends as task management says (PRE_XMIT). */
		if (atomic_load(&ec->aborted) && ec->status == SAM_STAT_GOOD)
			scst_set_cmd_status(ec, SAM_STAT_TASK_ABORTED);
		if (job->rec)
			copy_record_end(job->rec, ec->status, ec->sense, ec->sense_len);
	} else if (job->rec) {
		copy_record_end(job->rec, job->status, job->sense, job->sense_len);
	}
	if (job->token)
		copy_token_put(job->token);
	if (job->on_end) {
		assert(ec);
		job->on_end(ec, job->total_written, job->on_end_ctx);
	}
	if (job->bg_end) {
		struct copy_job_result res = {
			.status = job->status,
			.sense_len = job->sense_len,
			.sense = job->sense,
			.bytes_written = job->total_written,
		};

		assert(!ec);
		job->bg_end(&res, job->bg_end_ctx);
	}
	if (ec)
		ec->dev_priv = NULL;
	held = job->held;
	job->held = NULL;
	if (atomic_load(&job->notices) == 0)
		free(job);
	else
		job->ended = true; /* the last notice frees it */
	if (ec)
		scst_cmd_done(ec);
	/* The COPY OPERATION ABORTs that stopped it: the copy has stopped. */
	while (waiters) {
		struct copy_abort_waiter *next = waiters->next;
		struct copy_abort_req *req = waiters->req;

		assert(req->pending > 0);
		if (--req->pending == 0) {
			scst_cmd_done(req->cmd);
			free(req);
		}
		free(waiters);
		waiters = next;
	}
	if (background) {
		/* The session may end now (it may have been waiting). */
		assert(sess->background_copies > 0);
		sess->background_copies--;
		scst_session_cmd_gone(sess);
	}
	/* Nothing of the copy is in flight any more: the functions that
	 * reached it may complete. */
	while (held) {
		struct copy_notice *next = held->next;

		notice_free(held);
		held = next;
	}
}

static void job_pump(struct reactor_deferred *d);

/* The reactor has served its other work since the pump yielded. */
static void job_yielded(struct reactor_msg *m)
{
	struct copy_job *job = container_of(m, struct copy_job, yield_msg);

	assert(job->yield_sent);
	job->yield_sent = false;
	job->burst = 0;
	job_pump(&job->pump);
}

/* Issues what can be issued, and ends the job once nothing is left to
 * do or it must stop. */
static void job_pump(struct reactor_deferred *d)
{
	struct copy_job *job = container_of(d, struct copy_job, pump);
	bool stop;

	assert(reactor_self() == job->sess->reactor);
	if (job->yield_sent)
		return; /* the yield message runs the pump */
	if (job->finish_pending) {
		job_finish(job);
		return;
	}
	for (;;) {
		/* Nobody is left to ask about it: it ends as terminated. */
		if (job->background && job->sess->unregistering)
			job_terminate(job, "its session ended");
		stop = job_stopping(job);
		for (unsigned i = 0; i < COPY_LANES; i++) {
			struct copy_lane *l = &job->lanes[i];

			if (l->state != LANE_READ_DONE)
				continue;
			if (stop || !lane_issue(l, true)) {
				lane_lost(l);
				job->busy--;
			}
		}
		stop = job_stopping(job);
		for (unsigned i = 0; !stop && i < COPY_LANES; i++) {
			struct copy_lane *l = &job->lanes[i];

			if (l->state != LANE_IDLE || job->issued == job->steps[job->cur].len)
				continue;
			if (job->steps[job->cur].serial && job->busy)
				break;
			if (++job->burst > COPY_BURST) {
				job->yield_sent = true;
				reactor_send(job->sess->reactor, &job->yield_msg, job_yielded);
				return;
			}
			lane_take_chunk(l);
			job->busy++;
			if (!lane_issue(l, false)) {
				lane_lost(l);
				job->busy--;
				stop = true;
			}
		}
		if (job->busy)
			return; /* a completion schedules the pump again */
		if (stop || job->nsteps == 0) {
			job_finish(job);
			return;
		}
		if (job->written < job->steps[job->cur].len)
			continue; /* a lane took the rest and failed at once */
		/* The step is done: the next begins once it is all written, so
		 * a later segment reads what an earlier one wrote. */
		if (job->rec)
			job->rec->segments_processed++;
		job->done_before += job->steps[job->cur].len;
		job->cur++;
		job->issued = job->written = 0;
		job->hole = UINT64_MAX;
		if (job->cur == job->nsteps) {
			job_finish(job);
			return;
		}
	}
}

/* A job for @cmd (EXTENDED COPY or WRITE USING TOKEN), on its session's
 * reactor, with nothing to do yet; NULL when memory is short. */
static struct copy_job *job_new(struct scst_cmd *cmd)
{
	struct copy_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->ec = cmd;
	job->sess = cmd->sess;
	job->reactor = cmd->sess->reactor;
	list_init(&job->pump.entry);
	list_init(&job->live_entry);
	job->hole = UINT64_MAX;
	job->pump.fn = job_pump;
	for (unsigned i = 0; i < COPY_LANES; i++)
		job->lanes[i].job = job;
	return job;
}

/* Starts a job whose steps are set: the lanes' buffers (none when there
 * is nothing to copy), the devices' links for task management, its place
 * on the live list, then the pump. On no memory the job ends at once
 * with BUSY (and false is returned: it is gone). */
static bool job_start(struct copy_job *job)
{
	for (unsigned i = 0; i < COPY_LANES && job->nsteps; i++) {
		struct copy_lane *l = &job->lanes[i];

		l->buf = buf_pool_alloc(COPY_CHUNK_BYTES, &l->cap);
		if (!l->buf) {
			job_fail_status(job, SAM_STAT_BUSY, "no memory for its buffers");
			job_finish(job);
			return false;
		}
	}
	job->ec->dev_priv = job;
	job_link_devices(job);
	list_add_tail(&job->live_entry, reactor_live_jobs());
	schedule(job);
	return true;
}

/* IMMED: the command completes GOOD now (its checks are done) and the
 * job goes on without it, holding the session (copy_job.c's header). */
static void job_to_background(struct copy_job *job)
{
	struct scst_cmd *ec = job->ec;

	assert(ec && !job->background && reactor_self() == job->reactor);
	job->background = true;
	job->descriptor_sense = scst_cmd_wants_descriptor_sense(ec);
	if (job->rec)
		job->rec->background = true;
	job->sess->background_copies++;
	ec->dev_priv = NULL;
	job->ec = NULL;
	log_info_rl("session %s: copy (tag %#llx, list id %" PRIu32 ") with IMMED: "
		    "%u segment(s) go on in the background", job->sess->initiator_name,
		    (unsigned long long)ec->tag, job->list_id, job->nsteps);
	scst_cmd_done(ec);
}

bool copy_job_background(struct scst_cmd *cmd, copy_job_bg_ended_fn ended, void *ctx)
{
	struct copy_job *job = cmd->dev_priv;

	assert(reactor_self() == cmd->sess->reactor && ended);
	/* Ended already (no memory, or nothing could be issued): its ended
	 * function has run and the command is done, as without IMMED. */
	if (!job || job->ec != cmd)
		return false;
	job->on_end = NULL;
	job->bg_end = ended;
	job->bg_end_ctx = ctx;
	job_to_background(job);
	return true;
}

void scst_ext_copy_exec(struct scst_cmd *ec)
{
	struct copy_job *job;
	struct scsi_sense sense;

	/* PARAMETER LIST LENGTH 0: nothing to do, not an error (SPC-4
	 * 6.4.1). */
	if (ec->data_len == 0) {
		scst_cmd_done(ec);
		return;
	}
	job = job_new(ec);
	if (!job) {
		scst_set_cmd_status(ec, SAM_STAT_BUSY);
		scst_cmd_done(ec);
		return;
	}
	/* The list as the initiator sent it: bufflen is less than the
	 * PARAMETER LIST LENGTH only when it sent less, and then the list
	 * is as short as what came. */
	if (!((ec->cdb[1] & 0x1f) == COPY_SA_EXTENDED_COPY_LID4
		      ? copy_lid4_parse(ec->buf, ec->bufflen, &job->plan, &sense)
		      : copy_lid1_parse(ec->buf, ec->bufflen, &job->plan, &sense))) {
		char at[32] = "";

		if (sense.has_field_pointer)
			snprintf(at, sizeof(at), " at byte %u", sense.byte);
		log_warn_rl("session %s: EXTENDED COPY (tag %#llx): bad parameter list (sense "
			    "%x/%02x/%02x%s): refused",
			    ec->sess->initiator_name, (unsigned long long)ec->tag, sense.key,
			    sense.asc >> 8, sense.asc & 0xff, at);
		scst_set_cmd_error(ec, sense);
		free(job);
		scst_cmd_done(ec);
		return;
	}
	job->list_id = job->plan.list_id;
	if (job->plan.list_id_usage != COPY_LIST_ID_NONE) {
		job->has_list_id = true;
		job->rec = copy_record_begin(ec->sess, job->plan.list_id, job->plan.lid4,
					     job->plan.list_id_usage == COPY_LIST_ID_HOLD, &sense);
		if (!job->rec) {
			if (sense.key)
				job_fail(job, sense, "its list identifier is in use");
			else
				job_fail_status(job, SAM_STAT_BUSY, "no memory");
			free(job);
			scst_cmd_done(ec);
			return;
		}
	}
	if (!resolve_steps(job)) {
		job_finish(job);
		return;
	}
	if (job_start(job) && job->plan.immed)
		job_to_background(job);
}

void copy_job_run_pieces(struct scst_cmd *cmd, const struct copy_piece *p, unsigned n,
			 struct copy_token *token, uint64_t token_claim, copy_job_ended_fn ended,
			 void *ctx)
{
	struct copy_job *job = job_new(cmd);

	assert(n > 0 && n <= COPY_MAX_SEG_DESCS);
	if (!job) {
		if (token)
			copy_token_put(token);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		ended(cmd, 0, ctx);
		scst_cmd_done(cmd);
		return;
	}
	job->token = token;
	job->token_claim = token_claim;
	job->on_end = ended;
	job->on_end_ctx = ctx;
	/* WRITE USING TOKEN's LIST IDENTIFIER (CDB 6-9), for COPY OPERATION
	 * ABORT. */
	job->has_list_id = true;
	job->list_id = get_be32(cmd->cdb + 6);
	for (unsigned i = 0; i < n; i++) {
		struct copy_step *st = &job->steps[i];

		st->dst = p[i].dst;
		st->src = p[i].zeros ? p[i].dst : p[i].src;
		st->zeros = p[i].zeros;
		st->src_lba = p[i].zeros ? p[i].dst_lba : p[i].src_lba;
		st->dst_lba = p[i].dst_lba;
		st->len = p[i].len;
		assert(st->len % st->src->dev->block_size == 0 &&
		       st->len % st->dst->dev->block_size == 0);
		st->backward = !st->zeros && step_overlaps_from_above(st);
		st->serial = !st->zeros && step_overlaps(st);
		scst_tgt_dev_get(st->src);
		scst_tgt_dev_get(st->dst);
		job->nsteps++;
	}
	job_start(job);
}

/* ---- COPY OPERATION ABORT (SPC-5 6.3) ---- */

#define COA_CDB_LIST_ID 2

int scst_copy_op_abort_parse(struct scst_cmd *cmd)
{
	/* Bytes 6-14 are reserved. */
	for (unsigned i = 6; i < 15; i++) {
		if (cmd->cdb[i]) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field((uint16_t)i, -1));
			return -1;
		}
	}
	cmd->data_dir = SCST_DATA_NONE;
	cmd->data_len = 0;
	return 0;
}

/* Stops the copy operations of the nexus with the LIST IDENTIFIER (CDB
 * 2-5) "as ABORT TASK would" (SPC-5 6.3): an EXTENDED COPY's (LID1 and
 * LID4, foreground or background) and a WRITE USING TOKEN's alike, for
 * the standard names one copy operation by its list identifier on the
 * I_T nexus; ODX's records keep their own name space (copy_odx.c), so
 * an EXTENDED COPY and a WRITE USING TOKEN with the same identifier
 * running at once are both stopped. The command completes once each has
 * stopped (its lanes' commands in flight have ended): after GOOD,
 * nothing more is written. A list identifier of no running copy (never
 * used, or ended) gets INVALID FIELD IN CDB at 2, as the standard has
 * it for "not processing a copy operation with the specified list
 * identifier". */
void scst_copy_op_abort_exec(struct scst_cmd *cmd)
{
	uint32_t id = get_be32(cmd->cdb + COA_CDB_LIST_ID);
	struct copy_abort_req *req = calloc(1, sizeof(*req));
	struct copy_job *job;
	unsigned n = 0;

	assert(reactor_self() == cmd->sess->reactor);
	if (!req) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	req->cmd = cmd;
	list_for_each_entry(job, reactor_live_jobs(), live_entry) {
		struct copy_abort_waiter *w;

		if (job->sess != cmd->sess || !job->has_list_id || job->list_id != id)
			continue;
		w = malloc(sizeof(*w));
		if (w) {
			w->req = req;
			w->next = job->abort_waiters;
			job->abort_waiters = w;
			req->pending++;
		} else {
			log_error("out of memory: COPY OPERATION ABORT of list id %" PRIu32
				  " will not wait for a copy it stops", id);
		}
		job_terminate(job, "COPY OPERATION ABORT");
		/* The pump runs later (deferred): no job can end, and so no
		 * waiter complete the command, before this loop is over. */
		schedule(job);
		n++;
	}
	if (n == 0) {
		log_info_rl("session %s: COPY OPERATION ABORT (tag %#llx): no copy with list id %"
			    PRIu32 " is running", cmd->sess->initiator_name,
			    (unsigned long long)cmd->tag, id);
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(COA_CDB_LIST_ID, -1));
	}
	if (req->pending == 0) {
		free(req);
		scst_cmd_done(cmd);
	}
}
