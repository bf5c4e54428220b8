/* Sessions (I_T nexuses) and their LUN tables of I_T_L nexuses.
 *
 * Lifetime of a session: the target driver creates it with
 * scst_register_session() on the reactor its connection lives on, and
 * everything about it (its commands, their task sets, its task management
 * functions, the retiring of its old LUN tables) runs there. The driver
 * ends it with scst_unregister_session(): from then on no command or TMF
 * may be added and active commands are aborted. Once the last command has
 * finished, the last TMF completed and the last background copy stopped
 * (active_cmds, tmf_refs and background_copies zero) the session is
 * detached: it leaves its target (management no longer
 * reaches it) and drops its LUN table. It is freed, on its reactor, right
 * after the driver's unreg_done, when sess->refs reaches zero: one
 * reference is its registration (dropped at detach), one each of its
 * I_T_L nexuses holds, so a nexus can rely on its session to the end.
 *
 * LUN tables: an immutable sorted array of nexuses. Management builds a
 * new one under scst_mutex whenever the session's group changes
 * (scst_tgt_sync_sessions()) and publishes it with one atomic store; the
 * reactor looks LUNs up in whatever table is current, without a lock, and
 * a command takes a reference on its nexus. The table replaced is sent to
 * the session's reactor in its own embedded message: when that runs, no
 * lookup there can still be reading it (lookups never span reactor
 * callbacks), so it drops its references and is freed. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "core/alua.h"
#include "core/copy_odx.h"
#include "core/copy_results.h"
#include "core/core_internal.h"
#include "core/pr_internal.h"

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_zero = PTHREAD_COND_INITIALIZER;
static unsigned nsessions;
static uint64_t session_serial; /* scst_mutex */

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

static void session_free(struct scst_session *sess);

static void session_get(struct scst_session *sess)
{
	atomic_fetch_add(&sess->refs, 1);
}

static void session_put(struct scst_session *sess)
{
	if (atomic_fetch_sub(&sess->refs, 1) == 1)
		session_free(sess);
}

/* ---- I_T_L nexuses ---- */

static struct scst_tgt_dev *tgt_dev_new(struct scst_session *sess, const struct scst_lun *lun)
{
	struct scst_tgt_dev *td = calloc(1, sizeof(*td));

	if (!td)
		return NULL;
	td->sess = sess;
	td->reactor = sess->reactor;
	td->dev = lun->dev;
	td->lun = lun->lun;
	/* Readers sum it from now on (stats.c); first, as the one step
	 * that may fail. */
	if (scst_stats_nexus_new(td)) {
		free(td);
		return NULL;
	}
	atomic_init(&td->read_only, lun->read_only);
	/* scst_mutex is held, as by every change of ALUA states. */
	atomic_init(&td->alua, scst_alua_nexus_word(lun->dev, sess->tgt));
	atomic_init(&td->refs, 1);
	list_init(&td->uas);
	list_init(&td->task_set);
	scst_device_get(lun->dev);
	session_get(sess);
	pthread_mutex_lock(&lun->dev->lock);
	list_add_tail(&td->dev_entry, &lun->dev->tgt_devs);
	scst_pr_nexus_joined_locked(td);
	pthread_mutex_unlock(&lun->dev->lock);
	return td;
}

void scst_tgt_dev_get(struct scst_tgt_dev *td)
{
	atomic_fetch_add(&td->refs, 1);
}

void scst_tgt_dev_put(struct scst_tgt_dev *td)
{
	struct scst_session *sess = td->sess;
	struct scst_device *dev = td->dev;

	if (atomic_fetch_sub(&td->refs, 1) != 1)
		return;
	/* Commands hold their nexus until FINISHED: none is in the set. */
	assert(list_empty(&td->task_set) && td->nparked == 0);
	pthread_mutex_lock(&dev->lock);
	list_del(&td->dev_entry);
	scst_spc2_nexus_gone_locked(td);
	scst_aca_nexus_gone_locked(td);
	scst_tgt_dev_clear_uas(td);
	pthread_mutex_unlock(&dev->lock);
	/* Its counters go to its device's, session's and target's totals. */
	scst_stats_nexus_retire(td);
	free(td);
	scst_device_put(dev);
	session_put(sess);
}

