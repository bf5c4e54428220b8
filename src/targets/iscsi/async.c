/* Asynchronous Message PDUs (RFC 7143 11.9): logout requests at shutdown
 * and target disable, drop notices before management or a missed logout
 * closes a connection. See async.h for when each is sent. */
#include "targets/iscsi/async.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/attr_desc.h"
#include "core/scst.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/target.h"

/* ------------------------------------------------------------------ */
/* The setting. */

/* In force; scst_mutex's. Without a configuration file nobody parses the
 * section, so the default is here too. */
static struct iscsi_async_settings in_force = { .logout_timeout = 5 };

static const struct scst_attr_desc async_descs[] = {
	{ .name = "logout_timeout", .type = SCST_ATTR_UINT,
	  SCST_ATTR_FIELD(struct iscsi_async_settings, logout_timeout), .min = 0,
	  .max = ISCSI_ASYNC_LOGOUT_TIMEOUT_MAX, .def = "5",
	  .help = "seconds an initiator has to log out when the daemon stops or its target is "
		  "disabled (an Asynchronous Message asks it to); then its connections are "
		  "dropped. 0: drop them at once" },
};

const struct scst_attr_table iscsi_async_attr_table = {
	.name = "iscsi",
	.owner = SCST_ATTR_OWNER_DRIVER,
	.descs = async_descs,
	.ndescs = SCST_ATTR_TABLE_LEN(async_descs),
	.object_size = sizeof(struct iscsi_async_settings),
	.object_of = iscsi_async_settings_of,
	.reparsed_live = true,
};

void *iscsi_async_settings_of(void *unused)
{
	(void)unused;
	return &in_force;
}

int iscsi_async_settings_default(struct iscsi_async_settings *s, char *err, size_t errlen)
{
	return scst_attr_defaults(&iscsi_async_attr_table, s, err, errlen);
}

void iscsi_async_settings_apply(const struct iscsi_async_settings *s)
{
	in_force = *s;
}

unsigned iscsi_async_answer_timeout(void)
{
	pthread_mutex_lock(&scst_mutex);
	unsigned t = in_force.logout_timeout;
	pthread_mutex_unlock(&scst_mutex);
	return t;
}

/* ------------------------------------------------------------------ */
/* The PDU. */

bool iscsi_async_queue(struct iscsi_conn *conn, enum iscsi_async_event event, uint16_t p1,
		       uint16_t p2, uint16_t p3, const char *close_why)
{
	return iscsi_async_queue_scsi(conn, event, NULL, NULL, 0, p1, p2, p3, close_why);
}

bool iscsi_async_queue_scsi(struct iscsi_conn *conn, enum iscsi_async_event event,
			    const uint8_t *lun8, const uint8_t *data, uint32_t len, uint16_t p1,
			    uint16_t p2, uint16_t p3, const char *close_why)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu)
		return false;
	if (len) {
		pdu->owned = malloc(len);
		if (!pdu->owned) {
			free(pdu);
			return false;
		}
		memcpy(pdu->owned, data, len);
		pdu->data = pdu->owned;
		pdu->data_len = len;
	}
	uint8_t *bhs = pdu->hdr;
	pdu_init(bhs, ISCSI_OP_ASYNC, ISCSI_FLAG_FINAL);
	/* The LUN is meaningful for a SCSI event only. */
	if (lun8)
		memcpy(bhs + ISCSI_OFF_LUN, lun8, 8);
	put_be32(bhs + ISCSI_OFF_ITT, ISCSI_RESERVED_TAG);
	bhs[36] = (uint8_t)event;
	bhs[37] = 0; /* AsyncVCode: no vendor code */
	put_be16(bhs + 38, p1);
	put_be16(bhs + 40, p2);
	put_be16(bhs + 42, p3);
	if (close_why) {
		pdu->close_after = true;
		pdu->close_why = close_why;
	}
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
	return true;
}

