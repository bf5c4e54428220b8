/* Logging to stderr (or, once log_use_syslog() is called, to syslog) with
 * a level filter. Every line carries the level and,
 * where the caller has one, the peer or object it is about, so an operator
 * can tell which initiator or device a message concerns. Thread-safe: one
 * write(2) per line.
 *
 * A line a peer can cause again and again (a rejected PDU, a failed login,
 * an accept error) goes through the rate-limited forms, log_warn_rl() and
 * friends: each call site prints at most LOG_RATELIMIT_BURST lines a
 * second, and the first line it prints after a quiet spell says how many
 * were suppressed. A hostile or broken initiator then cannot fill the disk
 * or spend a core on formatting. */
#ifndef USCST_BASE_LOG_H
#define USCST_BASE_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* From now on every line goes to syslog(3) (facility LOG_DAEMON, the pid
 * in each line, tagged @ident) instead of stderr: error, warn, info and
 * debug become LOG_ERR, LOG_WARNING, LOG_INFO and LOG_DEBUG, and the line
 * carries no time stamp of its own (syslog or the journal adds one). For
 * uscstd --syslog; called once, from the main thread, before the reactor
 * threads start logging. @ident must stay valid (openlog keeps the
 * pointer). Returns 0; or -1 when /dev/log cannot be reached, after saying
 * so on stderr, where the lines then keep going: syslog(3) would drop
 * them without a word. */
int log_use_syslog(const char *ident);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                     \
	do {                                                               \
		if (log_threshold >= LOG_LVL_DEBUG)                         \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);               \
	} while (0)

/* Lines one call site may print per second before it is suppressed. */
#define LOG_RATELIMIT_BURST 10

/* The state of one rate-limited call site (zero-initialised: a static in
 * the macros below). Shared by every thread reaching that site; guarded
 * inside log.c. */
struct log_ratelimit {
	int64_t window;       /* the second (CLOCK_MONOTONIC) being counted */
	unsigned printed;     /* lines printed in that second */
	unsigned suppressed;  /* lines dropped since the last one printed */
};

/* Prints like log_msg() unless @rl's call site has printed its burst in
 * the current second; the first line printed after suppression is
 * preceded by "N similar messages suppressed (@site)"; @site is the
 * call site's "file:line". */
void log_msg_ratelimited(struct log_ratelimit *rl, const char *site, enum log_level lvl,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOG_STR2(x) #x
#define LOG_STR(x) LOG_STR2(x)
#define log_ratelimited(lvl, ...)                                                   \
	do {                                                                        \
		static struct log_ratelimit log_rl_;                                 \
		if ((lvl) <= log_threshold)                                          \
			log_msg_ratelimited(&log_rl_, __FILE__ ":" LOG_STR(__LINE__), \
					    (lvl), __VA_ARGS__);                     \
	} while (0)
#define log_error_rl(...) log_ratelimited(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn_rl(...) log_ratelimited(LOG_LVL_WARN, __VA_ARGS__)
#define log_info_rl(...) log_ratelimited(LOG_LVL_INFO, __VA_ARGS__)

#endif
