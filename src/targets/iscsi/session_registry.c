/* The registry of every session in the daemon (under sessions_lock,
 * since sessions live on different reactors): TSIH allocation within the
 * targets' session caps, lookup by TSIH, and session reinstatement (RFC
 * 7143 6.3.5) by initiator name and ISID. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/session.h"

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head sessions = LIST_HEAD_INIT(sessions);
static uint16_t next_tsih;

static struct iscsi_session *find_by_tsih_locked(uint16_t tsih)
{
	struct iscsi_session *s;
	list_for_each_entry(s, &sessions, registry_entry)
		if (s->tsih == tsih)
			return s;
	return NULL;
}

struct reactor *iscsi_session_reactor_of(uint16_t tsih)
{
	pthread_mutex_lock(&sessions_lock);
	struct iscsi_session *s = find_by_tsih_locked(tsih);
	struct reactor *r = s ? s->reactor : NULL;
	pthread_mutex_unlock(&sessions_lock);
	return r;
}

struct iscsi_session *iscsi_session_find_here(uint16_t tsih)
{
	pthread_mutex_lock(&sessions_lock);
	struct iscsi_session *s = find_by_tsih_locked(tsih);
	if (s && s->reactor != reactor_self())
		s = NULL;
	pthread_mutex_unlock(&sessions_lock);
	return s;
}

bool iscsi_session_tsih_exists(uint16_t tsih)
{
	pthread_mutex_lock(&sessions_lock);
	bool found = find_by_tsih_locked(tsih) != NULL;
	pthread_mutex_unlock(&sessions_lock);
	return found;
}

/* A TSIH for @sess, about to join the registry, if its target's session
 * caps (MaxSessions, MaxSessionsPerInitiator; 0 = none) leave room and a
 * TSIH is free; else 0, with the reason in @why. Sessions still draining
 * count: they hold what the caps are there to bound. One pass over the
 * registry marks the TSIHs in use, so that even a full space is searched
 * in bounded time. */
static uint16_t alloc_tsih_locked(const struct iscsi_session *sess,
				  const struct iscsi_target_params *tp, char *why, size_t whylen)
{
	static uint64_t used[65536 / 64];
	unsigned on_target = 0, of_initiator = 0, total = 0;
	struct iscsi_session *s;
	memset(used, 0, sizeof(used));
	list_for_each_entry(s, &sessions, registry_entry) {
		used[s->tsih / 64] |= 1ull << (s->tsih % 64);
		total++;
		if (sess->discovery || s->discovery || s->tgt != sess->tgt)
			continue;
		on_target++;
		if (strcmp(s->initiator_name, sess->initiator_name) == 0)
			of_initiator++;
	}
	if (!sess->discovery && tp->max_sessions && on_target >= tp->max_sessions) {
		snprintf(why, whylen, "the target has %u sessions (MaxSessions %u)", on_target,
			 tp->max_sessions);
		return 0;
	}
	if (!sess->discovery && tp->max_sessions_per_initiator &&
	    of_initiator >= tp->max_sessions_per_initiator) {
		snprintf(why, whylen, "the initiator has %u sessions on the target "
			 "(MaxSessionsPerInitiator %u)", of_initiator, tp->max_sessions_per_initiator);
		return 0;
	}
	for (unsigned tries = 0; tries < 65536; tries++) {
		uint16_t t = ++next_tsih;
		if (t != 0 && !(used[t / 64] & (1ull << (t % 64))))
			return t;
	}
	snprintf(why, whylen, "all 65535 TSIHs are in use (%u sessions)", total);
	return 0;
}

/* Messages of reinstatement, allocated before the login commits to them
 * so that sending cannot fail: the close of an old session (by TSIH: it
 * may be gone by the time the message runs), and the note a freed old
 * session sends the login waiting for it. */
struct reinstate_msg {
	struct reactor_msg msg;
	uint16_t tsih;
};

struct successor_note {
	struct reactor_msg msg;
	struct iscsi_conn *conn;
	void (*gone)(struct iscsi_conn *conn);
};

/* Runs on the old session's reactor: close it if it is still there. */
static void reinstate_close(struct reactor_msg *m)
{
	struct reinstate_msg *rm = container_of(m, struct reinstate_msg, msg);
	uint16_t tsih = rm->tsih;
	struct iscsi_session *old;
	free(rm);
	pthread_mutex_lock(&sessions_lock);
	old = find_by_tsih_locked(tsih);
	if (old && old->reactor != reactor_self())
		old = NULL;
	pthread_mutex_unlock(&sessions_lock);
	/* Sessions are freed only on their own reactor, which is this one,
	 * so it cannot go away between the unlock and here. */
	if (old)
		iscsi_session_close_conns(old, "session reinstated by a new login with the same ISID");
}

