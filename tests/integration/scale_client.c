/* The initiator side of scale.sh and soak.sh: many iSCSI sessions in one
 * process, each a small state machine over non-blocking sockets and one
 * epoll set, so that a thousand sessions and two thousand connections fit
 * in one thread (libiscsi wants a context, and python a coroutine, per
 * connection; either would be the bottleneck, not the target).
 *
 *   scale_client --port P --target-prefix IQN --targets T --luns L
 *                [--sessions S] [--mcs N] [--verify-luns A,B] [--all-luns]
 *                [--join-with-lead]
 *                [--logins-in-flight K] [--phase-timeout SEC]
 *                [--soak SEC --rate R]
 *
 * Session s goes to target IQN<s % T> (IQN0 .. IQN<T-1>) as initiator
 * iqn.2026-12.test:scale<s> with an ISID of its own, so that no per-
 * initiator cap is involved. The first N sessions (--mcs) add a second
 * connection by TSIH (CID 1), and their commands alternate between the two
 * connections: with S=1000 and N=1000 that is 2000 connections. The joins
 * start once every lead is in, or, with --join-with-lead, each as soon as
 * its own lead is.
 *
 * Scale mode (the default) runs in phases, each ended by a line on stdout
 * and started by a line on stdin, so that the script can look at the
 * daemon in between:
 *   "logged_in SESSIONS CONNECTIONS"   every connection in full feature
 *   "io_done COMMANDS VERIFIED LUNS P50 P99 MAX"
 *                                      every session wrote and read back
 *                                      (command latencies in ms)
 *   "logged_out SESSIONS"              every session logged out
 * I/O: a session writes 4 KiB at an LBA of its own, reads it back and
 * compares, on each LUN it is given: the verify LUNs (fileio, compared
 * with what was written) and its share of the others (nullio, which reads
 * back zeros, so that is what is compared), such that the sessions of a
 * target together cover every LUN (--all-luns: each session every LUN).
 * The first command on each LUN meets the nexus's POWER ON unit attention
 * and is sent again, once.
 *
 * Soak mode (--soak SEC --rate R): S sessions are kept alive; each lives
 * S/R seconds (logs in, does its I/O on one LUN, idles, logs out) and is
 * then replaced by a new session, with a new ISID, so that R logins and R
 * logouts happen every second. A line "soak T LOGINS LOGOUTS COMMANDS"
 * (sessions, so far) every 10 s; at the end every session logs out and
 * "soak_done ..." is printed.
 *
 * Any protocol error, failed command, wrong data or phase not finished
 * within --phase-timeout seconds prints "FAIL: ..." naming the session and
 * exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BHS_LEN 48
#define XFER 4096
#define BLOCK 512
/* What we declare as our MaxRecvDataSegmentLength, hence the largest
 * data segment the target may send us. */
#define MY_MRDSL 8192
#define RX_CAP (BHS_LEN + 255 * 4 + MY_MRDSL + 4)
#define TX_CAP (BHS_LEN + 2 * XFER)
#define MAX_CONNS_PER_SESSION 2
#define MAX_LUNS 16384
#define RESERVED_TAG 0xffffffffu

enum {
	OP_NOP_OUT = 0x00, OP_SCSI_CMD = 0x01, OP_LOGIN_REQ = 0x03, OP_LOGOUT_REQ = 0x06,
	OP_NOP_IN = 0x20, OP_SCSI_RSP = 0x21, OP_LOGIN_RSP = 0x23, OP_DATA_IN = 0x25,
	OP_LOGOUT_RSP = 0x26, OP_R2T = 0x31, OP_ASYNC = 0x32, OP_REJECT = 0x3f,
	OP_IMMEDIATE = 0x40, FLAG_FINAL = 0x80,
};

enum conn_state { C_UNUSED, C_CONNECTING, C_LOGIN, C_FFP, C_LOGOUT_SENT, C_CLOSED };

/* A session's life; the barriers of scale mode wait for every session to
 * reach READY, IO_DONE and DONE. */
enum sess_state {
	S_IDLE, S_LEAD_LOGIN, S_JOIN_LOGIN, S_READY, S_IO, S_IO_DONE, S_LOGOUT, S_DONE,
};

static const char *const sess_state_names[] = {
	"idle", "lead login", "join login", "ready", "io", "io done", "logout", "done",
};

struct session;

struct conn {
	struct session *sess;
	int fd;
	uint16_t cid;
	enum conn_state state;
	uint32_t exp_stat_sn;
	uint32_t login_itt;
	uint8_t rx[RX_CAP];
	size_t rx_len;
	uint8_t tx[TX_CAP];
	size_t tx_len, tx_off;
	bool want_out;      /* EPOLLOUT is armed */
};

