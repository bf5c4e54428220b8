/* libFuzzer harness: whole iSCSI connections, in process, against nullio.
 *
 * The input is a script of records, each written by the harness to one of
 * up to three connections open at the same time:
 *
 *   byte 0     bits 0-1  connection slot (3 counts as 0)
 *              bit 2     sync first: wait until the target has read every
 *                        byte written so far on every connection and gone
 *                        quiet, so that what this record does comes after
 *                        what earlier records did on other connections
 *              bit 3     join (sync first): bytes 14-15 of the payload, the
 *                        TSIH of a Login Request, become the TSIH of the
 *                        session this input logged in to last, so that a
 *                        new connection can join it (MC/S) whatever TSIH
 *                        the target gave
 *              bit 4     echo TTT (sync first): bytes 20-23 become the last
 *                        Target Transfer Tag the target sent on this
 *                        connection (R2T, Text Response with C, Data-In
 *                        with A, NOP-In ping), for the PDU that answers it
 *              bit 5     acknowledge (sync first): bytes 28-31, ExpStatSN,
 *                        become the StatSN after the last one the target
 *                        sent on this connection
 *              bit 6     after writing, close our end at once (an initiator
 *                        that vanishes)
 *              bit 7     after writing, shut our end down for writing and
 *                        expect the target to close its end (orderly)
 *   bytes 1-2  payload length, big-endian (cut to what the input holds)
 *   payload    bytes for the connection: PDUs, or pieces of them
 *
 * Bits 3 to 5 patch the first PDU of the payload (cut short: what it
 * holds of those bytes) and mean nothing before something was seen (the
 * field is then left as written); seeds write the value they predict, so
 * the patch only matters where the prediction is wrong. On a connection
 * whose login agreed to HeaderDigest CRC32C the digest right behind the
 * BHS is computed again for the patched header (when the PDU has no AHS;
 * with one, the patched PDU is a digest error).
 *
 * A slot without a connection gets a new one at its next record, so one
 * input can log in, log out, reinstate and log in again. Each connection is
 * a socketpair: one end goes to the iSCSI driver with iscsi_accept() on
 * a reactor (slot i on reactor i mod 2), the other stays here; whatever the
 * target sends is read and dropped, so the target is never held up by an
 * unread socket.
 *
 * At the end every connection still open is shut down for writing, and the
 * target must close each within CLOSE_TIMEOUT_MS; then every session must
 * be gone within the same bound: the core's nexuses (scst_session_count())
 * and the driver's sessions, draining ones included (each TSIH seen in a
 * final Login Response, iscsi_session_tsih_exists()). A connection or
 * session that outlives its initiator is a leak (issue 5, section 2), so
 * the harness aborts and the fuzzer reports the input. Memory errors are
 * ASan's and UBSan's.
 *
 * FUZZ_TRACE=1 prints every PDU header the target sends (for checking what
 * a seed does), FUZZ_LOG=1 keeps the target's log at its usual level,
 * FUZZ_QUIET_MS=N makes sync points wait N ms of silence (default 2).
 *
 * The target (set up once, through the scst.conf parser and apply step):
 * iqn.2026-11.org.uscst:fuzz with InitialR2T=No (unsolicited data works
 * without reading R2Ts) and LUN 0 on nullio plus a read-only LUN 1, and
 * iqn.2026-11.org.uscst:fuzz-r2t with the defaults (InitialR2T=Yes): its
 * R2Ts carry TTTs 1, 2, ... per connection, so seeds can answer them
 * blind. Both offer ErrorRecoveryLevel 2 (SNACK, DataACK, recovery R2T;
 * connection recovery, TASK REASSIGN), which a login gets by asking for
 * it (the seeds that do not ask get 0), with DefaultTime2Wait 0 and
 * DefaultTime2Retain 1: a failed connection of an ERL 2 session, and so
 * every ERL 2 session once its initiator is gone, is kept Time2Wait +
 * Time2Retain + 1 seconds. An initiator may raise Time2Wait (the larger
 * wins) to an hour; so when an input's ERL 2 sessions (or those of a
 * connection that vanished before we read its login's answer, whose level
 * we do not know) outlive the bound, the harness disables the targets,
 * which ends kept connections within a second, and they must then go
 * (then it enables them again).
 * Seeds: tests/fuzz/make_seeds.py. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/log.h"
#include "base/reactor.h"
#include "core/scst.h"
#include "handlers/vdisk/vdisk.h"
#include "mgmt/config.h"
#include "targets/iscsi/dispatch.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/iscsi.h"

#define SLOTS 3
#define REACTORS 2
/* Connections one input may open in all (a bound on the work per input). */
#define MAX_CONNS 8
#define REC_SLOT_MASK 0x03
#define REC_SYNC 0x04
#define REC_JOIN 0x08
#define REC_ECHO_TTT 0x10
#define REC_ACK_STATSN 0x20
#define REC_PATCHES (REC_JOIN | REC_ECHO_TTT | REC_ACK_STATSN)
#define REC_VANISH 0x40
#define REC_CLOSE 0x80
#define REC_HEADER_LEN 3

