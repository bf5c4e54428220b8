/* The APTPL state file of persistent reservations (SPC-4 5.13.5, "Activate
 * Persist Through Power Loss"): one file per device,
 * <state_dir>/pr/<device name>, in the format docs/pr_state_file.md
 * describes (SCST's layout where SCST keeps the same information, plus a
 * version, PRgeneration, ALL_TG_PT and a CRC32C).
 *
 * Three parts:
 *  - pure: encode a struct scst_pr to bytes, decode bytes into one (every
 *    length, TransportID, holder, type and scope checked; a file that fails
 *    any check is refused whole, with the reason);
 *  - synchronous file operations, for management threads and tools: load a
 *    device's file at start-up, write a file crash-safely (temporary file,
 *    fsync, rename, fsync of the directory);
 *  - the writer: one thread with a FIFO of save requests, so that no
 *    reactor ever waits for a disk. A PERSISTENT RESERVE OUT submits the
 *    new state under dev->lock and completes when the writer tells its
 *    reactor the state is durable.
 */
#ifndef USCST_CORE_PR_STORE_H
#define USCST_CORE_PR_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/reactor.h"
#include "core/pr.h"

/* SCST's signature (scst_pres.c), so that a file of either is recognised
 * as a PR state file by its first eight bytes. */
#define PR_STORE_SIGNATURE 0xBBEEEEAAEEBBDD77ull
/* Version 1 is SCST's own file, which we read (no PRgeneration, no
 * ALL_TG_PT, no CRC); version 2 is ours, the only one we write. */
#define PR_STORE_VERSION_SCST 1
#define PR_STORE_VERSION 2
/* No legitimate file comes near this (a registrant takes at most 260
 * bytes); a bigger one is refused before it is read into memory. */
#define PR_STORE_MAX_FILE_SIZE (16u << 20)

/* ------------------------------------------------------------------ */
/* Pure: no I/O, no global state. */

/* Bytes pr_store_encode_into() writes for @pr. */
size_t pr_store_encoded_size(const struct scst_pr *pr);
/* Writes @pr's file image into @buf, which has pr_store_encoded_size(pr)
 * bytes. @pr is consistent (asserted: a holder that is a registrant, a
 * valid type while reserved). */
void pr_store_encode_into(const struct scst_pr *pr, uint8_t *buf);
/* The same into a malloc()ed buffer (*bytes, *len): 0, or -ENOMEM. */
int pr_store_encode(const struct scst_pr *pr, uint8_t **bytes, size_t *len);

/* Decodes @len bytes of a state file into *@pr, which is overwritten
 * (the caller passes a struct holding no registrants). Registrants are
 * calloc()ed, one each, in the file's order; release them with
 * pr_store_release(). Returns 0, or -1 with the reason in @err (naming
 * the byte offset); *@pr is then the empty state: a file is never half
 * loaded. */
int pr_store_decode(const uint8_t *buf, size_t len, struct scst_pr *pr, char *err,
		    size_t errlen);

/* Sets *@pr to the empty state (no registrant, no reservation, APTPL off,
 * generation 0), freeing the registrants pr_store_decode() allocated. */
void pr_store_release(struct scst_pr *pr);

/* Whether @pr's state belongs on disk: APTPL is on and someone is
 * registered. Otherwise the file is removed (as SCST does): with APTPL
 * off nothing may persist, and without registrants there is nothing to
 * persist. */
bool pr_store_wanted(const struct scst_pr *pr);

/* A device name that can be a file name under pr/: not empty, not "." or
 * "..", no '/', at most PR_STORE_MAX_NAME bytes (so that "<name>.tmp"
 * fits NAME_MAX). Names are refused, not escaped, so that the file is
 * where an administrator looks for it. Returns 0, or -1 with @err. */
#define PR_STORE_MAX_NAME 240
int pr_store_check_name(const char *dev_name, char *err, size_t errlen);

/* Writes @pr to @out as text, one line per fact (uscstd --print-pr-state;
 * the integration tests read it): "aptpl", "generation", "reservation",
 * then one "registrant" line each, and a last line "view ..." with what
 * READ KEYS and READ RESERVATION would report. */
void pr_store_print(FILE *out, const struct scst_pr *pr);

/* ------------------------------------------------------------------ */
/* Synchronous file operations. They block: management threads, tools and
 * the writer only, never a reactor. Errors are logged-ready text in @err,
 * naming the file. */

/* Reads and decodes the file at @path into *@pr (as pr_store_decode()).
 * Returns 0; -ENOENT when there is no file; -1 when it cannot be read or
 * is refused. Touches nothing else: safe on a running daemon's file
 * (uscstd --print-pr-state). */
