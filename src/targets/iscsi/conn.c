/* A connection on its reactor: the receive state machine (BHS, AHS,
 * header digest, data segment with padding, data digest; partial reads
 * tolerated; small pieces served from a staging buffer filled by one
 * recv(), large data segments received in place), the transmit queue
 * (sendmsg of headers, data, padding and digests of many PDUs at once,
 * once per batch; EPOLLOUT when the socket is full), reference counting
 * and clean-up when the peer goes away. */
#include "targets/iscsi/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/log.h"
#include "targets/iscsi/admission.h"
#include "targets/iscsi/login.h"

/* Every connection, so that close_sessions can find those of a target. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head all_conns = LIST_HEAD_INIT(all_conns);

/* Data segment limit while logging in (RFC 7143 13.12: the default
 * MaxRecvDataSegmentLength holds until the login is over). */
#define LOGIN_MAX_DSL 8192

/* The staging buffer: big enough for the headers of a full command window
 * (or a few short data segments) per recv(). */
#define RX_STAGE_SIZE (64 * 1024)
/* A data segment with at least this much still to come is received
 * straight into its buffer rather than copied out of the staging buffer. */
#define RX_DIRECT_MIN 4096
/* Work one connection may do per readiness event, so that a busy
 * initiator does not starve the others on its reactor. */
#define RX_BATCH_PDUS 128
#define RX_BATCH_BYTES (1024 * 1024)
/* Entries of one sendmsg(); every PDU takes up to three. */
#define TX_IOV_MAX 256
/* Queued bytes that are sent at once, without waiting for the end of the
 * batch: large responses gain nothing from waiting, and sending each as
 * it is ready keeps the data buffers few and hot in the cache. */
#define TX_FLUSH_BYTES (256 * 1024)
/* A peer that does not read what we send stops being read: once this much
 * (or this many PDUs) waits in the transmit queue, no more requests are
 * taken from it until the queue is down to half. What is queued is mostly
 * Data-In pointing into command buffers, which the data budget (cmd.c)
 * bounds; this bounds the rest (NOP-In echoes, Rejects, R2Ts), and keeps
 * the commands of a peer that never reads from piling up. */
#define TX_QUEUE_MAX_BYTES (16u << 20)
#define TX_QUEUE_MAX_PDUS 4096u

static void conn_on_ready(struct reactor_fd *w, uint32_t events);
static void conn_on_tick(struct reactor_tick *t);
static void conn_flush(struct iscsi_conn *conn);
static void conn_flush_deferred(struct reactor_deferred *d);

