/* A connection's life on its reactor: start on an accepted socket,
 * references, the readiness handler (receive in conn_rx.c, transmit in
 * conn_tx.c), the once-a-second tick, and the close when the peer goes
 * away or a layer above ends it. */
#include "targets/iscsi/conn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "targets/iscsi/admission.h"

/* Every connection, so that close_sessions can find those of a target. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head all_conns = LIST_HEAD_INIT(all_conns);


static void conn_on_ready(struct reactor_fd *w, uint32_t events);
static void conn_on_tick(struct reactor_tick *t);

const char *iscsi_conn_initiator(const struct iscsi_conn *conn)
{
	return conn->initiator ? conn->initiator : "unknown initiator";
}

void iscsi_conn_set_initiator(struct iscsi_conn *conn, const char *name)
{
	char *copy = strdup(name);
	if (!copy)
		return; /* log lines say "unknown initiator" */
	free(conn->initiator);
	conn->initiator = copy;
}

uint32_t iscsi_conn_next_ttt(struct iscsi_conn *conn)
{
	uint32_t ttt = conn->next_ttt++;
	if (ttt == ISCSI_RESERVED_TAG)
		ttt = conn->next_ttt++;
	return ttt;
}

void iscsi_conn_get(struct iscsi_conn *conn)
{
	conn->refs++;
}

void iscsi_conn_put(struct iscsi_conn *conn)
{
	if (--conn->refs > 0)
		return;
	iscsi_text_free(&conn->text_rsp);
	iscsi_text_free(&conn->text_req);
	iscsi_conn_rx_free(conn);
	free(conn->stage);
	free(conn->initiator);
	free(conn);
}

/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6) into @buf, and the bare address
 * into @host (64 bytes). */
static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t len, char *host)
{
	unsigned port = 0;
	strcpy(host, "?");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, 64);
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, 64);
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

void iscsi_conn_start(int fd, struct reactor *r, const struct iscsi_conn_ops *ops)
{
	struct iscsi_conn *conn = calloc(1, sizeof(*conn));
	uint8_t *stage = malloc(ISCSI_RX_STAGE_SIZE);
	if (!conn || !stage) {
		log_error("iSCSI: out of memory accepting a connection");
		free(conn);
		free(stage);
		close(fd);
		reactor_load_drop(r);
		return;
	}
	conn->stage = stage;
	conn->ops = ops;
	list_init(&conn->flush_later.entry);
	conn->fd = fd;
	conn->reactor = r;
	conn->refs = 1;
	conn->phase = CONN_LOGIN;
	list_init(&conn->txq);
	list_init(&conn->status_log);
	list_init(&conn->answered);
	list_init(&conn->all_entry);
	list_init(&conn->sess_entry);
	conn->next_ttt = 1;
	conn->rx.state = RX_BHS;

	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64];
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		format_addr(&ss, conn->peer, sizeof(conn->peer), host);
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		format_addr(&ss, conn->local, sizeof(conn->local), conn->local_ip);

	/* Until login picks a target, the defaults bound everything. */
	iscsi_target_params_default(&conn->tp);
	iscsi_session_params_default(&conn->params, &conn->tp);
	conn->params.max_recv_dsl = ISCSI_LOGIN_MAX_DSL;
	conn->params.max_xmit_dsl = ISCSI_LOGIN_MAX_DSL;

	conn->watch.on_ready = conn_on_ready;
	if (reactor_fd_add(r, &conn->watch, fd, EPOLLIN) != 0) {
		log_error("iSCSI: cannot watch connection from %s", conn->peer);
		close(fd);
		free(conn->stage);
		free(conn);
		reactor_load_drop(r);
		return;
	}
	conn->tick.on_tick = conn_on_tick;
	reactor_tick_add(r, &conn->tick);
	pthread_mutex_lock(&conns_lock);
	list_add_tail(&conn->all_entry, &all_conns);
	pthread_mutex_unlock(&conns_lock);
	log_info_rl("iSCSI: connection from %s", conn->peer);
}

void iscsi_conn_watch_update(struct iscsi_conn *conn)
{
	if (conn->closed || conn->in_transit)
		return;
	bool in = !conn->rx_paused && !conn->migrating;
	uint32_t events = (in ? EPOLLIN : 0) | (conn->want_out ? EPOLLOUT : 0);
	reactor_fd_modify(&conn->watch, events);
}

/* ------------------------------------------------------------------ */
/* Moving to another reactor. */

/* On the new reactor: watched again, and the layer above goes on. */
static void migrate_in(struct reactor_msg *m)
{
	struct iscsi_conn *conn = container_of(m, struct iscsi_conn, migrate_msg);
	assert(conn->reactor == reactor_self());
	if (!conn->closed) {
		conn->in_transit = false;
		conn->migrating = false;
		if (reactor_fd_add(conn->reactor, &conn->watch, conn->fd, EPOLLIN) != 0) {
			/* Not watched: nothing to remove at the close. */
			conn->in_transit = true;
			iscsi_conn_close(conn, "cannot watch the connection on its session's reactor");
		} else {
			reactor_tick_add(conn->reactor, &conn->tick);
			log_info_rl("iSCSI: %s (%s): connection moved to reactor %u, its session's",
				    conn->peer, iscsi_conn_initiator(conn),
				    reactor_index(conn->reactor));
			conn->migrated(conn);
			iscsi_conn_watch_update(conn);
			if (!conn->closed && conn->stage_tail != conn->stage_head)
				iscsi_conn_rx_yield(conn);
			if (!conn->closed)
				iscsi_conn_flush_soon(conn);
		}
	}
	iscsi_conn_put(conn); /* taken by iscsi_conn_migrate() */
}

