/* Task management (SAM-5 7): aborting commands and reporting completion
 * once every aborted command has finished. Commands may live on other
 * reactors (a LOGICAL UNIT RESET reaches every session of the device), so
 * the marking happens under the device lock, the command's reactor is told
 * through a message, and the function completes when a counter drops to zero.
 *
 * Which tasks a function reaches, and whether each ends silently or with
 * TASK ABORTED, is tmf_scope.c's decision from the control page's TST and
 * TAS; this file applies it. A running EXTENDED COPY is reached on every
 * device it reads or writes as if it were a task of its nexus there
 * (dev->copy_links): what would abort such a task fails the copy, through
 * a notice to the copy's reactor (copy_job.c owns the job), and the
 * function completes once the copy has stopped. The same machinery serves QErr (a CHECK
 * CONDITION aborting other tasks) and ACA (SAM-5 5.9; the rules are
 * aca_rules.c's): ACA is state on the faulted I_T_L nexus, checked in
 * PRE_EXEC, and cleared by CLEAR ACA or a reset.
 *
 * Lifetime: a struct scst_mgmt_cmd is created on its session's reactor by
 * scst_rx_mgmt_fn() and holds the session (sess->tmf_refs) until its
 * completion has run there; the driver frees it in task_mgmt_fn_done().
 * So a session whose connection went away while its LUN RESET waits for
 * another session's command stays in memory, unregistering, until that
 * command has finished; the driver then sends nothing. */
#include <assert.h>
#include <stdlib.h>

#include "base/log.h"
#include "core/copy_mgr.h"
#include "core/pr_internal.h"
#include "core/task_mgmt.h"
#include "core/tmf_scope.h"

struct scst_tmf_waiter {
	struct scst_mgmt_cmd *mcmd;
	struct scst_tmf_waiter *next;
};

/* On the session's reactor, once every command the function waited for
 * has finished. */
static void tmf_complete(struct reactor_msg *m)
{
	struct scst_mgmt_cmd *mcmd = container_of(m, struct scst_mgmt_cmd, done_msg);
	struct scst_session *sess = mcmd->sess;

	assert(reactor_self() == sess->reactor);
	if (mcmd->internal_done) {
		/* The core's own: the command that asked holds the session. */
		mcmd->internal_done(mcmd);
		return;
	}
	assert(sess->tmf_refs > 0);
	sess->tgt->tgtt->task_mgmt_fn_done(mcmd); /* frees mcmd */
	sess->tmf_refs--;
	scst_session_cmd_gone(sess);
}

/* Any reactor: a command it waited for has finished (or the scan is over).
 * The session is alive: this function holds it. */
static void tmf_put(struct scst_mgmt_cmd *mcmd)
{
	if (atomic_fetch_sub(&mcmd->pending, 1) == 1)
		reactor_send(mcmd->sess->reactor, &mcmd->done_msg, tmf_complete);
}

void scst_tmf_hold(struct scst_mgmt_cmd *mcmd)
{
	/* Only while the function still holds its scan's reference: it
	 * cannot have completed. */
	assert(atomic_load(&mcmd->pending) > 0);
	atomic_fetch_add(&mcmd->pending, 1);
}

void scst_tmf_release(struct scst_mgmt_cmd *mcmd)
{
	tmf_put(mcmd);
}

void scst_tmf_cmd_finished(struct scst_tmf_waiter *waiters)
{
	while (waiters) {
		struct scst_tmf_waiter *next = waiters->next;

		tmf_put(waiters->mcmd);
		free(waiters);
		waiters = next;
	}
}

/* Runs on the command's reactor: whoever holds the command waiting lets
 * go of it, so that it reaches a state boundary and ends: the driver (for
 * its data, or before starting it) or the task set (parked in PRE_EXEC).
 * The command may have finished meanwhile: then only the reference is
 * left, and its state is FINISHED. */