int pr_store_read_file(const char *path, struct scst_pr *pr, char *err, size_t errlen);
/* At start-up: removes a leftover "@path.tmp" (a save that a crash
 * interrupted before its rename: the file itself is the last complete
 * state), then pr_store_read_file(). A missing file is the empty state
 * and returns 0; otherwise 0 or -1 as pr_store_read_file(). */
int pr_store_load_file(const char *path, struct scst_pr *pr, char *err, size_t errlen);

/* Replaces the file at @path with @len bytes, crash-safely: "@path.tmp"
 * is written and fsync()ed, renamed over @path, and @path's directory
 * fsync()ed, so that after a crash at any moment @path holds the old
 * bytes or the new ones. @bytes NULL: removes @path (and a leftover
 * .tmp), then fsync()s the directory. Returns 0 or -errno. */
int pr_store_write_file(const char *path, const uint8_t *bytes, size_t len, char *err,
			size_t errlen);

/* ------------------------------------------------------------------ */
/* The state directory and the writer thread. */

/* Sets the core's state directory (uscstd -s) and starts the writer.
 * The directory's pr/ is created (0700) when the first file is written.
 * Called once by the daemon before any device is created. Returns 0, or
 * -1 with @err. */
int pr_store_start(const char *state_dir, char *err, size_t errlen);
/* The state directory pr_store_start() was given (other per-device state
 * files live beside pr/: vdisk's saved mode pages in mode/); NULL before
 * it and after pr_store_stop(). */
const char *pr_store_state_dir(void);
/* Waits until every submitted request has been written and its
 * completion sent, then stops the writer. The daemon calls it once no
 * session is left and before the devices and the reactors go. */
void pr_store_stop(void);

/* <state_dir>/pr/<dev_name> into @buf: 0, or -1 with @err (a name
 * pr_store_check_name() refuses, no state directory, too long). */
int pr_store_path(const char *dev_name, char *buf, size_t buflen, char *err, size_t errlen);

/* Loads @dev_name's file (pr_store_load_file() on its path) into *@pr at
 * start-up. No file: the empty state, 0. A file that does not decode:
 * -1, and @err says which file and why; the file is left alone (serving
 * the device with an empty state instead would hand access back to
 * initiators the cluster had fenced off). No state directory (no
 * pr_store_start(): unit tests, tools): the empty state, 0. Waits for a
 * file operation of the writer in progress, so it never reads a file
 * being replaced. */
int pr_store_load(const char *dev_name, struct scst_pr *pr, char *err, size_t errlen);

/* One save: embed it in the object that waits for it (the PERSISTENT
 * RESERVE OUT command), like a struct reactor_msg, so that submitting
 * needs no allocation and cannot fail. Fields are the writer's from
 * pr_store_submit() until @done runs. */
struct pr_store_req {
	struct pr_store_req *next; /* the writer's FIFO */
	const char *dev_name;
	uint8_t *bytes;
	size_t len;
	struct reactor *reply_to;
	void (*done)(struct pr_store_req *req, int err);
	int err;
	struct reactor_msg msg;
};

/* Queues the saving of @dev_name's state: @bytes (@len of them, from
 * pr_store_encode()), or @bytes NULL to remove the file. The writer owns
 * @bytes from now on and free()s them. @dev_name must stay valid until
 * @done runs (the command holds its device). Once the state is durable,
 * or failed, @done(req, err) runs on @reply_to with err 0 or -errno (the
 * writer has logged the failure, naming the file); @reply_to NULL runs it
 * on the writer thread (tests, tools). Without a running writer (before
 * pr_store_start(), after pr_store_stop()) the request completes at once,
 * the same way, with -ESHUTDOWN and nothing written.
 *
 * Never blocks on I/O and takes only the queue's own mutex for a few
 * instructions, so it may be called with dev->lock held, from any thread.
 * Requests are written in submission order; call it under dev->lock so
 * that the order of the files is the order of the state changes. */
void pr_store_submit(struct pr_store_req *req, const char *dev_name, uint8_t *bytes, size_t len,
		     struct reactor *reply_to, void (*done)(struct pr_store_req *req, int err));

/* pr_store_submit() of @pr's state as it is now: its encoding when
 * pr_store_wanted(), else the removal of the file. Called with dev->lock
 * held (it reads @pr). Cannot fail either: out of memory for the
 * encoding, @done gets -ENOMEM (nothing written; the file keeps the
 * previous state). */
void pr_store_save(struct pr_store_req *req, const char *dev_name, const struct scst_pr *pr,
		   struct reactor *reply_to, void (*done)(struct pr_store_req *req, int err));

/* Whether the writer runs (a state directory is set): REPORT
 * CAPABILITIES' PTPL_C, and whether APTPL=1 may be accepted. */
bool pr_store_available(void);

#endif