const char *iscsi_conn_initiator(const struct iscsi_conn *conn)
{
	if (conn->sess && conn->sess->initiator_name)
		return conn->sess->initiator_name;
	const char *name = conn->login ? iscsi_login_initiator(conn->login) : NULL;
	return name ? name : "unknown initiator";
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
	free(conn->rx.heap);
	free(conn->stage);
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

void iscsi_conn_start(int fd, struct reactor *r)
{
	struct iscsi_conn *conn = calloc(1, sizeof(*conn));
	uint8_t *stage = malloc(RX_STAGE_SIZE);
	if (!conn || !stage) {
		log_error("iSCSI: out of memory accepting a connection");
		free(conn);
		free(stage);
		close(fd);
		return;
	}
	conn->stage = stage;
	conn->flush_later.fn = conn_flush_deferred;
	list_init(&conn->flush_later.entry);
	list_init(&conn->budget_waiting);
	list_init(&conn->budget_drain.entry);
	conn->fd = fd;
	conn->reactor = r;
	conn->refs = 1;
	conn->phase = CONN_LOGIN;
	list_init(&conn->txq);
	list_init(&conn->cmds);
	list_init(&conn->all_entry);
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
	conn->params.max_recv_dsl = LOGIN_MAX_DSL;
	conn->params.max_xmit_dsl = LOGIN_MAX_DSL;

	conn->watch.on_ready = conn_on_ready;
	if (reactor_fd_add(r, &conn->watch, fd, EPOLLIN) != 0) {
		log_error("iSCSI: cannot watch connection from %s", conn->peer);
		close(fd);
		free(conn->stage);
		free(conn);
		return;
	}
	conn->tick.on_tick = conn_on_tick;
	reactor_tick_add(r, &conn->tick);
	pthread_mutex_lock(&conns_lock);
	list_add_tail(&conn->all_entry, &all_conns);
	pthread_mutex_unlock(&conns_lock);
	log_info_rl("iSCSI: connection from %s", conn->peer);
}

/* ------------------------------------------------------------------ */
/* Transmit. */

struct iscsi_tx_pdu *iscsi_tx_alloc(void)
{
	struct iscsi_tx_pdu *pdu = calloc(1, sizeof(*pdu));
	if (pdu)
		list_init(&pdu->entry);
	return pdu;
}

static void tx_free(struct iscsi_tx_pdu *pdu)
{
	free(pdu->owned);
	free(pdu);
}

void iscsi_stamp_cmdsn(struct iscsi_conn *conn, uint8_t *bhs)
{
	struct iscsi_session *sess = conn->sess;
	if (!sess)
		return;
	put_be32(bhs + ISCSI_OFF_EXPCMDSN, sess->exp_cmd_sn);
	put_be32(bhs + ISCSI_OFF_MAXCMDSN, iscsi_session_max_cmd_sn(sess));
}

static uint32_t tx_total(const struct iscsi_tx_pdu *pdu)
{
	return pdu->hdr_len + pdu->data_len + pdu->trailer_len;
}

void iscsi_conn_queue(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu, enum iscsi_tx_sn sn)
{
	uint8_t *bhs = pdu->hdr;
	uint8_t op = pdu_opcode(bhs);
	/* Login responses carry their own ExpCmdSN; everything else gets the
	 * session's window. */
	if (op != ISCSI_OP_LOGIN_RSP) {
		put_be32(bhs + ISCSI_OFF_STATSN, conn->stat_sn);
		iscsi_stamp_cmdsn(conn, bhs);
	}
	if (sn == TX_SN_STATUS)
		conn->stat_sn++;
	pdu_set_data_len(bhs, pdu->data_len);
	pdu->hdr_len = ISCSI_BHS_LEN;
	if (conn->params.header_digest && conn->phase != CONN_LOGIN) {
		uint32_t crc = crc32c(bhs, ISCSI_BHS_LEN);
		/* Digests go on the wire little-endian, as the CRC register. */
		memcpy(bhs + ISCSI_BHS_LEN, &crc, ISCSI_DIGEST_LEN);
		pdu->hdr_len += ISCSI_DIGEST_LEN;
	}
	uint32_t pad = pdu_pad_len(pdu->data_len);
	memset(pdu->trailer, 0, sizeof(pdu->trailer));
	pdu->trailer_len = pad;
	if (pdu->data_len && conn->params.data_digest && conn->phase != CONN_LOGIN) {
		uint32_t crc = crc32c_update(CRC32C_INIT, pdu->data, pdu->data_len);
		crc = crc32c_final(crc32c_update(crc, pdu->trailer, pad));
		memcpy(pdu->trailer + pad, &crc, ISCSI_DIGEST_LEN);
		pdu->trailer_len += ISCSI_DIGEST_LEN;
	}
	list_add_tail(&pdu->entry, &conn->txq);
	conn->txq_bytes += tx_total(pdu);
	conn->txq_pdus++;
}

static bool txq_over_bound(const struct iscsi_conn *conn)
{
	return conn->txq_bytes > TX_QUEUE_MAX_BYTES || conn->txq_pdus > TX_QUEUE_MAX_PDUS;
}

/* The epoll events we want: input unless paused, output while the socket
 * is full. */
static void update_events(struct iscsi_conn *conn)
{
	if (conn->closed)
		return;
	uint32_t events = (conn->rx_paused ? 0 : EPOLLIN) | (conn->want_out ? EPOLLOUT : 0);
	reactor_fd_modify(&conn->watch, events);
}

/* Stops taking requests from a peer whose answers pile up unread. */
static void rx_pause_if_needed(struct iscsi_conn *conn)
{
	if (conn->rx_paused || !txq_over_bound(conn))
		return;
	conn->rx_paused = true;
	log_warn_rl("iSCSI: %s (%s): %u PDUs, %llu bytes wait to be sent: not reading from the "
		    "initiator until they are taken",
		    conn->peer, iscsi_conn_initiator(conn), conn->txq_pdus,
		    (unsigned long long)conn->txq_bytes);
	update_events(conn);
}

static void rx_yield(struct iscsi_conn *conn);

void iscsi_conn_rx_maybe_resume(struct iscsi_conn *conn)
{
	if (!conn->rx_paused || conn->closed || conn->txq_bytes > TX_QUEUE_MAX_BYTES / 2 ||
	    conn->txq_pdus > TX_QUEUE_MAX_PDUS / 2)
		return;
	conn->rx_paused = false;
	update_events(conn);
	/* PDUs already staged would wait for readiness that never comes. */
	if (conn->stage_tail != conn->stage_head)
		rx_yield(conn);
}

/* Adds the unsent part of @pdu to @iov; returns the number of entries. */
static int tx_iov(const struct iscsi_tx_pdu *pdu, struct iovec *iov)
{
	const struct {
		const uint8_t *p;
		uint32_t len;
	} parts[3] = {
		{ pdu->hdr, pdu->hdr_len },
		{ pdu->data, pdu->data_len },
		{ pdu->trailer, pdu->trailer_len },
	};
	uint32_t skip = pdu->sent;
	int n = 0;
	for (int i = 0; i < 3; i++) {
		if (skip >= parts[i].len) {
			skip -= parts[i].len;
			continue;
		}
		iov[n].iov_base = (void *)(parts[i].p + skip);
		iov[n].iov_len = parts[i].len - skip;
		skip = 0;
		n++;
	}
	return n;
}

/* A PDU has left, or never will (@sent false). */
static void tx_done(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu, bool sent)
{
	struct iscsi_cmd *icmd = pdu->finishes_cmd;
	bool close_after = pdu->close_after && sent;
	const char *why = pdu->close_why;
	tx_free(pdu);
	if (icmd)
		scst_tgt_cmd_done(icmd->scst);
	if (close_after)
		iscsi_conn_close(conn, why ? why
					   : conn->phase == CONN_LOGGED_OUT ? "logged out"
									    : "login failed");
}

static void set_want_out(struct iscsi_conn *conn, bool want)
{
	if (conn->closed || conn->want_out == want)
		return;
	conn->want_out = want;
	update_events(conn);
}

/* One writev; returns false when the socket is full or the connection
 * has closed. */
static bool tx_once(struct iscsi_conn *conn)
{
	struct iovec iov[TX_IOV_MAX];
	int n = 0;
	struct iscsi_tx_pdu *pdu;
	list_for_each_entry(pdu, &conn->txq, entry) {
		if (n + 3 > TX_IOV_MAX)
			break;
		n += tx_iov(pdu, iov + n);
	}
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	ssize_t w = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0) {
		if (errno == EINTR)
			return true;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			set_want_out(conn, true);
			return false;
		}
		char why[96];
		snprintf(why, sizeof(why), "send failed: %s", strerror(errno));
		iscsi_conn_close(conn, why);
		return false;
	}
	size_t left = (size_t)w;
	conn->txq_bytes -= left;
	while (left && !list_empty(&conn->txq)) {
		pdu = list_first_entry(&conn->txq, struct iscsi_tx_pdu, entry);
		uint32_t rest = tx_total(pdu) - pdu->sent;
		if (left < rest) {
			pdu->sent += (uint32_t)left;
			break;
		}
		left -= rest;
		list_del(&pdu->entry);
		conn->txq_pdus--;
		tx_done(conn, pdu, true);
		if (conn->closed)
			return false;
	}
	iscsi_conn_rx_maybe_resume(conn);
	return true;
}

