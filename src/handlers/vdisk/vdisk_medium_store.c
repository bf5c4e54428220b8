/* What survives a restart of a SANITIZE or FORMAT UNIT: one small file
 * per device, <state_dir>/medium/<device name> (core/state_file.h: written
 * the crash-safe way, by the state files' writer thread), saying that a
 * job began and has not completed, and what it does:
 *
 *   uscst-medium-job 2
 *   sanitize 0          (or "format 0"; the number is the sanitize's AUSE)
 *   job 1 3 1 0 a5c3    service action, passes, INVERT, deallocate, and
 *                       the initialization pattern in hex ("-": zeros);
 *                       no such line once the job has failed
 *
 * It is written before the job writes a byte (the job waits for it) and
 * removed when the job completes, or when EXIT FAILURE MODE or a fast
 * FORMAT UNIT leaves the failure mode. A device that finds it at start-up:
 *
 *   - a sanitize runs again from its first pass (vdisk_medium_job_resume(),
 *     once the device is in the registry): SBC-4 4.11.2 suspends a
 *     sanitize through a power on and resumes it after the logical unit
 *     reset a power on implies, and a restart of uscstd is our power on.
 *     The unit says SANITIZE IN PROGRESS from attach on, so no command
 *     sees the part-written medium; the passes are repeated whole (the
 *     record keeps no progress: writing every block again gives the same
 *     medium, and costs only time);
 *   - a format leaves the unit in its failure mode (MEDIUM FORMAT
 *     CORRUPTED): what SBC-4's FORMAT UNIT (5.3) leaves when a format
 *     does not complete; it has no resumption;
 *   - a job that failed (no job line: its failure mode lasts through a
 *     power on, SBC-4 4.11.3), a record that does not decode, or version
 *     1's (uscst before the resumption): the failure mode, as before.
 *
 * Every change of state that goes with a record (vdisk_medium_transition())
 * is made and queued under one lock, and the writer writes its queue in
 * order, so that the file of a device follows its states: a
 * removal queued by a job's end always comes before the record of the
 * next job. Nothing here blocks a reactor. Without a state directory (no
 * --state-dir: unit tests, tools) nothing is recorded, and nothing
 * resumes. */
#include <assert.h>
#include <ctype.h>
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
#define MEDIUM_FILE_VERSION 2
#define MEDIUM_FILE_VERSION_NO_JOB 1
/* The job line: "job", four numbers and the pattern in hex. */
#define MEDIUM_JOB_LINE_MAX (64 + 2 * sizeof(((struct vdisk_medium_job_spec *)0)->pattern))
/* The record is three lines; anything longer is not one. */
#define MEDIUM_FILE_MAX (128 + MEDIUM_JOB_LINE_MAX)

struct store_req {
	struct state_file_write write;
	char text[MEDIUM_FILE_MAX];   /* empty: remove the file */
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

/* The record of @spec, whose job is of @to's kind (its failure mode
 * for VDISK_RECORD_FAILED): with the job line when it may run again. */
static void encode_record(char *text, size_t size, unsigned to, bool failed,
			  const struct vdisk_medium_job_spec *spec)
{
	bool format = to == VDISK_OP_FORMATTING || to == VDISK_OP_FORMAT_FAILED;
	int n = snprintf(text, size, "%s %d\n%s %d\n", MEDIUM_FILE_MAGIC, MEDIUM_FILE_VERSION,
			 format ? "format" : "sanitize", spec->ause ? 1 : 0);

	if (failed)
		return;
	n += snprintf(text + n, size - (size_t)n, "job %u %u %d %d ", spec->service_action,
		      spec->passes, spec->invert ? 1 : 0, spec->deallocate ? 1 : 0);
	assert(n > 0 && (size_t)n + 2 * spec->pattern_len + 3 <= size);
	if (!spec->pattern_len)
		n += snprintf(text + n, size - (size_t)n, "-");
	for (uint32_t i = 0; i < spec->pattern_len; i++)
		n += snprintf(text + n, size - (size_t)n, "%02x", spec->pattern[i]);
	snprintf(text + n, size - (size_t)n, "\n");
}

/* A request for the writer; NULL when out of memory (logged). */
static struct store_req *store_req_new(struct vdisk_dev *vd, enum vdisk_medium_record_op op,
				       unsigned to, const struct vdisk_medium_job_spec *spec)
{
	struct store_req *req = calloc(1, sizeof(*req));

	if (!req) {
		log_warn("device %s: the medium job is not recorded: out of memory", vd->dev->name);
		return NULL;
	}
	if (op == VDISK_RECORD_BEGIN || op == VDISK_RECORD_FAILED)
		encode_record(req->text, sizeof(req->text), to, op == VDISK_RECORD_FAILED, spec);
	return req;
}

bool vdisk_medium_transition(struct vdisk_dev *vd, unsigned from, unsigned to,
			     enum vdisk_medium_record_op op,
			     const struct vdisk_medium_job_spec *spec,
			     struct vdisk_medium_record *waiter)
{
	struct store_req *req;

