/* Per-object I/O statistics: the command path's updates, the folding of
 * a nexus's or a session's counters into retired totals when it goes,
 * and the management side's sums (stats.h says why they are kept this
 * way). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"
#include "core/stats.h"

/* The live and the plain copy must be the same words in the same order:
 * copy and sum walk them as arrays of 64-bit words. */
_Static_assert(sizeof(struct scst_stats) == sizeof(struct scst_stats_snap),
	       "live and plain statistics differ");
_Static_assert(sizeof(struct scst_stats) % sizeof(uint64_t) == 0, "statistics are 64-bit words");
_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t), "atomic words are plain words");
_Static_assert(SCST_TMF_QUERY_ASYNC_EVENT + 1 == SCST_STATS_NTMF, "enum scst_tmf grew");
_Static_assert(SCST_DATA_NONE == 0 && SCST_DATA_READ == 1 && SCST_DATA_WRITE == 2,
	       "directions index the per-direction counters");

#define NWORDS (sizeof(struct scst_stats) / sizeof(uint64_t))

/* The lists of live nexuses (from scst_stats_nexus_new() to
 * scst_stats_nexus_retire()) and every retired total. */
static pthread_mutex_t scst_stats_lock = PTHREAD_MUTEX_INITIALIZER;

/* A list head still zeroed (calloc) is an empty list. */
static void join(struct list_head *head, struct list_head *entry)
{
	if (!head->next)
		list_init(head);
	list_add_tail(entry, head);
}

/* Iterates the live nexuses on @head (an object's list), through their
 * @member entries. */
#define for_each_nexus(td, head, member)                                  \
	if ((head)->next)                                                  \
		list_for_each_entry(td, head, member)

/* ---- the command path ---- */

/* The only writer of @c is the calling reactor: a relaxed load and a
 * relaxed store, which compile to a plain add, are enough, and a reader
 * on another thread sees either value. */
static inline void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A command is counted where it lives: on its nexus, or on its session
 * when its LUN has no unit (INQUIRY or REPORT LUNS of LUN 0 without one,
 * a command to an unmapped LUN). */
static inline struct scst_stats *cmd_stats(const struct scst_cmd *cmd)
{
	return cmd->tgt_dev ? &cmd->tgt_dev->stats : &cmd->sess->stats;
}

void scst_stats_cmd_received(struct scst_cmd *cmd)
{
	cmd->rx_ns = now_ns();
	bump(&cmd_stats(cmd)->received, 1);
}

/* The sense key of a CHECK CONDITION's sense data, fixed (70h/71h) or
 * descriptor (72h/73h) format. */
static unsigned sense_key_of(const struct scst_cmd *cmd)
{
	unsigned code = cmd->sense[0] & 0x7f;

	if (cmd->sense_len >= 3 && (code == 0x70 || code == 0x71))
		return cmd->sense[2] & 0x0f;
	if (cmd->sense_len >= 2 && (code == 0x72 || code == 0x73))
		return cmd->sense[1] & 0x0f;
	return 0;
}

static enum scst_stats_status status_index(uint8_t status)
{
	switch (status) {
	case SAM_STAT_BUSY:
		return SCST_STATS_BUSY;
	case SAM_STAT_RESERVATION_CONFLICT:
		return SCST_STATS_RESERVATION_CONFLICT;
	case SAM_STAT_TASK_SET_FULL:
		return SCST_STATS_TASK_SET_FULL;
	case SAM_STAT_ACA_ACTIVE:
		return SCST_STATS_ACA_ACTIVE;
	case SAM_STAT_TASK_ABORTED:
		return SCST_STATS_TASK_ABORTED;
	default:
		return SCST_STATS_OTHER_STATUS;
	}
}

/* The CDB's direction (PARSE's), or the transport's when PARSE refused
 * the CDB before it could say (a READ past the end is still a read). */
static unsigned cmd_dir(const struct scst_cmd *cmd)
{
	unsigned dir = cmd->data_dir != SCST_DATA_NONE ? cmd->data_dir : cmd->expected_dir;

	return dir < SCST_STATS_NDIR ? dir : 0;
}