struct session {
	unsigned idx;           /* which session (scale) or slot (soak) */
	unsigned generation;    /* soak: how many times the slot was reused */
	unsigned target;
	char initiator[64];
	uint8_t isid[6];
	uint16_t tsih;
	enum sess_state state;
	struct conn conns[MAX_CONNS_PER_SESSION];
	unsigned nconns;        /* 1, or 2 for an MC/S session */
	uint32_t cmd_sn, exp_cmd_sn, max_cmd_sn;
	uint32_t next_itt;
	/* The I/O plan: LUNs to write and read back, one command at a time. */
	uint16_t *luns;
	unsigned nluns, lun_pos;
	bool reading;           /* the write of luns[lun_pos] is done */
	bool ua_seen;           /* this LUN's POWER ON unit attention came */
	unsigned conn_rr;       /* which connection the next command takes */
	uint32_t cmd_itt;       /* the command in flight */
	double cmd_sent;        /* when it was sent */
	uint8_t wdata[XFER];
	uint8_t rdata[XFER];
	uint32_t rgot;
	double expires;         /* soak: when to log out */
};

static struct {
	int port;
	const char *target_prefix;
	unsigned targets, luns, sessions, mcs, logins_in_flight;
	bool all_luns, join_with_lead;
	bool verify[MAX_LUNS];
	double phase_timeout;
	double soak_seconds, rate;
} opt = {
	.targets = 16, .luns = 64, .sessions = 1000, .mcs = 0, .logins_in_flight = 16,
	.phase_timeout = 60,
};

static int epfd;
static struct session *sessions;
static unsigned logins_active;  /* connections between connect() and full feature */
/* logins_done counts sessions (their leading connection in full feature),
 * joins_done the second connections. */
static unsigned long commands_done, verified_done, logins_done, joins_done, logouts_done,
	ua_retries;
static unsigned long *lun_target_covered;   /* bit per (target, LUN) */
static double phase_started;
/* Command latencies in milliseconds, a bucket each up to LAT_BUCKETS - 1
 * (the last one takes everything longer): the I/O phase reports the
 * median, the 99th percentile and the longest. */
#define LAT_BUCKETS 10001
static unsigned long latency_ms[LAT_BUCKETS];
static double latency_max;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put_be24(uint8_t *p, uint32_t v) { p[0] = v >> 16; p[1] = v >> 8; p[2] = v; }
static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get_be24(const uint8_t *p) { return (uint32_t)p[0] << 16 | p[1] << 8 | p[2]; }
static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static __attribute__((noreturn, format(printf, 2, 3))) void
fail(const struct session *s, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL: ");
	if (s)
		printf("session %u (%s, target %s%u, state %s): ", s->idx, s->initiator,
		       opt.target_prefix, s->target, sess_state_names[s->state]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* ---------------------------------------------------------------- wire */

static void arm(struct conn *c, bool out)
{
	if (c->want_out == out)
		return;
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		fail(c->sess, "epoll_ctl: %s", strerror(errno));
	c->want_out = out;
}

static void flush_tx(struct conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				arm(c, true);
				return;
			}
			if (errno == EINTR)
				continue;
			fail(c->sess, "send on connection %u: %s", c->cid, strerror(errno));
		}
		c->tx_off += (size_t)n;
	}
	c->tx_len = c->tx_off = 0;
	arm(c, false);
}

/* Queues one PDU (no digests: the logins offer None) and sends what it can. */
static void send_pdu(struct conn *c, uint8_t *bhs, const void *data, uint32_t len)
{
	uint32_t padded = (len + 3) & ~3u;
	if (c->tx_len + BHS_LEN + padded > TX_CAP)
		fail(c->sess, "transmit buffer of connection %u full", c->cid);
	put_be24(bhs + 5, len);
	memcpy(c->tx + c->tx_len, bhs, BHS_LEN);
	c->tx_len += BHS_LEN;
	if (len) {
		memcpy(c->tx + c->tx_len, data, len);
		memset(c->tx + c->tx_len + len, 0, padded - len);
		c->tx_len += padded;
	}
	flush_tx(c);
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	if (c->state == C_CONNECTING || c->state == C_LOGIN)
		logins_active--;
	c->fd = -1;
	c->state = C_CLOSED;
	c->rx_len = c->tx_len = c->tx_off = 0;
}

static void conn_open(struct session *s, struct conn *c, uint16_t cid)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->sess = s;
	c->cid = cid;
	c->rx_len = c->tx_len = c->tx_off = 0;
	c->want_out = true;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		fail(s, "socket: %s (raise ulimit -n)", strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		fail(s, "connect: %s", strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		fail(s, "epoll_ctl: %s", strerror(errno));
	c->state = C_CONNECTING;
	logins_active++;
}

/* ---------------------------------------------------------------- login */

static size_t add_key(char *buf, size_t off, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + off, cap - off, fmt, ap);
	va_end(ap);
	if (n < 0 || off + (size_t)n + 1 >= cap)
		abort();
	return off + (size_t)n + 1; /* keep the NUL: keys are NUL-separated */
}