/* How long the target may take to close a connection after its initiator
 * shut it down, and to free every session after that. Generous for an
 * ASan build on a loaded machine; a leak never ends. */
#define CLOSE_TIMEOUT_MS 3000
/* A connection the target has not read from for this long while we have
 * bytes for it: the rest of its records are dropped (the final check then
 * tells whether the target is stuck or only flow-controlling). */
#define STALL_MS 1000
/* Bound of a sync point: how long to wait for the target to read. */
#define SYNC_MS 500

static const char target_conf[] =
	"HANDLER vdisk_nullio {\n"
	"	DEVICE fuzz0 {\n"
	"		size_mb 64\n"
	"	}\n"
	"	DEVICE fuzz1 {\n"
	"		size_mb 1\n"
	"	}\n"
	"}\n"
	"TARGET_DRIVER iscsi {\n"
	"	enabled 1\n"
	"	TARGET iqn.2026-11.org.uscst:fuzz {\n"
	"		enabled 1\n"
	"		InitialR2T No\n"
	"		ImmediateData Yes\n"
	"		ErrorRecoveryLevel 2\n"
	"		DefaultTime2Wait 0\n"
	"		DefaultTime2Retain 1\n"
	"		LUN 0 fuzz0\n"
	"		LUN 1 fuzz1 {\n"
	"			read_only 1\n"
	"		}\n"
	"	}\n"
	"	TARGET iqn.2026-11.org.uscst:fuzz-r2t {\n"
	"		enabled 1\n"
	"		ErrorRecoveryLevel 2\n"
	"		DefaultTime2Wait 0\n"
	"		DefaultTime2Retain 1\n"
	"		LUN 0 fuzz0\n"
	"	}\n"
	"}\n";

enum wire_state {
	WIRE_OPEN,      /* we write; the target may close at any time */
	WIRE_CLOSING,   /* shut down for writing; the target must close */
	WIRE_VANISHED,  /* we closed at once; the target must close too */
	WIRE_DONE,      /* the target has closed its end */
};

/* Our end of one connection. */
struct wire {
	int fd;
	/* The driver's end: its number and socket inode, to tell when the
	 * driver has closed it after we vanished (no EOF reaches us then). */
	int target_fd;
	ino_t target_ino;
	/* Hands target_fd to its reactor (start_conn_here()). finish() waits
	 * for the driver to close it, so the message has run before the wire
	 * is reused by the next input. */
	struct reactor_msg start_msg;
	enum wire_state state;
	bool peer_closed;   /* EOF seen: writes are pointless */
	bool stalled;       /* the target stopped reading; records dropped */
	/* Where the target's PDUs begin (parse_target_bytes()): the header
	 * being collected, then what is left of that PDU after it, of which
	 * the data segment starts at data_at and is data_len long. */
	uint8_t bhs[48];
	size_t bhs_got;
	size_t skip;
	size_t data_at;
	size_t data_len;
	bool logged_in;     /* its final Login Response has come */
	/* What the Login Responses said, to know which digests the PDUs after
	 * the final one carry. */
	char login_text[4096];
	size_t login_text_len;
	bool digests_known; /* the final Login Response has ended */
	bool header_digest;
	bool data_digest;
	/* For the patches of bits 4 and 5: the last TTT the target sent that
	 * asks for an answer, and the StatSN after its last status. */
	uint32_t last_ttt;
	bool have_ttt;
	uint32_t next_statsn;
	bool have_statsn;
};

