/* Saved mode pages (MODE SELECT with SP=1): one small text file per
 * device, <state_dir>/mode/<device name>, beside the persistent
 * reservations' pr/ and written the same crash-safe way
 * (pr_store_write_file(): temporary file, fsync, rename, fsync of the
 * directory), so that after a crash the file holds the old values or the
 * new ones, never a mix.
 *
 * The file, every line "name value", each name exactly once:
 *
 *   uscst-mode-pages 1
 *   wce 1
 *   d_sense 0
 *   swp 0
 *   qam 0
 *   tst 0
 *   qerr 0
 *   tas 0
 *   ua_intlck_ctrl 0
 *
 * A file that is not exactly that (a missing, repeated or unknown name,
 * a value out of range, a value the device does not take) is refused
 * whole with the line and the reason; the device then starts from its
 * defaults (vdisk_mode.c logs it) and the file stays until the next save
 * replaces it.
 *
 * Saving never makes a reactor wait: MODE SELECT queues the text for one
 * writer thread (started with the first save) and completes when the
 * writer has made it durable. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "core/pr_store.h"
#include "handlers/vdisk/vdisk_internal.h"

#define MODE_FILE_MAGIC "uscst-mode-pages"
#define MODE_FILE_VERSION 1
#define MODE_DIR "mode"

/* The fields of struct mode_values, in the file's order, with the
 * largest value each may have (mode_values_valid() then checks the
 * combinations SPC-4 reserves). */
enum field { F_WCE, F_D_SENSE, F_SWP, F_QAM, F_TST, F_QERR, F_TAS, F_UA_INTLCK_CTRL, NFIELDS };

static const struct {
	const char *name;
	unsigned max;
} fields[NFIELDS] = {
	[F_WCE] = { "wce", 1 },
	[F_D_SENSE] = { "d_sense", 1 },
	[F_SWP] = { "swp", 1 },
	[F_QAM] = { "qam", 15 },
	[F_TST] = { "tst", 7 },
	[F_QERR] = { "qerr", 3 },
	[F_TAS] = { "tas", 1 },
	[F_UA_INTLCK_CTRL] = { "ua_intlck_ctrl", 3 },
};

static void values_to_array(const struct mode_values *v, unsigned a[NFIELDS])
{
	a[F_WCE] = v->wce;
	a[F_D_SENSE] = v->d_sense;
	a[F_SWP] = v->swp;
	a[F_QAM] = v->qam;
	a[F_TST] = v->tst;
	a[F_QERR] = v->qerr;
	a[F_TAS] = v->tas;
	a[F_UA_INTLCK_CTRL] = v->ua_intlck_ctrl;
}

static struct mode_values values_from_array(const unsigned a[NFIELDS])
{
	return (struct mode_values){
		.wce = a[F_WCE],
		.d_sense = a[F_D_SENSE],
		.swp = a[F_SWP],
		.qam = (uint8_t)a[F_QAM],
		.tst = (uint8_t)a[F_TST],
		.qerr = (uint8_t)a[F_QERR],
		.tas = a[F_TAS],
		.ua_intlck_ctrl = (uint8_t)a[F_UA_INTLCK_CTRL],
	};
}

/* ---- pure: the file's text ---- */

size_t vdisk_mode_encode(const struct mode_values *v, char *buf)
{
	unsigned a[NFIELDS];
	size_t n;

	values_to_array(v, a);
	n = (size_t)snprintf(buf, VDISK_MODE_FILE_MAX, "%s %d\n", MODE_FILE_MAGIC,
			     MODE_FILE_VERSION);
	for (unsigned i = 0; i < NFIELDS; i++)
		n += (size_t)snprintf(buf + n, VDISK_MODE_FILE_MAX - n, "%s %u\n", fields[i].name,
				      a[i]);
	assert(n < VDISK_MODE_FILE_MAX);
	return n;
}