/* ---- LUN tables ---- */

static struct scst_lun_table *table_alloc(struct scst_session *sess, unsigned n)
{
	struct scst_lun_table *t = calloc(1, sizeof(*t) + n * sizeof(t->tgt_devs[0]));

	if (t)
		t->sess = sess;
	return t;
}

/* Drops the table's references; on the session's reactor, or by
 * management for a table it built and never published. */
static void table_free(struct scst_lun_table *t)
{
	for (unsigned i = 0; i < t->n; i++)
		scst_tgt_dev_put(t->tgt_devs[i]);
	free(t);
}

static void table_retired(struct reactor_msg *m)
{
	struct scst_lun_table *t = container_of(m, struct scst_lun_table, retire_msg);

	assert(reactor_self() == t->sess->reactor);
	table_free(t);
}

struct scst_lun_table *scst_session_luns(const struct scst_session *sess)
{
	return atomic_load_explicit(&((struct scst_session *)sess)->luns, memory_order_acquire);
}

struct scst_tgt_dev *scst_session_tgt_dev(struct scst_session *sess, uint64_t lun)
{
	const struct scst_lun_table *t = scst_session_luns(sess);
	unsigned lo = 0, hi = t ? t->n : 0;

	assert(reactor_self() == sess->reactor);
	/* Sorted by LUN: a binary search. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		uint64_t l = t->tgt_devs[mid]->lun;

		if (l == lun)
			return t->tgt_devs[mid];
		if (l < lun)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct scst_tgt_dev *table_find(const struct scst_lun_table *t, uint64_t lun,
				       const struct scst_device *dev)
{
	for (unsigned i = 0; t && i < t->n; i++) {
		if (t->tgt_devs[i]->lun == lun && t->tgt_devs[i]->dev == dev)
			return t->tgt_devs[i];
	}
	return NULL;
}

/* The table @acg's map gives the session: the nexuses of @old that still
 * map the same device at the same LUN (with a new reference), new ones for
 * the rest. *changed says whether it differs from @old. NULL without
 * memory. scst_mutex held. */
static struct scst_lun_table *build_table(struct scst_session *sess, const struct scst_acg *acg,
					  const struct scst_lun_table *old, bool *changed)
{
	const struct scst_lun *lun;
	struct scst_lun_table *t;
	unsigned n = 0, kept = 0;

	if (acg)
		list_for_each_entry(lun, &acg->luns, entry)
			n++;
	t = table_alloc(sess, n);
	if (!t)
		return NULL;
	if (acg) {
		list_for_each_entry(lun, &acg->luns, entry) {
			struct scst_tgt_dev *td = table_find(old, lun->lun, lun->dev);

			if (td) {
				scst_tgt_dev_get(td);
				atomic_store(&td->read_only, lun->read_only);
				kept++;
			} else if (!(td = tgt_dev_new(sess, lun))) {
				table_free(t);
				return NULL;
			}
			t->tgt_devs[t->n++] = td;
		}
	}
	*changed = kept != t->n || kept != (old ? old->n : 0);
	return t;
}

/* Makes @t the session's table and retires the one it replaces. */
static void publish_table(struct scst_session *sess, struct scst_lun_table *t)
{
	struct scst_lun_table *old = atomic_exchange_explicit(&sess->luns, t, memory_order_acq_rel);

	if (old)
		reactor_send(sess->reactor, &old->retire_msg, table_retired);
}

/* One "lun:" line per LUN the session gained or lost (a device replaced
 * at a LUN is both), for an administrator following a reload or a
 * management change; before @old is retired. scst_mutex held. */
static void log_lun_changes(const struct scst_session *sess, const struct scst_lun_table *old,
			    const struct scst_lun_table *t)
{
	for (unsigned i = 0; old && i < old->n; i++) {
		const struct scst_tgt_dev *td = old->tgt_devs[i];

		if (!table_find(t, td->lun, td->dev))
			log_info("lun: %s -> %s: LUN %llu (%s) removed", sess->initiator_name,
				 sess->tgt->name, (unsigned long long)td->lun, td->dev->name);
	}
	for (unsigned i = 0; i < t->n; i++) {
		const struct scst_tgt_dev *td = t->tgt_devs[i];

		if (!table_find(old, td->lun, td->dev))
			log_info("lun: %s -> %s: LUN %llu (%s) added%s", sess->initiator_name,
				 sess->tgt->name, (unsigned long long)td->lun, td->dev->name,
				 atomic_load(&td->read_only) ? ", read-only" : "");
	}
}

/* Brings one session in line with its target's groups; scst_mutex held. */
static void sync_session(struct scst_session *sess)
{
	char why[256] = "";
	struct scst_acg *acg = scst_acg_for_initiator(sess->tgt, sess->initiator_name, why,
						      sizeof(why));
	/* Stays while scst_mutex is held: only this function replaces it. */
	const struct scst_lun_table *old = scst_session_luns(sess);
	struct scst_lun_table *t;
	bool changed;

	if (!acg)
		/* Two groups take it now: it sees nothing until that is
		 * resolved, rather than either group's LUNs. */
		log_warn("session %s -> %s: %s; it sees no LUN", sess->initiator_name,
			 sess->tgt->name, why);
	t = build_table(sess, acg, old, &changed);
	if (!t) {
		log_error("session %s -> %s: out of memory: its LUNs stay as they were",
			  sess->initiator_name, sess->tgt->name);
		return;
	}
	if (!changed) {
		table_free(t);
		return;
	}
	/* SPC-4 6.33: every I_T nexus whose inventory changed is told so,
	 * through each of its logical units. */
	for (unsigned i = 0; i < t->n; i++)
		scst_tgt_dev_queue_ua(t->tgt_devs[i],
				      scsi_sense_make(SK_UNIT_ATTENTION,
						      ASC_REPORTED_LUNS_DATA_HAS_CHANGED));
	log_lun_changes(sess, old, t);
	publish_table(sess, t);
	log_info("lun: %s -> %s: now sees %u LUN(s), group %s", sess->initiator_name,
		 sess->tgt->name, t->n, acg ? (acg->name ? acg->name : "(default)") : "(none)");
}

void scst_tgt_sync_sessions(struct scst_tgt *tgt)
{
	struct scst_session *sess;

	list_for_each_entry(sess, &tgt->sessions, tgt_entry)
		sync_session(sess);
}

/* ---- registration ---- */

struct scst_session *scst_register_session(struct scst_tgt *tgt, const char *initiator_name,
					   void *tgt_priv)
{
	struct scst_session *sess = calloc(1, sizeof(*sess));
	struct scst_lun_table *t = NULL;
	struct scst_acg *acg;
	char why[256] = "";
	bool changed;

	assert(reactor_self());
	if (!sess || !(sess->initiator_name = strdup(initiator_name))) {
		free(sess);
		return NULL;
	}
	sess->tgt = tgt;
	sess->tgt_priv = tgt_priv;
	sess->reactor = reactor_self();
	atomic_init(&sess->refs, 1); /* the registration */
	list_init(&sess->cmds);
	sess->transport_id_len = tgt->tgtt->get_transport_id(sess, sess->transport_id);
	assert(sess->transport_id_len <= SCST_TRANSPORT_ID_MAX);
	pthread_mutex_lock(&scst_mutex);
	acg = scst_acg_for_initiator(tgt, initiator_name, why, sizeof(why));
	if (acg)
		t = build_table(sess, acg, NULL, &changed);
	if (!t) {
		pthread_mutex_unlock(&scst_mutex);
		if (!acg)
			log_warn("session %s -> %s: refused: %s", initiator_name, tgt->name, why);
		/* Nothing holds the session but its registration. */
		assert(atomic_load(&sess->refs) == 1);
		free(sess->initiator_name);
		free(sess);
		return NULL;
	}
	/* A new I_T nexus starts with a power-on/reset condition on each of
	 * its logical units; an initiator port whose nexus was lost is told
	 * that instead (ua_rules.h). */
	struct scsi_sense initial = scst_ua_initial_sense(sess);
	for (unsigned i = 0; i < t->n; i++)
		scst_tgt_dev_queue_ua(t->tgt_devs[i], initial);
	atomic_init(&sess->luns, t);
	sess->serial = ++session_serial;
	list_add_tail(&sess->tgt_entry, &tgt->sessions);
	tgt->sessions_alive++;
	/* Under the lock: a reload may free the group right after. */
	log_info("session: open %s -> %s: %u LUN(s)%s%s", initiator_name, tgt->name, t->n,
		 acg->name ? ", group " : "", acg->name ? acg->name : "");
	pthread_mutex_unlock(&scst_mutex);
	pthread_mutex_lock(&count_lock);
	nsessions++;
	pthread_mutex_unlock(&count_lock);
	return sess;
}

/* The last reference is gone: on the session's reactor. The target is
 * still there: it waits for sessions_alive to drop. */
static void session_free(struct scst_session *sess)
{
	struct scst_tgt *tgt = sess->tgt;

	assert(reactor_self() == sess->reactor && sess->detached);
	log_info("session: close %s -> %s", sess->initiator_name, tgt->name);
	if (sess->unreg_done)
		sess->unreg_done(sess);
	pthread_mutex_lock(&scst_mutex);
	assert(tgt->sessions_alive > 0);
	tgt->sessions_alive--;
	pthread_mutex_unlock(&scst_mutex);
	free(sess->initiator_name);
	free(sess);
	pthread_mutex_lock(&count_lock);
	if (--nsessions == 0)
		pthread_cond_broadcast(&count_zero);
	pthread_mutex_unlock(&count_lock);
}

/* No command or TMF is left: the session leaves its target and lets go of
 * its LUNs; it is freed when the last nexus has (often right here). */
static void session_detach(struct reactor_msg *m)
{
	struct scst_session *sess = container_of(m, struct scst_session, detach_msg);
	struct scst_lun_table *t;

	assert(reactor_self() == sess->reactor && sess->unregistering && !sess->detached);
	assert(sess->active_cmds == 0 && sess->tmf_refs == 0 && sess->background_copies == 0 &&
	       list_empty(&sess->cmds));
	/* The copy manager's list identifiers are per I_T nexus: the held
	 * results of its copies (records are reactor-local) and of its ODX
	 * commands go with it; ROD tokens are the devices' and stay. */
	copy_records_session_gone(sess);
	copy_odx_session_gone(sess);
	pthread_mutex_lock(&scst_mutex);
	list_del(&sess->tgt_entry);
	/* Off the list readers sum: its counters go to the target's. */
	scst_stats_session_detached(sess);
	sess->detached = true;
	t = atomic_exchange(&sess->luns, NULL);
	pthread_mutex_unlock(&scst_mutex);
	if (t)
		table_free(t);
	session_put(sess);
}

void scst_session_cmd_gone(struct scst_session *sess)
{
	assert(reactor_self() == sess->reactor);
	if (sess->unregistering && sess->active_cmds == 0 && sess->tmf_refs == 0 &&
	    sess->background_copies == 0 && !sess->detach_sent) {
		/* Posted, so that the caller (finishing a command) is done
		 * with the session first; the conditions cannot change back,
		 * and the flag makes it once. */
		sess->detach_sent = true;
		reactor_send(sess->reactor, &sess->detach_msg, session_detach);
	}
}

void scst_session_nexus_lost(struct scst_session *sess)
{
	assert(reactor_self() == sess->reactor && !sess->unregistering);
	scst_ua_nexus_lost(sess);
}

void scst_unregister_session(struct scst_session *sess,
			     void (*unreg_done)(struct scst_session *sess))
{
	struct scst_cmd *cmd;

	assert(reactor_self() == sess->reactor && !sess->unregistering);
	sess->unregistering = true;
	sess->unreg_done = unreg_done;
	scst_spc2_session_ending(sess);
	/* Nobody is left to answer: every active command is aborted and ends
	 * without a response as soon as its current state lets it. */
	list_for_each_entry(cmd, &sess->cmds, sess_entry)
		scst_abort_cmd(cmd, NULL);
	scst_session_cmd_gone(sess);
}

/* ---- Management ---- */

void scst_tgt_queue_lun_ua(struct scst_tgt *tgt, uint64_t lun, struct scsi_sense sense)
{
	struct scst_session *sess;

	list_for_each_entry(sess, &tgt->sessions, tgt_entry) {
		/* The current table stays while scst_mutex is held. */
		struct scst_lun_table *t = atomic_load(&sess->luns);

		for (unsigned i = 0; t && i < t->n; i++)
			if (t->tgt_devs[i]->lun == lun)
				scst_tgt_dev_queue_ua(t->tgt_devs[i], sense);
	}
}

void scst_session_name(const struct scst_session *sess, char *buf, size_t len)
{
	const uint8_t *tid = sess->transport_id;

	/* iSCSI port TransportIDs (SPC-4 7.6.4.6) carry the port's name as
	 * text; other transports are shown by their identifier in hex. */
	if ((tid[0] & 0x0f) == SCST_PROTOCOL_ISCSI && sess->transport_id_len > 4) {
		snprintf(buf, len, "%.*s", (int)(sess->transport_id_len - 4),
			 (const char *)tid + 4);
		return;
	}
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 8; i < sess->transport_id_len && i < 24 && n + 3 <= len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%02x", tid[i]);
}

/* What management asks of one session's driver. */
enum session_request {
	SESSION_CLOSE,       /* close_session */
	SESSION_LOGOUT,      /* request_logout: ask it to log out */
	SESSION_RENEGOTIATE, /* request_renegotiation */
};

struct session_request_msg {
	struct reactor_msg msg;
	struct scst_session *sess;
	enum session_request what;
	char why[128];
};

static void session_request_here(struct reactor_msg *m)
{
	struct session_request_msg *c = container_of(m, struct session_request_msg, msg);
	struct scst_session *sess = c->sess;

	assert(reactor_self() == sess->reactor);
	if (!sess->unregistering) {
		switch (c->what) {
		case SESSION_CLOSE:
			sess->tgt->tgtt->close_session(sess, c->why);
			break;
		case SESSION_LOGOUT:
			sess->tgt->tgtt->request_logout(sess, c->why);
			break;
		case SESSION_RENEGOTIATE:
			sess->tgt->tgtt->request_renegotiation(sess, c->why);
			break;
		}
	}
	/* The reference taken by session_request_send(): the session may be
	 * freed here, on its own reactor, as session_free() wants. */
	session_put(sess);
	free(c);
}

static int session_request_send(struct scst_session *sess, enum session_request what,
				const char *why, char *err, size_t errlen)
{
	const struct scst_tgt_template *tgtt = sess->tgt->tgtt;
	struct session_request_msg *c;
	bool can = what == SESSION_CLOSE    ? tgtt->close_session != NULL
		   : what == SESSION_LOGOUT ? tgtt->request_logout != NULL
					    : tgtt->request_renegotiation != NULL;

	if (!can) {
		snprintf(err, errlen, "driver %s cannot %s a single session", tgtt->name,
			 what == SESSION_CLOSE    ? "close"
			 : what == SESSION_LOGOUT ? "ask for the logout of"
						  : "ask for the renegotiation of");
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->sess = sess;
	c->what = what;
	snprintf(c->why, sizeof(c->why), "%s", why);
	/* Under scst_mutex the session is still on its target's list, so
	 * its registration reference is alive: ours keeps it past that. */
	assert(!sess->detached);
	session_get(sess);
	reactor_send(sess->reactor, &c->msg, session_request_here);
	return 0;
}

int scst_session_close(struct scst_session *sess, const char *why, char *err, size_t errlen)
{
	return session_request_send(sess, SESSION_CLOSE, why, err, errlen);
}

int scst_session_request_logout(struct scst_session *sess, const char *why, char *err,
				size_t errlen)
{
	return session_request_send(sess, SESSION_LOGOUT, why, err, errlen);
}

int scst_session_request_renegotiation(struct scst_session *sess, const char *why, char *err,
				       size_t errlen)
{
	return session_request_send(sess, SESSION_RENEGOTIATE, why, err, errlen);
}
