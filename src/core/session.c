/* Sessions (I_T nexuses) and their I_T_L nexuses.
 *
 * Lifetime: the target driver creates a session with
 * scst_register_session() on the reactor its connection lives on, and
 * everything about it (its commands, their task sets, its task management
 * functions) runs there. The driver ends it with scst_unregister_session():
 * from then on no command or TMF may be added; active commands are
 * aborted; the session is freed, on its reactor, once its last command
 * has finished and its last TMF has completed (sess->active_cmds and
 * sess->tmf_refs both zero), right after the driver's unreg_done. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "core/core_internal.h"

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_zero = PTHREAD_COND_INITIALIZER;
static unsigned nsessions;

unsigned scst_session_count(void)
{
	unsigned n;

	pthread_mutex_lock(&count_lock);
	n = nsessions;
	pthread_mutex_unlock(&count_lock);
	return n;
}

bool scst_wait_sessions_gone(int seconds)
{
	struct timespec deadline;
	bool gone;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&count_lock);
	while (nsessions) {
		if (pthread_cond_timedwait(&count_zero, &count_lock, &deadline))
			break;
	}
	gone = nsessions == 0;
	pthread_mutex_unlock(&count_lock);
	return gone;
}

struct scst_tgt_dev *scst_session_tgt_dev(struct scst_session *sess, uint64_t lun)
{
	for (unsigned i = 0; i < sess->ntgt_devs; i++) {
		if (sess->tgt_devs[i].lun == lun)
			return &sess->tgt_devs[i];
	}
	return NULL;
}

/* Builds one I_T_L nexus per LUN of the target's map; scst_mutex held. */
static bool attach_luns(struct scst_session *sess)
{
	struct scst_lun *lun;
	unsigned n = 0;

	list_for_each_entry(lun, &sess->tgt->luns, entry)
		n++;
	sess->tgt_devs = calloc(n ? n : 1, sizeof(*sess->tgt_devs));
	if (!sess->tgt_devs)
		return false;
	list_for_each_entry(lun, &sess->tgt->luns, entry) {
		struct scst_tgt_dev *td = &sess->tgt_devs[sess->ntgt_devs++];

		td->sess = sess;
		td->dev = lun->dev;
		td->lun = lun->lun;
		td->read_only = lun->read_only;
		list_init(&td->uas);
		list_init(&td->task_set);
		pthread_mutex_lock(&lun->dev->lock);
		list_add_tail(&td->dev_entry, &lun->dev->tgt_devs);
		pthread_mutex_unlock(&lun->dev->lock);
		/* A new I_T nexus starts with a power-on/reset condition. */
		scst_tgt_dev_queue_ua(td, scsi_sense_make(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET));
	}
	return true;
}

struct scst_session *scst_register_session(struct scst_tgt *tgt, const char *initiator_name,
					   void *tgt_priv)
{
	struct scst_session *sess = calloc(1, sizeof(*sess));

	if (!sess || !(sess->initiator_name = strdup(initiator_name))) {
		free(sess);
		return NULL;
	}
	sess->tgt = tgt;
	sess->tgt_priv = tgt_priv;
	sess->reactor = reactor_self();
	list_init(&sess->cmds);
	pthread_mutex_lock(&scst_mutex);
	if (!attach_luns(sess)) {
		pthread_mutex_unlock(&scst_mutex);
		free(sess->initiator_name);
		free(sess);
		return NULL;
	}
	list_add_tail(&sess->tgt_entry, &tgt->sessions);
	pthread_mutex_unlock(&scst_mutex);
	pthread_mutex_lock(&count_lock);
	nsessions++;
	pthread_mutex_unlock(&count_lock);
	log_info("session %s -> %s: opened with %u LUN(s)", initiator_name, tgt->name,
		 sess->ntgt_devs);
	return sess;
}

static void session_free(struct reactor_msg *m)
{
	struct scst_session *sess = container_of(m, struct scst_session, free_msg);

	assert(reactor_self() == sess->reactor && sess->unregistering);
	assert(sess->active_cmds == 0 && sess->tmf_refs == 0 && list_empty(&sess->cmds));
	pthread_mutex_lock(&scst_mutex);
	list_del(&sess->tgt_entry);
	for (unsigned i = 0; i < sess->ntgt_devs; i++) {
		struct scst_tgt_dev *td = &sess->tgt_devs[i];

		assert(list_empty(&td->task_set) && td->nparked == 0);
		pthread_mutex_lock(&td->dev->lock);
		list_del(&td->dev_entry);
		scst_tgt_dev_clear_uas(td);
		pthread_mutex_unlock(&td->dev->lock);
	}
	pthread_mutex_unlock(&scst_mutex);
	log_info("session %s -> %s: closed", sess->initiator_name, sess->tgt->name);
	if (sess->unreg_done)
		sess->unreg_done(sess);
	free(sess->tgt_devs);
	free(sess->initiator_name);
	free(sess);
	pthread_mutex_lock(&count_lock);
	if (--nsessions == 0)
		pthread_cond_broadcast(&count_zero);
	pthread_mutex_unlock(&count_lock);
}

void scst_session_cmd_gone(struct scst_session *sess)
{
	assert(reactor_self() == sess->reactor);
	if (sess->unregistering && sess->active_cmds == 0 && sess->tmf_refs == 0)
		/* Posted, so that the caller (finishing a command) is done
		 * with the session first; the conditions cannot change back,
		 * so this happens once. */
		reactor_send(sess->reactor, &sess->free_msg, session_free);
}

void scst_unregister_session(struct scst_session *sess,
			     void (*unreg_done)(struct scst_session *sess))
{
	struct scst_cmd *cmd;

	assert(reactor_self() == sess->reactor && !sess->unregistering);
	sess->unregistering = true;
	sess->unreg_done = unreg_done;
	/* Nobody is left to answer: every active command is aborted and ends
	 * without a response as soon as its current state lets it. */
	list_for_each_entry(cmd, &sess->cmds, sess_entry)
		scst_abort_cmd(cmd, NULL);
	scst_session_cmd_gone(sess);
}