void scst_stats_cmd_done(struct scst_cmd *cmd)
{
	struct scst_stats *s = cmd_stats(cmd);
	unsigned dir = cmd_dir(cmd);
	uint64_t ns;

	bump(&s->done[dir], 1);
	/* An aborted command got no response (or TASK ABORTED): neither
	 * its data nor its time says anything about the device. */
	if (atomic_load_explicit(&cmd->aborted, memory_order_relaxed)) {
		bump(&s->aborted, 1);
		return;
	}
	switch (cmd->status) {
	case SAM_STAT_GOOD:
	case SAM_STAT_CONDITION_MET:
		if (cmd->data_dir == SCST_DATA_READ)
			bump(&s->bytes_read, cmd->resp_data_len);
		else if (cmd->data_dir == SCST_DATA_WRITE)
			bump(&s->bytes_written, cmd->bufflen);
		break;
	case SAM_STAT_CHECK_CONDITION:
		bump(&s->sense_key[sense_key_of(cmd)], 1);
		break;
	default:
		bump(&s->status[status_index(cmd->status)], 1);
		break;
	}
	ns = now_ns() - cmd->rx_ns;
	bump(&s->lat_bucket[dir][scst_lat_bucket(ns)], 1);
	bump(&s->lat_sum_ns[dir], ns);
}

/* Whether a function is addressed to one logical unit (SAM-5 7): then it
 * is counted on that LUN's nexus, else on the session. */
static bool tmf_has_lun(unsigned fn)
{
	switch (fn) {
	case SCST_TMF_TARGET_RESET:
	case SCST_TMF_TARGET_COLD_RESET:
	case SCST_TMF_I_T_NEXUS_RESET:
		return false;
	default:
		return true;
	}
}

void scst_stats_tmf(struct scst_session *sess, unsigned fn, uint64_t lun)
{
	struct scst_tgt_dev *td = tmf_has_lun(fn) ? scst_session_tgt_dev(sess, lun) : NULL;

	assert(fn < SCST_STATS_NTMF);
	bump(&(td ? &td->stats : &sess->stats)->tmf[fn], 1);
}

/* ---- sums ---- */

/* @out += @in, for readers (relaxed loads of words a reactor may be
 * writing). */
static void snap_add(struct scst_stats_snap *out, const struct scst_stats *in)
{
	const _Atomic uint64_t *w = (const _Atomic uint64_t *)in;
	uint64_t *o = (uint64_t *)out;

	for (size_t i = 0; i < NWORDS; i++)
		o[i] += atomic_load_explicit(&w[i], memory_order_relaxed);
}

/* @retired += @in; scst_stats_lock held (every writer of a retired total
 * holds it, so load and store need no more). */
static void fold(struct scst_stats *retired, const struct scst_stats *in)
{
	_Atomic uint64_t *r = (_Atomic uint64_t *)retired;
	const _Atomic uint64_t *w = (const _Atomic uint64_t *)in;

	for (size_t i = 0; i < NWORDS; i++) {
		uint64_t v = atomic_load_explicit(&w[i], memory_order_relaxed);

		if (v)
			bump(&r[i], v);
	}
}

/* ---- lifetimes ---- */

static struct scst_lun_stats *lun_stats_find(struct scst_tgt *tgt, uint64_t lun,
					     const char *device)
{
	for (struct scst_lun_stats *ls = tgt->lun_stats; ls; ls = ls->next) {
		if (ls->lun == lun && !strcmp(ls->device, device))
			return ls;
	}
	return NULL;
}

int scst_stats_nexus_new(struct scst_tgt_dev *td)
{
	struct scst_tgt *tgt = td->sess->tgt;
	struct scst_lun_stats *ls = lun_stats_find(tgt, td->lun, td->dev->name);

	if (!ls) {
		ls = calloc(1, sizeof(*ls));
		if (!ls || !(ls->device = strdup(td->dev->name))) {
			free(ls);
			return -1;
		}
		ls->lun = td->lun;
		list_init(&ls->nexuses);
		/* Appended, so that listings come in the order LUNs appeared. */
		struct scst_lun_stats **tail = &tgt->lun_stats;
		while (*tail)
			tail = &(*tail)->next;
		*tail = ls;
	}
	td->lun_stats = ls;
	pthread_mutex_lock(&scst_stats_lock);
	join(&td->dev->stats_nexuses, &td->stats_dev_entry);
	join(&td->sess->stats_nexuses, &td->stats_sess_entry);
	join(&tgt->stats_nexuses, &td->stats_tgt_entry);
	join(&ls->nexuses, &td->stats_lun_entry);
	pthread_mutex_unlock(&scst_stats_lock);
	return 0;
}