static void notify_abort(struct reactor_msg *m)
{
	struct scst_cmd *cmd = container_of(m, struct scst_cmd, abort_msg);

	assert(reactor_self() == cmd->reactor);
	if (cmd->state != SCST_CMD_STATE_FINISHED) {
		if (!cmd->started || cmd->state == SCST_CMD_STATE_RDY_TO_XFER ||
		    (cmd->state == SCST_CMD_STATE_XMIT && !cmd->internal_done))
			cmd->sess->tgt->tgtt->on_abort_cmd(cmd);
		else if (cmd->parked)
			scst_order_unpark_aborted(cmd);
	}
	scst_cmd_put(cmd);
}

void scst_abort_cmd_fate_locked(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd,
				enum scst_abort_fate fate)
{
	if (mcmd) {
		struct scst_tmf_waiter *w = malloc(sizeof(*w));

		if (w) {
			w->mcmd = mcmd;
			w->next = cmd->tmf_waiters;
			cmd->tmf_waiters = w;
			atomic_fetch_add(&mcmd->pending, 1);
		} else {
			log_error("out of memory: a task management function will not wait for tag %#llx",
				  (unsigned long long)cmd->tag);
		}
	}
	if (atomic_load(&cmd->aborted))
		return;
	atomic_store(&cmd->abort_fate, fate);
	if (!atomic_exchange(&cmd->aborted, true)) {
		/* Sent once per command (the exchange above), so the node
		 * embedded in it is free. */
		scst_cmd_get(cmd);
		reactor_send(cmd->reactor, &cmd->abort_msg, notify_abort);
	}
}

void scst_abort_cmd_locked(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd)
{
	scst_abort_cmd_fate_locked(cmd, mcmd, SCST_ABORT_SILENT);
}

void scst_abort_cmd(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd)
{
	if (cmd->dev)
		pthread_mutex_lock(&cmd->dev->lock);
	scst_abort_cmd_locked(cmd, mcmd);
	if (cmd->dev)
		pthread_mutex_unlock(&cmd->dev->lock);
}

bool scst_cmd_aborted_silently(const struct scst_cmd *cmd)
{
	return atomic_load(&cmd->aborted) &&
	       atomic_load(&cmd->abort_fate) != SCST_ABORT_TASK_ABORTED;
}

static enum scst_abort_fate fate_of(enum tmf_fate f)
{
	switch (f) {
	case TMF_FATE_ABORT_TASK_ABORTED:
		return SCST_ABORT_TASK_ABORTED;
	case TMF_FATE_ABORT_CLEARED_UA:
		return SCST_ABORT_CLEARED_UA;
	default:
		return SCST_ABORT_SILENT;
	}
}

static const char *scope_name(enum tmf_scope_action action)
{
	switch (action) {
	case TMF_SCOPE_ABORT_TASK:
		return "ABORT TASK";
	case TMF_SCOPE_ABORT_TASK_SET:
		return "ABORT TASK SET";
	case TMF_SCOPE_CLEAR_TASK_SET:
		return "CLEAR TASK SET";
	case TMF_SCOPE_CLEAR_ACA:
		return "CLEAR ACA";
	case TMF_SCOPE_LUN_RESET:
		return "a reset";
	case TMF_SCOPE_I_T_NEXUS_RESET:
		return "I_T NEXUS RESET";
	case TMF_SCOPE_QERR_ABORT_ALL:
	case TMF_SCOPE_QERR_ABORT_NEXUS:
		return "a CHECK CONDITION under QErr";
	}
	return "task management";
}

/* Aborts what @action reaches among the device's commands, as seen from
 * @sess (the acting I_T nexus), sparing @except (the command whose CHECK
 * CONDITION triggered QErr), and fails the copies running on the device
 * that a task of their nexus there would be aborted by; returns how many
 * commands it aborted. */