	assert((op != VDISK_RECORD_BEGIN && op != VDISK_RECORD_FAILED) || spec);
	req = op == VDISK_RECORD_NONE ? NULL : store_req_new(vd, op, to, spec);
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

/* The job line, "job SA PASSES INVERT DEALLOCATE PATTERN", into @spec;
 * false when it is not one. Pure. */
static bool decode_job_line(const char *line, struct vdisk_medium_job_spec *spec)
{
	unsigned sa, passes, invert, deallocate;
	char hex[MEDIUM_JOB_LINE_MAX];
	int used = 0;
	size_t n;

	if (sscanf(line, "job %u %u %u %u %s%n", &sa, &passes, &invert, &deallocate, hex,
		   &used) != 5 || line[used] != '\0')
		return false;
	if (sa > 0x1f || passes < 1 || passes > 31 || invert > 1 || deallocate > 1)
		return false;
	n = strlen(hex);
	if (strcmp(hex, "-") == 0) {
		n = 0;
	} else if (n % 2 || n / 2 > sizeof(spec->pattern)) {
		return false;
	}
	for (size_t i = 0; i < n / 2; i++) {
		unsigned byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1 || !isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]))
			return false;
		spec->pattern[i] = (uint8_t)byte;
	}
	spec->pattern_len = (uint32_t)(n / 2);
	spec->service_action = (uint8_t)sa;
	spec->passes = passes;
	spec->invert = invert;
	spec->deallocate = deallocate;
	return true;
}

/* The record's text: 0 with its job's kind ("sanitize" or "format") and
 * AUSE and, for version 2, its job in @spec (*@has_job); or -1 with the
 * reason naming the line. Pure. */
static int decode_record(const char *text, size_t len, char kind[16], unsigned *ause,
			 struct vdisk_medium_job_spec *spec, bool *has_job, char *err, size_t errlen)
{
	struct state_file_lines it;
	char line[MEDIUM_JOB_LINE_MAX], extra[8];

	*has_job = true;
	state_file_lines_init(&it, text, len);
	if (state_file_header(&it, MEDIUM_FILE_MAGIC, MEDIUM_FILE_VERSION, err, errlen)) {
		state_file_lines_init(&it, text, len);
		if (state_file_header(&it, MEDIUM_FILE_MAGIC, MEDIUM_FILE_VERSION_NO_JOB, err,
				      errlen)) {
			snprintf(err, errlen, "line 1: not \"%s %d\"", MEDIUM_FILE_MAGIC,
				 MEDIUM_FILE_VERSION);
			return -1;
		}
		*has_job = false;
	}
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
	if (*has_job) {
		int rc = state_file_next_line(&it, line, sizeof(line), err, errlen);

		if (rc < 0)
			return -1;
		/* No job line: a job that failed, not one cut short. */
		*has_job = rc > 0;
		if (rc == 0)
			return 0;
		if (!decode_job_line(line, spec)) {
			snprintf(err, errlen, "line 3: not \"job SA PASSES INVERT DEALLOCATE "
				 "PATTERN\"");
			return -1;
		}
	}
	if (state_file_next_line(&it, extra, sizeof(extra), err, errlen) != 0) {
		snprintf(err, errlen, "line %u: after the end of the record", it.lineno);
		return -1;
	}
	return 0;
}

/* The sanitize of @spec (decoded from the record) to run again; false if
 * it cannot be (out of memory, logged). */
static bool plan_resume(struct vdisk_dev *vd, const struct vdisk_medium_job_spec *spec,
			bool ause)
{
	struct vdisk_medium_job_spec *r = malloc(sizeof(*r));

	if (!r) {
		log_error("device %s: no memory to resume its sanitize", vd->dev->name);
		return false;
	}
	*r = *spec;
	r->name = vdisk_sanitize_job_name(spec->service_action, spec->deallocate);
	r->running = VDISK_OP_SANITIZING;
	r->failed = VDISK_OP_SANITIZE_FAILED;
	r->failure_asc = ASC_SANITIZE_COMMAND_FAILED;
	r->immed = true;
	r->ause = ause;
	vd->medium_op.resume = r;
	atomic_store(&vd->medium_op.state, VDISK_OP_SANITIZING);
	return true;
}

void vdisk_medium_store_load(struct vdisk_dev *vd)
{
	char path[PATH_MAX] = "", text[MEDIUM_FILE_MAX + 1], kind[16], err[PATH_MAX + 256];
	struct vdisk_medium_job_spec spec = { 0 };
	unsigned ause = 0;
	bool has_job = false;
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
	if (rc < 0 || decode_record(text, len, kind, &ause, &spec, &has_job, err, sizeof(err))) {
		log_error("device %s: %s is not a medium job record; taken as an interrupted "
			  "sanitize (%s)", vd->dev->name, path, err);
		strcpy(kind, "sanitize");
		ause = 0;
		has_job = false;
	}
	/* A LUN made read-only since cannot be written: the failure mode
	 * says the sanitize is not done, until a writable start resumes it. */
	if (strcmp(kind, "sanitize") == 0 && has_job && vd->dev->read_only)
		log_warn("device %s: the sanitize cut short is not resumed: the LUN is read-only "
			 "now", vd->dev->name);
	else if (strcmp(kind, "sanitize") == 0 && has_job && plan_resume(vd, &spec, ause == 1)) {
		log_warn("device %s: a %s did not complete before uscstd stopped (%s): it starts "
			 "again (SBC-4 4.11.2: a sanitize resumes after a power on)", vd->dev->name,
			 vd->medium_op.resume->name, path);
		return;
	}
	atomic_store(&vd->medium_op.failed_ause, ause == 1);
	atomic_store(&vd->medium_op.state,
		     strcmp(kind, "format") ? VDISK_OP_SANITIZE_FAILED : VDISK_OP_FORMAT_FAILED);
	log_warn("device %s: a %s did not complete before uscstd stopped (%s): the unit is in "
		 "its failure mode until a %s completes", vd->dev->name, kind, path,
		 strcmp(kind, "format") ? "SANITIZE (or EXIT FAILURE MODE after AUSE=1)"
					: "FORMAT UNIT or SANITIZE");
}