/* One Login Request straight into the operational stage, asking for full
 * feature. The keys only on the first request of a login; a second one
 * (the target answered without the transition, or in pieces) is empty. */
static void send_login(struct conn *c, bool first)
{
	struct session *s = c->sess;
	char text[1024];
	size_t n = 0;
	uint8_t bhs[BHS_LEN] = { 0 };
	bool lead = c->cid == 0;

	if (first) {
		n = add_key(text, n, sizeof(text), "InitiatorName=%s", s->initiator);
		n = add_key(text, n, sizeof(text), "TargetName=%s%u", opt.target_prefix, s->target);
		n = add_key(text, n, sizeof(text), "SessionType=Normal");
		n = add_key(text, n, sizeof(text), "HeaderDigest=None");
		n = add_key(text, n, sizeof(text), "DataDigest=None");
		n = add_key(text, n, sizeof(text), "MaxRecvDataSegmentLength=%u", MY_MRDSL);
		if (lead) {
			n = add_key(text, n, sizeof(text), "MaxConnections=%u", s->nconns);
			n = add_key(text, n, sizeof(text), "ImmediateData=Yes");
			n = add_key(text, n, sizeof(text), "InitialR2T=No");
			n = add_key(text, n, sizeof(text), "FirstBurstLength=65536");
			n = add_key(text, n, sizeof(text), "MaxBurstLength=262144");
			n = add_key(text, n, sizeof(text), "ErrorRecoveryLevel=0");
			n = add_key(text, n, sizeof(text), "DefaultTime2Wait=0");
			n = add_key(text, n, sizeof(text), "DefaultTime2Retain=0");
		}
		c->login_itt = s->next_itt++;
	}
	bhs[0] = OP_LOGIN_REQ | OP_IMMEDIATE;
	bhs[1] = FLAG_FINAL | 1 << 2 | 3; /* T, CSG operational, NSG full feature */
	memcpy(bhs + 8, s->isid, 6);
	put_be16(bhs + 14, lead ? 0 : s->tsih);
	put_be32(bhs + 16, c->login_itt);
	put_be16(bhs + 20, c->cid);
	put_be32(bhs + 24, s->cmd_sn);
	put_be32(bhs + 28, c->exp_stat_sn);
	send_pdu(c, bhs, text, (uint32_t)n);
}

/* Value of KEY in a login response's text, or NULL. */
static const char *find_key(const uint8_t *data, uint32_t len, const char *key)
{
	size_t kl = strlen(key);
	uint32_t i = 0;
	while (i < len) {
		const char *pair = (const char *)data + i;
		size_t pl = strnlen(pair, len - i);
		if (pl > kl && !memcmp(pair, key, kl) && pair[kl] == '=')
			return pair + kl + 1;
		i += (uint32_t)pl + 1;
	}
	return NULL;
}

static void start_io(struct session *s);
static void send_next_command(struct session *s);

static void login_response(struct conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t len)
{
	struct session *s = c->sess;
	uint16_t status = get_be16(bhs + 36);
	if (status)
		fail(s, "login of connection %u refused, status 0x%04x", c->cid, status);
	c->exp_stat_sn = get_be32(bhs + 24) + 1;
	s->exp_cmd_sn = get_be32(bhs + 28);
	s->max_cmd_sn = get_be32(bhs + 32);
	if (c->cid == 0) {
		s->tsih = get_be16(bhs + 14);
		const char *v = find_key(data, len, "ImmediateData");
		if (v && strncmp(v, "Yes", 3))
			fail(s, "the target answered ImmediateData=%s; the client needs Yes", v);
		v = find_key(data, len, "MaxRecvDataSegmentLength");
		if (v && atoi(v) < XFER)
			fail(s, "the target's MaxRecvDataSegmentLength %s is below %u", v, XFER);
		v = find_key(data, len, "MaxConnections");
		if (s->nconns > 1 && (!v || (unsigned)atoi(v) < s->nconns))
			fail(s, "MaxConnections=%u not agreed (answer %s); the target's MaxConnections "
			     "attribute is too low", s->nconns, v ? v : "none");
	}
	if (!(bhs[1] & FLAG_FINAL) || (bhs[1] & 3) != 3) {
		/* Not in full feature yet (or more text to come): ask again. */
		send_login(c, false);
		return;
	}
	if (c->cid == 0)
		s->cmd_sn = s->exp_cmd_sn;
	c->state = C_FFP;
	logins_active--;
	if (c->cid == 0)
		logins_done++;
	else
		joins_done++;
	if (c->cid == 0 && s->nconns > 1) {
		/* The join waits until every lead is in (scale mode), so that the
		 * leads alone decide the placement of sessions. */
		s->state = S_JOIN_LOGIN;
		return;
	}
	s->state = S_READY;
}