static int field_index(const char *name)
{
	for (unsigned i = 0; i < NFIELDS; i++) {
		if (strcmp(fields[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* One "name value" line (NUL-terminated, no newline) into @name (room
 * for 32 bytes) and @value; false unless it is exactly that. */
static bool split_line(const char *line, char *name, unsigned *value)
{
	char *end;
	const char *sp = strchr(line, ' ');
	unsigned long v;

	if (!sp || sp == line || (size_t)(sp - line) >= 32 || sp[1] < '0' || sp[1] > '9')
		return false;
	memcpy(name, line, (size_t)(sp - line));
	name[sp - line] = '\0';
	errno = 0;
	v = strtoul(sp + 1, &end, 10);
	if (errno || *end != '\0' || v > UINT_MAX)
		return false;
	*value = (unsigned)v;
	return true;
}

int vdisk_mode_decode(const char *text, size_t len, struct mode_values *v, char *err,
		      size_t errlen)
{
	unsigned a[NFIELDS];
	bool seen[NFIELDS] = { false };
	char line[128], name[32];
	size_t pos = 0;
	unsigned lineno = 0, value;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n;
		int i;

		lineno++;
		if (!nl) {
			snprintf(err, errlen, "line %u: no newline at the end (cut short?)", lineno);
			return -1;
		}
		n = (size_t)(nl - (text + pos));
		if (n >= sizeof(line) || memchr(text + pos, '\0', n)) {
			snprintf(err, errlen, "line %u: not a \"name value\" line", lineno);
			return -1;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (!split_line(line, name, &value)) {
			snprintf(err, errlen, "line %u: not a \"name value\" line", lineno);
			return -1;
		}
		if (lineno == 1) {
			if (strcmp(name, MODE_FILE_MAGIC) || value != MODE_FILE_VERSION) {
				snprintf(err, errlen, "line 1: not \"%s %d\"", MODE_FILE_MAGIC,
					 MODE_FILE_VERSION);
				return -1;
			}
			continue;
		}
		i = field_index(name);
		if (i < 0) {
			snprintf(err, errlen, "line %u: unknown field '%s'", lineno, name);
			return -1;
		}
		if (seen[i]) {
			snprintf(err, errlen, "line %u: %s given twice", lineno, name);
			return -1;
		}
		if (value > fields[i].max) {
			snprintf(err, errlen, "line %u: %s %u is above %u", lineno, name, value,
				 fields[i].max);
			return -1;
		}
		seen[i] = true;
		a[i] = value;
	}
	if (lineno == 0) {
		snprintf(err, errlen, "empty");
		return -1;
	}
	for (unsigned i = 0; i < NFIELDS; i++) {
		if (!seen[i]) {
			snprintf(err, errlen, "%s is missing", fields[i].name);
			return -1;
		}
	}
	struct mode_values got = values_from_array(a);

	if (!mode_values_valid(&got)) {
		snprintf(err, errlen, "a value the standard reserves (qam %u, tst %u, qerr %u, "
			 "ua_intlck_ctrl %u)", got.qam, got.tst, got.qerr, got.ua_intlck_ctrl);
		return -1;
	}
	*v = got;
	return 0;
}

/* ---- the file ---- */

/* <state_dir>/mode/<dev_name>: 0, 1 when there is no state directory, or
 * -1 with @err. */
static int mode_file_path(const char *dev_name, char *buf, size_t buflen, char *err,
			  size_t errlen)
{
	const char *dir = pr_store_state_dir();

	if (!dir)
		return 1;
	if (pr_store_check_name(dev_name, err, errlen))
		return -1;
	if (snprintf(buf, buflen, "%s/%s/%s", dir, MODE_DIR, dev_name) >= (int)buflen) {
		snprintf(err, errlen, "%s/%s/%s: path too long", dir, MODE_DIR, dev_name);
		return -1;
	}
	return 0;
}

int vdisk_mode_load(const char *dev_name, struct mode_values *v, char *err, size_t errlen)
{
	char path[PATH_MAX], text[VDISK_MODE_FILE_MAX + 1], why[256];
	ssize_t n;
	int fd, rc = mode_file_path(dev_name, path, sizeof(path), err, errlen);

	if (rc)
		return rc > 0 ? 0 : -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* One read: the file is far smaller than a page; one larger than
	 * VDISK_MODE_FILE_MAX is not ours. */
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)n > VDISK_MODE_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, VDISK_MODE_FILE_MAX);
		return -1;
	}
	if (vdisk_mode_decode(text, (size_t)n, v, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 1;
}

/* <state_dir>/mode, made (0700) and its parent fsync()ed when missing, so
 * that the directory entry of a new file's directory is durable too. */
static int ensure_mode_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	assert(slash);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0700) == 0) {
		char parent[PATH_MAX];
		const char *ps = strrchr(dir, '/');

		snprintf(parent, sizeof(parent), "%.*s", (int)(ps - dir), dir);
		fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	return -1;
}

/* ---- the writer ---- */

struct mode_save_req {
	struct mode_save_req *next;
	struct scst_cmd *cmd; /* holds its device: dev->name stays */
	/* What is saved, and the saved values before: what the file still
	 * holds if this save fails. */
	struct mode_values values, previous;
	char text[VDISK_MODE_FILE_MAX];
	size_t len;
	int err;
	struct reactor_msg msg;
};

static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct mode_save_req *head, **tail;
	bool started;
} writer = {
	.once = PTHREAD_ONCE_INIT,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.tail = &writer.head,
};

static int save(struct mode_save_req *req)
{
	const char *dev_name = req->cmd->dev->name;
	char path[PATH_MAX], err[PATH_MAX + 256];
	int rc = mode_file_path(dev_name, path, sizeof(path), err, sizeof(err));

	if (rc > 0) {
		log_error("vdisk: %s: mode pages not saved: no state directory", dev_name);
		return -ENOENT;
	}
	if (rc == 0)
		rc = ensure_mode_dir(path, err, sizeof(err));
	if (rc == 0)
		rc = pr_store_write_file(path, (const uint8_t *)req->text, req->len, err,
					 sizeof(err));
	if (rc) {
		log_error("vdisk: %s: mode pages not saved: %s", dev_name, err);
		return rc < 0 ? rc : -EIO;
	}
	log_info("vdisk: %s: mode pages saved to %s", dev_name, path);
	return 0;
}

/* On the command's reactor, once the file is durable (or failed). A
 * failed save leaves the file as it was: so do the saved values MODE
 * SENSE reports, unless a later save has replaced them meanwhile. */
static void save_done(struct reactor_msg *m)
{
	struct mode_save_req *req = container_of(m, struct mode_save_req, msg);
	struct scst_cmd *cmd = req->cmd;

	if (req->err) {
		struct vdisk_dev *vd = vdisk_of(cmd);

		pthread_mutex_lock(&cmd->dev->lock);
		if (mode_values_equal(&vd->mode_saved, &req->values))
			vd->mode_saved = req->previous;
		pthread_mutex_unlock(&cmd->dev->lock);
		scst_set_cmd_error_asc(cmd, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	}
	free(req);
	scst_cmd_done(cmd);
}

static void *writer_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct mode_save_req *req;

		pthread_mutex_lock(&writer.lock);
		while (!writer.head)
			pthread_cond_wait(&writer.work, &writer.lock);
		req = writer.head;
		writer.head = req->next;
		if (!writer.head)
			writer.tail = &writer.head;
		pthread_mutex_unlock(&writer.lock);
		req->err = save(req);
		reactor_send(req->cmd->reactor, &req->msg, save_done);
	}
	return NULL;
}

static void writer_start(void)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, writer_main, NULL);

	if (rc) {
		log_error("vdisk: mode page writer: %s", strerror(rc));
		return;
	}
	pthread_detach(t);
	writer.started = true;
}

bool vdisk_mode_save_submit(struct scst_cmd *cmd, const struct mode_values *v,
			    const struct mode_values *previous)
{
	struct mode_save_req *req = calloc(1, sizeof(*req));

	if (!req)
		return false;
	req->cmd = cmd;
	req->values = *v;
	req->previous = *previous;
	req->len = vdisk_mode_encode(v, req->text);
	pthread_once(&writer.once, writer_start);
	if (!writer.started) {
		free(req);
		return false;
	}
	pthread_mutex_lock(&writer.lock);
	*writer.tail = req;
	writer.tail = &req->next;
	pthread_cond_signal(&writer.work);
	pthread_mutex_unlock(&writer.lock);
	return true;
}