/* Sends what the queue holds, as far as the socket takes it. */
static void conn_flush(struct iscsi_conn *conn)
{
	if (conn->closed)
		return;
	if (conn->flushing) {
		conn->flush_again = true;
		return;
	}
	conn->flushing = true;
	iscsi_conn_get(conn);
	do {
		conn->flush_again = false;
		while (!conn->closed && !list_empty(&conn->txq))
			if (!tx_once(conn))
				break;
	} while (conn->flush_again && !conn->closed && !conn->want_out);
	if (!conn->closed && list_empty(&conn->txq))
		set_want_out(conn, false);
	conn->flushing = false;
	iscsi_conn_put(conn);
}

static void conn_flush_deferred(struct reactor_deferred *d)
{
	struct iscsi_conn *conn = container_of(d, struct iscsi_conn, flush_later);
	conn_flush(conn);
	iscsi_conn_put(conn); /* taken when deferred */
}

void iscsi_conn_flush_now(struct iscsi_conn *conn)
{
	conn_flush(conn);
}

void iscsi_conn_flush_soon(struct iscsi_conn *conn)
{
	if (conn->closed)
		return;
	/* Off the reactor's batch there is nothing to wait for. */
	if (conn->txq_bytes >= TX_FLUSH_BYTES || reactor_self() != conn->reactor) {
		conn_flush(conn);
		return;
	}
	if (conn->in_batch || conn->flush_later.queued)
		return;
	iscsi_conn_get(conn);
	reactor_defer(conn->reactor, &conn->flush_later);
}

