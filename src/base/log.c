#include "base/log.h"

#include <assert.h>
#include <errno.h>
#include <paths.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_LVL_INFO;

/* Set once by log_use_syslog() before other threads log, read only after:
 * no lock needed. */
static bool to_syslog;

static const int syslog_priorities[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static void log_vline(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n, m;

	if (to_syslog) {
		/* syslog(3) adds the time, the ident and the pid; glibc's
		 * is thread-safe and sends each line as one datagram. */
		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(syslog_priorities[lvl], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld uscstd %s: ", tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl]);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* Whether syslog(3) can reach its socket: glibc tries a datagram and then
 * a stream connection to _PATH_LOG, and drops the line silently when both
 * fail. Asking the same way here tells the administrator at start-up. */
static int syslog_socket_error(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err = 0;

	strncpy(sa.sun_path, _PATH_LOG, sizeof(sa.sun_path) - 1);
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return errno;
		err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
		close(fd);
		if (!err)
			return 0;
	}
	return err;
}

int log_use_syslog(const char *ident)
{
	int err = syslog_socket_error();

	assert(!to_syslog);
	if (err) {
		log_error("--syslog: cannot reach syslog at %s: %s; logging to stderr", _PATH_LOG,
			  strerror(err));
		return -1;
	}
	/* LOG_NDELAY: connect now, while the daemon still may (before any
	 * privilege or namespace change), not at the first line. */
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
	return 0;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_threshold)
		return;
	va_start(ap, fmt);
	log_vline(lvl, fmt, ap);
	va_end(ap);
}

static void log_line(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void log_line(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(lvl, fmt, ap);
	va_end(ap);
}

/* Every call site's counters; a site is reached on error paths only, so
 * one lock for all of them costs nothing on the I/O path. */
static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

/* The path without the source tree's prefix: "src/targets/...". */
static const char *short_site(const char *site)
{
	const char *p = strstr(site, "src/");
	return p ? p : site;
}

void log_msg_ratelimited(struct log_ratelimit *rl, const char *site, enum log_level lvl,
			 const char *fmt, ...)
{
	struct timespec now;
	unsigned suppressed = 0;
	bool print;
	va_list ap;

	if (lvl > log_threshold)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&ratelimit_lock);
	if (rl->window != (int64_t)now.tv_sec) {
		rl->window = (int64_t)now.tv_sec;
		rl->printed = 0;
	}
	print = rl->printed < LOG_RATELIMIT_BURST;
	if (print) {
		rl->printed++;
		suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&ratelimit_lock);
	if (!print)
		return;
	/* Said before the line that ends the quiet spell, so that the count
	 * stands next to an example of what was dropped. */
	if (suppressed)
		log_line(lvl, "%u similar messages suppressed (%s)", suppressed, short_site(site));
	va_start(ap, fmt);
	log_vline(lvl, fmt, ap);
	va_end(ap);
}
