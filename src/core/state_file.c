/* Per-device state files (state_file.h): their paths, reading them at
 * attach, and the one writer thread that makes every change durable off
 * the reactors. */
#include "core/state_file.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "core/pr_store.h"

/* ---- paths ---- */

int state_file_path(const char *subdir, const char *dev_name, char *buf, size_t buflen,
		    char *err, size_t errlen)
{
	const char *dir = pr_store_state_dir();

	if (!dir)
		return 1;
	if (pr_store_check_name(dev_name, err, errlen))
		return -1;
	if (snprintf(buf, buflen, "%s/%s/%s", dir, subdir, dev_name) >= (int)buflen) {
		snprintf(err, errlen, "%s/%s/%s: path too long", dir, subdir, dev_name);
		return -1;
	}
	return 0;
}

/* ---- reading ---- */

int state_file_read(const char *subdir, const char *dev_name, char *text, size_t max,
		    size_t *len, char *path, char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	int fd, rc = state_file_path(subdir, dev_name, path, PATH_MAX, err, errlen);

	*len = 0;
	text[0] = '\0';
	if (rc) {
		path[0] = '\0';
		return rc > 0 ? 0 : -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* Up to one byte more than @max: a file that has it is not ours. */
	for (;;) {
		ssize_t n = read(fd, text + done, max + 1 - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)n;
		if (n == 0 || done > max)
			break;
	}
	close(fd);
	if (done > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		return -1;
	}
	text[done] = '\0';
	*len = done;
	return 1;
}

void state_file_lines_init(struct state_file_lines *it, const char *text, size_t len)
{
	*it = (struct state_file_lines){ .text = text, .len = len };
}

int state_file_next_line(struct state_file_lines *it, char *line, size_t size, char *err,
			 size_t errlen)
{
	const char *start = it->text + it->pos, *nl;
	size_t n;

	if (it->pos >= it->len)
		return 0;
	it->lineno++;
	nl = memchr(start, '\n', it->len - it->pos);
	if (!nl) {
		snprintf(err, errlen, "line %u: no newline at the end (cut short?)", it->lineno);
		return -1;
	}
	n = (size_t)(nl - start);
	if (n >= size || memchr(start, '\0', n)) {
		snprintf(err, errlen, "line %u: not a line of text (a NUL, or longer than %zu "
			 "bytes)", it->lineno, size - 1);
		return -1;
	}
	memcpy(line, start, n);
	line[n] = '\0';
	it->pos += n + 1;
	return 1;
}

bool state_file_split(const char *line, char *name, size_t namelen, unsigned *value)
{
	const char *sp = strchr(line, ' ');
	unsigned long v;
	char *end;

	if (!sp || sp == line || (size_t)(sp - line) >= namelen || sp[1] < '0' || sp[1] > '9')
		return false;
	errno = 0;
	v = strtoul(sp + 1, &end, 10);
	if (errno || *end != '\0' || v > UINT_MAX)
		return false;
	memcpy(name, line, (size_t)(sp - line));
	name[sp - line] = '\0';
	*value = (unsigned)v;
	return true;
}

int state_file_header(struct state_file_lines *it, const char *magic, unsigned version,
		      char *err, size_t errlen)
{
	char line[128], name[64];
	unsigned value;
	int rc = state_file_next_line(it, line, sizeof(line), err, errlen);

	assert(it->lineno <= 1);
	if (rc == 0) {
		snprintf(err, errlen, "empty");
		return -1;
	}
	if (rc < 0)
		return -1;
	if (!state_file_split(line, name, sizeof(name), &value) || strcmp(name, magic) ||
	    value != version) {
		snprintf(err, errlen, "line 1: not \"%s %u\"", magic, version);
		return -1;
	}
	return 0;
}

/* ---- the writer ---- */

static struct {
	pthread_once_t once;
	bool started;
	/* Guards the queue; held for a few instructions only, by submitters
	 * that may hold their own lock. */
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct state_file_write *head, **tail;
} writer = {
	.once = PTHREAD_ONCE_INIT,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.tail = &writer.head,
};

/* @dir made (0700) when missing: 1 when made, 0 when there, or -errno. */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		return 1;
	return errno == EEXIST ? 0 : -errno;
}

int state_file_make_dirs(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], state_dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int rc;

	assert(slash && slash > path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	slash = strrchr(dir, '/');
	assert(slash);
	snprintf(state_dir, sizeof(state_dir), "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
	rc = make_dir(state_dir);
	if (rc < 0) {
		snprintf(err, errlen, "state directory %s: %s", state_dir, strerror(-rc));
		return rc;
	}
	rc = make_dir(dir);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (rc == 1) {
		int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		rc = fd < 0 || fsync(fd) ? -errno : 0;
		if (fd >= 0)
			close(fd);
		if (rc) {
			snprintf(err, errlen, "%s: fsync: %s", state_dir, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void *writer_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct state_file_write *w;
		char err[PATH_MAX + 256] = "";
		int rc;

		pthread_mutex_lock(&writer.lock);
		while (!writer.head)
			pthread_cond_wait(&writer.work, &writer.lock);
		w = writer.head;
		writer.head = w->next;
		if (!writer.head)
			writer.tail = &writer.head;
		pthread_mutex_unlock(&writer.lock);
		rc = w->text ? state_file_make_dirs(w->path, err, sizeof(err)) : 0;
		if (!rc)
			rc = pr_store_write_file(w->path, (const uint8_t *)w->text, w->len, err,
						 sizeof(err));
		w->done(w, rc, err); /* may free w */
	}
	return NULL;
}

static void writer_start(void)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, writer_main, NULL);

	if (rc) {
		log_error("state files: cannot start the writer thread: %s", strerror(rc));
		return;
	}
	pthread_detach(t);
	writer.started = true;
}

int state_file_submit(struct state_file_write *w, const char *subdir, const char *dev_name,
		      const char *text, size_t len,
		      void (*done)(struct state_file_write *w, int err, const char *why),
		      char *err, size_t errlen)
{
	int rc = state_file_path(subdir, dev_name, w->path, sizeof(w->path), err, errlen);

	assert(done);
	if (rc)
		return rc;
	w->next = NULL;
	w->text = text;
	w->len = text ? len : 0;
	w->done = done;
	pthread_once(&writer.once, writer_start);
	if (!writer.started) {
		snprintf(err, errlen, "%s: the state file writer thread is not running", w->path);
		return -1;
	}
	pthread_mutex_lock(&writer.lock);
	*writer.tail = w;
	writer.tail = &w->next;
	pthread_cond_signal(&writer.work);
	pthread_mutex_unlock(&writer.lock);
	return 0;
}