/* On the old reactor, after the batch that asked: the socket and tick
 * leave it. A receive still posted here runs first (it finds the
 * connection migrating and reads nothing). */
static void migrate_out(struct reactor_msg *m)
{
	struct iscsi_conn *conn = container_of(m, struct iscsi_conn, migrate_msg);
	struct reactor *to = conn->migrate_to;
	if (conn->closed) {
		iscsi_conn_put(conn);
		return;
	}
	if (conn->rx_resume_posted) {
		reactor_send(conn->reactor, &conn->migrate_msg, migrate_out);
		return;
	}
	if (conn->flush_later.queued) {
		reactor_deferred_cancel(&conn->flush_later);
		iscsi_conn_put(conn); /* the deferred flush's */
	}
	iscsi_conn_flush_now(conn);
	if (!conn->closed && !list_empty(&conn->txq))
		iscsi_conn_close(conn, "could not send before moving to the session's reactor");
	if (conn->closed) {
		iscsi_conn_put(conn);
		return;
	}
	reactor_fd_remove(&conn->watch);
	reactor_tick_remove(&conn->tick);
	conn->want_out = false;
	/* From here the connection is the new reactor's: management's walk
	 * of the connections (under conns_lock) sees it there. */
	pthread_mutex_lock(&conns_lock);
	conn->in_transit = true;
	reactor_load_move(conn->reactor, to);
	conn->reactor = to;
	pthread_mutex_unlock(&conns_lock);
	reactor_send(to, &conn->migrate_msg, migrate_in);
}

void iscsi_conn_migrate(struct iscsi_conn *conn, struct reactor *to,
			void (*arrived)(struct iscsi_conn *conn))
{
	assert(reactor_self() == conn->reactor && !conn->migrating && to != conn->reactor);
	conn->migrating = true;
	conn->migrate_to = to;
	conn->migrated = arrived;
	iscsi_conn_watch_update(conn);
	iscsi_conn_get(conn);
	reactor_send(conn->reactor, &conn->migrate_msg, migrate_out);
}

/* ------------------------------------------------------------------ */
/* Close. */

void iscsi_conn_close(struct iscsi_conn *conn, const char *why)
{
	if (conn->closed)
		return;
	conn->closed = true;
	iscsi_conn_get(conn);
	if (conn->phase == CONN_LOGGED_OUT)
		log_info_rl("iSCSI: connection from %s (%s) closed: %s", conn->peer,
			 iscsi_conn_initiator(conn), why);
	else
		log_warn_rl("iSCSI: connection from %s (%s) closed: %s", conn->peer,
			 iscsi_conn_initiator(conn), why);
	if (!conn->in_transit) {
		reactor_fd_remove(&conn->watch);
		reactor_tick_remove(&conn->tick);
	}
	iscsi_admission_release(conn->fd);
	close(conn->fd);
	conn->fd = -1;
	reactor_load_drop(conn->reactor);
	pthread_mutex_lock(&conns_lock);
	list_del(&conn->all_entry);
	pthread_mutex_unlock(&conns_lock);

	iscsi_conn_tx_drain(conn);
	iscsi_conn_status_log_drain(conn);
	/* The layers above end what the connection carried: its commands in
	 * every state (including one whose data segment was still arriving
	 * when the socket died), its login, its place in the session. */
	conn->ops->closed(conn);
	iscsi_conn_put(conn); /* the reference taken above */
	iscsi_conn_put(conn); /* the socket's own */
}

void iscsi_conns_close_on_this_reactor(struct scst_tgt *tgt, const char *why)
{
	iscsi_conns_close_on_this_reactor_except(tgt, NULL, why);
}

void iscsi_conns_close_on_this_reactor_except(struct scst_tgt *tgt,
					      const struct iscsi_conn *except, const char *why)
{
	struct reactor *self = reactor_self();
	for (;;) {
		struct iscsi_conn *conn, *found = NULL;
		pthread_mutex_lock(&conns_lock);
		list_for_each_entry(conn, &all_conns, all_entry) {
			if (conn->reactor == self && conn != except && (!tgt || conn->tgt == tgt)) {
				found = conn;
				break;
			}
		}
		pthread_mutex_unlock(&conns_lock);
		if (!found)
			return;
		found->no_recovery = true;
		iscsi_conn_close(found, why);
	}
}

/* ------------------------------------------------------------------ */
/* Events. */

static void conn_on_ready(struct reactor_fd *w, uint32_t events)
{
	struct iscsi_conn *conn = container_of(w, struct iscsi_conn, watch);
	iscsi_conn_get(conn);
	bool outer = !conn->in_batch;
	conn->in_batch = true;
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
		iscsi_conn_close(conn, "socket error or hang-up");
	if (!conn->closed && (events & EPOLLOUT))
		iscsi_conn_flush_now(conn);
	if (!conn->closed && (events & EPOLLIN))
		iscsi_conn_on_readable(conn);
	if (outer)
		conn->in_batch = false;
	if (!conn->closed)
		iscsi_conn_flush_now(conn);
	iscsi_conn_put(conn);
}

void iscsi_conn_on_ready_in(struct iscsi_conn *conn)
{
	conn_on_ready(&conn->watch, EPOLLIN);
}

static void conn_on_tick(struct reactor_tick *t)
{
	struct iscsi_conn *conn = container_of(t, struct iscsi_conn, tick);
	iscsi_conn_get(conn);
	conn->ops->tick(conn);
	if (!conn->closed)
		iscsi_conn_flush_now(conn);
	iscsi_conn_put(conn);
}
