/* A per-device state file: <state_dir>/<subdir>/<device name>, a small
 * text file that outlives a restart of uscstd (vdisk's saved mode pages in
 * mode/, its SANITIZE or FORMAT UNIT job record in medium/). The state
 * directory is the core's (uscstd -s, pr_store_state_dir()), beside the
 * persistent reservations' pr/.
 *
 * Three parts:
 *  - the path: the device name checked (it becomes a file name: refused,
 *    not escaped, so the file is where an administrator looks for it);
 *  - reading at attach, and a pure reader of the text's lines whose
 *    errors name the line, so that the caller's log line reads
 *    "<file>: line <n>: <reason>";
 *  - one writer thread for every such file, so that no reactor waits for
 *    a disk: requests are written in submission order, each crash-safely
 *    through pr_store_write_file() (temporary file, fsync, rename, fsync
 *    of the directory), or the file removed.
 *
 * Without a state directory (no --state-dir: unit tests, tools) there is
 * no file: paths, reads and writes say so (return 1) and touch nothing.
 *
 * The persistent reservations' pr/<device> (pr_store.c) is a binary file
 * with its own writer (it waits for a load, and drains at stop); it takes
 * its path and its directory from here. */
#ifndef USCST_CORE_STATE_FILE_H
#define USCST_CORE_STATE_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------ */
/* Paths. Pure but for reading the state directory's name: any thread. */

/* <state_dir>/@subdir/@dev_name into @buf: 0; 1 when there is no state
 * directory; -1 with @err when @dev_name cannot be a file name
 * (pr_store_check_name()'s rules) or the path is too long. */
int state_file_path(const char *subdir, const char *dev_name, char *buf, size_t buflen,
		    char *err, size_t errlen);

/* The directory of the file at @path (<state_dir>/<subdir>/<name>) and
 * the state directory above it made (0700) when missing; a directory made
 * here gets its entry fsync()ed in its parent, so that a new file
 * survives a crash with its directory. Works from @path alone, not from
 * the state directory's global (pr_store_stop() frees it). 0, or -errno
 * with @err. Blocks: the writer threads (this one's, pr_store's). */
int state_file_make_dirs(const char *path, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Reading. Blocks on the file: management threads (attach) only, never a
 * reactor. */

/* Reads @dev_name's file under @subdir whole into @text (at most @max
 * bytes, NUL-terminated: @text has room for @max + 1) and sets *@len, with
 * its path in @path (PATH_MAX bytes; "" when there is no state directory
 * or the device name cannot make one). Returns 1 when read; 0 when there is no file or no state
 * directory; -1 with @err naming the file (cannot be read, not a regular
 * file, larger than @max, a bad device name). */
int state_file_read(const char *subdir, const char *dev_name, char *text, size_t max,
		    size_t *len, char *path, char *err, size_t errlen);

/* The lines of a file's text, one at a time. Pure. */
struct state_file_lines {
	const char *text;
	size_t len, pos;
	unsigned lineno; /* of the line state_file_next_line() returned last */
};

void state_file_lines_init(struct state_file_lines *it, const char *text, size_t len);
/* The next line, without its newline, NUL-terminated into @line: 1; 0 at
 * the end of the text; -1 with "line <n>: <reason>" in @err when the line
 * has no newline (a file cut short), holds a NUL or does not fit @size. */
int state_file_next_line(struct state_file_lines *it, char *line, size_t size, char *err,
			 size_t errlen);
/* A "name value" line (one space, a decimal value that fits unsigned):
 * true with the name in @name (room for @namelen bytes, longer refused)
 * and *@value. */
bool state_file_split(const char *line, char *name, size_t namelen, unsigned *value);
/* The first line, which must be "@magic @version": 0, or -1 with the
 * reason in @err ("empty", or "line 1: ..."). */
int state_file_header(struct state_file_lines *it, const char *magic, unsigned version,
		      char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Writing: the writer thread. */

/* One write (or removal), embedded in what waits for it. Its fields are
 * the writer's from state_file_submit() until @done runs. */
struct state_file_write {
	struct state_file_write *next; /* the writer's FIFO */
	char path[PATH_MAX];
	const char *text; /* the caller's, kept until @done; NULL: remove */
	size_t len;
	/* Runs on the writer thread once the file is durable (err 0) or the
	 * write failed (err -errno, @why says why, naming the file). It logs
	 * and posts to a reactor; it must not block, and may free @w. */
	void (*done)(struct state_file_write *w, int err, const char *why);
};

/* Queues the writing of @len bytes of @text as @dev_name's file under
 * @subdir (the directory made when missing), or its removal (@text NULL).
 * Returns 0 when queued: @done will run. 1 when there is no state
 * directory, -1 with @err (a bad device name, the writer thread cannot
 * start): nothing is queued and @done does not run.
 *
 * Any thread. Never blocks on I/O: it takes the queue's mutex for a few
 * instructions (it may be called under the caller's own lock, which is
 * how the order of the writes is made the order of the state changes).
 * The writer is started by the first submit and lives as long as the
 * process. */
int state_file_submit(struct state_file_write *w, const char *subdir, const char *dev_name,
		      const char *text, size_t len,
		      void (*done)(struct state_file_write *w, int err, const char *why),
		      char *err, size_t errlen);

#endif