void iscsi_conn_reject(struct iscsi_conn *conn, enum iscsi_reject_reason reason)
{
	iscsi_conn_reject_bhs(conn, conn->rx.bhs, reason);
}

void iscsi_conn_reject_bhs(struct iscsi_conn *conn, const uint8_t *bhs,
			   enum iscsi_reject_reason reason)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	uint8_t *copy = malloc(ISCSI_BHS_LEN);
	if (!pdu || !copy) {
		free(pdu);
		free(copy);
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	log_warn_rl("iSCSI: %s (%s): rejecting %s PDU (opcode 0x%02x), reason 0x%02x", conn->peer,
		    iscsi_conn_initiator(conn), pdu_opcode_name(pdu_opcode(bhs)), pdu_opcode(bhs),
		    reason);
	memcpy(copy, bhs, ISCSI_BHS_LEN);
	pdu_init(pdu->hdr, ISCSI_OP_REJECT, ISCSI_FLAG_FINAL);
	pdu->hdr[2] = reason;
	put_be32(pdu->hdr + ISCSI_OFF_ITT, ISCSI_RESERVED_TAG);
	pdu->owned = copy;
	pdu->data = copy;
	pdu->data_len = ISCSI_BHS_LEN;
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
}

/* ------------------------------------------------------------------ */
/* Close. */

static void tx_drain(struct iscsi_conn *conn)
{
	conn->txq_bytes = 0;
	conn->txq_pdus = 0;
	while (!list_empty(&conn->txq)) {
		struct iscsi_tx_pdu *pdu = list_first_entry(&conn->txq, struct iscsi_tx_pdu, entry);
		list_del(&pdu->entry);
		tx_done(conn, pdu, false);
	}
}

/* Ends every command's part in the connection, whatever its state (see
 * conn.h); each step may free commands, so the walk restarts after every
 * one that did something. */
