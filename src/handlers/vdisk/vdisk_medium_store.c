/* What survives a restart of a SANITIZE or FORMAT UNIT: one small file
 * per device, <state_dir>/medium/<device name> (core/state_file.h: written
 * the crash-safe way, by the state files' writer thread), saying that a
 * job began and has not completed:
 *
 *   uscst-medium-job 1
 *   sanitize 0          (or "format 0"; the number is the sanitize's AUSE)
 *
 * It is written before the job writes a byte (the job waits for it) and
 * removed when the job completes, or when EXIT FAILURE MODE or a fast
 * FORMAT UNIT leaves the failure mode. A device that finds it at start-up
 * comes up in the failure mode (SANITIZE COMMAND FAILED, or MEDIUM FORMAT
 * CORRUPTED): a job that uscstd's stop or crash cut short has failed, and
 * the medium is part-written, which no initiator may take for its old
 * data or for a sanitized one. SBC-4 4.11 has a sanitize resume after a
 * power on; this one must be started again, which the failure mode asks
 * for.
 *
 * Every change of state that goes with a record (vdisk_medium_transition())
 * is made and queued under one lock, and the writer writes its queue in
 * order, so that the file of a device follows its states: a
 * removal queued by a job's end always comes before the record of the
 * next job. Nothing here blocks a reactor. Without a state directory (no
 * --state-dir: unit tests, tools) nothing is recorded. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/state_file.h"
#include "handlers/vdisk/vdisk_internal.h"

#define MEDIUM_DIR "medium"
#define MEDIUM_FILE_MAGIC "uscst-medium-job"
#define MEDIUM_FILE_VERSION 1
/* The record is two short lines; anything longer is not one. */
#define MEDIUM_FILE_MAX 128

struct store_req {
	struct state_file_write write;
	char text[64];   /* empty: remove the file */
	struct vdisk_medium_record *waiter; /* told when durable; may be NULL */
};

/* Makes the state change and the queueing of its record one step. */
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static void record_done(struct reactor_msg *m)
{
	struct vdisk_medium_record *r = container_of(m, struct vdisk_medium_record, msg);

	r->done(r);
}

/* On the state files' writer thread. */
static void record_written(struct state_file_write *w, int err, const char *why)
{
	struct store_req *req = container_of(w, struct store_req, write);

	if (err)
		log_error("%s: cannot %s: %s", w->path,
			  req->text[0] ? "record the medium job" : "remove the medium job's record",
			  why);
	if (req->waiter) {
		req->waiter->err = err;
		reactor_send(req->waiter->reactor, &req->waiter->msg, record_done);
	}
	free(req);
}

/* A request for the writer; NULL when out of memory (logged). */
static struct store_req *store_req_new(struct vdisk_dev *vd, enum vdisk_medium_record_op op,
				       unsigned to, bool ause)
{
	struct store_req *req = calloc(1, sizeof(*req));

	if (!req) {
		log_warn("device %s: the medium job is not recorded: out of memory", vd->dev->name);
		return NULL;
	}
	if (op == VDISK_RECORD_BEGIN)
		snprintf(req->text, sizeof(req->text), "%s %d\n%s %d\n", MEDIUM_FILE_MAGIC,
			 MEDIUM_FILE_VERSION, to == VDISK_OP_FORMATTING ? "format" : "sanitize",
			 ause ? 1 : 0);
	return req;
}

bool vdisk_medium_transition(struct vdisk_dev *vd, unsigned from, unsigned to,
			     enum vdisk_medium_record_op op, bool ause,
			     struct vdisk_medium_record *waiter)
{
	struct store_req *req = op == VDISK_RECORD_NONE ? NULL : store_req_new(vd, op, to, ause);
	bool moved, queued = false;

	pthread_mutex_lock(&store_lock);
	moved = atomic_compare_exchange_strong(&vd->medium_op.state, &from, to);
	if (moved && req) {
		char err[PATH_MAX + 256];
		int rc;

		req->waiter = waiter;
		rc = state_file_submit(&req->write, MEDIUM_DIR, vd->dev->name,
				       req->text[0] ? req->text : NULL, strlen(req->text),
				       record_written, err, sizeof(err));
		if (rc < 0)
			log_warn("device %s: the medium job is not recorded: %s", vd->dev->name,
				 err);
		queued = rc == 0;
	}
	pthread_mutex_unlock(&store_lock);
	if (!queued)
		free(req);
	if (moved && waiter && !queued) {
		/* Nothing to write (or it cannot be, logged): done, from the
		 * reactor's loop rather than from inside this call. */
		waiter->err = 0;
		reactor_send(waiter->reactor, &waiter->msg, record_done);
	}
	return moved;
}

/* The record's text: 0 with its job's kind ("sanitize" or "format") and
 * AUSE, or -1 with the reason naming the line. Pure. */
static int decode_record(const char *text, size_t len, char kind[16], unsigned *ause, char *err,
			 size_t errlen)
{
	struct state_file_lines it;
	char line[64], extra[8];

	state_file_lines_init(&it, text, len);
	if (state_file_header(&it, MEDIUM_FILE_MAGIC, MEDIUM_FILE_VERSION, err, errlen))
		return -1;
	if (state_file_next_line(&it, line, sizeof(line), err, errlen) <= 0) {
		if (it.lineno < 2)
			snprintf(err, errlen, "line 2 is missing");
		return -1;
	}
	if (!state_file_split(line, kind, 16, ause) ||
	    (strcmp(kind, "sanitize") && strcmp(kind, "format")) || *ause > 1) {
		snprintf(err, errlen, "line 2: not \"sanitize 0|1\" or \"format 0|1\"");
		return -1;
	}
	if (state_file_next_line(&it, extra, sizeof(extra), err, errlen) != 0) {
		snprintf(err, errlen, "line %u: after the end of the record", it.lineno);
		return -1;
	}
	return 0;
}

void vdisk_medium_store_load(struct vdisk_dev *vd)
{
	char path[PATH_MAX] = "", text[MEDIUM_FILE_MAX + 1], kind[16], err[PATH_MAX + 256];
	unsigned ause = 0;
	size_t len;
	int rc = state_file_read(MEDIUM_DIR, vd->dev->name, text, MEDIUM_FILE_MAX, &len, path, err,
				 sizeof(err));

	if (rc == 0)
		return;
	if (rc < 0 && !path[0]) {
		log_error("device %s: cannot look for a medium job record: %s", vd->dev->name, err);
		return;
	}
	/* Whatever the rest says, a record there means a job that did not
	 * complete: a file that cannot be read whole still puts the unit in
	 * a failure mode (a sanitize's, the stricter), never back in
	 * service. */
	if (rc < 0 || decode_record(text, len, kind, &ause, err, sizeof(err))) {
		log_error("device %s: %s is not a medium job record; taken as an interrupted "
			  "sanitize (%s)", vd->dev->name, path, err);
		strcpy(kind, "sanitize");
		ause = 0;
	}
	atomic_store(&vd->medium_op.failed_ause, ause == 1);
	atomic_store(&vd->medium_op.state,
		     strcmp(kind, "format") ? VDISK_OP_SANITIZE_FAILED : VDISK_OP_FORMAT_FAILED);
	log_warn("device %s: a %s did not complete before uscstd stopped (%s): the unit is in "
		 "its failure mode until a %s completes", vd->dev->name, kind, path,
		 strcmp(kind, "format") ? "SANITIZE (or EXIT FAILURE MODE after AUSE=1)"
					: "FORMAT UNIT or SANITIZE");
}
