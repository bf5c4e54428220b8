/* The iSNS client thread (isns.h, docs/isns.md). It owns everything
 * here: the connection to the server, the listener the server sends State
 * Change Notifications to, and what was last registered. Every exchange
 * has a deadline, so a server that is slow, gone, or answers garbage costs
 * this thread a few seconds and a log line, never a reactor anything.
 *
 * The thread wakes once a second (or when kicked) and compares the
 * registry (enabled targets, their aliases, tags and allowed portals) and
 * the listening portals with what it last registered (isns_view.c); what
 * differs is registered again. That one comparison covers every way a
 * target changes (config reload, management RPC, enable, disable), with
 * no hook in the core. */
#include "targets/iscsi/isns_client.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "targets/iscsi/isns_access.h"
#include "targets/iscsi/isns_proto.h"
#include "targets/iscsi/isns_view.h"

/* A State Change Notification's PDU must arrive whole within this. */
#define SCN_READ_TIMEOUT_MS 1000
/* The registry is compared with what was registered this often. */
#define TICK_MS 1000
/* "Do you still know us?" (a DevAttrQry of our entity): a server that
 * restarted without closing our connection, or lost its database. */
#define CHECK_INTERVAL_S 10
/* Access control answers are asked for again this often besides after
 * every SCN (an SCN may be lost: they are not retried forever). */
#define ACL_INTERVAL_S 30
/* Reconnection back-off after a failure: doubles from 1 s up to 30 s. */
#define BACKOFF_MAX_S 30
/* The registration period we ask for; the server's answer wins, and we
 * register again after two thirds of it. */
#define REGISTRATION_PERIOD_S 900
#define MAX_SCN_CONNS 4
#define SCN_BITMAP                                                                  \
	(ISNS_SCN_INITIATOR_AND_SELF | ISNS_SCN_DD_MEMBER_ADDED | ISNS_SCN_DD_MEMBER_REMOVED | \
	 ISNS_SCN_OBJECT_ADDED | ISNS_SCN_OBJECT_REMOVED | ISNS_SCN_OBJECT_UPDATED)

/* ------------------------------------------------------------------ */
/* The client's state: this thread's alone. */

struct isns_client {
	struct iscsi_isns_settings cfg;
	unsigned cfg_gen;
	char host[ISCSI_ISNS_SERVER_MAX], port[16];

	int fd;                         /* to the server; -1: not connected */
	struct sockaddr_storage local;  /* our end of it */
	int scn_listen;                 /* where the server sends SCNs; -1: none */
	struct sockaddr_storage scn_addr;
	int scn_conns[MAX_SCN_CONNS];   /* connections the server opened */
	uint16_t xid;

	char eid[ISNS_NAME_MAX];
	struct isns_view registered;
	/* The view of the last comparison: one is registered only once it
	 * is the same two comparisons in a row, so that a burst of changes
	 * (the portals opening one by one at start-up, a reload changing
	 * many targets) is one registration, not one per step. */
	struct isns_view seen;
	bool is_registered;             /* this connection registered registered */
	bool ever_registered;           /* the server may hold our entity */
	char source[ISNS_NAME_MAX];     /* a node of ours the server knows */
	bool acl_dirty;

	time_t next_connect, next_refresh, next_check, next_acl;
	unsigned backoff_s;
	char last_problem[320];         /* logged once until it changes */

	struct isns_msg msg;
	uint8_t rx[ISNS_HDR_LEN + ISNS_PAYLOAD_MAX];
	size_t rx_len;
};

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A problem worth a warning, logged when it is new (a server that stays
 * away is told once, not every second). */
static void problem(struct isns_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct isns_client *c, const char *fmt, ...)
{
	char buf[sizeof(c->last_problem)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, c->last_problem) != 0)
		log_warn("iSNS: %s", buf);
	snprintf(c->last_problem, sizeof(c->last_problem), "%s", buf);
}

static void scn_close_all(struct isns_client *c)
{
	for (unsigned i = 0; i < MAX_SCN_CONNS; i++) {
		if (c->scn_conns[i] >= 0)
			close(c->scn_conns[i]);
		c->scn_conns[i] = -1;
	}
	if (c->scn_listen >= 0)
		close(c->scn_listen);
	c->scn_listen = -1;
}