void scst_stats_nexus_retire(struct scst_tgt_dev *td)
{
	pthread_mutex_lock(&scst_stats_lock);
	list_del(&td->stats_dev_entry);
	list_del(&td->stats_sess_entry);
	list_del(&td->stats_tgt_entry);
	list_del(&td->stats_lun_entry);
	fold(&td->dev->retired, &td->stats);
	fold(&td->sess->retired, &td->stats);
	fold(&td->sess->tgt->retired, &td->stats);
	fold(&td->lun_stats->retired, &td->stats);
	pthread_mutex_unlock(&scst_stats_lock);
}

void scst_stats_session_detached(struct scst_session *sess)
{
	pthread_mutex_lock(&scst_stats_lock);
	fold(&sess->tgt->retired, &sess->stats);
	pthread_mutex_unlock(&scst_stats_lock);
}

void scst_stats_target_destroyed(struct scst_tgt *tgt)
{
	/* Its sessions are gone, and with them every nexus. */
	assert(!tgt->stats_nexuses.next || list_empty(&tgt->stats_nexuses));
	while (tgt->lun_stats) {
		struct scst_lun_stats *ls = tgt->lun_stats;

		assert(list_empty(&ls->nexuses));
		tgt->lun_stats = ls->next;
		free(ls->device);
		free(ls);
	}
}

/* ---- readers ---- */

void scst_stats_read_device(const struct scst_device *dev, struct scst_stats_snap *out)
{
	struct scst_tgt_dev *td;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&scst_stats_lock);
	snap_add(out, &dev->retired);
	for_each_nexus(td, &dev->stats_nexuses, stats_dev_entry)
		snap_add(out, &td->stats);
	pthread_mutex_unlock(&scst_stats_lock);
}

void scst_stats_read_target(const struct scst_tgt *tgt, struct scst_stats_snap *out)
{
	const struct scst_session *sess;
	struct scst_tgt_dev *td;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&scst_stats_lock);
	snap_add(out, &tgt->retired);
	/* Sessions leave the list and fold their own counters into the
	 * target's in one scst_mutex section, which the caller holds. */
	list_for_each_entry(sess, &tgt->sessions, tgt_entry)
		snap_add(out, &sess->stats);
	for_each_nexus(td, &tgt->stats_nexuses, stats_tgt_entry)
		snap_add(out, &td->stats);
	pthread_mutex_unlock(&scst_stats_lock);
}

void scst_stats_read_session(const struct scst_session *sess, struct scst_stats_snap *out)
{
	struct scst_tgt_dev *td;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&scst_stats_lock);
	snap_add(out, &sess->stats);
	snap_add(out, &sess->retired);
	for_each_nexus(td, &sess->stats_nexuses, stats_sess_entry)
		snap_add(out, &td->stats);
	pthread_mutex_unlock(&scst_stats_lock);
}

bool scst_stats_read_session_lun(const struct scst_session *sess, uint64_t lun,
				 struct scst_stats_snap *out)
{
	struct scst_tgt_dev *td;
	bool found = false;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&scst_stats_lock);
	for_each_nexus(td, &sess->stats_nexuses, stats_sess_entry) {
		if (td->lun == lun) {
			snap_add(out, &td->stats);
			found = true;
		}
	}
	pthread_mutex_unlock(&scst_stats_lock);
	return found;
}