static void cmds_conn_closed(struct iscsi_conn *conn)
{
	for (;;) {
		struct iscsi_cmd *icmd;
		bool acted = false;
		list_for_each_entry(icmd, &conn->cmds, conn_entry) {
			if (iscsi_cmd_conn_closed(icmd)) {
				acted = true;
				break;
			}
		}
		if (!acted)
			return;
	}
}

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
	reactor_fd_remove(&conn->watch);
	reactor_tick_remove(&conn->tick);
	iscsi_admission_release(conn->fd);
	close(conn->fd);
	conn->fd = -1;
	pthread_mutex_lock(&conns_lock);
	list_del(&conn->all_entry);
	pthread_mutex_unlock(&conns_lock);

	tx_drain(conn);
	/* Commands in every state, including one whose data segment was
	 * still arriving when the socket died. */
	cmds_conn_closed(conn);
	if (conn->sess)
		iscsi_session_drop_pending(conn->sess);
	if (conn->login) {
		/* A login waiting for a reinstated session gives up its
		 * place: the next login of that initiator and ISID may try. */
		iscsi_session_forget_successor(conn);
		iscsi_login_free(conn->login);
		conn->login = NULL;
	}
	if (conn->sess) {
		iscsi_session_close(conn->sess);
		conn->sess = NULL;
	}
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
		iscsi_conn_close(found, why);
	}
}

/* ------------------------------------------------------------------ */
/* Receive. */

static void rx_reset(struct iscsi_rx *rx)
{
	free(rx->heap);
	rx->heap = NULL;
	rx->state = RX_BHS;
	rx->got = 0;
	rx->dst = NULL;
	rx->dst_len = 0;
	rx->cmd = NULL;
	rx->drop = false;
	rx->digest_error = false;
	rx->reject = 0;
}

static bool opcode_known(uint8_t op)
{
	switch (op) {
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_SCSI_CMD:
	case ISCSI_OP_TMF_REQ:
	case ISCSI_OP_LOGIN_REQ:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_DATA_OUT:
	case ISCSI_OP_LOGOUT_REQ:
		return true;
	default:
		return false;
	}
}

/* The whole header is in: check it and decide where the data goes. */
static int rx_header(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	uint8_t op = pdu_opcode(rx->bhs);
	uint32_t limit = conn->phase == CONN_LOGIN ? LOGIN_MAX_DSL : conn->params.max_recv_dsl;

	rx->data_len = pdu_data_len(rx->bhs);
	rx->data_total = rx->data_len + pdu_pad_len(rx->data_len);
	rx->crc = CRC32C_INIT;
	if (conn->phase == CONN_LOGGED_OUT) {
		/* Nothing is accepted after a Logout (RFC 7143 11.14): not
		 * even a SCSI Command sent right behind it gets a task. */
		rx->drop = true;
		return 0;
	}
	if (rx->data_len > limit) {
		char why[128];
		snprintf(why, sizeof(why),
			 "%s PDU with a %u-byte data segment, beyond the %u-byte limit",
			 pdu_opcode_name(op), rx->data_len, limit);
		iscsi_conn_close(conn, why);
		return -1;
	}
	if (conn->phase == CONN_LOGIN && op != ISCSI_OP_LOGIN_REQ) {
		iscsi_conn_close(conn, "non-login PDU during login");
		return -1;
	}
	if (op == ISCSI_OP_SCSI_CMD)
		return iscsi_cmd_rx_header(conn);
	if (op == ISCSI_OP_DATA_OUT)
		return iscsi_data_out_rx_header(conn);
	if (!opcode_known(op) || rx->data_len == 0)
		return 0; /* unknown opcodes: data is read and dropped */
	rx->heap = malloc(rx->data_len);
	if (!rx->heap) {
		iscsi_conn_close(conn, "out of memory");
		return -1;
	}
	rx->dst = rx->heap;
	rx->dst_len = rx->data_len;
	return 0;
}

/* RFC 7143 7.8: a PDU whose data digest fails, whatever it is, is
 * answered with a Reject (Data Digest Error) and discarded. A SCSI Command
 * with immediate data is then as if never sent (the initiator retries it);
 * a Data-Out fails its command. The header was sound (or its digest
 * checked), so the connection stays in step and goes on. */