static unsigned abort_in_scope(struct scst_mgmt_cmd *mcmd, struct scst_device *dev,
			       struct scst_session *sess, enum tmf_scope_action action,
			       uint64_t tag, const struct scst_cmd *except)
{
	unsigned tst = atomic_load(&dev->tst);
	bool tas = atomic_load(&dev->tas);
	struct scst_copy_link *link;
	struct scst_cmd *cmd;
	unsigned n = 0;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(cmd, &dev->cmds, dev_entry) {
		struct tmf_task_view v = {
			.same_nexus = cmd->sess == sess,
			.referenced = cmd->tag == tag,
			.aca_attr = cmd->task_attr == SCST_TASK_ACA,
		};
		enum tmf_fate f;

		if (cmd == except)
			continue;
		f = tmf_scope_fate(action, tst, tas, &v);
		if (f == TMF_FATE_UNTOUCHED)
			continue;
		scst_abort_cmd_fate_locked(cmd, mcmd, fate_of(f));
		/* Queued now, before the function can complete: the
		 * initiator that asked may tell the others at once. */
		if (f == TMF_FATE_ABORT_CLEARED_UA)
			scst_ua_commands_cleared_locked(cmd->tgt_dev);
		n++;
	}
	list_for_each_entry(link, &dev->copy_links, dev_entry) {
		struct tmf_task_view v = { .same_nexus = link->sess == sess };

		assert(link->dev == dev);
		if (tmf_scope_fate(action, tst, tas, &v) != TMF_FATE_UNTOUCHED)
			scst_copy_link_fail_locked(link, mcmd, scope_name(action));
	}
	pthread_mutex_unlock(&dev->lock);
	return n;
}

/* ---- ACA ---- */

/* On the nexus's reactor: its parked commands look at the ACA again. */
static void aca_kick(struct reactor_msg *m)
{
	struct scst_tgt_dev *td = container_of(m, struct scst_tgt_dev, aca_kick_msg);

	assert(reactor_self() == td->reactor);
	pthread_mutex_lock(&td->dev->lock);
	td->aca_kick_sent = false;
	pthread_mutex_unlock(&td->dev->lock);
	scst_order_recheck(td);
	scst_tgt_dev_put(td);
}

/* A reference unless the nexus is already on its way out (its last
 * reference dropped, waiting for dev->lock to leave the device). */
static bool tgt_dev_tryget(struct scst_tgt_dev *td)
{
	unsigned r = atomic_load(&td->refs);

	while (r && !atomic_compare_exchange_weak(&td->refs, &r, r + 1))
		;
	return r != 0;
}

/* Every nexus of @dev looks at its blocked commands again; dev->lock
 * held. Under TST 0 another nexus's commands may be blocked too. */
static void aca_kick_all_locked(struct scst_device *dev)
{
	struct scst_tgt_dev *td;

	list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
		if (td->aca_kick_sent || !tgt_dev_tryget(td))
			continue;
		td->aca_kick_sent = true;
		reactor_send(td->reactor, &td->aca_kick_msg, aca_kick);
	}
}

/* Clears ACA on @only (or on every nexus of @dev when NULL) and wakes
 * every nexus whose commands it may have blocked; dev->lock held. */
static void aca_clear_locked(struct scst_device *dev, struct scst_tgt_dev *only)
{
	struct scst_tgt_dev *td;
	bool cleared = false;

	list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
		if ((only && td != only) || !atomic_load(&td->aca))
			continue;
		atomic_store(&td->aca, false);
		assert(atomic_load(&dev->aca_nexuses) > 0);
		atomic_fetch_sub(&dev->aca_nexuses, 1);
		cleared = true;
	}
	if (cleared)
		aca_kick_all_locked(dev);
}

void scst_aca_nexus_gone_locked(struct scst_tgt_dev *td)
{
	struct scst_device *dev = td->dev;

	if (!atomic_load(&td->aca))
		return;
	atomic_store(&td->aca, false);
	assert(atomic_load(&dev->aca_nexuses) > 0);
	atomic_fetch_sub(&dev->aca_nexuses, 1);
	aca_kick_all_locked(dev);
}