/* ---------------------------------------------------------------- I/O */

static void fill_pattern(struct session *s, uint16_t lun)
{
	uint32_t seed = s->idx * 2654435761u ^ s->generation * 40503u ^ lun * 97u;
	for (unsigned i = 0; i < XFER; i += 4) {
		seed = seed * 1103515245u + 12345u;
		put_be32(s->wdata + i, seed);
	}
}

/* Each session's own 4 KiB: sessions sharing a LUN never overlap. */
static uint32_t session_lba(const struct session *s)
{
	return s->idx * (XFER / BLOCK);
}

static void send_scsi(struct session *s, bool write)
{
	struct conn *c = &s->conns[s->conn_rr++ % s->nconns];
	uint16_t lun = s->luns[s->lun_pos];
	uint8_t bhs[BHS_LEN] = { 0 };

	if ((int32_t)(s->cmd_sn - s->max_cmd_sn) > 0)
		fail(s, "CmdSN %u beyond MaxCmdSN %u with one command at a time", s->cmd_sn,
		     s->max_cmd_sn);
	s->cmd_itt = s->next_itt++;
	s->cmd_sent = now();
	s->rgot = 0;
	bhs[0] = OP_SCSI_CMD;
	bhs[1] = FLAG_FINAL | (write ? 0x20 : 0x40) | 1; /* SIMPLE */
	/* LUN, peripheral or flat addressing (SAM-5 4.7) */
	if (lun < 256) {
		bhs[9] = (uint8_t)lun;
	} else {
		bhs[8] = 0x40 | (uint8_t)(lun >> 8);
		bhs[9] = (uint8_t)lun;
	}
	put_be32(bhs + 16, s->cmd_itt);
	put_be32(bhs + 20, XFER);
	put_be32(bhs + 24, s->cmd_sn++);
	put_be32(bhs + 28, c->exp_stat_sn);
	uint8_t *cdb = bhs + 32;
	cdb[0] = write ? 0x2a : 0x28;
	put_be32(cdb + 2, session_lba(s));
	put_be16(cdb + 7, XFER / BLOCK);
	if (write)
		send_pdu(c, bhs, s->wdata, XFER);
	else
		send_pdu(c, bhs, NULL, 0);
}

static void send_next_command(struct session *s)
{
	if (s->lun_pos == s->nluns) {
		s->state = S_IO_DONE;
		return;
	}
	if (!s->reading)
		fill_pattern(s, s->luns[s->lun_pos]);
	send_scsi(s, !s->reading);
}

static void start_io(struct session *s)
{
	s->state = S_IO;
	s->lun_pos = 0;
	s->reading = false;
	s->ua_seen = false;
	send_next_command(s);
}

/* A command ended with STATUS (and, for a READ, s->rgot bytes in). */
static void note_latency(const struct session *s)
{
	double ms = (now() - s->cmd_sent) * 1000;
	unsigned b = ms < LAT_BUCKETS - 1 ? (unsigned)ms : LAT_BUCKETS - 1;
	latency_ms[b]++;
	if (ms > latency_max)
		latency_max = ms;
}

/* The smallest latency (ms) that at least @fraction of the commands kept. */
static unsigned latency_percentile(double fraction)
{
	unsigned long total = 0, seen = 0;
	for (unsigned b = 0; b < LAT_BUCKETS; b++)
		total += latency_ms[b];
	for (unsigned b = 0; b < LAT_BUCKETS; b++) {
		seen += latency_ms[b];
		if (seen && seen >= fraction * total)
			return b + 1;
	}
	return LAT_BUCKETS;
}

static void command_done(struct session *s, uint8_t status, const uint8_t *sense, uint32_t slen)
{
	uint16_t lun = s->luns[s->lun_pos];
	note_latency(s);
	if (status == 0x02 && !s->ua_seen && slen >= 3) {
		/* sense data after the 2-byte length: fixed or descriptor */
		unsigned key = (sense[0] & 0x7f) >= 0x72 ? sense[1] & 0x0f : sense[2] & 0x0f;
		if (key == 6) {
			/* The nexus's POWER ON: send the same command again. */
			s->ua_seen = true;
			ua_retries++;
			send_scsi(s, !s->reading);
			return;
		}
	}
	if (status)
		fail(s, "%s of LUN %u ended with status 0x%02x", s->reading ? "READ" : "WRITE", lun,
		     status);
	commands_done++;
	if (!s->reading) {
		s->reading = true;
		send_scsi(s, false);
		return;
	}
	if (s->rgot != XFER)
		fail(s, "READ of LUN %u returned %u bytes, expected %u", lun, s->rgot, XFER);
	if (opt.verify[lun]) {
		if (memcmp(s->rdata, s->wdata, XFER))
			fail(s, "READ of LUN %u at LBA %u returned other data than was written", lun,
			     session_lba(s));
	} else {
		for (unsigned i = 0; i < XFER; i++)
			if (s->rdata[i])
				fail(s, "READ of nullio LUN %u returned non-zero byte at %u", lun, i);
	}
	verified_done++;
	unsigned long bit = (unsigned long)s->target * opt.luns + lun;
	lun_target_covered[bit / 64] |= 1ul << (bit % 64);
	s->reading = false;
	s->ua_seen = false;
	s->lun_pos++;
	send_next_command(s);
}

