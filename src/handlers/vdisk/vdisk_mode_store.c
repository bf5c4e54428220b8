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
 * Saving never makes a reactor wait: MODE SELECT queues the text for the
 * state files' writer thread (core/state_file.h) and completes when the
 * writer has made it durable. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/state_file.h"
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

int vdisk_mode_decode(const char *text, size_t len, struct mode_values *v, char *err,
		      size_t errlen)
{
	struct state_file_lines it;
	unsigned a[NFIELDS];
	bool seen[NFIELDS] = { false };
	char line[128], name[32];
	unsigned value;
	int rc;

	state_file_lines_init(&it, text, len);
	if (state_file_header(&it, MODE_FILE_MAGIC, MODE_FILE_VERSION, err, errlen))
		return -1;
	while ((rc = state_file_next_line(&it, line, sizeof(line), err, errlen)) > 0) {
		int i;

		if (!state_file_split(line, name, sizeof(name), &value)) {
			snprintf(err, errlen, "line %u: not a \"name value\" line", it.lineno);
			return -1;
		}
		i = field_index(name);
		if (i < 0) {
			snprintf(err, errlen, "line %u: unknown field '%s'", it.lineno, name);
			return -1;
		}
		if (seen[i]) {
			snprintf(err, errlen, "line %u: %s given twice", it.lineno, name);
			return -1;
		}
		if (value > fields[i].max) {
			snprintf(err, errlen, "line %u: %s %u is above %u", it.lineno, name, value,
				 fields[i].max);
			return -1;
		}
		seen[i] = true;
		a[i] = value;
	}
	if (rc < 0)
		return -1;
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

int vdisk_mode_load(const char *dev_name, struct mode_values *v, char *err, size_t errlen)
{
	char path[PATH_MAX], text[VDISK_MODE_FILE_MAX + 1], why[256];
	size_t len;
	int rc = state_file_read(MODE_DIR, dev_name, text, VDISK_MODE_FILE_MAX, &len, path, err,
				 errlen);

	if (rc <= 0)
		return rc;
	if (vdisk_mode_decode(text, len, v, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 1;
}

/* ---- the writer ---- */

struct mode_save_req {
	struct state_file_write write;
	struct scst_cmd *cmd; /* holds its device: dev->name stays */
	/* What is saved, and the saved values before: what the file still
	 * holds if this save fails. */
	struct mode_values values, previous;
	char text[VDISK_MODE_FILE_MAX];
	int err;
	struct reactor_msg msg;
};

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

/* On the state files' writer thread. */
static void save_written(struct state_file_write *w, int err, const char *why)
{
	struct mode_save_req *req = container_of(w, struct mode_save_req, write);
	const char *dev_name = req->cmd->dev->name;

	if (err)
		log_error("vdisk: %s: mode pages not saved: %s", dev_name, why);
	else
		log_info("vdisk: %s: mode pages saved to %s", dev_name, w->path);
	req->err = err;
	reactor_send(req->cmd->reactor, &req->msg, save_done);
}

bool vdisk_mode_save_submit(struct scst_cmd *cmd, const struct mode_values *v,
			    const struct mode_values *previous)
{
	struct mode_save_req *req = calloc(1, sizeof(*req));
	char err[PATH_MAX + 256];
	size_t len;
	int rc;

	if (!req)
		return false;
	req->cmd = cmd;
	req->values = *v;
	req->previous = *previous;
	len = vdisk_mode_encode(v, req->text);
	rc = state_file_submit(&req->write, MODE_DIR, cmd->dev->name, req->text, len,
			       save_written, err, sizeof(err));
	/* A save that cannot even be queued fails as one the writer could
	 * not write: logged, HARDWARE ERROR from the reactor's loop. */
	if (rc > 0)
		save_written(&req->write, -ENOENT, "no state directory");
	else if (rc < 0)
		save_written(&req->write, -EINVAL, err);
	return true;
}