static void aca_clear(struct scst_device *dev, struct scst_tgt_dev *only)
{
	pthread_mutex_lock(&dev->lock);
	aca_clear_locked(dev, only);
	pthread_mutex_unlock(&dev->lock);
}

static void aca_establish(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;

	pthread_mutex_lock(&dev->lock);
	if (!atomic_load(&cmd->tgt_dev->aca)) {
		atomic_store(&cmd->tgt_dev->aca, true);
		atomic_fetch_add(&dev->aca_nexuses, 1);
	}
	atomic_fetch_add(&dev->aca_gen, 1);
	pthread_mutex_unlock(&dev->lock);
	log_info_rl("session %s: ACA established on LUN %llu (%s) by tag %#llx",
		    cmd->sess->initiator_name, (unsigned long long)cmd->lun, dev->name,
		    (unsigned long long)cmd->tag);
}

/* Whether a nexus other than @td sharing its task set has an ACA.
 *
 * A faulted nexus that went away (its session ended: an I_T nexus loss,
 * which clears its ACA) leaves the device without telling it; the walk
 * notices that the count is too high, corrects it and wakes the nexuses
 * whose commands that ACA blocked. */
static bool shared_set_faulted(const struct scst_tgt_dev *td)
{
	struct scst_device *dev = td->dev;
	const struct scst_tgt_dev *e;
	unsigned faulted = 0;
	bool found = false;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(e, &dev->tgt_devs, dev_entry) {
		if (!atomic_load(&e->aca))
			continue;
		faulted++;
		found |= e != td;
	}
	if (faulted < atomic_load(&dev->aca_nexuses)) {
		atomic_store(&dev->aca_nexuses, faulted);
		aca_kick_all_locked(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	return found && atomic_load(&dev->tst) == 0;
}

enum aca_verdict scst_aca_check(struct scst_cmd *cmd)
{
	struct scst_tgt_dev *td = cmd->tgt_dev;
	struct aca_view v = { .aca_attr = cmd->task_attr == SCST_TASK_ACA };
	enum aca_verdict verdict;

	assert(td);
	/* The common case: no ACA anywhere on the device. */
	if (atomic_load(&cmd->dev->aca_nexuses) == 0 && !v.aca_attr)
		return ACA_PASS;
	v.own_nexus_faulted = atomic_load(&td->aca);
	v.shared_set_faulted = !v.own_nexus_faulted && shared_set_faulted(td);
	v.entered_before = cmd->aca_gen != atomic_load(&cmd->dev->aca_gen);
	v.other_aca_cmd = td->aca_cmd && td->aca_cmd != cmd;
	verdict = aca_rules_check(&v);
	if (verdict == ACA_PASS && v.aca_attr)
		td->aca_cmd = cmd; /* order.c lets go of it when it leaves */
	return verdict;
}

void scst_tmf_check_condition(struct scst_cmd *cmd)
{
	unsigned qerr;

	assert(cmd->dev && cmd->status == SAM_STAT_CHECK_CONDITION);
	qerr = atomic_load(&cmd->dev->qerr);
	/* QErr 01b: the task set's tasks (every nexus's under TST 0, with
	 * TAS's choice for theirs); 11b: the faulted nexus's own. */
	if (qerr == 1 || qerr == 3) {
		unsigned n = abort_in_scope(NULL, cmd->dev, cmd->sess,
					    qerr == 1 ? TMF_SCOPE_QERR_ABORT_ALL
						      : TMF_SCOPE_QERR_ABORT_NEXUS,
					    0, cmd);
		if (n)
			log_info_rl("session %s: CHECK CONDITION of tag %#llx aborted %u task(s) "
				    "of %s (QErr %u)", cmd->sess->initiator_name,
				    (unsigned long long)cmd->tag, n, cmd->dev->name, qerr);
	}
	if (scst_cdb_control(cmd) & SCST_CONTROL_NACA)
		aca_establish(cmd);
}

/* ---- the functions ---- */

static void abort_task(struct scst_mgmt_cmd *mcmd, bool query_only)
{
	struct scst_cmd *cmd;

	list_for_each_entry(cmd, &mcmd->sess->cmds, sess_entry) {
		if (cmd->tag != mcmd->tag)
			continue;
		if (query_only) {
			/* Aborted, it is on its way out: not in the task set. */
			mcmd->status = atomic_load(&cmd->aborted) ? SCST_TMF_STATUS_COMPLETE
								 : SCST_TMF_STATUS_SUCCEEDED;
			return;
		}
		scst_abort_cmd(cmd, mcmd);
		return;
	}
	mcmd->status = query_only ? SCST_TMF_STATUS_COMPLETE : SCST_TMF_STATUS_TASK_NOT_EXIST;
}

/* QUERY TASK SET: whether the I_T_L nexus has a task in the task set. */
static void query_task_set(struct scst_mgmt_cmd *mcmd, struct scst_tgt_dev *td)
{
	struct scst_cmd *cmd;

	mcmd->status = SCST_TMF_STATUS_COMPLETE;
	list_for_each_entry(cmd, &mcmd->sess->cmds, sess_entry) {
		if (cmd->tgt_dev == td && !atomic_load(&cmd->aborted)) {
			mcmd->status = SCST_TMF_STATUS_SUCCEEDED;
			return;
		}
	}
}

/* QUERY ASYNCHRONOUS EVENT (SAM-5 7.8): whether a unit attention is
 * pending on the I_T_L nexus, and which one the next command would get;
 * nothing is cleared. UADE DEPTH: 01b one condition, 10b more than one. */
static void query_async_event(struct scst_mgmt_cmd *mcmd, struct scst_tgt_dev *td)
{
	struct scsi_sense sense;
	unsigned n;

	if (!scst_tgt_dev_ua_peek(td, &sense, &n)) {
		mcmd->status = SCST_TMF_STATUS_COMPLETE;
		return;
	}
	mcmd->status = SCST_TMF_STATUS_SUCCEEDED;
	mcmd->add_resp_info[0] = (uint8_t)((n > 1 ? 2u : 1u) << 4 | (sense.key & 0x0f));
	mcmd->add_resp_info[1] = (uint8_t)(sense.asc >> 8);
	mcmd->add_resp_info[2] = (uint8_t)sense.asc;
}

static void clear_aca(struct scst_mgmt_cmd *mcmd, struct scst_tgt_dev *td)
{
	if (!atomic_load(&td->aca)) {
		/* Only the faulted nexus may clear an ACA (SAM-5 7.3). */
		if (shared_set_faulted(td))
			mcmd->status = SCST_TMF_STATUS_REJECTED;
		return;
	}
	abort_in_scope(mcmd, td->dev, mcmd->sess, TMF_SCOPE_CLEAR_ACA, 0, NULL);
	aca_clear(td->dev, td);
}

static void reset_lun(struct scst_mgmt_cmd *mcmd, struct scst_tgt_dev *td, bool cold)
{
	abort_in_scope(mcmd, td->dev, mcmd->sess, TMF_SCOPE_LUN_RESET, 0, NULL);
	aca_clear(td->dev, NULL);
	/* A reset releases an SPC-2 reservation (SPC-2 5.5.1); persistent
	 * reservations stay (SPC-4 5.13.1). */
	scst_spc2_release(td->dev, NULL, cold ? "target cold reset" : "logical unit reset");
	scst_dev_clear_nexus_state(td->dev, NULL);
	/* Every I_T nexus gets the reset's unit attention, the one that
	 * asked for it too (SAM-5 6.3.3; libiscsi's MultipathIO.Reset looks
	 * for it on every path). */
	scst_dev_queue_ua(td->dev, NULL,
			  scsi_sense_make(SK_UNIT_ATTENTION,
					  cold ? ASC_POWER_ON_OCCURRED
					       : ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED));
}

/* The copies of @sess listed on @dev stop as its tasks there do: a copy
 * running in the background (IMMED) is no command of the session, so
 * the scan of its commands alone would miss it. */
static void fail_nexus_copies(struct scst_mgmt_cmd *mcmd, struct scst_device *dev,
			      const struct scst_session *sess, const char *why)
{
	struct scst_copy_link *link;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(link, &dev->copy_links, dev_entry) {
		if (link->sess == sess)
			scst_copy_link_fail_locked(link, mcmd, why);
	}
	pthread_mutex_unlock(&dev->lock);
}

static void i_t_nexus_reset(struct scst_mgmt_cmd *mcmd, const struct scst_lun_table *luns)
{
	struct scst_session *sess = mcmd->sess;
	struct scst_cmd *cmd;

	list_for_each_entry(cmd, &sess->cmds, sess_entry)
		scst_abort_cmd(cmd, mcmd);
	for (unsigned i = 0; luns && i < luns->n; i++)
		fail_nexus_copies(mcmd, luns->tgt_devs[i]->dev, sess, "I_T NEXUS RESET");
	for (unsigned i = 0; luns && i < luns->n; i++) {
		aca_clear(luns->tgt_devs[i]->dev, luns->tgt_devs[i]);
		scst_spc2_release(luns->tgt_devs[i]->dev, sess, "I_T NEXUS RESET");
		scst_dev_clear_nexus_state(luns->tgt_devs[i]->dev, sess);
		scst_tgt_dev_queue_ua(luns->tgt_devs[i],
				      scsi_sense_make(SK_UNIT_ATTENTION,
						      ASC_I_T_NEXUS_LOSS_OCCURRED));
	}
}

static void run_tmf(struct scst_mgmt_cmd *mcmd)
{
	struct scst_session *sess = mcmd->sess;
	struct scst_tgt_dev *td = scst_session_tgt_dev(sess, mcmd->lun);
	const struct scst_lun_table *luns = scst_session_luns(sess);

	switch (mcmd->fn) {
	case SCST_TMF_ABORT_TASK:
		abort_task(mcmd, false);
		return;
	case SCST_TMF_QUERY_TASK:
		abort_task(mcmd, true);
		return;
	case SCST_TMF_TARGET_RESET:
	case SCST_TMF_TARGET_COLD_RESET:
		for (unsigned i = 0; luns && i < luns->n; i++)
			reset_lun(mcmd, luns->tgt_devs[i], mcmd->fn == SCST_TMF_TARGET_COLD_RESET);
		return;
	case SCST_TMF_I_T_NEXUS_RESET:
		i_t_nexus_reset(mcmd, luns);
		return;
	case SCST_TMF_ABORT_TASK_SET:
	case SCST_TMF_CLEAR_TASK_SET:
	case SCST_TMF_LUN_RESET:
	case SCST_TMF_CLEAR_ACA:
	case SCST_TMF_QUERY_TASK_SET:
	case SCST_TMF_QUERY_ASYNC_EVENT:
		break;
	}
	/* The functions addressed to one logical unit. */
	if (!td) {
		mcmd->status = SCST_TMF_STATUS_LUN_NOT_EXIST;
		return;
	}
	switch (mcmd->fn) {
	case SCST_TMF_ABORT_TASK_SET:
		abort_in_scope(mcmd, td->dev, sess, TMF_SCOPE_ABORT_TASK_SET, 0, NULL);
		return;
	case SCST_TMF_CLEAR_TASK_SET:
		abort_in_scope(mcmd, td->dev, sess, TMF_SCOPE_CLEAR_TASK_SET, 0, NULL);
		return;
	case SCST_TMF_LUN_RESET:
		reset_lun(mcmd, td, false);
		return;
	case SCST_TMF_CLEAR_ACA:
		clear_aca(mcmd, td);
		return;
	case SCST_TMF_QUERY_TASK_SET:
		query_task_set(mcmd, td);
		return;
	case SCST_TMF_QUERY_ASYNC_EVENT:
		query_async_event(mcmd, td);
		return;
	default:
		break;
	}
	mcmd->status = SCST_TMF_STATUS_NOT_SUPPORTED;
}

/* ---- PREEMPT AND ABORT (pr.c) ---- */

struct scst_mgmt_cmd *scst_abort_preempted_locked(struct scst_cmd *pr_cmd,
						  void (*done)(struct scst_mgmt_cmd *mcmd),
						  void *ctx)
{
	struct scst_device *dev = pr_cmd->dev;
	bool tas = atomic_load(&dev->tas);
	struct scst_mgmt_cmd *mcmd = calloc(1, sizeof(*mcmd));
	struct scst_copy_link *link;
	struct scst_tgt_dev *td;
	struct scst_cmd *cmd;
	unsigned n = 0;

	if (!mcmd)
		log_error("out of memory: PREEMPT AND ABORT on %s will not wait for the tasks it aborts",
			  dev->name);
	else {
		mcmd->fn = SCST_TMF_ABORT_TASK_SET;
		mcmd->sess = pr_cmd->sess;
		mcmd->internal_done = done;
		mcmd->internal_ctx = ctx;
		atomic_init(&mcmd->pending, 1);
	}
	list_for_each_entry(cmd, &dev->cmds, dev_entry) {
		if (cmd == pr_cmd || !cmd->tgt_dev || !cmd->tgt_dev->pr_preempted)
			continue;
		/* The preempted nexus is never the one acting. */
		scst_abort_cmd_fate_locked(cmd, mcmd,
					   tas ? SCST_ABORT_TASK_ABORTED : SCST_ABORT_SILENT);
		n++;
	}
	/* A copy of a preempted nexus reading or writing the device stops
	 * as that nexus's tasks there do (copy_job.c), and PREEMPT AND ABORT
	 * completes once it has stopped: nothing of it is written after. */
	list_for_each_entry(link, &dev->copy_links, dev_entry) {
		list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
			if (td->sess != link->sess || !td->pr_preempted)
				continue;
			scst_copy_link_fail_locked(link, mcmd, "PREEMPT AND ABORT");
			n++;
			break;
		}
	}
	list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
		if (!td->pr_preempted)
			continue;
		td->pr_preempted = false;
		aca_clear_locked(dev, td);
	}
	if (!mcmd)
		return NULL;
	if (n == 0) {
		free(mcmd);
		return NULL;
	}
	log_info_rl("session %s: PREEMPT AND ABORT aborted %u task(s) on %s",
		    pr_cmd->sess->initiator_name, n, dev->name);
	tmf_put(mcmd); /* the scan is over */
	return mcmd;
}