static uint16_t clamp16(uint32_t v)
{
	return v > 0xffff ? 0xffff : (uint16_t)v;
}

/* A notice that @conn is about to be dropped (AsyncEvent 2 or 3, with the
 * Time2Wait the session negotiated and a Time2Retain of 0), then the
 * drop. The message goes first if the socket takes it now; a peer that
 * does not read is not waited for.
 *
 * Time2Retain is how long after Time2Wait the target keeps the
 * connection's tasks for TASK REASSIGN (RFC 7143 11.9.1): these drops
 * keep none (no_recovery below), so the message says 0 rather than the
 * negotiated value, and an ERL 2 initiator does not try to reassign tasks
 * that are gone. */
static void drop_with_notice(struct iscsi_conn *conn, enum iscsi_async_event event,
			     const char *why)
{
	const struct iscsi_session_params *sp = &conn->params;
	uint16_t p1 = event == ISCSI_ASYNC_DROP_CONNECTION ? conn->cid : 0;

	assert(reactor_self() == conn->reactor);
	if (conn->closed)
		return;
	/* Management or the daemon's end drops it: at ErrorRecoveryLevel 2
	 * its tasks are not kept for a reconnection (docs/iscsi_erl.md). */
	conn->no_recovery = true;
	iscsi_conn_get(conn);
	if (conn->phase == CONN_FULL_FEATURE &&
	    iscsi_async_queue(conn, event, p1, clamp16(sp->default_time2wait), 0, why))
		iscsi_conn_flush_now(conn);
	iscsi_conn_close(conn, why); /* nothing if the message has already closed it */
	iscsi_conn_put(conn);
}

void iscsi_async_drop_connection(struct iscsi_conn *conn, const char *why)
{
	drop_with_notice(conn, ISCSI_ASYNC_DROP_CONNECTION, why);
}

void iscsi_async_drop_session(struct iscsi_session *sess, const char *why)
{
	assert(reactor_self() == sess->reactor);
	/* Each close takes its connection out of the list. */
	while (!list_empty(&sess->conns))
		drop_with_notice(list_first_entry(&sess->conns, struct iscsi_conn, sess_entry),
				 ISCSI_ASYNC_DROP_SESSION, why);
}

/* ------------------------------------------------------------------ */
/* Logout requests and their deadline. */

/* One close_sessions call on one reactor that asked connections to log
 * out: it holds a reference on each until it has closed, and closes
 * those still open when the time is up. Listed in all_deadlines so that
 * shutdown can end those still running once it stops waiting
 * (iscsi_async_close_rest_here): the reactors stop without ticks. */
struct logout_deadline {
	struct list_head entry;     /* all_deadlines */
	struct reactor *reactor;
	struct reactor_tick tick;
	struct scst_tgt *tgt;       /* NULL: every target (shutdown) */
	/* Management asked this one session of tgt only (compared, never
	 * followed once its connections are gone). */
	const struct iscsi_session *only;
	char why[96];
	unsigned seconds_left;
	struct iscsi_conn **conns;  /* asked; each referenced */
	unsigned nconns, cap;
};

static pthread_mutex_t deadlines_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head all_deadlines = LIST_HEAD_INIT(all_deadlines);

static bool deadline_has(const struct logout_deadline *d, const struct iscsi_conn *conn)
{
	for (unsigned i = 0; i < d->nconns; i++)
		if (d->conns[i] == conn)
			return true;
	return false;
}

static bool deadline_add(struct logout_deadline *d, struct iscsi_conn *conn)
{
	if (d->nconns == d->cap) {
		unsigned cap = d->cap ? d->cap * 2 : 8;
		struct iscsi_conn **c = realloc(d->conns, cap * sizeof(*c));
		if (!c)
			return false;
		d->conns = c;
		d->cap = cap;
	}
	iscsi_conn_get(conn);
	d->conns[d->nconns++] = conn;
	return true;
}

