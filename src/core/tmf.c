/* Task management (SAM-5 7): aborting commands and reporting completion
 * once every aborted command has finished. Commands may live on other
 * reactors (a LOGICAL UNIT RESET reaches every session of the device), so
 * the marking happens under the device lock, the command's reactor is told
 * through a message, and the function completes when a counter drops to zero.
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
#include "core/core_internal.h"

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

	assert(reactor_self() == sess->reactor && sess->tmf_refs > 0);
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
		if (!cmd->started || cmd->state == SCST_CMD_STATE_RDY_TO_XFER)
			cmd->sess->tgt->tgtt->on_abort_cmd(cmd);
		else if (cmd->parked)
			scst_order_unpark_aborted(cmd);
	}
	scst_cmd_put(cmd);
}

void scst_abort_cmd_locked(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd)
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
	if (!atomic_exchange(&cmd->aborted, true)) {
		/* Sent once per command (the exchange above), so the node
		 * embedded in it is free. */
		scst_cmd_get(cmd);
		reactor_send(cmd->reactor, &cmd->abort_msg, notify_abort);
	}
}

void scst_abort_cmd(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd)
{
	if (cmd->dev)
		pthread_mutex_lock(&cmd->dev->lock);
	scst_abort_cmd_locked(cmd, mcmd);
	if (cmd->dev)
		pthread_mutex_unlock(&cmd->dev->lock);
}

static void abort_task(struct scst_mgmt_cmd *mcmd, bool query_only)
{
	struct scst_cmd *cmd;

	list_for_each_entry(cmd, &mcmd->sess->cmds, sess_entry) {
		if (cmd->tag != mcmd->tag)
			continue;
		if (query_only) {
			mcmd->status = SCST_TMF_STATUS_SUCCEEDED;
			return;
		}
		scst_abort_cmd(cmd, mcmd);
		return;
	}
	mcmd->status = SCST_TMF_STATUS_TASK_NOT_EXIST;
	if (query_only)
		mcmd->status = SCST_TMF_STATUS_COMPLETE;
}

/* Aborts the device's commands: those of @only_sess, or of every session. */
static void abort_dev_cmds(struct scst_mgmt_cmd *mcmd, struct scst_device *dev,
			   struct scst_session *only_sess)
{
	struct scst_cmd *cmd;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(cmd, &dev->cmds, dev_entry) {
		if (!only_sess || cmd->sess == only_sess)
			scst_abort_cmd_locked(cmd, mcmd);
	}
	pthread_mutex_unlock(&dev->lock);
}

static void reset_lun(struct scst_mgmt_cmd *mcmd, struct scst_tgt_dev *td)
{
	abort_dev_cmds(mcmd, td->dev, NULL);
	scst_dev_queue_ua(td->dev, td,
			  scsi_sense_make(SK_UNIT_ATTENTION, ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED));
	log_info_rl("session %s: LOGICAL UNIT RESET of LUN %llu (%s)", mcmd->sess->initiator_name,
		 (unsigned long long)td->lun, td->dev->name);
}

static void run_tmf(struct scst_mgmt_cmd *mcmd)
{
	struct scst_session *sess = mcmd->sess;
	struct scst_tgt_dev *td = scst_session_tgt_dev(sess, mcmd->lun);
	const struct scst_lun_table *luns = scst_session_luns(sess);
	struct scst_cmd *cmd;

	switch (mcmd->fn) {
	case SCST_TMF_ABORT_TASK:
		abort_task(mcmd, false);
		return;
	case SCST_TMF_QUERY_TASK:
		abort_task(mcmd, true);
		return;
	case SCST_TMF_ABORT_TASK_SET:
	case SCST_TMF_CLEAR_TASK_SET:
	case SCST_TMF_LUN_RESET:
		if (!td) {
			mcmd->status = SCST_TMF_STATUS_LUN_NOT_EXIST;
			return;
		}
		if (mcmd->fn == SCST_TMF_ABORT_TASK_SET) {
			abort_dev_cmds(mcmd, td->dev, sess);
		} else if (mcmd->fn == SCST_TMF_CLEAR_TASK_SET) {
			abort_dev_cmds(mcmd, td->dev, NULL);
			scst_dev_queue_ua(td->dev, td,
					  scsi_sense_make(SK_UNIT_ATTENTION,
							  ASC_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR));
		} else {
			reset_lun(mcmd, td);
		}
		return;
	case SCST_TMF_TARGET_RESET:
		for (unsigned i = 0; luns && i < luns->n; i++)
			reset_lun(mcmd, luns->tgt_devs[i]);
		return;
	case SCST_TMF_I_T_NEXUS_RESET:
		list_for_each_entry(cmd, &sess->cmds, sess_entry)
			scst_abort_cmd(cmd, mcmd);
		for (unsigned i = 0; luns && i < luns->n; i++)
			scst_tgt_dev_queue_ua(luns->tgt_devs[i],
					      scsi_sense_make(SK_UNIT_ATTENTION,
							      ASC_I_T_NEXUS_LOSS_OCCURRED));
		return;
	case SCST_TMF_CLEAR_ACA:
		/* NACA is refused in every CDB, so there is never an ACA. */
		mcmd->status = SCST_TMF_STATUS_NOT_SUPPORTED;
		return;
	}
	mcmd->status = SCST_TMF_STATUS_NOT_SUPPORTED;
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
	run_tmf(mcmd);
	tmf_put(mcmd);
	return mcmd;
}

void scst_mgmt_cmd_free(struct scst_mgmt_cmd *mcmd)
{
	free(mcmd);
}