static int rx_digest_error(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	uint8_t op = pdu_opcode(rx->bhs);
	log_warn_rl("iSCSI: %s (%s): data digest error in %s PDU (ITT 0x%x)", conn->peer,
		 iscsi_conn_initiator(conn), pdu_opcode_name(op), pdu_itt(rx->bhs));
	iscsi_conn_reject(conn, ISCSI_REJECT_DATA_DIGEST);
	if (conn->closed || conn->phase != CONN_FULL_FEATURE || rx->drop || !rx->cmd)
		return conn->closed ? -1 : 0;
	if (op == ISCSI_OP_SCSI_CMD)
		return iscsi_cmd_rx_digest_error(conn);
	if (op == ISCSI_OP_DATA_OUT)
		return iscsi_data_out_rx_digest_error(conn);
	return 0;
}

/* The whole PDU is in. */
static int rx_pdu(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	uint8_t op = pdu_opcode(rx->bhs);
	conn->idle_ticks = 0;
	if (rx->digest_error)
		return rx_digest_error(conn);
	if (rx->drop)
		return 0;
	if (rx->reject && conn->phase == CONN_FULL_FEATURE) {
		iscsi_conn_reject(conn, rx->reject);
		return conn->closed ? -1 : 0;
	}
	if (conn->phase == CONN_LOGIN) {
		iscsi_login_rx(conn);
		return conn->closed ? -1 : 0;
	}
	if (conn->phase == CONN_LOGGED_OUT)
		return 0; /* nothing more is accepted after Logout */
	bool discovery = conn->sess && conn->sess->discovery;
	switch (op) {
	case ISCSI_OP_SCSI_CMD:
		return iscsi_cmd_rx_done(conn);
	case ISCSI_OP_DATA_OUT:
		return iscsi_data_out_rx_done(conn);
	case ISCSI_OP_TMF_REQ:
		if (discovery) {
			iscsi_conn_reject(conn, ISCSI_REJECT_CMD_NOT_SUPPORTED);
			break;
		}
		/* fall through */
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_LOGOUT_REQ: {
		/* They take their place in the CmdSN sequence (session.c). */
		struct iscsi_req req = { .data = rx->heap, .data_len = rx->data_len };
		memcpy(req.bhs, rx->bhs, ISCSI_BHS_LEN);
		rx->heap = NULL;
		iscsi_session_rx_request(conn, &req);
		free(req.data);
		break;
	}
	case ISCSI_OP_LOGIN_REQ:
		iscsi_conn_reject(conn, ISCSI_REJECT_PROTOCOL_ERROR);
		break;
	case ISCSI_OP_SNACK:
		iscsi_conn_reject(conn, ISCSI_REJECT_SNACK);
		break;
	default:
		iscsi_conn_reject(conn, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		break;
	}
	return conn->closed ? -1 : 0;
}

static bool header_digest_on(const struct iscsi_conn *conn)
{
	return conn->phase != CONN_LOGIN && conn->params.header_digest;
}

static bool data_digest_on(const struct iscsi_conn *conn)
{
	return conn->phase != CONN_LOGIN && conn->params.data_digest;
}

static uint32_t digest_value(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A piece of the PDU is complete: move on. Returns 1 when that ended the
 * PDU, -1 if the connection closed, else 0. */
static int rx_advance(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	rx->got = 0;
	switch (rx->state) {
	case RX_BHS:
		if (pdu_ahs_len(rx->bhs)) {
			rx->state = RX_AHS;
			return 0;
		}
		/* fall through */
	case RX_AHS:
		if (header_digest_on(conn)) {
			rx->state = RX_HDIGEST;
			return 0;
		}
		goto header_done;
	case RX_HDIGEST: {
		uint32_t crc = crc32c_update(CRC32C_INIT, rx->bhs, ISCSI_BHS_LEN);
		crc = crc32c_final(crc32c_update(crc, rx->ahs, pdu_ahs_len(rx->bhs)));
		if (crc != digest_value(rx->digest)) {
			iscsi_conn_close(conn, "header digest error");
			return -1;
		}
		goto header_done;
	}
	case RX_DATA:
		goto data_done;
	case RX_DDIGEST:
		rx->digest_error = crc32c_final(rx->crc) != digest_value(rx->digest);
		goto pdu_done;
	}
	return 0;

header_done:
	if (rx_header(conn) < 0)
		return -1;
	if (rx->data_total) {
		rx->state = RX_DATA;
		return 0;
	}
	goto pdu_done;
data_done:
	if (data_digest_on(conn)) {
		rx->state = RX_DDIGEST;
		return 0;
	}
pdu_done:;
	int rc = rx_pdu(conn);
	if (!conn->closed)
		rx_reset(rx);
	return rc < 0 ? -1 : 1;
}

/* Where the next bytes go (NULL: they are read and dropped), and how many
 * are wanted. */
static void rx_piece(struct iscsi_conn *conn, uint8_t **p, uint32_t *want)
{
	struct iscsi_rx *rx = &conn->rx;
	switch (rx->state) {
	case RX_BHS:
		*p = rx->bhs + rx->got;
		*want = ISCSI_BHS_LEN - rx->got;
		return;
	case RX_AHS:
		*p = rx->ahs + rx->got;
		*want = pdu_ahs_len(rx->bhs) - rx->got;
		return;
	case RX_HDIGEST:
	case RX_DDIGEST:
		*p = rx->digest + rx->got;
		*want = ISCSI_DIGEST_LEN - rx->got;
		return;
	case RX_DATA:
		if (rx->got < rx->dst_len) {
			*p = rx->dst + rx->got;
			*want = rx->dst_len - rx->got;
		} else {
			*p = NULL;
			*want = rx->data_total - rx->got;
		}
		return;
	}
	*p = NULL;
	*want = 0;
}

/* @n bytes of the current piece have arrived and are at @src (their place
 * in the PDU, or the staging buffer when they are dropped). Returns as
 * rx_advance(). */
static int rx_took(struct iscsi_conn *conn, const uint8_t *src, uint32_t n, uint32_t want)
{
	struct iscsi_rx *rx = &conn->rx;
	/* The data digest covers the data segment and its padding, whether
	 * kept or dropped. */
	if (rx->state == RX_DATA && data_digest_on(conn))
		rx->crc = crc32c_update(rx->crc, src, n);
	rx->got += n;
	bool complete = rx->state == RX_DATA ? rx->got == rx->data_total : n == want;
	return complete ? rx_advance(conn) : 0;
}

/* Receives into @p (the staging buffer, or a piece's place); returns the
 * byte count, or 0 when the socket has nothing now or the connection has
 * closed. */
static uint32_t rx_recv(struct iscsi_conn *conn, uint8_t *p, uint32_t len)
{
	for (;;) {
		ssize_t r = recv(conn->fd, p, len, MSG_DONTWAIT);
		if (r > 0)
			return (uint32_t)r;
		if (r == 0) {
			bool between = conn->rx.state == RX_BHS && conn->rx.got == 0;
			iscsi_conn_close(conn, between ? "peer closed the connection"
						       : "peer closed the connection mid-PDU");
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		char why[96];
		snprintf(why, sizeof(why), "receive failed: %s", strerror(errno));
		iscsi_conn_close(conn, why);
		return 0;
	}
}

static void rx_resume(struct reactor_msg *m)
{
	struct iscsi_conn *conn = container_of(m, struct iscsi_conn, rx_resume_msg);
	conn->rx_resume_posted = false;
	if (!conn->closed)
		conn_on_ready(&conn->watch, EPOLLIN);
	iscsi_conn_put(conn); /* taken when posted */
}

/* This batch has done its share with bytes still staged: carry on in a
 * later reactor iteration, after the other connections' events. */
static void rx_yield(struct iscsi_conn *conn)
{
	if (conn->rx_resume_posted)
		return;
	iscsi_conn_get(conn);
	conn->rx_resume_posted = true;
	reactor_send(conn->reactor, &conn->rx_resume_msg, rx_resume);
}

/* One batch: serve pieces from the staging buffer while it has bytes;
 * when it is empty, receive a large data segment in place, anything else
 * into the staging buffer. The socket is read until it has nothing more
 * (a short read says so: level-triggered readiness brings us back for
 * what comes later) or the batch has done its share. */
static void conn_on_readable(struct iscsi_conn *conn)
{
	unsigned pdus = 0;
	uint32_t bytes = 0;
	bool drained = false;
	while (!conn->closed && !conn->rx_paused) {
		uint8_t *p;
		uint32_t want;
		rx_piece(conn, &p, &want);
		const uint8_t *src;
		uint32_t n;
		uint32_t staged = conn->stage_tail - conn->stage_head;
		if (staged) {
			if (pdus >= RX_BATCH_PDUS) {
				rx_yield(conn);
				return;
			}
			src = conn->stage + conn->stage_head;
			n = staged < want ? staged : want;
			conn->stage_head += n;
			if (p) {
				memcpy(p, src, n);
				src = p;
			}
		} else {
			if (drained || pdus >= RX_BATCH_PDUS || bytes >= RX_BATCH_BYTES)
				return; /* readiness calls again if more is waiting */
			bool direct = p && want >= RX_DIRECT_MIN;
			uint32_t len = direct ? want : RX_STAGE_SIZE;
			n = rx_recv(conn, direct ? p : conn->stage, len);
			if (n == 0)
				return;
			bytes += n;
			drained = n < len;
			if (!direct) {
				conn->stage_head = 0;
				conn->stage_tail = n;
				continue;
			}
			src = p;
		}
		int rc = rx_took(conn, src, n, want);
		if (rc < 0)
			return;
		pdus += (unsigned)rc;
		if (rc > 0)
			rx_pause_if_needed(conn);
	}
}

static void conn_on_ready(struct reactor_fd *w, uint32_t events)
{
	struct iscsi_conn *conn = container_of(w, struct iscsi_conn, watch);
	iscsi_conn_get(conn);
	bool outer = !conn->in_batch;
	conn->in_batch = true;
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
		iscsi_conn_close(conn, "socket error or hang-up");
	if (!conn->closed && (events & EPOLLOUT))
		conn_flush(conn);
	if (!conn->closed && (events & EPOLLIN))
		conn_on_readable(conn);
	if (outer)
		conn->in_batch = false;
	if (!conn->closed)
		conn_flush(conn);
	iscsi_conn_put(conn);
}

static void conn_on_tick(struct reactor_tick *t)
{
	struct iscsi_conn *conn = container_of(t, struct iscsi_conn, tick);
	iscsi_conn_get(conn);
	if (conn->phase == CONN_LOGIN && ++conn->login_ticks > iscsi_login_timeout(conn)) {
		iscsi_conn_close(conn, "login not finished within the login timeout (RspTimeout)");
	} else if (conn->phase == CONN_FULL_FEATURE) {
		struct iscsi_cmd *icmd;
		bool timed_out = false;
		list_for_each_entry(icmd, &conn->cmds, conn_entry) {
			if (icmd->waiting_data && ++icmd->ticks_waiting > conn->tp.rsp_timeout)
				timed_out = true;
		}
		/* Requests held behind a CmdSN gap wait no longer than data
		 * does: at ErrorRecoveryLevel 0 a missing command never
		 * comes. */
		bool gap = conn->sess && iscsi_session_pending_tick(conn->sess) > conn->tp.rsp_timeout;
		if (timed_out)
			iscsi_conn_close(conn, "timed out waiting for Data-Out (RspTimeout)");
		else if (gap)
			iscsi_conn_close(conn, "a gap in the CmdSN sequence was not filled within "
					       "RspTimeout");
		else
			iscsi_nop_tick(conn);
		conn_flush(conn);
	}
	iscsi_conn_put(conn);
}