/* Drops the connection; the next attempt waits out the back-off. */
static void disconnect(struct isns_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	scn_close_all(c);
	c->is_registered = false;
	c->backoff_s = c->backoff_s ? c->backoff_s * 2 : 1;
	if (c->backoff_s > BACKOFF_MAX_S)
		c->backoff_s = BACKOFF_MAX_S;
	c->next_connect = now_s() + c->backoff_s;
}

/* Waits for @events on @fd until @deadline_ms; 0 ready, -1 timed out or
 * failed. */
static int wait_fd(int fd, short events, long long deadline_ms)
{
	for (;;) {
		long long left = deadline_ms - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = events };
		int rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* Sends or receives exactly @len bytes before @deadline_ms. 0, or -1 with
 * errno (ETIMEDOUT, ECONNRESET for an orderly close while reading). */
static int io_exact(int fd, void *buf, size_t len, bool sending, long long deadline_ms)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = sending ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
				    : recv(fd, (char *)buf + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (wait_fd(fd, sending ? POLLOUT : POLLIN, deadline_ms) < 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* Reads one PDU (header checked, payload attributes checked) into c->rx.
 * 0, or -1 with the reason. */
static int read_pdu(int fd, struct isns_client *c, struct isns_hdr *h, long long deadline_ms,
		    char *why, size_t whylen)
{
	if (io_exact(fd, c->rx, ISNS_HDR_LEN, false, deadline_ms) < 0) {
		snprintf(why, whylen, "%s", errno == ETIMEDOUT ? "no answer within the timeout"
				  : errno == ECONNRESET ? "connection closed" : strerror(errno));
		return -1;
	}
	if (isns_hdr_parse(c->rx, h, why, whylen) < 0)
		return -1;
	if (h->flags & ISNS_F_AUTH) {
		snprintf(why, whylen, "an authentication block (iSNS security is not supported)");
		return -1;
	}
	if (io_exact(fd, c->rx + ISNS_HDR_LEN, h->length, false, deadline_ms) < 0) {
		snprintf(why, whylen, "PDU cut short: %s",
			 errno == ETIMEDOUT ? "the rest did not come within the timeout"
					    : strerror(errno));
		return -1;
	}
	c->rx_len = h->length;
	return 0;
}

static const char *function_name(uint16_t f)
{
	switch (f & ~ISNS_RESPONSE) {
	case ISNS_DEV_ATTR_REG: return "DevAttrReg";
	case ISNS_DEV_ATTR_QRY: return "DevAttrQry";
	case ISNS_DEV_DEREG: return "DevDereg";
	case ISNS_SCN_REG: return "SCNReg";
	case ISNS_SCN: return "SCN";
	case ISNS_ESI: return "ESI";
	default: return "?";
	}
}

/* Sends c->msg and reads its answer: the response's status, or -1 after
 * logging why and dropping the connection (a malformed, late or foreign
 * answer leaves no state to trust). The payload after the status is at
 * c->rx + ISNS_HDR_LEN + 4, c->rx_len - 4 bytes, every attribute checked. */
static int call(struct isns_client *c, uint32_t *status)
{
	struct isns_hdr h;
	char why[256];
	uint16_t func = (uint16_t)(c->msg.buf[2] << 8 | c->msg.buf[3]);
	uint16_t xid = (uint16_t)(c->msg.buf[8] << 8 | c->msg.buf[9]);
	long long deadline = now_ms() + ISNS_REPLY_TIMEOUT_MS;

	if (isns_msg_finish(&c->msg) < 0) {
		problem(c, "%s to %s does not fit in one PDU; not sent", function_name(func),
			c->cfg.server);
		return -1;
	}
	if (io_exact(c->fd, c->msg.buf, c->msg.len, true, deadline) < 0) {
		problem(c, "%s to %s: %s", function_name(func), c->cfg.server, strerror(errno));
		disconnect(c);
		return -1;
	}
	if (read_pdu(c->fd, c, &h, deadline, why, sizeof(why)) < 0)
		goto bad;
	if (h.function != (func | ISNS_RESPONSE)) {
		snprintf(why, sizeof(why), "function 0x%04x, not 0x%04x", h.function,
			 func | ISNS_RESPONSE);
		goto bad;
	}
	if (h.xid != xid) {
		snprintf(why, sizeof(why), "transaction %u, not %u", h.xid, xid);
		goto bad;
	}
	if (isns_response_status(c->rx + ISNS_HDR_LEN, c->rx_len, status, why, sizeof(why)) < 0)
		goto bad;
	return 0;
bad:
	problem(c, "%s: bad answer to %s (%s); dropping the connection", c->cfg.server,
		function_name(func), why);
	disconnect(c);
	return -1;
}

static void msg_start(struct isns_client *c, uint16_t func, uint16_t flags, const char *source)
{
	isns_msg_init(&c->msg, func, ISNS_F_CLIENT | ISNS_F_FIRST | ISNS_F_LAST | flags, ++c->xid);
	isns_put_str(&c->msg, ISNS_TAG_ISCSI_NAME, source);
}

/* ------------------------------------------------------------------ */
/* Connecting. */

static int connect_server(struct isns_client *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	int rc = getaddrinfo(c->host, c->port, &hints, &res);
	if (rc) {
		problem(c, "cannot resolve %s: %s", c->cfg.server, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			err = errno;
		} else if (wait_fd(fd, POLLOUT, now_ms() + ISNS_REPLY_TIMEOUT_MS) < 0) {
			err = ETIMEDOUT;
		} else {
			socklen_t el = sizeof(err);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
				err = errno;
			if (!err)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		problem(c, "cannot connect to %s: %s (retrying)", c->cfg.server, strerror(err));
		return -1;
	}
	socklen_t sl = sizeof(c->local);
	if (getsockname(fd, (struct sockaddr *)&c->local, &sl) < 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static void set_port(struct sockaddr_storage *ss, in_port_t port_be)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port_be;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = port_be;
}

static in_port_t get_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					: ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/* The address a portal is registered with: a wildcard portal (0.0.0.0,
 * [::]) is reachable at least where the server reached us from. */
static struct sockaddr_storage portal_addr(const struct isns_client *c,
					   const struct sockaddr_storage *p)
{
	struct sockaddr_storage a = *p;

	if (is_wildcard(p)) {
		a = c->local;
		set_port(&a, get_port(p));
	}
	return a;
}

/* The SCN listener, on the first portal's address (the server sends SCNs
 * to a portal's IP at its SCN port), on a port the kernel picks. */
static void scn_listen(struct isns_client *c, const struct isns_view *v)
{
	if (c->scn_listen >= 0 || v->nportals == 0)
		return;
	struct sockaddr_storage a = portal_addr(c, &v->portals[0]);
	set_port(&a, 0);
	int fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t sl = a.ss_family == AF_INET ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sl) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&c->scn_addr, &(socklen_t){ sizeof(c->scn_addr) }) <
		    0) {
		problem(c, "no SCN listener: %s; state changes are seen every %d s only",
			strerror(errno), ACL_INTERVAL_S);
		if (fd >= 0)
			close(fd);
		return;
	}
	c->scn_listen = fd;
}

/* ------------------------------------------------------------------ */
/* The exchanges. */

/* The portal addresses as registered (two wildcards may become one), and
 * which of them each of the view's portals is. */
struct reg_addrs {
	struct sockaddr_storage a[ISNS_MAX_PORTALS];
	unsigned n;
	unsigned index_of[ISNS_MAX_PORTALS];
};

static void reg_addrs_of(const struct isns_client *c, const struct isns_view *v,
			 struct reg_addrs *ra)
{
	ra->n = 0;
	for (unsigned i = 0; i < v->nportals; i++) {
		struct sockaddr_storage a = portal_addr(c, &v->portals[i]);
		unsigned k;
		for (k = 0; k < ra->n; k++)
			if (same_ip(&ra->a[k], &a) && get_port(&ra->a[k]) == get_port(&a))
				break;
		if (k == ra->n)
			ra->a[ra->n++] = a;
		ra->index_of[i] = k;
	}
}

/* A Storage Node, and a Portal Group per portal it is offered on: its tag
 * is the one SendTargets and the login report (iscsi_tpgt()). */
static void put_node(struct isns_client *c, const struct isns_view *v,
		     const struct reg_addrs *ra, unsigned i)
{
	const struct isns_node *n = &v->nodes[i];
	uint32_t done = 0;

	isns_put_str(&c->msg, ISNS_TAG_ISCSI_NAME, n->name);
	isns_put_u32(&c->msg, ISNS_TAG_NODE_TYPE, ISNS_NODE_TARGET);
	if (n->alias[0])
		isns_put_str(&c->msg, ISNS_TAG_ALIAS, n->alias);
	for (unsigned p = 0; p < v->nportals; p++) {
		unsigned k = ra->index_of[p];
		if (!(n->portal_mask & (1u << p)) || (done & (1u << k)))
			continue;
		done |= 1u << k;
		isns_put_str(&c->msg, ISNS_TAG_PG_ISCSI_NAME, n->name);
		isns_put_ip(&c->msg, ISNS_TAG_PG_PORTAL_IP, &ra->a[k]);
		isns_put_port(&c->msg, ISNS_TAG_PG_PORTAL_PORT, &ra->a[k]);
		isns_put_u32(&c->msg, ISNS_TAG_PGT, n->tpgt);
	}
}

/* Sends the DevAttrReg in c->msg: 0 when the server took it, else -1
 * (the connection dropped). Takes the Registration Period the server
 * granted, if it says (else ours), and schedules the refresh by it. */
static int dev_attr_reg(struct isns_client *c)
{
	uint32_t status, granted;
	unsigned period = REGISTRATION_PERIOD_S;
	char why[160];

	if (call(c, &status) < 0)
		return -1;
	c->ever_registered = true;
	if (status != ISNS_STATUS_SUCCESS) {
		problem(c, "%s refused the registration (DevAttrReg status %u); retrying",
			c->cfg.server, status);
		disconnect(c);
		return -1;
	}
	int rc = isns_find_u32(c->rx + ISNS_HDR_LEN + 4, c->rx_len - 4,
			       ISNS_TAG_REGISTRATION_PERIOD, &granted, why, sizeof(why));
	if (rc < 0)
		problem(c, "%s: ignoring a malformed Registration Period (%s)", c->cfg.server, why);
	else if (rc == 1 && granted)
		period = granted < 15 ? 15 : granted; /* 0: no expiry */
	c->next_refresh = now_s() + period * 2 / 3;
	c->next_check = now_s() + CHECK_INTERVAL_S;
	return 0;
}

/* SCNReg: the server tells @name what changes in its Discovery Domains. */
static int scn_reg(struct isns_client *c, const char *name)
{
	uint32_t status;

	msg_start(c, ISNS_SCN_REG, 0, name);
	isns_put_str(&c->msg, ISNS_TAG_ISCSI_NAME, name);
	isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
	isns_put_u32(&c->msg, ISNS_TAG_SCN_BITMAP, SCN_BITMAP);
	if (call(c, &status) < 0)
		return -1;
	if (status != ISNS_STATUS_SUCCESS)
		problem(c, "%s refused SCNReg for %s (status %u)", c->cfg.server, name, status);
	return 0;
}

/* What the server now holds is @v. */
static int registered_is(struct isns_client *c, const struct isns_view *v)
{
	if (isns_view_copy(&c->registered, v) < 0) {
		disconnect(c);
		return -1;
	}
	snprintf(c->source, sizeof(c->source), "%s", v->nodes[0].name);
	c->is_registered = true;
	c->acl_dirty = true;
	c->backoff_s = 0;
	c->last_problem[0] = '\0';
	return 0;
}

/* DevAttrReg of everything, replacing what the server holds of our
 * entity (RFC 4171 5.6.5.1: the Replace flag), then SCNReg per target:
 * on every new connection (the server may have restarted empty) and
 * when the portals change. */
static int register_all(struct isns_client *c, const struct isns_view *v)
{
	struct reg_addrs ra;

	assert(v->nnodes > 0);
	scn_listen(c, v);
	reg_addrs_of(c, v, &ra);
	msg_start(c, ISNS_DEV_ATTR_REG, ISNS_F_REPLACE, v->nodes[0].name);
	isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
	isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
	isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
	isns_put_u32(&c->msg, ISNS_TAG_ENTITY_PROTOCOL, ISNS_ENTITY_PROTOCOL_ISCSI);
	isns_put_u32(&c->msg, ISNS_TAG_REGISTRATION_PERIOD, REGISTRATION_PERIOD_S);
	for (unsigned k = 0; k < ra.n; k++) {
		isns_put_ip(&c->msg, ISNS_TAG_PORTAL_IP, &ra.a[k]);
		isns_put_port(&c->msg, ISNS_TAG_PORTAL_PORT, &ra.a[k]);
		if (c->scn_listen >= 0 && same_ip(&ra.a[k], &c->scn_addr))
			isns_put_port(&c->msg, ISNS_TAG_SCN_PORT, &c->scn_addr);
	}
	for (unsigned i = 0; i < v->nnodes; i++)
		put_node(c, v, &ra, i);
	if (dev_attr_reg(c) < 0)
		return -1;
	for (unsigned i = 0; i < v->nnodes; i++)
		if (scn_reg(c, v->nodes[i].name) < 0)
			return -1;
	if (registered_is(c, v) < 0)
		return -1;
	log_info("iSNS: registered entity %s with %s: %u target(s), %u portal(s)%s", c->eid,
		 c->cfg.server, v->nnodes, ra.n, c->scn_listen >= 0 ? ", SCN port" : "");
	return 0;
}

/* Same portals, other targets: only the targets that went or changed
 * are deregistered (DevDereg by iSCSI Name) and only the new or changed
 * ones registered (DevAttrReg without Replace), so that the others'
 * initiators see no state change for them. */
static int register_changes(struct isns_client *c, const struct isns_view *v)
{
	const struct isns_view *old = &c->registered;
	struct reg_addrs ra;
	unsigned gone = 0, added = 0;
	uint32_t status;

	if (v->nportals != old->nportals ||
	    memcmp(v->portals, old->portals, v->nportals * sizeof(v->portals[0])) != 0)
		return register_all(c, v);
	for (unsigned i = 0; i < old->nnodes; i++) {
		const struct isns_node *now = isns_view_find(v, old->nodes[i].name);
		if (!now || memcmp(now, &old->nodes[i], sizeof(*now)) != 0) {
			if (!gone++) {
				/* A node may deregister itself (the source). */
				msg_start(c, ISNS_DEV_DEREG, 0, old->nodes[i].name);
				isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
			}
			isns_put_str(&c->msg, ISNS_TAG_ISCSI_NAME, old->nodes[i].name);
		}
	}
	if (gone) {
		if (call(c, &status) < 0)
			return -1;
		if (status != ISNS_STATUS_SUCCESS && status != ISNS_STATUS_NO_SUCH_ENTRY) {
			problem(c, "%s refused DevDereg of %u target(s) (status %u); registering "
				"everything again", c->cfg.server, gone, status);
			return register_all(c, v);
		}
	}
	reg_addrs_of(c, v, &ra);
	for (unsigned i = 0; i < v->nnodes; i++) {
		const struct isns_node *was = isns_view_find(old, v->nodes[i].name);
		if (was && memcmp(was, &v->nodes[i], sizeof(*was)) == 0)
			continue;
		if (!added++) {
			msg_start(c, ISNS_DEV_ATTR_REG, 0, v->nodes[i].name);
			isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
			isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
		}
		put_node(c, v, &ra, i);
	}
	if (added && dev_attr_reg(c) < 0)
		return -1;
	for (unsigned i = 0; added && i < v->nnodes; i++) {
		const struct isns_node *was = isns_view_find(old, v->nodes[i].name);
		if ((!was || memcmp(was, &v->nodes[i], sizeof(*was)) != 0) &&
		    scn_reg(c, v->nodes[i].name) < 0)
			return -1;
	}
	if (registered_is(c, v) < 0)
		return -1;
	log_info("iSNS: updated entity %s with %s: %u target(s) deregistered, %u registered, "
		 "%u in all", c->eid, c->cfg.server, gone, added, v->nnodes);
	return 0;
}

/* Before the registration period runs out: the entity's registration
 * again, without Replace (nothing else changes, nobody is notified). */
static int refresh(struct isns_client *c)
{
	msg_start(c, ISNS_DEV_ATTR_REG, 0, c->source);
	isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
	isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
	isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
	isns_put_u32(&c->msg, ISNS_TAG_REGISTRATION_PERIOD, REGISTRATION_PERIOD_S);
	return dev_attr_reg(c);
}

/* DevDereg of our entity, with everything in it. */
static void deregister(struct isns_client *c)
{
	uint32_t status;

	if (!c->ever_registered || !c->source[0])
		return;
	if (c->fd < 0 && connect_server(c) < 0)
		return;
	msg_start(c, ISNS_DEV_DEREG, 0, c->source);
	isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
	isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
	if (call(c, &status) < 0)
		return;
	if (status != ISNS_STATUS_SUCCESS && status != ISNS_STATUS_NO_SUCH_ENTRY) {
		problem(c, "%s refused DevDereg of %s (status %u)", c->cfg.server, c->eid, status);
		return;
	}
	log_info("iSNS: deregistered entity %s from %s", c->eid, c->cfg.server);
	c->ever_registered = false;
	c->is_registered = false;
	isns_view_clear(&c->registered);
}

/* Does the server still hold our entity? (It may have restarted with an
 * empty database behind a connection that stayed up, or expired us.) */
static void check_known(struct isns_client *c)
{
	uint32_t status;
	char why[160];
	bool known = false;

	msg_start(c, ISNS_DEV_ATTR_QRY, 0, c->source);
	isns_put_str(&c->msg, ISNS_TAG_EID, c->eid);
	isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
	isns_put_nil(&c->msg, ISNS_TAG_EID);
	if (call(c, &status) < 0)
		return;
	if (status == ISNS_STATUS_SUCCESS) {
		int rc = isns_has_str(c->rx + ISNS_HDR_LEN + 4, c->rx_len - 4, ISNS_TAG_EID, c->eid,
				      why, sizeof(why));
		if (rc < 0) {
			problem(c, "%s: bad answer to DevAttrQry (%s); dropping the connection",
				c->cfg.server, why);
			disconnect(c);
			return;
		}
		known = rc == 1;
	}
	c->next_check = now_s() + CHECK_INTERVAL_S;
	if (!known) {
		log_warn("iSNS: %s no longer knows entity %s (status %u); registering again",
			 c->cfg.server, c->eid, status);
		c->is_registered = false;
	}
}

/* The initiators sharing a Discovery Domain with each target: a
 * DevAttrQry with the target as source (the server answers within the
 * source's Discovery Domains, RFC 4171 5.6.5.2) for every iSCSI node of
 * type initiator. */
struct name_list {
	char **v;
	unsigned n, cap;
};

static int name_list_add(const char *name, void *ctx)
{
	struct name_list *l = ctx;

	if (l->n == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -1;
	l->n++;
	return 0;
}

static void name_list_free(struct name_list *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void refresh_acl(struct isns_client *c)
{
	for (unsigned i = 0; i < c->registered.nnodes && c->fd >= 0; i++) {
		const char *tgt = c->registered.nodes[i].name;
		struct name_list names = { 0 };
		uint32_t status;
		char why[160];

		msg_start(c, ISNS_DEV_ATTR_QRY, 0, tgt);
		isns_put_u32(&c->msg, ISNS_TAG_NODE_TYPE, ISNS_NODE_INITIATOR);
		isns_put_nil(&c->msg, ISNS_TAG_DELIMITER);
		isns_put_nil(&c->msg, ISNS_TAG_ISCSI_NAME);
		isns_put_nil(&c->msg, ISNS_TAG_NODE_TYPE);
		if (call(c, &status) < 0)
			return;
		if (status != ISNS_STATUS_SUCCESS && status != ISNS_STATUS_NO_SUCH_ENTRY) {
			problem(c, "%s refused the DevAttrQry for %s's initiators (status %u)",
				c->cfg.server, tgt, status);
			continue;
		}
		/* No such entry: no initiator shares a Discovery Domain with it. */
		if (status == ISNS_STATUS_SUCCESS &&
		    isns_each_node(c->rx + ISNS_HDR_LEN + 4, c->rx_len - 4, ISNS_NODE_INITIATOR,
				   name_list_add, &names, why, sizeof(why)) < 0)
			problem(c, "%s: ignoring the answer for %s's initiators: %s", c->cfg.server,
				tgt, why);
		else if (isns_access_set(tgt, names.v, names.n) < 0)
			problem(c, "out of memory keeping %s's initiators", tgt);
		name_list_free(&names);
	}
	c->acl_dirty = false;
	c->next_acl = now_s() + ACL_INTERVAL_S;
}

/* A message the server sent on a connection it opened: an SCN (or an
 * ESI, though we register no ESI port). Answered with success and the
 * destination attribute (RFC 4171 5.7.5.8); the access control answers
 * are then asked for again. */
static int serve_scn(struct isns_client *c, int fd)
{
	struct isns_hdr h;
	char why[256];
	struct isns_msg *r = &c->msg;

	if (read_pdu(fd, c, &h, now_ms() + SCN_READ_TIMEOUT_MS, why, sizeof(why)) < 0 ||
	    isns_payload_check(c->rx + ISNS_HDR_LEN, c->rx_len, why, sizeof(why)) < 0)
		goto bad;
	if (h.function != ISNS_SCN && h.function != ISNS_ESI) {
		snprintf(why, sizeof(why), "function 0x%04x, not SCN or ESI", h.function);
		goto bad;
	}
	size_t pos = 0;
	struct isns_tlv dest;
	if (isns_tlv_next(c->rx + ISNS_HDR_LEN, c->rx_len, &pos, &dest, why, sizeof(why)) != 1) {
		snprintf(why, sizeof(why), "%s without attributes", function_name(h.function));
		goto bad;
	}
	isns_msg_init(r, h.function | ISNS_RESPONSE, ISNS_F_CLIENT | ISNS_F_FIRST | ISNS_F_LAST,
		      h.xid);
	isns_put_status(r, ISNS_STATUS_SUCCESS);
	isns_put_bytes(r, dest.tag, dest.value, dest.len);
	if (isns_msg_finish(r) < 0 ||
	    io_exact(fd, r->buf, r->len, true, now_ms() + SCN_READ_TIMEOUT_MS) < 0) {
		snprintf(why, sizeof(why), "cannot answer: %s", strerror(errno));
		goto bad;
	}
	log_info("iSNS: %s from %s; refreshing discovery domain access", function_name(h.function),
		 c->cfg.server);
	c->acl_dirty = true;
	c->next_check = now_s();
	return 0;
bad:
	if (strcmp(why, "connection closed") != 0)
		log_warn_rl("iSNS: SCN connection from the server: %s; closing it", why);
	return -1;
}

static void scn_accept(struct isns_client *c)
{
	int fd = accept4(c->scn_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (unsigned i = 0; i < MAX_SCN_CONNS; i++) {
		if (c->scn_conns[i] < 0) {
			c->scn_conns[i] = fd;
			return;
		}
	}
	log_warn_rl("iSNS: more than %d SCN connections from the server; closing one",
		    MAX_SCN_CONNS);
	close(fd);
}

/* Something arrived on the connection while no request was out: the
 * server closed it (it stopped or restarted) or sent what we never asked
 * for. Either way the registration must be made again. */
static void server_readable(struct isns_client *c)
{
	uint8_t b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0 || n < 0)
		problem(c, "%s closed the connection%s%s; reconnecting", c->cfg.server,
			n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	else
		problem(c, "%s sent an unasked-for message; dropping the connection",
			c->cfg.server);
	disconnect(c);
	c->next_connect = now_s(); /* a restarted server is worth trying at once */
}

/* ------------------------------------------------------------------ */
/* The loop. */

static void take_settings(struct isns_client *c)
{
	struct iscsi_isns_settings s;
	unsigned gen;

	isns_settings_take(&s, &gen);
	if (gen == c->cfg_gen)
		return;
	c->cfg_gen = gen;
	if (strcmp(s.server, c->cfg.server) != 0) {
		/* Another server (or none): leave the old one cleanly. */
		if (c->cfg.server[0])
			deregister(c);
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		scn_close_all(c);
		c->is_registered = c->ever_registered = false;
		isns_view_clear(&c->registered);
		c->backoff_s = 0;
		c->next_connect = 0;
		c->last_problem[0] = '\0';
		if (s.server[0] && isns_split_server(s.server, c->host, sizeof(c->host), c->port,
						sizeof(c->port)) < 0) {
			/* parse_server() took it: cannot happen. */
			assert(!"iSNSServer not checked");
			s.server[0] = '\0';
		}
		log_info("iSNS: server %s", s.server[0] ? s.server : "none");
	}
	c->cfg = s;
	isns_access_reset(s.server[0] && s.access_control);
	c->acl_dirty = true;
}

static int next_timeout_ms(const struct isns_client *c)
{
	(void)c;
	return TICK_MS;
}

static void step(struct isns_client *c)
{
	struct isns_view v;
	time_t now = now_s();

	if (!c->cfg.server[0])
		return;
	if (isns_view_build(&v) < 0) {
		problem(c, "out of memory building the registration");
		return;
	}
	if (!isns_view_equal(&v, &c->seen)) {
		if (isns_view_copy(&c->seen, &v) < 0)
			problem(c, "out of memory building the registration");
		isns_view_clear(&v);
		return;
	}
	if (c->fd < 0) {
		if ((v.nnodes == 0 && !c->ever_registered) || now < c->next_connect) {
			isns_view_clear(&v);
			return;
		}
		if (connect_server(c) < 0) {
			disconnect(c);
			isns_view_clear(&v);
			return;
		}
	}
	if (v.nnodes == 0) {
		/* Nothing to offer: no entity at all. */
		if (c->ever_registered)
			deregister(c);
	} else if (v.nportals == 0) {
		/* Not listening yet (the configuration is loaded before the
		 * portals open) or any more (shutdown): nothing to register
		 * that an initiator could reach. */
	} else if (!c->is_registered || c->registered.nnodes == 0) {
		register_all(c, &v);
	} else if (!isns_view_equal(&v, &c->registered)) {
		register_changes(c, &v);
	} else if (now >= c->next_refresh) {
		refresh(c);
	} else if (now >= c->next_check) {
		check_known(c);
		if (c->fd >= 0 && !c->is_registered)
			register_all(c, &v);
	}
	if (c->fd >= 0 && c->is_registered && c->cfg.access_control &&
	    (c->acl_dirty || now >= c->next_acl))
		refresh_acl(c);
	isns_view_clear(&v);
}

static void make_eid(struct isns_client *c)
{
	char host[200];

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(c->eid, sizeof(c->eid), "uscst:%s", host);
}

void *isns_client_main(void *arg)
{
	static struct isns_client client; /* large (two PDU buffers): not on the stack */
	struct isns_client *c = &client;

	(void)arg;
	c->fd = c->scn_listen = -1;
	for (unsigned i = 0; i < MAX_SCN_CONNS; i++)
		c->scn_conns[i] = -1;
	make_eid(c);
	while (!isns_stopping()) {
		struct pollfd p[3 + MAX_SCN_CONNS];
		int conn_at[3 + MAX_SCN_CONNS];
		unsigned np = 0;

		p[np++] = (struct pollfd){ .fd = isns_wake_fd(), .events = POLLIN };
		if (c->fd >= 0)
			p[np++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		if (c->scn_listen >= 0)
			p[np++] = (struct pollfd){ .fd = c->scn_listen, .events = POLLIN };
		for (unsigned i = 0; i < MAX_SCN_CONNS; i++) {
			if (c->scn_conns[i] >= 0) {
				conn_at[np] = (int)i;
				p[np++] = (struct pollfd){ .fd = c->scn_conns[i], .events = POLLIN };
			}
		}
		int rc = poll(p, np, next_timeout_ms(c));
		if (rc < 0 && errno != EINTR) {
			log_error("iSNS: poll: %s; the client stops", strerror(errno));
			break;
		}
		uint64_t count;
		if (read(isns_wake_fd(), &count, sizeof(count)) < 0) {
			/* Nothing pending: woken by a descriptor or the tick. */
		}
		if (isns_stopping())
			break;
		take_settings(c);
		for (unsigned i = 1; rc > 0 && i < np; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == c->fd) {
				server_readable(c);
			} else if (p[i].fd == c->scn_listen) {
				scn_accept(c);
			} else {
				int k = conn_at[i];
				if (c->scn_conns[k] == p[i].fd && serve_scn(c, p[i].fd) < 0) {
					close(p[i].fd);
					c->scn_conns[k] = -1;
				}
			}
		}
		step(c);
	}
	/* Shutdown: the server should not offer what is going away. */
	take_settings(c);
	if (c->cfg.server[0])
		deregister(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	scn_close_all(c);
	isns_view_clear(&c->registered);
	isns_view_clear(&c->seen);
	return NULL;
}