/* ---------------------------------------------------------------- logout */

static void start_logout(struct session *s)
{
	struct conn *c = &s->conns[0];
	uint8_t bhs[BHS_LEN] = { 0 };
	bhs[0] = OP_LOGOUT_REQ | OP_IMMEDIATE;
	bhs[1] = FLAG_FINAL; /* reason 0: close the session */
	put_be32(bhs + 16, s->next_itt++);
	put_be32(bhs + 24, s->cmd_sn);
	put_be32(bhs + 28, c->exp_stat_sn);
	s->state = S_LOGOUT;
	c->state = C_LOGOUT_SENT;
	send_pdu(c, bhs, NULL, 0);
}

/* The session is over when the Logout Response came and the target
 * closed every other connection. */
static void check_logged_out(struct session *s)
{
	for (unsigned i = 0; i < s->nconns; i++)
		if (s->conns[i].state != C_CLOSED)
			return;
	s->state = S_DONE;
	logouts_done++;
}

/* ---------------------------------------------------------------- receive */

static void handle_pdu(struct conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t len)
{
	struct session *s = c->sess;
	uint8_t op = bhs[0] & 0x3f;

	switch (op) {
	case OP_LOGIN_RSP:
		if (c->state != C_LOGIN)
			fail(s, "Login Response on connection %u outside login", c->cid);
		login_response(c, bhs, data, len);
		return;
	case OP_NOP_IN:
		s->exp_cmd_sn = get_be32(bhs + 28);
		s->max_cmd_sn = get_be32(bhs + 32);
		if (get_be32(bhs + 20) != RESERVED_TAG) {
			/* The target's ping (NopInInterval): answer with its TTT. */
			uint8_t out[BHS_LEN] = { 0 };
			out[0] = OP_NOP_OUT | OP_IMMEDIATE;
			out[1] = FLAG_FINAL;
			memcpy(out + 8, bhs + 8, 8);
			put_be32(out + 16, RESERVED_TAG);
			put_be32(out + 20, get_be32(bhs + 20));
			put_be32(out + 24, s->cmd_sn);
			put_be32(out + 28, c->exp_stat_sn);
			send_pdu(c, out, NULL, 0);
		}
		return;
	case OP_ASYNC:
		s->exp_cmd_sn = get_be32(bhs + 28);
		s->max_cmd_sn = get_be32(bhs + 32);
		return;
	case OP_DATA_IN: {
		if (s->state != S_IO || get_be32(bhs + 16) != s->cmd_itt || !s->reading)
			fail(s, "Data-In for ITT 0x%x out of place", get_be32(bhs + 16));
		uint32_t off = get_be32(bhs + 40);
		if (off + len > XFER)
			fail(s, "Data-In beyond the %u bytes asked for", XFER);
		memcpy(s->rdata + off, data, len);
		s->rgot += len;
		s->exp_cmd_sn = get_be32(bhs + 28);
		s->max_cmd_sn = get_be32(bhs + 32);
		if (bhs[1] & 0x01) { /* S: the status is in this PDU */
			c->exp_stat_sn = get_be32(bhs + 24) + 1;
			command_done(s, bhs[3], NULL, 0);
		}
		return;
	}
	case OP_SCSI_RSP: {
		if (s->state != S_IO || get_be32(bhs + 16) != s->cmd_itt)
			fail(s, "SCSI Response for ITT 0x%x out of place", get_be32(bhs + 16));
		if (bhs[2])
			fail(s, "iSCSI response 0x%02x", bhs[2]);
		c->exp_stat_sn = get_be32(bhs + 24) + 1;
		s->exp_cmd_sn = get_be32(bhs + 28);
		s->max_cmd_sn = get_be32(bhs + 32);
		uint32_t slen = len >= 2 ? get_be16(data) : 0;
		if (slen + 2 > len)
			slen = len >= 2 ? len - 2 : 0;
		command_done(s, bhs[3], data + 2, slen);
		return;
	}
	case OP_LOGOUT_RSP:
		if (c->state != C_LOGOUT_SENT || bhs[2])
			fail(s, "Logout Response 0x%02x on connection %u", bhs[2], c->cid);
		conn_close(c);
		check_logged_out(s);
		return;
	case OP_R2T:
		fail(s, "R2T for a WRITE whose data was all immediate");
	case OP_REJECT:
		fail(s, "Reject, reason 0x%02x, on connection %u", bhs[2], c->cid);
	default:
		fail(s, "unexpected opcode 0x%02x on connection %u", op, c->cid);
	}
}

