/* Per-object I/O statistics (issue 8, Observability): commands, bytes,
 * errors by sense key and status, aborts, task management functions and
 * a latency histogram per data direction.
 *
 * Where the counters live. A command's counters are kept in the object
 * it already touches on its reactor: its I_T_L nexus (struct
 * scst_tgt_dev), or its session for a command addressed to a LUN that has
 * no unit. Only that reactor writes them, each with one relaxed load and
 * one relaxed store (no locked read-modify-write, no lock, no
 * allocation); the management thread reads them with relaxed loads, so
 * there is no data race and nothing on the command path waits for a
 * reader. The cost per command is two clock reads (received, finished)
 * and about ten stores to cache lines of the nexus the command holds.
 *
 * What an aggregate is. A device's, a session's, a target's and a
 * target LUN's counters are never stored per command: a reader sums the
 * object's live nexuses (each nexus is on the lists of its device,
 * session, target and target LUN, scst_stats_lock's, from its creation
 * until it is freed, whether or not its device is still in the registry
 * or its session on its target's list) and the object's "retired"
 * totals, into which a nexus's counters are folded when it is freed (and
 * a session's own when it leaves its target). Folding and reading both
 * happen under scst_stats_lock, so that at any moment each command is
 * counted exactly once: totals never go backwards, as Prometheus
 * counters must not. A read costs the object's own nexuses, not all.
 *
 * The list heads are in objects the core allocates zeroed: a zeroed head
 * is an empty list until its first nexus (stats.c), so that creating a
 * device, session or target needs no step of ours.
 *
 * Lock order: scst_mutex, then scst_stats_lock; nothing else is taken
 * while it is held. */
#ifndef USCST_CORE_STATS_H
#define USCST_CORE_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"

struct scst_cmd;
struct scst_device;
struct scst_session;
struct scst_tgt;
struct scst_tgt_dev;

/* Data directions, as enum scst_data_dir numbers them: a command that
 * moves no data counts as "other". */
#define SCST_STATS_NDIR 3
/* Sense keys (SPC-4 4.5.6), 0h..Fh. */
#define SCST_STATS_NSENSE 16
/* Task management functions: enum scst_tmf. */
#define SCST_STATS_NTMF 11

/* Statuses other than GOOD, CONDITION MET and CHECK CONDITION (which is
 * counted by its sense key). */
enum scst_stats_status {
	SCST_STATS_BUSY,
	SCST_STATS_RESERVATION_CONFLICT,
	SCST_STATS_TASK_SET_FULL,
	SCST_STATS_ACA_ACTIVE,
	SCST_STATS_TASK_ABORTED,
	SCST_STATS_OTHER_STATUS,
	SCST_STATS_NSTATUS,
};

/* Latency, from the command's arrival (INIT) to its end (FINISHED: the
 * response has left): bucket k holds latencies up to 16 us << k, for k
 * in 0..18 (the last bound 4.194304 s), bucket 19 everything longer.
 * Powers of two: an initiator's QD1 4 KiB read over loopback (~30 us)
 * and a flush to a slow disk (~1 s) both land in buckets of their own. */
#define SCST_LAT_NBUCKETS 20
#define SCST_LAT_FIRST_NS 16000ull

/* The bucket of a latency of @ns nanoseconds. Bucket k holds
 * (16 us << (k - 1), 16 us << k]: with q = (ns - 1) / 16 us, that is the
 * bit length of q. */
static inline unsigned scst_lat_bucket(uint64_t ns)
{
	uint64_t q = ns ? (ns - 1) / SCST_LAT_FIRST_NS : 0;
	unsigned k = q ? 64u - (unsigned)__builtin_clzll(q) : 0;

	return k < SCST_LAT_NBUCKETS - 1 ? k : SCST_LAT_NBUCKETS - 1;
}

/* Upper bound of bucket @k in microseconds (k < SCST_LAT_NBUCKETS - 1;
 * the last is +Inf). */
static inline uint64_t scst_lat_bucket_le_us(unsigned k)
{
	return (SCST_LAT_FIRST_NS / 1000u) << k;
}

/* The counters, once as the live atomics and once as a plain copy: the
 * same fields in the same order, so that a copy or a sum is a walk over
 * 64-bit words (stats.c asserts the layouts agree). */
#define SCST_STATS_FIELDS(T)                                                       \
	T received;                    /* commands that reached INIT */            \
	T done[SCST_STATS_NDIR];       /* commands finished, by data direction */  \
	T bytes_read;                  /* Data-In of commands ending GOOD */       \
	T bytes_written;               /* Data-Out of commands ending GOOD */      \
	T sense_key[SCST_STATS_NSENSE]; /* CHECK CONDITION, by sense key */        \
	T status[SCST_STATS_NSTATUS];  /* other non-GOOD statuses */               \
	T aborted;                     /* commands ended by an abort */            \
	T tmf[SCST_STATS_NTMF];        /* task management functions received */   \
	/* latency of commands not aborted, per direction (not cumulative) */     \
	T lat_bucket[SCST_STATS_NDIR][SCST_LAT_NBUCKETS];                          \
	T lat_sum_ns[SCST_STATS_NDIR];