static struct wire wires[MAX_CONNS];
static unsigned nwires;
static int slot_wire[SLOTS];
/* FUZZ_TRACE=1: one line per PDU the target sends, for checking what a
 * seed does. */
static bool trace;
/* How long the target must stay silent for a sync point to end;
 * FUZZ_QUIET_MS=N for looking at slow answers with FUZZ_TRACE. */
static int quiet_ms = 2;

/* TSIHs of the sessions this input logged in: each must be gone at the
 * end, draining ones included (the core's count only covers registered
 * nexuses; the driver keeps a closed session until its commands end). */
static uint16_t tsihs[MAX_CONNS];
static unsigned ntsihs;
/* The TSIH of the last final Login Response (the record's join bit). */
static uint16_t last_tsih;
static bool have_tsih;
/* A login of this input agreed to ErrorRecoveryLevel 2: its session may
 * be kept after its connections are gone. Or it may have: a connection
 * vanished before we read its final Login Response. */
static bool erl2_seen;
static bool erl_unknown;

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One PDU header from the target. */
static void on_target_pdu(struct wire *w, const uint8_t *h)
{
	uint8_t op = h[0] & 0x3f;

	if (trace)
		fprintf(stderr,
			"trace: conn %u <- op 0x%02x flags 0x%02x b2 0x%02x b3 0x%02x itt 0x%08x"
			" ttt 0x%08x statsn %u expcmdsn %u maxcmdsn %u dlen %u\n",
			(unsigned)(w - wires), op, h[1], h[2], h[3], be32_at(h + 16),
			be32_at(h + 20), be32_at(h + 24), be32_at(h + 28), be32_at(h + 32),
			be32_at(h + 4) & 0xffffff);
	uint32_t ttt = be32_at(h + 20);
	bool asks = false;  /* the TTT is one the initiator must answer with */
	bool status = false; /* the PDU takes a StatSN */
	switch (op) {
	case 0x20: /* NOP-In: a ping when it has a TTT, an answer when an ITT */
		asks = ttt != 0xffffffffu;
		status = be32_at(h + 16) != 0xffffffffu;
		break;
	case 0x21: /* SCSI Response */
	case 0x22: /* Task Management Function Response */
	case 0x23: /* Login Response */
	case 0x26: /* Logout Response */
	case 0x32: /* Asynchronous Message */
	case 0x3f: /* Reject */
		status = true;
		break;
	case 0x24: /* Text Response: more to fetch when C is set */
		asks = ttt != 0xffffffffu;
		status = true;
		break;
	case 0x25: /* Data-In: A asks for a DataACK; S carries status */
		asks = (h[1] & 0x40) && ttt != 0xffffffffu;
		status = h[1] & 0x01;
		break;
	case 0x31: /* R2T */
		asks = true;
		break;
	}
	if (asks) {
		w->last_ttt = ttt;
		w->have_ttt = true;
	}
	if (status) {
		w->next_statsn = be32_at(h + 24) + 1;
		w->have_statsn = true;
	}
	/* The final Login Response: T=1, NSG=full feature, status 0. */
	if (op == 0x23 && (h[1] & 0x80) && (h[1] & 3) == 3 && !h[36] && !h[37] &&
	    !w->logged_in) {
		w->logged_in = true;
		uint16_t tsih = (uint16_t)(h[14] << 8 | h[15]);
		if (ntsihs < MAX_CONNS)
			tsihs[ntsihs++] = tsih;
		last_tsih = tsih;
		have_tsih = true;
		if (trace)
			fprintf(stderr, "trace: conn %u logged in, TSIH %u\n",
				(unsigned)(w - wires), tsih);
	}
}