static void on_readable(struct conn *c)
{
	struct session *s = c->sess;
	for (;;) {
		ssize_t n = recv(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			if (s->state == S_LOGOUT) {
				conn_close(c);
				check_logged_out(s);
				return;
			}
			fail(s, "recv on connection %u: %s", c->cid, strerror(errno));
		}
		if (n == 0) {
			/* After a logout of the session the target closes the
			 * other connection; at any other time that is a failure. */
			if (s->state == S_LOGOUT) {
				conn_close(c);
				check_logged_out(s);
				return;
			}
			fail(s, "the target closed connection %u", c->cid);
		}
		c->rx_len += (size_t)n;
		size_t pos = 0;
		while (c->rx_len - pos >= BHS_LEN) {
			const uint8_t *bhs = c->rx + pos;
			uint32_t ahs = bhs[4] * 4u, dlen = get_be24(bhs + 5);
			if (dlen > MY_MRDSL)
				fail(s, "a %u-byte data segment, above our MaxRecvDataSegmentLength",
				     dlen);
			size_t total = BHS_LEN + ahs + ((dlen + 3) & ~3u);
			if (c->rx_len - pos < total)
				break;
			handle_pdu(c, bhs, bhs + BHS_LEN + ahs, dlen);
			if (c->state == C_CLOSED)
				return;
			pos += total;
		}
		memmove(c->rx, c->rx + pos, c->rx_len - pos);
		c->rx_len -= pos;
	}
}

static void on_event(struct conn *c, uint32_t events)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			fail(c->sess, "connect of connection %u: %s", c->cid, strerror(err));
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		c->state = C_LOGIN;
		arm(c, false);
		send_login(c, true);
	}
	if (events & EPOLLOUT)
		flush_tx(c);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_readable(c);
}

/* ---------------------------------------------------------------- plan */

static void session_init(struct session *s, unsigned idx, unsigned generation)
{
	free(s->luns);
	memset(s, 0, sizeof(*s));
	s->idx = idx;
	s->generation = generation;
	s->target = idx % opt.targets;
	snprintf(s->initiator, sizeof(s->initiator), "iqn.2026-12.test:scale%u", idx);
	/* ISID: type 10b (random), then the generation and the index. */
	s->isid[0] = 0x80;
	s->isid[1] = (uint8_t)(generation >> 16);
	s->isid[2] = (uint8_t)(generation >> 8);
	s->isid[3] = (uint8_t)generation;
	put_be16(s->isid + 4, (uint16_t)idx);
	s->nconns = idx < opt.mcs ? 2 : 1;
	s->next_itt = 1;
	s->cmd_sn = 1;
	for (unsigned i = 0; i < MAX_CONNS_PER_SESSION; i++) {
		s->conns[i].fd = -1;
		s->conns[i].state = C_UNUSED;
	}

	/* Which LUNs: the verify LUNs always, then either all LUNs or this
	 * session's share of the rest (LUN l goes to the session whose rank
	 * among its target's sessions is l modulo their number). In soak
	 * mode one verify LUN is enough. */
	s->luns = calloc(opt.luns, sizeof(*s->luns));
	if (!s->luns)
		fail(s, "out of memory");
	unsigned rank = idx / opt.targets;
	unsigned per_target = opt.sessions / opt.targets +
			      (s->target < opt.sessions % opt.targets ? 1 : 0);
	for (unsigned l = 0; l < opt.luns; l++) {
		bool take;
		if (opt.verify[l])
			take = true;
		else if (opt.soak_seconds > 0)
			take = false;
		else
			take = opt.all_luns || l % per_target == rank % per_target;
		if (take)
			s->luns[s->nluns++] = (uint16_t)l;
	}
	if (opt.soak_seconds > 0 && s->nluns > 1)
		s->nluns = 1;
	if (!s->nluns)
		s->luns[s->nluns++] = 0;
}

/* ---------------------------------------------------------------- loop */

static void poll_once(int ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(epfd, evs, 256, ms);
	if (n < 0 && errno != EINTR)
		fail(NULL, "epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		on_event(evs[i].data.ptr, evs[i].events);
	}
}

static void phase_check_timeout(const char *phase, enum sess_state want)
{
	if (now() - phase_started < opt.phase_timeout)
		return;
	unsigned behind = 0;
	for (unsigned i = 0; i < opt.sessions; i++)
		if (sessions[i].state < want)
			behind++;
	for (unsigned i = 0; i < opt.sessions; i++)
		if (sessions[i].state < want)
			fail(&sessions[i], "%u session(s) did not finish %s within %.0f s (first one "
			     "shown)", behind, phase, opt.phase_timeout);
}