void scst_stats_for_each_target_lun(const struct scst_tgt *tgt,
				    void (*fn)(void *ctx, uint64_t lun, const char *device,
					       const struct scst_stats_snap *s),
				    void *ctx)
{
	for (const struct scst_lun_stats *ls = tgt->lun_stats; ls; ls = ls->next) {
		struct scst_stats_snap s = { 0 };
		struct scst_tgt_dev *td;

		pthread_mutex_lock(&scst_stats_lock);
		snap_add(&s, &ls->retired);
		list_for_each_entry(td, &ls->nexuses, stats_lun_entry)
			snap_add(&s, &td->stats);
		pthread_mutex_unlock(&scst_stats_lock);
		fn(ctx, ls->lun, ls->device, &s);
	}
}

void scst_stats_for_each_nexus(const struct scst_device *dev,
			       void (*fn)(void *ctx, const struct scst_tgt_dev *td,
					  const struct scst_stats_snap *s),
			       void *ctx)
{
	struct scst_tgt_dev *td;

	pthread_mutex_lock(&scst_stats_lock);
	for_each_nexus(td, &dev->stats_nexuses, stats_dev_entry) {
		struct scst_stats_snap s = { 0 };

		snap_add(&s, &td->stats);
		fn(ctx, td, &s);
	}
	pthread_mutex_unlock(&scst_stats_lock);
}

/* ---- names ---- */

const char *scst_stats_dir_name(unsigned dir)
{
	static const char *const names[SCST_STATS_NDIR] = { "other", "read", "write" };

	assert(dir < SCST_STATS_NDIR);
	return names[dir];
}

const char *scst_stats_sense_key_name(unsigned key)
{
	/* SPC-4 table 51 (0Ch was EQUAL, 0Fh is COMPLETED in SPC-5). */
	static const char *const names[SCST_STATS_NSENSE] = {
		"NO_SENSE",       "RECOVERED_ERROR", "NOT_READY",       "MEDIUM_ERROR",
		"HARDWARE_ERROR", "ILLEGAL_REQUEST", "UNIT_ATTENTION",  "DATA_PROTECT",
		"BLANK_CHECK",    "VENDOR_SPECIFIC", "COPY_ABORTED",    "ABORTED_COMMAND",
		"OBSOLETE_0C",    "VOLUME_OVERFLOW", "MISCOMPARE",      "COMPLETED",
	};

	assert(key < SCST_STATS_NSENSE);
	return names[key];
}

const char *scst_stats_status_name(unsigned status)
{
	static const char *const names[SCST_STATS_NSTATUS] = {
		[SCST_STATS_BUSY] = "BUSY",
		[SCST_STATS_RESERVATION_CONFLICT] = "RESERVATION_CONFLICT",
		[SCST_STATS_TASK_SET_FULL] = "TASK_SET_FULL",
		[SCST_STATS_ACA_ACTIVE] = "ACA_ACTIVE",
		[SCST_STATS_TASK_ABORTED] = "TASK_ABORTED",
		[SCST_STATS_OTHER_STATUS] = "OTHER",
	};

	assert(status < SCST_STATS_NSTATUS);
	return names[status];
}

const char *scst_stats_tmf_name(unsigned fn)
{
	static const char *const names[SCST_STATS_NTMF] = {
		[SCST_TMF_ABORT_TASK] = "ABORT_TASK",
		[SCST_TMF_ABORT_TASK_SET] = "ABORT_TASK_SET",
		[SCST_TMF_CLEAR_TASK_SET] = "CLEAR_TASK_SET",
		[SCST_TMF_LUN_RESET] = "LOGICAL_UNIT_RESET",
		[SCST_TMF_TARGET_RESET] = "TARGET_RESET",
		[SCST_TMF_I_T_NEXUS_RESET] = "I_T_NEXUS_RESET",
		[SCST_TMF_CLEAR_ACA] = "CLEAR_ACA",
		[SCST_TMF_QUERY_TASK] = "QUERY_TASK",
		[SCST_TMF_TARGET_COLD_RESET] = "TARGET_COLD_RESET",
		[SCST_TMF_QUERY_TASK_SET] = "QUERY_TASK_SET",
		[SCST_TMF_QUERY_ASYNC_EVENT] = "QUERY_ASYNCHRONOUS_EVENT",
	};

	assert(fn < SCST_STATS_NTMF);
	return names[fn];
}
