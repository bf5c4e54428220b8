/* A connection's receive state machine: BHS, AHS, header digest, data
 * segment with padding, data digest, with partial reads tolerated. Small
 * pieces are served from a staging buffer filled by one recv(); large data
 * segments are received in place, straight into the buffer the rx_header
 * upcall chose. What a PDU means is the upcalls' business (dispatch.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "base/crc32c.h"
#include "base/log.h"
#include "targets/iscsi/conn.h"

/* A data segment with at least this much still to come is received
 * straight into its buffer rather than copied out of the staging buffer. */
#define RX_DIRECT_MIN 4096
/* Work one connection may do per readiness event, so that a busy
 * initiator does not starve the others on its reactor. */
#define RX_BATCH_PDUS 128
#define RX_BATCH_BYTES (1024 * 1024)

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

void iscsi_conn_rx_free(struct iscsi_conn *conn)
{
	free(conn->rx.heap);
	conn->rx.heap = NULL;
}

/* The whole header is in: check its framing, then the layers above decide
 * where the data goes. */
static int rx_header(struct iscsi_conn *conn)
{
	struct iscsi_rx *rx = &conn->rx;
	uint8_t op = pdu_opcode(rx->bhs);
	uint32_t limit = conn->phase == CONN_LOGIN ? ISCSI_LOGIN_MAX_DSL : conn->params.max_recv_dsl;

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
	return conn->ops->rx_header(conn);
}

/* The whole PDU is in. */
static int rx_pdu(struct iscsi_conn *conn)
{
	if (conn->phase == CONN_LOGGED_OUT)
		return 0; /* nothing more is accepted after Logout */
	return conn->ops->rx_pdu(conn);
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
		iscsi_conn_on_ready_in(conn);
	iscsi_conn_put(conn); /* taken when posted */
}

/* This batch has done its share with bytes still staged: carry on in a
 * later reactor iteration, after the other connections' events. */
void iscsi_conn_rx_yield(struct iscsi_conn *conn)
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
void iscsi_conn_on_readable(struct iscsi_conn *conn)
{
	unsigned pdus = 0;
	uint32_t bytes = 0;
	bool drained = false;
	while (!conn->closed && !conn->rx_paused && !conn->migrating) {
		uint8_t *p;
		uint32_t want;
		rx_piece(conn, &p, &want);
		const uint8_t *src;
		uint32_t n;
		uint32_t staged = conn->stage_tail - conn->stage_head;
		if (staged) {
			if (pdus >= RX_BATCH_PDUS) {
				iscsi_conn_rx_yield(conn);
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
			uint32_t len = direct ? want : ISCSI_RX_STAGE_SIZE;
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
			iscsi_conn_rx_pause_if_needed(conn);
	}
}