static unsigned count_state_at_least(enum sess_state st)
{
	unsigned n = 0;
	for (unsigned i = 0; i < opt.sessions; i++)
		n += sessions[i].state >= st;
	return n;
}

/* A line on stdin starts the next phase; EOF is a go too (a script that
 * does not look in between). */
static void barrier(void)
{
	char line[64];
	fflush(stdout);
	for (;;) {
		poll_once(100);
		struct timeval tv = { 0, 0 };
		fd_set fds;
		FD_ZERO(&fds);
		FD_SET(0, &fds);
		if (select(1, &fds, NULL, NULL, &tv) > 0) {
			if (!fgets(line, sizeof(line), stdin))
				clearerr(stdin);
			break;
		}
	}
	phase_started = now();
}

static void run_logins(void)
{
	unsigned next = 0, nleads;
	phase_started = now();
	/* The leading connections first, at most logins_in_flight at once (the
	 * daemon caps logins in progress per address), then the joins. */
	while (count_state_at_least(S_JOIN_LOGIN) < opt.sessions) {
		/* --join-with-lead: a session's second connection goes as soon
		 * as its lead is in, as an initiator bringing up one session at
		 * a time would do it. */
		for (unsigned i = 0; opt.join_with_lead && i < next; i++) {
			struct session *s = &sessions[i];
			if (s->state == S_JOIN_LOGIN && s->conns[1].state == C_UNUSED &&
			    logins_active < opt.logins_in_flight)
				conn_open(s, &s->conns[1], 1);
		}
		while (next < opt.sessions && logins_active < opt.logins_in_flight) {
			struct session *s = &sessions[next++];
			s->state = S_LEAD_LOGIN;
			conn_open(s, &s->conns[0], 0);
		}
		poll_once(50);
		phase_check_timeout("the leading logins", S_JOIN_LOGIN);
	}
	nleads = opt.sessions;
	next = 0;
	while (count_state_at_least(S_READY) < opt.sessions) {
		while (next < opt.sessions && logins_active < opt.logins_in_flight) {
			struct session *s = &sessions[next++];
			if (s->nconns > 1 && s->conns[1].state == C_UNUSED)
				conn_open(s, &s->conns[1], 1);
		}
		poll_once(50);
		phase_check_timeout("the joining logins", S_READY);
	}
	unsigned conns = 0;
	for (unsigned i = 0; i < opt.sessions; i++)
		conns += sessions[i].nconns;
	printf("logged_in %u %u (%.1f s)\n", nleads, conns, now() - phase_started);
}

static void run_io(void)
{
	for (unsigned i = 0; i < opt.sessions; i++)
		start_io(&sessions[i]);
	while (count_state_at_least(S_IO_DONE) < opt.sessions) {
		poll_once(50);
		phase_check_timeout("their I/O", S_IO_DONE);
	}
	unsigned luns = 0;
	for (unsigned long b = 0; b < (unsigned long)opt.targets * opt.luns; b++)
		luns += (lun_target_covered[b / 64] >> (b % 64)) & 1;
	printf("io_done %lu %lu %u %u %u %.0f (%.1f s, %lu unit attention retries; latency ms:"
	       " median, 99th percentile, longest)\n", commands_done, verified_done, luns,
	       latency_percentile(0.5), latency_percentile(0.99), latency_max,
	       now() - phase_started, ua_retries);
}

static void run_logouts(void)
{
	for (unsigned i = 0; i < opt.sessions; i++)
		start_logout(&sessions[i]);
	while (count_state_at_least(S_DONE) < opt.sessions) {
		poll_once(50);
		phase_check_timeout("their logout", S_DONE);
	}
	printf("logged_out %u (%.1f s)\n", opt.sessions, now() - phase_started);
}

/* Soak: each slot's session lives opt.sessions / rate seconds; the slots
 * start staggered by 1/rate, so logins and logouts are spread evenly. */
