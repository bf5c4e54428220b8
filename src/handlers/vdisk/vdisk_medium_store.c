/* What survives a restart of a SANITIZE or FORMAT UNIT: one small file
 * per device, <state_dir>/medium/<device name>, written the crash-safe way
 * (pr_store_write_file(): temporary file, fsync, rename, fsync of the
 * directory), saying that a job began and has not completed:
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
 * is made and queued under one lock, and one writer thread writes the
 * queue in order, so that the file of a device follows its states: a
 * removal queued by a job's end always comes before the record of the
 * next job. Nothing here blocks a reactor. Without a state directory (no
 * --state-dir: unit tests, tools) nothing is recorded. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "core/pr_store.h"
#include "handlers/vdisk/vdisk_internal.h"

#define MEDIUM_DIR "medium"
#define MEDIUM_FILE_MAGIC "uscst-medium-job 1\n"

struct store_req {
	struct store_req *next;
	char path[PATH_MAX];
	char text[64];   /* empty: remove the file */
	struct vdisk_medium_record *waiter; /* told when durable; may be NULL */
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t store_cond = PTHREAD_COND_INITIALIZER;
static struct store_req *queue_head, **queue_tail = &queue_head;
static bool writer_running;

/* <state_dir>/medium/<dev_name>: 0, 1 without a state directory, -1 with
 * @err. */
static int medium_path(const char *dev_name, char *buf, size_t len, char *err, size_t errlen)
{
	const char *dir = pr_store_state_dir();

	if (!dir)
		return 1;
	if (pr_store_check_name(dev_name, err, errlen))
		return -1;
	if (snprintf(buf, len, "%s/%s/%s", dir, MEDIUM_DIR, dev_name) >= (int)len) {
		snprintf(err, errlen, "%s/%s/%s: path too long", dir, MEDIUM_DIR, dev_name);
		return -1;
	}
	return 0;
}

/* <state_dir>/medium, made (0700) when missing, its parent fsync()ed so
 * that the new directory survives a crash with the file in it. */
static int ensure_dir(char *err, size_t errlen)
{
	const char *dir = pr_store_state_dir();
	char path[PATH_MAX];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, MEDIUM_DIR);
	if (mkdir(path, 0700) == 0) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	rc = -errno;
	snprintf(err, errlen, "%.256s: %s", path, strerror(-rc));
	return rc;
}

static void record_done(struct reactor_msg *m)
{
	struct vdisk_medium_record *r = container_of(m, struct vdisk_medium_record, msg);

	r->done(r);
}

static void *writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&store_lock);
	for (;;) {
		struct store_req *req;
		char err[512] = "";
		int rc;

		while (!queue_head)
			pthread_cond_wait(&store_cond, &store_lock);
		req = queue_head;
		queue_head = req->next;
		if (!queue_head)
			queue_tail = &queue_head;
		pthread_mutex_unlock(&store_lock);
		rc = req->text[0] ? ensure_dir(err, sizeof(err)) : 0;
		if (!rc)
			rc = pr_store_write_file(req->path, req->text[0] ? (const uint8_t *)req->text
									: NULL,
						 strlen(req->text), err, sizeof(err));
		if (rc)
			log_error("%s: cannot %s: %s", req->path,
				  req->text[0] ? "record the medium job" : "remove the medium job's record",
				  err);
		if (req->waiter) {
			req->waiter->err = rc;
			reactor_send(req->waiter->reactor, &req->waiter->msg, record_done);
		}
		free(req);
		pthread_mutex_lock(&store_lock);
	}
	return NULL;
}

/* Queues @req (store_lock held); false when the writer cannot start. */
static bool queue_locked(struct store_req *req)
{
	pthread_t t;

	if (!writer_running) {
		if (pthread_create(&t, NULL, writer_main, NULL)) {
			log_error("vdisk: cannot start the medium job record writer");
			return false;
		}
		pthread_detach(t);
		writer_running = true;
	}
	req->next = NULL;
	*queue_tail = req;
	queue_tail = &req->next;
	pthread_cond_signal(&store_cond);
	return true;
}

/* A request for the writer, or NULL when there is nothing to record (no
 * state directory) or it cannot be (logged). */
static struct store_req *store_req_new(struct vdisk_dev *vd, enum vdisk_medium_record_op op,
				       unsigned to, bool ause)
{
	struct store_req *req = calloc(1, sizeof(*req));
	char err[256];
	int rc;

	if (!req) {
		log_warn("device %s: the medium job is not recorded: out of memory", vd->dev->name);
		return NULL;
	}
	rc = medium_path(vd->dev->name, req->path, sizeof(req->path), err, sizeof(err));
	if (rc) {
		if (rc < 0)
			log_warn("device %s: the medium job is not recorded: %s", vd->dev->name, err);
		free(req);
		return NULL;
	}
	if (op == VDISK_RECORD_BEGIN)
		snprintf(req->text, sizeof(req->text), MEDIUM_FILE_MAGIC "%s %d\n",
			 to == VDISK_OP_FORMATTING ? "format" : "sanitize", ause ? 1 : 0);
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
		req->waiter = waiter;
		queued = queue_locked(req);
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

void vdisk_medium_store_load(struct vdisk_dev *vd)
{
	char path[PATH_MAX], text[128] = "", kind[16], err[256];
	int ause = 0, fd, rc = medium_path(vd->dev->name, path, sizeof(path), err, sizeof(err));
	ssize_t n = 0;

	if (rc > 0)
		return;
	if (rc < 0) {
		log_error("device %s: cannot look for a medium job record: %s", vd->dev->name, err);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	if (fd < 0 || n < 0)
		log_error("device %s: %s: %s", vd->dev->name, path, strerror(errno));
	text[n > 0 ? n : 0] = '\0';
	/* Whatever the rest says, a record there means a job that did not
	 * complete: a file that cannot be read whole still puts the unit in
	 * a failure mode (a sanitize's, the stricter), never back in
	 * service. */
	if (strncmp(text, MEDIUM_FILE_MAGIC, strlen(MEDIUM_FILE_MAGIC)) ||
	    sscanf(text + strlen(MEDIUM_FILE_MAGIC), "%15s %d", kind, &ause) != 2 ||
	    (strcmp(kind, "sanitize") && strcmp(kind, "format")) || (ause != 0 && ause != 1)) {
		log_error("device %s: %s is not a medium job record; taken as an interrupted "
			  "sanitize", vd->dev->name, path);
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