struct scst_stats {
	SCST_STATS_FIELDS(_Atomic uint64_t)
};

struct scst_stats_snap {
	SCST_STATS_FIELDS(uint64_t)
};

/* Commands received and not finished. Read from two counters without a
 * common lock, so clamped: a reader may see a finish before its arrival. */
static inline uint64_t scst_stats_outstanding(const struct scst_stats_snap *s)
{
	uint64_t done = s->done[0] + s->done[1] + s->done[2];

	return s->received > done ? s->received - done : 0;
}

/* The per-target-LUN totals of a (target, LUN, device): kept by the
 * target until it is destroyed, so that the sum over a LUN's nexuses
 * keeps what nexuses that are gone had counted. Created when a nexus
 * for it is (scst_mutex), listed on tgt->lun_stats. */
struct scst_lun_stats {
	struct scst_lun_stats *next; /* tgt->lun_stats; scst_mutex */
	uint64_t lun;
	char *device;                /* the device's name, a copy */
	struct scst_stats retired;   /* scst_stats_lock */
	struct list_head nexuses;    /* live ones, scst_stats_lock */
};

/* ---- the command path (cmd.c, tmf.c), on the command's reactor ---- */

/* INIT, once cmd->tgt_dev is known: the arrival time and one more
 * command received. */
void scst_stats_cmd_received(struct scst_cmd *cmd);
/* FINISHED, before the command lets go of its nexus. */
void scst_stats_cmd_done(struct scst_cmd *cmd);
/* A task management function of @sess addressed to @lun arrived. */
void scst_stats_tmf(struct scst_session *sess, unsigned fn, uint64_t lun);

/* ---- lifetimes (session.c, registry.c) ---- */

/* tgt_dev_new(), scst_mutex held, td->sess, ->dev and ->lun set: the
 * nexus finds (or creates) its per-target-LUN totals and joins the lists
 * of live nexuses; -1 without memory (it has not joined). */
int scst_stats_nexus_new(struct scst_tgt_dev *td);
/* The nexus is being freed (on its session's reactor, or by management
 * for one it never published): its counters go to its device's,
 * session's, target's and target LUN's retired totals. Takes
 * scst_stats_lock. */
void scst_stats_nexus_retire(struct scst_tgt_dev *td);
/* The session leaves its target (no command or TMF left): its own
 * counters (commands without a LUN, TMFs) go to the target's retired
 * totals. scst_mutex held; takes scst_stats_lock. */
void scst_stats_session_detached(struct scst_session *sess);
/* The target is destroyed: frees its per-LUN totals. scst_mutex held. */
void scst_stats_target_destroyed(struct scst_tgt *tgt);

/* ---- readers: the management thread, scst_mutex held ---- */

/* Every counter of the object, live nexuses plus retired totals. */
void scst_stats_read_device(const struct scst_device *dev, struct scst_stats_snap *out);
void scst_stats_read_target(const struct scst_tgt *tgt, struct scst_stats_snap *out);
void scst_stats_read_session(const struct scst_session *sess, struct scst_stats_snap *out);
/* The nexus of @sess at @lun (every live one there: the LUN's device may
 * just have been replaced); false when it has none. */
bool scst_stats_read_session_lun(const struct scst_session *sess, uint64_t lun,
				 struct scst_stats_snap *out);
/* Calls @fn for each (LUN, device) of @tgt that ever had a nexus, with
 * its sum over every nexus, gone or alive. */
void scst_stats_for_each_target_lun(const struct scst_tgt *tgt,
				    void (*fn)(void *ctx, uint64_t lun, const char *device,
					       const struct scst_stats_snap *s),
				    void *ctx);
/* Calls @fn for each live I_T_L nexus of @dev with its counters.
 * scst_stats_lock is held around the calls: @fn must not take locks. */
void scst_stats_for_each_nexus(const struct scst_device *dev,
			       void (*fn)(void *ctx, const struct scst_tgt_dev *td,
					  const struct scst_stats_snap *s),
			       void *ctx);

/* Names for listings (Prometheus labels, JSON keys): a data direction
 * ("read", "write", "other"), a sense key ("ILLEGAL_REQUEST"), an enum
 * scst_stats_status ("RESERVATION_CONFLICT") and a task management
 * function ("LOGICAL_UNIT_RESET"). */
const char *scst_stats_dir_name(unsigned dir);
const char *scst_stats_sense_key_name(unsigned key);
const char *scst_stats_status_name(unsigned status);
const char *scst_stats_tmf_name(unsigned fn);

#endif