static void run_soak(void)
{
	double start = now(), lifetime = opt.sessions / opt.rate, next_report = start + 10;
	unsigned long last_progress = 0;
	double progress_at = start;

	for (unsigned i = 0; i < opt.sessions; i++) {
		session_init(&sessions[i], i, 0);
		sessions[i].expires = start + (i + 1) / opt.rate;
	}
	for (;;) {
		double t = now();
		bool ending = t - start >= opt.soak_seconds;
		for (unsigned i = 0; i < opt.sessions; i++) {
			struct session *s = &sessions[i];
			switch (s->state) {
			case S_IDLE:
				if (ending) {
					s->state = S_DONE;
					break;
				}
				if (logins_active >= opt.logins_in_flight)
					break;
				/* First round: slot i starts at once; its first life is
				 * shorter, so that expiries are staggered. */
				s->state = S_LEAD_LOGIN;
				conn_open(s, &s->conns[0], 0);
				break;
			case S_JOIN_LOGIN:
				if (s->conns[1].state == C_UNUSED && logins_active < opt.logins_in_flight)
					conn_open(s, &s->conns[1], 1);
				break;
			case S_READY:
				start_io(s);
				break;
			case S_IO_DONE:
				if (ending || t >= s->expires)
					start_logout(s);
				break;
			case S_DONE:
				if (!ending) {
					unsigned gen = s->generation + 1;
					session_init(s, i, gen);
					s->expires = t + lifetime;
				}
				break;
			default:
				break;
			}
		}
		if (ending && count_state_at_least(S_DONE) == opt.sessions)
			break;
		unsigned long progress = logins_done + joins_done + commands_done + logouts_done;
		if (progress != last_progress) {
			last_progress = progress;
			progress_at = t;
		} else if (t - progress_at > opt.phase_timeout) {
			for (unsigned i = 0; i < opt.sessions; i++)
				if (sessions[i].state != S_IO_DONE && sessions[i].state != S_DONE)
					fail(&sessions[i], "no progress for %.0f s", opt.phase_timeout);
			fail(NULL, "no progress for %.0f s", opt.phase_timeout);
		}
		if (t >= next_report) {
			printf("soak %.0f %lu %lu %lu\n", t - start, logins_done, logouts_done,
			       commands_done);
			fflush(stdout);
			next_report += 10;
		}
		poll_once(20);
	}
	printf("soak_done %.0f s: %lu sessions logged in (%lu with a second connection), "
	       "%lu logged out, %lu commands, %lu read-backs verified\n",
	       now() - start, logins_done, joins_done, logouts_done, commands_done, verified_done);
}

static void usage(void)
{
	fprintf(stderr, "usage: scale_client --port P --target-prefix IQN [--targets T] [--luns L]\n"
			"  [--sessions S] [--mcs N] [--verify-luns A,B,..] [--all-luns] [--join-with-lead]\n"
			"  [--logins-in-flight K] [--phase-timeout SEC] [--soak SEC --rate R]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "target-prefix", required_argument, NULL, 'T' },
		{ "targets", required_argument, NULL, 't' },
		{ "luns", required_argument, NULL, 'l' },
		{ "sessions", required_argument, NULL, 's' },
		{ "mcs", required_argument, NULL, 'm' },
		{ "verify-luns", required_argument, NULL, 'v' },
		{ "all-luns", no_argument, NULL, 'a' },
		{ "join-with-lead", no_argument, NULL, 'j' },
		{ "logins-in-flight", required_argument, NULL, 'k' },
		{ "phase-timeout", required_argument, NULL, 'o' },
		{ "soak", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'r' },
		{ 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': opt.port = atoi(optarg); break;
		case 'T': opt.target_prefix = optarg; break;
		case 't': opt.targets = (unsigned)atoi(optarg); break;
		case 'l': opt.luns = (unsigned)atoi(optarg); break;
		case 's': opt.sessions = (unsigned)atoi(optarg); break;
		case 'm': opt.mcs = (unsigned)atoi(optarg); break;
		case 'a': opt.all_luns = true; break;
		case 'j': opt.join_with_lead = true; break;
		case 'k': opt.logins_in_flight = (unsigned)atoi(optarg); break;
		case 'o': opt.phase_timeout = atof(optarg); break;
		case 'S': opt.soak_seconds = atof(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'v': {
			char *save = NULL, *list = strdup(optarg);
			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int l = atoi(t);
				if (l < 0 || l >= MAX_LUNS)
					usage();
				opt.verify[l] = true;
			}
			free(list);
			break;
		}
		default: usage();
		}
	}
	if (!opt.port || !opt.target_prefix || !opt.targets || !opt.luns ||
	    opt.luns > MAX_LUNS || !opt.sessions || opt.sessions > 65535 ||
	    opt.mcs > opt.sessions || !opt.logins_in_flight ||
	    (opt.soak_seconds > 0 && opt.rate <= 0))
		usage();

	/* Two descriptors per session and a few more. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)(opt.sessions + opt.mcs + 16))
		fail(NULL, "RLIMIT_NOFILE %llu is below the %u descriptors needed",
		     (unsigned long long)rl.rlim_cur, opt.sessions + opt.mcs + 16);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sessions = calloc(opt.sessions, sizeof(*sessions));
	lun_target_covered = calloc((size_t)opt.targets * opt.luns / 64 + 1, sizeof(unsigned long));
	if (epfd < 0 || !sessions || !lun_target_covered)
		fail(NULL, "out of memory or descriptors");

	if (opt.soak_seconds > 0) {
		run_soak();
		return 0;
	}
	for (unsigned i = 0; i < opt.sessions; i++)
		session_init(&sessions[i], i, 0);
	run_logins();
	barrier();
	run_io();
	barrier();
	run_logouts();
	return 0;
}