/* Whether the Login Responses of @w answered @key=@value. */
static bool login_agreed(const struct wire *w, const char *key, const char *value)
{
	char want[64];
	int n = snprintf(want, sizeof(want), "%s=%s", key, value);
	size_t len = (size_t)n;

	for (size_t at = 0; at + len <= w->login_text_len; at++)
		if ((at == 0 || w->login_text[at - 1] == '\0') &&
		    memcmp(w->login_text + at, want, len) == 0 &&
		    (at + len == w->login_text_len || w->login_text[at + len] == '\0'))
			return true;
	return false;
}

/* The end of a PDU from the target: after the final Login Response, the
 * digests its login agreed to start (RFC 7143 13.1). */
static void target_pdu_done(struct wire *w)
{
	if (w->logged_in && !w->digests_known) {
		w->digests_known = true;
		w->header_digest = login_agreed(w, "HeaderDigest", "CRC32C");
		w->data_digest = login_agreed(w, "DataDigest", "CRC32C");
		erl2_seen |= login_agreed(w, "ErrorRecoveryLevel", "2");
	}
}

/* Follows the PDU boundaries of what the target sent on @w, digests
 * included; Login Responses' data is kept to know which. */
static void parse_target_bytes(struct wire *w, const uint8_t *p, size_t n)
{
	while (n) {
		if (w->skip) {
			size_t k = n < w->skip ? n : w->skip;
			for (size_t i = 0; i < k && w->data_len; i++) {
				if (w->data_at) {
					w->data_at--;
					continue;
				}
				w->data_len--;
				if ((w->bhs[0] & 0x3f) == 0x23 &&
				    w->login_text_len < sizeof(w->login_text))
					w->login_text[w->login_text_len++] = (char)p[i];
			}
			p += k;
			n -= k;
			w->skip -= k;
			if (!w->skip)
				target_pdu_done(w);
			continue;
		}
		size_t k = sizeof(w->bhs) - w->bhs_got;
		if (k > n)
			k = n;
		memcpy(w->bhs + w->bhs_got, p, k);
		w->bhs_got += k;
		p += k;
		n -= k;
		if (w->bhs_got < sizeof(w->bhs))
			return;
		w->bhs_got = 0;
		bool hd = w->digests_known && w->header_digest;
		bool dd = w->digests_known && w->data_digest;
		on_target_pdu(w, w->bhs);
		size_t dlen = be32_at(w->bhs + 4) & 0xffffff;
		w->data_at = w->bhs[4] * 4u + (hd ? 4 : 0);
		w->data_len = dlen;
		w->skip = w->data_at + ((dlen + 3) & ~(size_t)3) + (dd && dlen ? 4 : 0);
		if (!w->skip)
			target_pdu_done(w);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Set-up, once per process. */

static void start_conn_here(struct reactor_msg *m)
{
	struct wire *w = container_of(m, struct wire, start_msg);

	/* iscsi_accept() must run on the reactor the connection lives on. */
	iscsi_accept(w->target_fd, reactor_self());
}

static void setup_target_once(void)
{
	static bool done;
	char err[512];

	if (done)
		return;
	done = true;
	/* Bad input is logged as a warning per PDU; the fuzzer would drown
	 * in it. FUZZ_LOG=1 keeps the daemon's usual level. */
	if (!getenv("FUZZ_LOG"))
		log_threshold = LOG_LVL_ERROR;
	trace = getenv("FUZZ_TRACE") != NULL;
	if (getenv("FUZZ_QUIET_MS"))
		quiet_ms = atoi(getenv("FUZZ_QUIET_MS"));
	/* As the daemon does: a vanished peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	scst_core_init();
	if (vdisk_register() || iscsi_driver_register()) {
		fprintf(stderr, "fuzz_connection: cannot register vdisk and iscsi\n");
		abort();
	}
	if (reactors_start(REACTORS)) {
		fprintf(stderr, "fuzz_connection: cannot start the reactors\n");
		abort();
	}
	struct config_tree *tree = config_parse_string(target_conf, "fuzz_connection", err,
						       sizeof(err));
	if (!tree) {
		fprintf(stderr, "fuzz_connection: %s\n", err);
		abort();
	}
	pthread_mutex_lock(&scst_mutex);
	int rc = config_apply(tree, NULL, err, sizeof(err));
	pthread_mutex_unlock(&scst_mutex);
	config_free(tree);
	if (rc) {
		fprintf(stderr, "fuzz_connection: %s\n", err);
		abort();
	}
}

/* ------------------------------------------------------------------ */
/* Our ends of the connections. */

/* Reads and drops what the target sent on @w; notes EOF. */
static bool drain(struct wire *w)
{
	char buf[65536];
	bool got = false;

	if (w->state != WIRE_OPEN && w->state != WIRE_CLOSING)
		return false;
	if (w->peer_closed)
		return false;
	for (;;) {
		ssize_t r = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			got = true;
			parse_target_bytes(w, (const uint8_t *)buf, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return got;
		/* EOF or ECONNRESET: the target closed its end. */
		if (trace)
			fprintf(stderr, "trace: conn %u <- closed\n", (unsigned)(w - wires));
		w->peer_closed = true;
		if (w->state == WIRE_CLOSING)
			w->state = WIRE_DONE;
		return true;
	}
}

/* Waits up to @timeout_ms for anything from the target (and for @out to
 * become writable, if not NULL), draining every connection. Returns
 * whether something arrived or @out became writable. */
static bool pump(int timeout_ms, struct wire *out)
{
	struct pollfd pfd[MAX_CONNS];
	struct wire *of[MAX_CONNS];
	unsigned n = 0;
	bool progress = false;

	for (unsigned i = 0; i < nwires; i++) {
		struct wire *w = &wires[i];
		if ((w->state != WIRE_OPEN && w->state != WIRE_CLOSING) || w->peer_closed)
			continue;
		pfd[n] = (struct pollfd){ .fd = w->fd, .events = POLLIN };
		if (w == out)
			pfd[n].events |= POLLOUT;
		of[n++] = w;
	}
	if (!n) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return false;
	}
	if (poll(pfd, n, timeout_ms) <= 0)
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			progress |= drain(of[i]);
		if (pfd[i].revents & POLLOUT)
			progress = true;
	}
	return progress;
}

static struct wire *open_wire(unsigned slot)
{
	int sv[2];

	if (nwires == MAX_CONNS)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
		perror("fuzz_connection: socketpair");
		abort();
	}
	struct stat st;
	if (fstat(sv[1], &st)) {
		perror("fuzz_connection: fstat");
		abort();
	}
	struct wire *w = &wires[nwires];
	*w = (struct wire){ .fd = sv[0], .target_fd = sv[1], .target_ino = st.st_ino,
			    .state = WIRE_OPEN };
	slot_wire[slot] = (int)nwires++;
	reactor_send(reactor_by_index(slot % REACTORS), &w->start_msg, start_conn_here);
	return w;
}

/* Writes @len bytes to @w, draining every connection while the target is
 * not reading. */
static void write_wire(struct wire *w, const uint8_t *p, size_t len)
{
	uint64_t last_progress = now_ms();

	while (len && !w->stalled && !w->peer_closed) {
		ssize_t r = send(w->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			last_progress = now_ms();
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pump(50, w);
			if (now_ms() - last_progress > STALL_MS)
				w->stalled = true;
			continue;
		}
		/* EPIPE, ECONNRESET: the target has closed this connection. */
		w->peer_closed = true;
	}
}

/* Bytes written to @w that the target has not read yet. */
static int unread(const struct wire *w)
{
	int n = 0;

	if (w->state != WIRE_OPEN || w->peer_closed || ioctl(w->fd, SIOCOUTQ, &n))
		return 0;
	return n;
}

/* Until the target has read all we wrote and sent what it had to say. */
static void sync_point(void)
{
	uint64_t deadline = now_ms() + (uint64_t)(SYNC_MS > quiet_ms ? SYNC_MS : quiet_ms);

	for (;;) {
		bool pending = false;
		for (unsigned i = 0; i < nwires; i++)
			pending |= unread(&wires[i]) > 0;
		if (!pending || now_ms() > deadline)
			break;
		pump(1, NULL);
	}
	while (pump(quiet_ms, NULL) && now_ms() <= deadline)
		;
}

/* Has the driver closed its end of @w? Its fd number is free, or taken
 * by another socket (the inode tells). */
static bool target_end_closed(const struct wire *w)
{
	struct stat st;

	return fstat(w->target_fd, &st) || st.st_ino != w->target_ino;
}

static void close_wire(struct wire *w, bool abrupt)
{
	if (abrupt && !w->logged_in)
		erl_unknown = true;
	if (abrupt || w->peer_closed) {
		close(w->fd);
		w->fd = -1;
		w->state = abrupt ? WIRE_VANISHED : WIRE_DONE;
		return;
	}
	shutdown(w->fd, SHUT_WR);
	w->state = WIRE_CLOSING;
}

/* Whether every session of this input is gone by @deadline: the core's
 * nexuses and the driver's sessions (draining ones, by TSIH). */
static bool sessions_gone_by(uint64_t deadline)
{
	for (;;) {
		bool alive = scst_session_count() > 0;
		for (unsigned i = 0; i < ntsihs && !alive; i++)
			alive = iscsi_session_tsih_exists(tsihs[i]);
		if (!alive)
			return true;
		if (now_ms() > deadline)
			return false;
		usleep(500);
	}
}

static void set_target_enabled(struct scst_tgt *tgt, void *ctx)
{
	scst_target_set_enabled(tgt, *(bool *)ctx);
}

/* Every connection shut down; the target must close all and free every
 * session in time. */
static void finish(void)
{
	uint64_t deadline;

	for (unsigned i = 0; i < nwires; i++)
		if (wires[i].state == WIRE_OPEN)
			close_wire(&wires[i], false);
	deadline = now_ms() + CLOSE_TIMEOUT_MS;
	for (;;) {
		bool waiting = false;
		for (unsigned i = 0; i < nwires; i++) {
			struct wire *w = &wires[i];
			if (w->state == WIRE_CLOSING && w->peer_closed)
				w->state = WIRE_DONE;
			if (w->state == WIRE_VANISHED && target_end_closed(w))
				w->state = WIRE_DONE;
			waiting |= w->state != WIRE_DONE;
		}
		if (!waiting)
			break;
		if (now_ms() > deadline) {
			for (unsigned i = 0; i < nwires; i++)
				if (wires[i].state != WIRE_DONE)
					fprintf(stderr,
						"fuzz_connection: connection %u still open %d ms"
						" after its initiator %s\n",
						i, CLOSE_TIMEOUT_MS,
						wires[i].state == WIRE_VANISHED ? "vanished"
										: "shut it down");
			abort();
		}
		pump(10, NULL);
	}
	for (unsigned i = 0; i < nwires; i++)
		if (wires[i].fd >= 0)
			close(wires[i].fd);
	if (sessions_gone_by(now_ms() + CLOSE_TIMEOUT_MS))
		return;
	if (erl2_seen || erl_unknown) {
		/* Kept for recovery, perhaps for an hour: a disabled target
		 * ends kept connections at its session's next tick. */
		pthread_mutex_lock(&scst_mutex);
		scst_for_each_target(NULL, set_target_enabled, &(bool){ false });
		pthread_mutex_unlock(&scst_mutex);
		bool gone = sessions_gone_by(now_ms() + CLOSE_TIMEOUT_MS);
		pthread_mutex_lock(&scst_mutex);
		scst_for_each_target(NULL, set_target_enabled, &(bool){ true });
		pthread_mutex_unlock(&scst_mutex);
		if (gone)
			return;
	}
	if (scst_session_count())
		fprintf(stderr,
			"fuzz_connection: %u session(s) still alive %d ms after every"
			" connection closed%s\n",
			scst_session_count(), CLOSE_TIMEOUT_MS,
			erl2_seen || erl_unknown ? " (and as long after their targets were disabled)"
						 : "");
	for (unsigned i = 0; i < ntsihs; i++)
		if (iscsi_session_tsih_exists(tsihs[i]))
			fprintf(stderr,
				"fuzz_connection: iSCSI session TSIH %u still exists %d ms"
				" after every connection closed\n",
				tsihs[i], CLOSE_TIMEOUT_MS);
	abort();
}

/* Puts @n bytes of @v, big-endian, at @off of the header @h, of which
 * @len bytes are there. */
static void patch_be(uint8_t *h, size_t len, size_t off, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (off + i < len)
			h[off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* The patches a record's bits 3 to 5 ask for, on the first @len (at most
 * 48) bytes of its payload. */
static void patch_header(const struct wire *w, uint8_t flags, uint8_t *h, size_t len)
{
	if ((flags & REC_JOIN) && have_tsih)
		patch_be(h, len, 14, last_tsih, 2);
	if ((flags & REC_ECHO_TTT) && w->have_ttt)
		patch_be(h, len, 20, w->last_ttt, 4);
	if ((flags & REC_ACK_STATSN) && w->have_statsn)
		patch_be(h, len, 28, w->next_statsn, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_target_once();
	/* finish() saw every session of the last input gone. */
	if (scst_session_count()) {
		fprintf(stderr, "fuzz_connection: a session of the previous input came back\n");
		abort();
	}
	nwires = 0;
	ntsihs = 0;
	have_tsih = false;
	erl2_seen = false;
	erl_unknown = false;
	for (unsigned s = 0; s < SLOTS; s++)
		slot_wire[s] = -1;

	while (size >= REC_HEADER_LEN) {
		uint8_t flags = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		unsigned slot = (flags & REC_SLOT_MASK) % SLOTS;
		data += REC_HEADER_LEN;
		size -= REC_HEADER_LEN;
		if (len > size)
			len = size;

		/* A patch takes what the target said before: it must be in. */
		if (flags & (REC_SYNC | REC_PATCHES))
			sync_point();
		struct wire *w = slot_wire[slot] >= 0 ? &wires[slot_wire[slot]] : open_wire(slot);
		if (w && (flags & REC_PATCHES)) {
			/* The BHS and its header digest, if it has one there. */
			uint8_t head[52];
			size_t hlen = len < sizeof(head) ? len : sizeof(head);
			memcpy(head, data, hlen);
			patch_header(w, flags, head, hlen < 48 ? hlen : 48);
			if (hlen == sizeof(head) && w->digests_known && w->header_digest &&
			    head[4] == 0) {
				/* Least significant byte first, as on the wire. */
				uint32_t crc = crc32c(head, 48);
				for (unsigned i = 0; i < 4; i++)
					head[48 + i] = (uint8_t)(crc >> (8 * i));
			}
			write_wire(w, head, hlen);
			write_wire(w, data + hlen, len - hlen);
		} else if (w) {
			write_wire(w, data, len);
		}
		if (w) {
			pump(0, NULL);
			if (flags & (REC_VANISH | REC_CLOSE)) {
				close_wire(w, flags & REC_VANISH);
				slot_wire[slot] = -1;
			}
		}
		data += len;
		size -= len;
	}
	finish();
	return 0;
}