static void predecessor_gone(struct reactor_msg *m)
{
	struct successor_note *note = container_of(m, struct successor_note, msg);
	struct iscsi_conn *conn = note->conn;
	void (*gone)(struct iscsi_conn *conn) = note->gone;
	free(note);
	gone(conn);
}

void iscsi_registry_remove(struct iscsi_session *sess)
{
	pthread_mutex_lock(&sessions_lock);
	list_del(&sess->registry_entry);
	struct successor_note *note = sess->successor_note;
	struct reactor *successor_reactor = sess->successor_reactor;
	if (note) {
		note->conn = sess->successor;
		note->gone = sess->successor_gone;
	}
	pthread_mutex_unlock(&sessions_lock);
	if (note)
		reactor_send(successor_reactor, &note->msg, predecessor_gone);
}

static bool is_predecessor(const struct iscsi_session *s, const struct iscsi_conn *conn,
			   const char *initiator, const uint8_t *isid, bool discovery)
{
	return s->tgt == conn->tgt && s->discovery == discovery && memcmp(s->isid, isid, 6) == 0 &&
	       strcmp(s->initiator_name, initiator) == 0;
}

int iscsi_session_reinstate(struct iscsi_conn *conn, const char *initiator, const uint8_t *isid,
			    bool discovery, void (*gone)(struct iscsi_conn *conn))
{
	struct reinstate_msg *close_msg[16];
	struct successor_note *notes[16];
	struct reactor *stale_reactor[16];
	unsigned nstale = 0;
	struct iscsi_session *s;
	bool ok = true;
	pthread_mutex_lock(&sessions_lock);
	/* Sessions still draining their commands (their connection already
	 * gone) count too: they are what the new session must not overtake. */
	list_for_each_entry(s, &sessions, registry_entry) {
		if (!is_predecessor(s, conn, initiator, isid, discovery))
			continue;
		if (s->successor || nstale == 16) {
			ok = false;
			break;
		}
		close_msg[nstale] = malloc(sizeof(*close_msg[nstale]));
		notes[nstale] = malloc(sizeof(*notes[nstale]));
		stale_reactor[nstale] = s->reactor;
		if (!close_msg[nstale] || !notes[nstale]) {
			free(close_msg[nstale]);
			free(notes[nstale]);
			ok = false;
			break;
		}
		close_msg[nstale++]->tsih = s->tsih;
	}
	if (!ok) {
		pthread_mutex_unlock(&sessions_lock);
		for (unsigned i = 0; i < nstale; i++) {
			free(close_msg[i]);
			free(notes[i]);
		}
		return -1;
	}
	unsigned i = 0;
	list_for_each_entry(s, &sessions, registry_entry) {
		if (!is_predecessor(s, conn, initiator, isid, discovery))
			continue;
		s->successor = conn;
		s->successor_gone = gone;
		s->successor_reactor = conn->reactor;
		s->successor_note = notes[i++];
		iscsi_conn_get(conn);
	}
	pthread_mutex_unlock(&sessions_lock);
	for (i = 0; i < nstale; i++) {
		log_info_rl("iSCSI: %s (%s): reinstating session %u", conn->peer, initiator,
			    close_msg[i]->tsih);
		reactor_send(stale_reactor[i], &close_msg[i]->msg, reinstate_close);
	}
	return (int)nstale;
}

int iscsi_registry_add(struct iscsi_session *sess, const struct iscsi_target_params *tp,
		       char *why, size_t whylen)
{
	pthread_mutex_lock(&sessions_lock);
	sess->tsih = alloc_tsih_locked(sess, tp, why, whylen);
	if (sess->tsih)
		list_add_tail(&sess->registry_entry, &sessions);
	pthread_mutex_unlock(&sessions_lock);
	return sess->tsih ? 0 : -1;
}

void iscsi_session_forget_successor(struct iscsi_conn *conn)
{
	struct iscsi_session *s;
	unsigned dropped = 0;
	pthread_mutex_lock(&sessions_lock);
	list_for_each_entry(s, &sessions, registry_entry) {
		if (s->successor == conn) {
			s->successor = NULL;
			s->successor_gone = NULL;
			s->successor_reactor = NULL;
			free(s->successor_note);
			s->successor_note = NULL;
			dropped++;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
	/* The references iscsi_session_reinstate() took; a predecessor freed
	 * meanwhile has already posted its own (it found conn under the
	 * lock), so each reference is dropped exactly once. */
	while (dropped--)
		iscsi_conn_put(conn);
}
