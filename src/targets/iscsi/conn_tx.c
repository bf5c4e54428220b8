/* The transmit queue of a connection: PDUs are stamped (StatSN, the
 * session's ExpCmdSN/MaxCmdSN through the stamp upcall, digests) as they
 * are queued, and sent with sendmsg of the headers, data, padding and
 * digests of many PDUs at once, once per batch; EPOLLOUT when the socket
 * is full. A peer that does not read is stopped being read from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/crc32c.h"
#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/conn.h"

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

struct iscsi_tx_pdu *iscsi_tx_alloc(void)
{
	struct iscsi_tx_pdu *pdu = calloc(1, sizeof(*pdu));
	if (pdu)
		list_init(&pdu->entry);
	return pdu;
}

void iscsi_tx_free(struct iscsi_tx_pdu *pdu)
{
	free(pdu->owned);
	free(pdu);
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
		if (sn != TX_SN_RESEND)
			put_be32(bhs + ISCSI_OFF_STATSN, conn->stat_sn);
		conn->ops->stamp_cmdsn(conn, bhs);
	}
	if (sn == TX_SN_STATUS) {
		if (iscsi_conn_keeps_status(conn)) {
			pdu->keep = true;
			pdu->stat_sn = conn->stat_sn;
		}
		conn->stat_sn++;
	}
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

/* Stops taking requests from a peer whose answers pile up unread. */
void iscsi_conn_rx_pause_if_needed(struct iscsi_conn *conn)
{
	if (conn->rx_paused || !txq_over_bound(conn))
		return;
	conn->rx_paused = true;
	log_warn_rl("iSCSI: %s (%s): %u PDUs, %llu bytes wait to be sent: not reading from the "
		    "initiator until they are taken",
		    conn->peer, iscsi_conn_initiator(conn), conn->txq_pdus,
		    (unsigned long long)conn->txq_bytes);
	iscsi_conn_watch_update(conn);
}

void iscsi_conn_rx_maybe_resume(struct iscsi_conn *conn)
{
	if (!conn->rx_paused || conn->closed || conn->txq_bytes > TX_QUEUE_MAX_BYTES / 2 ||
	    conn->txq_pdus > TX_QUEUE_MAX_PDUS / 2)
		return;
	conn->rx_paused = false;
	iscsi_conn_watch_update(conn);
	/* PDUs already staged would wait for readiness that never comes. */
	if (conn->stage_tail != conn->stage_head)
		iscsi_conn_rx_yield(conn);
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
	struct scst_cmd *cmd = pdu->finishes_cmd;
	bool close_after = pdu->close_after && sent;
	const char *why = pdu->close_why;
	/* Kept for a Status SNACK until acknowledged; one that closes the
	 * connection is not asked for again. */
	if (sent && pdu->keep && !pdu->close_after) {
		iscsi_conn_status_log_add(conn, pdu);
		return;
	}
	iscsi_tx_free(pdu);
	if (cmd && sent)
		scst_tgt_cmd_done(cmd);
	else if (cmd)
		conn->ops->response_lost(conn, cmd);
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
	iscsi_conn_watch_update(conn);
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
	conn->flush_later.fn = conn_flush_deferred;
	reactor_defer(conn->reactor, &conn->flush_later);
}

void iscsi_conn_reject(struct iscsi_conn *conn, enum iscsi_reject_reason reason)
{
	iscsi_conn_reject_bhs(conn, conn->rx.bhs, reason);
}

void iscsi_conn_reject_bhs(struct iscsi_conn *conn, const uint8_t *bhs,
			   enum iscsi_reject_reason reason)
{
	iscsi_conn_reject_sn(conn, bhs, reason, 0);
}

void iscsi_conn_reject_sn(struct iscsi_conn *conn, const uint8_t *bhs,
			  enum iscsi_reject_reason reason, uint32_t next_sn)
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
	put_be32(pdu->hdr + ISCSI_OFF_DATASN, next_sn);
	pdu->owned = copy;
	pdu->data = copy;
	pdu->data_len = ISCSI_BHS_LEN;
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
}

void iscsi_conn_tx_drain(struct iscsi_conn *conn)
{
	conn->txq_bytes = 0;
	conn->txq_pdus = 0;
	while (!list_empty(&conn->txq)) {
		struct iscsi_tx_pdu *pdu = list_first_entry(&conn->txq, struct iscsi_tx_pdu, entry);
		list_del(&pdu->entry);
		tx_done(conn, pdu, false);
	}
}