/* SAM-5's names, as the "tmf:" lines say them. */
static const char *const tmf_names[] = {
	[SCST_TMF_ABORT_TASK] = "ABORT TASK",
	[SCST_TMF_ABORT_TASK_SET] = "ABORT TASK SET",
	[SCST_TMF_CLEAR_TASK_SET] = "CLEAR TASK SET",
	[SCST_TMF_LUN_RESET] = "LOGICAL UNIT RESET",
	[SCST_TMF_TARGET_RESET] = "TARGET WARM RESET",
	[SCST_TMF_I_T_NEXUS_RESET] = "I_T NEXUS RESET",
	[SCST_TMF_CLEAR_ACA] = "CLEAR ACA",
	[SCST_TMF_QUERY_TASK] = "QUERY TASK",
	[SCST_TMF_TARGET_COLD_RESET] = "TARGET COLD RESET",
	[SCST_TMF_QUERY_TASK_SET] = "QUERY TASK SET",
	[SCST_TMF_QUERY_ASYNC_EVENT] = "QUERY ASYNCHRONOUS EVENT",
};

/* The one "tmf:" line per function an initiator asks for, once it has
 * been applied (the tasks it aborts may still be finishing). Three call
 * sites, each rate-limited on its own: a flood of ABORT TASKs from an
 * initiator timing out its commands must not hide a reset. */