static bool sessions_add(struct iscsi_sessions_here *h, struct iscsi_session *sess)
{
	if (h->n == h->cap) {
		unsigned cap = h->cap ? h->cap * 2 : 16;
		struct iscsi_session **v = realloc(h->v, cap * sizeof(*v));
		if (!v) {
			h->oom = true;
			return false;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = sess;
	return true;
}

static void collect_target(struct scst_tgt *tgt, void *ctx)
{
	struct iscsi_sessions_here *h = ctx;
	struct scst_session *s;

	/* Only a target still registered is looked at: a message that
	 * names one may arrive after it was removed. */
	if (h->only_tgt && tgt != h->only_tgt)
		return;
	list_for_each_entry(s, &tgt->sessions, tgt_entry) {
		/* Only this reactor touches these sessions, and it is here. */
		if (s->reactor != h->self || s->unregistering || !s->tgt_priv)
			continue;
		if (!sessions_add(h, s->tgt_priv))
			return;
	}
}

/* The list is read under scst_mutex and acted on after it is dropped: a
 * close may unregister a session, which takes the lock. A session here
 * cannot be freed meanwhile, since only this reactor frees it. Returns
 * false on allocation failure. */
static bool sessions_on_this_reactor(struct scst_tgt *tgt, struct iscsi_sessions_here *h)
{
	*h = (struct iscsi_sessions_here){ .self = reactor_self() };
	pthread_mutex_lock(&scst_mutex);
	if (tgt)
		collect_target(tgt, h);
	else
		scst_for_each_target(&iscsi_template, collect_target, h);
	pthread_mutex_unlock(&scst_mutex);
	return !h->oom;
}

bool iscsi_async_sessions_here(const struct scst_tgt *tgt, struct iscsi_sessions_here *h)
{
	*h = (struct iscsi_sessions_here){ .self = reactor_self(), .only_tgt = tgt };
	pthread_mutex_lock(&scst_mutex);
	scst_for_each_target(&iscsi_template, collect_target, h);
	pthread_mutex_unlock(&scst_mutex);
	return !h->oom;
}

/* Asks every full-feature connection of the sessions of d->tgt on this
 * reactor that has not been asked yet (a login may have finished since
 * the last time). False if memory ran out. */
static bool ask_new_ones(struct logout_deadline *d, unsigned seconds)
{
	struct iscsi_sessions_here h;
	bool ok = sessions_on_this_reactor(d->tgt, &h);

	for (unsigned i = 0; i < h.n; i++) {
		struct iscsi_session *sess = h.v[i];
		struct iscsi_conn *conn;

		if (sess->closing || (d->only && sess != d->only))
			continue;
		list_for_each_entry(conn, &sess->conns, sess_entry) {
			if (conn->closed || conn->phase != CONN_FULL_FEATURE ||
			    deadline_has(d, conn))
				continue;
			if (!deadline_add(d, conn) ||
			    !iscsi_async_queue(conn, ISCSI_ASYNC_LOGOUT_REQUEST, 0, 0, clamp16(seconds),
					 NULL)) {
				ok = false;
				continue;
			}
			log_info_rl("iSCSI: %s (%s): asked to log out within %u s: %s", conn->peer,
				 iscsi_conn_initiator(conn), seconds, d->why);
			iscsi_conn_flush_soon(conn);
		}
	}
	free(h.v);
	return ok;
}

static void deadline_free(struct logout_deadline *d)
{
	for (unsigned i = 0; i < d->nconns; i++)
		iscsi_conn_put(d->conns[i]);
	free(d->conns);
	free(d);
}

/* Closes what is left and forgets @d (listed, on its reactor). */
static void deadline_end(struct logout_deadline *d, bool expired)
{
	assert(reactor_self() == d->reactor);
	reactor_tick_remove(&d->tick);
	pthread_mutex_lock(&deadlines_lock);
	list_del(&d->entry);
	pthread_mutex_unlock(&deadlines_lock);
	if (expired) {
		/* RFC 7143 11.9.1: "the target should send an Async PDU with
		 * iSCSI event code 'Dropped the connection' if possible". */
		for (unsigned i = 0; i < d->nconns; i++)
			drop_with_notice(d->conns[i], ISCSI_ASYNC_DROP_CONNECTION,
					 "did not log out within logout_timeout");
	}
	/* Logins under way and discovery sessions were not asked: they end
	 * now, as everything did before logout requests. (Only pointers are
	 * compared: a target disabled may be gone by now.) */
	if (!d->only)
		iscsi_conns_close_on_this_reactor(d->tgt, d->why);
	deadline_free(d);
}

static void deadline_tick(struct reactor_tick *t)
{
	struct logout_deadline *d = container_of(t, struct logout_deadline, tick);
	bool open = false;

	for (unsigned i = 0; i < d->nconns && !open; i++)
		open = !d->conns[i]->closed;
	/* While one of them is open its session holds the target, so d->tgt
	 * is still good to look at. Once all are closed it may not be. */
	if (!open) {
		deadline_end(d, false);
		return;
	}
	if (d->seconds_left == 0 || --d->seconds_left == 0) {
		deadline_end(d, true);
		return;
	}
	if (!ask_new_ones(d, d->seconds_left - 1))
		log_warn("iSCSI: out of memory asking a new session to log out: %s", d->why);
}

/* A deadline for the sessions of @tgt here (or @only), with each of
 * their full-feature connections asked; false if there was nobody to ask
 * (or no memory to wait for them), and nothing is left then. */
static bool deadline_start(struct scst_tgt *tgt, const struct iscsi_session *only,
			   unsigned seconds, const char *why)
{
	struct logout_deadline *d = calloc(1, sizeof(*d));

	if (!d) {
		log_warn("iSCSI: out of memory for logout requests; closing at once: %s", why);
		return false;
	}
	d->reactor = reactor_self();
	d->tgt = tgt;
	d->only = only;
	/* A tick comes within the first second: one more than asked, so
	 * that no initiator gets less than Parameter3 seconds. */
	d->seconds_left = seconds + 1;
	snprintf(d->why, sizeof(d->why), "%s", why);
	if (!ask_new_ones(d, seconds) || d->nconns == 0) {
		deadline_free(d);
		return false;
	}
	d->tick.on_tick = deadline_tick;
	pthread_mutex_lock(&deadlines_lock);
	list_add_tail(&d->entry, &all_deadlines);
	pthread_mutex_unlock(&deadlines_lock);
	reactor_tick_add(d->reactor, &d->tick);
	return true;
}

void iscsi_async_request_logout(struct scst_tgt *tgt, const char *why)
{
	unsigned seconds = iscsi_async_answer_timeout();

	/* With nobody to wait for here, the rest closes at once. */
	if (seconds == 0 || !deadline_start(tgt, NULL, seconds, why))
		iscsi_conns_close_on_this_reactor(tgt, why);
}

void iscsi_async_request_session_logout(struct iscsi_session *sess, const char *why)
{
	unsigned seconds = iscsi_async_answer_timeout();

	assert(reactor_self() == sess->reactor);
	if (sess->closing)
		return;
	if (seconds == 0 || !deadline_start(sess->tgt, sess, seconds, why))
		iscsi_async_drop_session(sess, why);
}

void iscsi_async_close_rest_here(void *unused)
{
	struct reactor *self = reactor_self();

	(void)unused;
	for (;;) {
		struct logout_deadline *d, *found = NULL;

		pthread_mutex_lock(&deadlines_lock);
		list_for_each_entry(d, &all_deadlines, entry) {
			if (d->reactor == self) {
				found = d;
				break;
			}
		}
		pthread_mutex_unlock(&deadlines_lock);
		if (!found)
			break;
		deadline_end(found, true);
	}
	/* A login that finished after the logout requests went out. */
	iscsi_conns_close_on_this_reactor(NULL, "shutting down");
}
