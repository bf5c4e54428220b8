/* The state dump (uscstd's SIGUSR1): every session and device with its
 * active commands, written to the log. Until the management interface
 * exists it is how an operator, and the liveness check of the integration
 * tests, sees what the daemon still holds. The line format is stable; tests
 * grep for it:
 *
 *   dump: begin
 *   dump: session <initiator-name> -> <target-name>: <n> active command(s)
 *   dump: device <device-name>: <n> active command(s)
 *   dump: reservations <device-name>: generation <g>, <r> registered,
 *         <reserved TYPE by key 0x<k> | reserved TYPE by all registrants |
 *         not reserved>, APTPL <on|off>, SPC-2 <held by <initiator> | none>
 *       (TYPE: WE, EA, WERO, EARO, WEAR, EAAR)
 *       (only for a device with a registration or a reservation)
 *   dump: alua <device-group>/<target-group>: group <id>, <state>
 *         [(in transition)], <n> port(s)
 *   dump: end: <S> session(s), <C> active command(s)
 *
 * C is the sum over the sessions. */
#include <assert.h>
#include <stdio.h>

#include "base/log.h"
#include "core/alua.h"
#include "core/core_internal.h"
#include "core/pr_rules.h"

/* What the reactors found, under scst_mutex (each reactor adds its share
 * while holding it). */
struct dump_totals {
	unsigned sessions;
	unsigned cmds;
};

struct dump_sessions_ctx {
	struct dump_totals *totals;
	struct reactor *self;
};

static void dump_target_sessions(struct scst_tgt *tgt, void *arg)
{
	struct dump_sessions_ctx *ctx = arg;
	struct scst_session *sess;

	list_for_each_entry(sess, &tgt->sessions, tgt_entry) {
		/* active_cmds is reactor-local: only the session's own
		 * reactor may read it. */
		if (sess->reactor != ctx->self)
			continue;
		log_info("dump: session %s -> %s: %u active command(s)", sess->initiator_name,
			 tgt->name, sess->active_cmds);
		ctx->totals->sessions++;
		ctx->totals->cmds += sess->active_cmds;
	}
}

/* Runs on each reactor in turn (reactor_run_on_all). */
static void dump_sessions_here(void *arg)
{
	struct dump_sessions_ctx ctx = { .totals = arg, .self = reactor_self() };

	assert(ctx.self);
	pthread_mutex_lock(&scst_mutex);
	unsigned before = ctx.totals->sessions;
	scst_for_each_target(NULL, dump_target_sessions, &ctx);
	/* How sessions are spread over the reactors (docs/scale.md). */
	log_info("dump: reactor %u: %u session(s), %d connection(s) placed",
		 reactor_index(ctx.self), ctx.totals->sessions - before, reactor_load(ctx.self));
	pthread_mutex_unlock(&scst_mutex);
}

/* What an administrator asks first of a fenced LUN: who holds it. */
static void dump_reservations(struct scst_device *dev)
{
	const struct scst_pr *pr = &dev->pr;
	char reservation[96], spc2[300];

	pthread_mutex_lock(&dev->lock);
	if (!pr->nregistrants && !pr->reserved && !dev->spc2_holder) {
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	if (!pr->reserved)
		snprintf(reservation, sizeof(reservation), "not reserved");
	else if (!pr->holder)
		snprintf(reservation, sizeof(reservation), "reserved %s by all registrants",
			 scst_pr_type_name(pr->type));
	else
		snprintf(reservation, sizeof(reservation), "reserved %s by key 0x%llx",
			 scst_pr_type_name(pr->type), (unsigned long long)pr->holder->key);
	if (dev->spc2_holder)
		snprintf(spc2, sizeof(spc2), "held by %s", dev->spc2_holder->initiator_name);
	else
		snprintf(spc2, sizeof(spc2), "none");
	log_info("dump: reservations %s: generation %u, %u registered, %s, APTPL %s, SPC-2 %s",
		 dev->name, pr->generation, pr->nregistrants, reservation, pr->aptpl ? "on" : "off",
		 spc2);
	pthread_mutex_unlock(&dev->lock);
}

/* The copy manager's chunks written to @dev, by which path (copy_job.c):
 * only for a device a copy wrote. */
static void dump_copies(const struct scst_device *dev)
{
	uint64_t by_kernel = atomic_load(&dev->copy_range_chunks);
	uint64_t by_rw = atomic_load(&dev->copy_rw_chunks);
	bool refused = atomic_load(&dev->copy_range_refused);

	if (by_kernel || by_rw || refused)
		log_info("dump: copies to device %s: %llu chunk(s) by copy_range "
			 "(copy_file_range), %llu by READ/WRITE%s",
			 dev->name, (unsigned long long)by_kernel, (unsigned long long)by_rw,
			 refused ? "; copy_range refused" : "");
	if (atomic_load(&dev->odx_tokens_made) || atomic_load(&dev->odx_wut_done))
		log_info("dump: ODX of device %s: %llu ROD token(s) made, %llu WRITE USING "
			 "TOKEN(s) wrote %llu block(s) to it", dev->name,
			 (unsigned long long)atomic_load(&dev->odx_tokens_made),
			 (unsigned long long)atomic_load(&dev->odx_wut_done),
			 (unsigned long long)atomic_load(&dev->odx_wut_blocks));
	if (atomic_load(&dev->copy_range_busy_chunks))
		log_info("dump: copies from device %s: %llu in-kernel chunk(s) read and written "
			 "for a COMPARE AND WRITE queued on it", dev->name,
			 (unsigned long long)atomic_load(&dev->copy_range_busy_chunks));
}

static void dump_device(struct scst_device *dev, void *arg)
{
	unsigned n;

	(void)arg;
	pthread_mutex_lock(&dev->lock);
	n = dev->active_cmds;
	pthread_mutex_unlock(&dev->lock);
	log_info("dump: device %s: %u active command(s)", dev->name, n);
	dump_copies(dev);
	dump_reservations(dev);
}

void scst_dump_state(void)
{
	struct dump_totals totals = { 0 };

	/* Run from a non-reactor thread, without scst_mutex: the reactors
	 * take it themselves, and run_on_all waits for them. */
	assert(!reactor_self());
	log_info("dump: begin");
	reactor_run_on_all(dump_sessions_here, &totals);
	pthread_mutex_lock(&scst_mutex);
	scst_for_each_device(dump_device, NULL);
	scst_alua_dump_locked();
	pthread_mutex_unlock(&scst_mutex);
	/* Every reactor has run; their writes to totals happened under
	 * scst_mutex, which run_on_all's completion orders before this read. */
	log_info("dump: end: %u session(s), %u active command(s)", totals.sessions, totals.cmds);
}