static void log_tmf(struct scst_mgmt_cmd *mcmd)
{
	struct scst_session *sess = mcmd->sess;
	const struct scst_tgt_dev *td = scst_session_tgt_dev(sess, mcmd->lun);
	const struct scst_lun_table *luns = scst_session_luns(sess);
	const char *name = (unsigned)mcmd->fn < sizeof(tmf_names) / sizeof(tmf_names[0]) &&
					   tmf_names[mcmd->fn]
				   ? tmf_names[mcmd->fn]
				   : "unknown function";
	const char *outcome = "";

	switch (mcmd->status) {
	case SCST_TMF_STATUS_TASK_NOT_EXIST:
		outcome = ": no such task";
		break;
	case SCST_TMF_STATUS_LUN_NOT_EXIST:
		outcome = ": no such LUN";
		break;
	case SCST_TMF_STATUS_NOT_SUPPORTED:
		outcome = ": not supported";
		break;
	case SCST_TMF_STATUS_REJECTED:
		outcome = ": rejected";
		break;
	case SCST_TMF_STATUS_COMPLETE:
	case SCST_TMF_STATUS_SUCCEEDED:
		break;
	}
	switch (mcmd->fn) {
	case SCST_TMF_ABORT_TASK:
	case SCST_TMF_QUERY_TASK:
		log_info_rl("tmf: %s from %s -> %s, LUN %llu (%s), tag %#llx%s", name,
			    sess->initiator_name, sess->tgt->name, (unsigned long long)mcmd->lun,
			    td ? td->dev->name : "none", (unsigned long long)mcmd->tag, outcome);
		break;
	case SCST_TMF_TARGET_RESET:
	case SCST_TMF_TARGET_COLD_RESET:
	case SCST_TMF_I_T_NEXUS_RESET:
		log_info_rl("tmf: %s from %s -> %s: %u LUN(s)%s", name, sess->initiator_name,
			    sess->tgt->name, luns ? luns->n : 0, outcome);
		break;
	default:
		log_info_rl("tmf: %s from %s -> %s, LUN %llu (%s)%s", name, sess->initiator_name,
			    sess->tgt->name, (unsigned long long)mcmd->lun,
			    td ? td->dev->name : "none", outcome);
		break;
	}
}

struct scst_mgmt_cmd *scst_rx_mgmt_fn(struct scst_session *sess, enum scst_tmf fn,
				      uint64_t lun, uint64_t tag, void *tgt_priv)
{
	struct scst_mgmt_cmd *mcmd;

	assert(reactor_self() == sess->reactor && !sess->unregistering);
	mcmd = calloc(1, sizeof(*mcmd));
	if (!mcmd)
		return NULL;
	sess->tmf_refs++;
	mcmd->fn = fn;
	mcmd->sess = sess;
	mcmd->lun = lun;
	mcmd->tag = tag;
	mcmd->tgt_priv = tgt_priv;
	mcmd->status = SCST_TMF_STATUS_COMPLETE;
	/* One reference for the scan itself, so that commands finishing
	 * while we are still marking others cannot complete it early. */
	atomic_init(&mcmd->pending, 1);
	scst_stats_tmf(sess, fn, lun); /* on its LUN's nexus or the session */
	run_tmf(mcmd);
	/* Before the scan's reference goes: mcmd may complete with it. */
	log_tmf(mcmd);
	tmf_put(mcmd);
	return mcmd;
}

void scst_mgmt_cmd_free(struct scst_mgmt_cmd *mcmd)
{
	free(mcmd);
}
