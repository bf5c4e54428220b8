/* The initiator of pr_aptpl_kill.sh: PERSISTENT RESERVE OUT traffic with
 * APTPL=1 from two I_T nexuses, logging every state it expects before it
 * sends the command that makes it and again once the command is GOOD, so
 * that after the target is killed the script knows which states its file
 * may hold: the last acknowledged one, or the one that was pending.
 *
 *   pr_aptpl_client traffic HOST:PORT TARGET INITIATOR LOG SEED
 *       runs until the connection is lost (the target was killed: exit
 *       3) or a command fails (exit 1); LOG gets "start VIEW", then per
 *       command "pending VIEW" and "acked VIEW";
 *   pr_aptpl_client read HOST:PORT TARGET INITIATOR
 *       prints "view ..." from READ KEYS and READ RESERVATION;
 *   pr_aptpl_client register HOST:PORT TARGET INITIATOR
 *       A registers (APTPL=1) with a key of its own, then as "read".
 *
 * VIEW is "gen=G keys=K1,K2 res=none|res=TYPE/KEY", the last line of
 * uscstd --print-pr-state: keys sorted, KEY the holder's (0 under WEAR
 * and EAAR). The two nexuses share INITIATOR and differ in their ISID;
 * A's keys are 0xa000000000000000 + n and B's 0xb000000000000000 + n, so
 * a key says whose it is, also in a state read back after a restart. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define KEY_A 0xa000000000000000ull
#define KEY_B 0xb000000000000000ull
#define OWNER_MASK 0xf000000000000000ull

/* SPC-4 table 169 and 170. */
enum {
	SA_READ_KEYS = 0,
	SA_READ_RESERVATION = 1,
	SA_RESERVE = 1,
	SA_RELEASE = 2,
	SA_REGISTER_AND_IGNORE = 6,
};

static const uint8_t types[] = { 1, 3, 5, 6, 7, 8 };

struct view {
	uint32_t gen;
	uint64_t key[2]; /* A's, B's; 0: not registered */
	bool reserved;
	uint8_t type;
	int holder; /* 0 A, 1 B, -1 all registrants */
};

static struct iscsi_context *nexus[2];
static FILE *logf;

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "pr_aptpl_client: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (logf) {
		va_start(ap, fmt);
		fprintf(logf, "end ");
		vfprintf(logf, fmt, ap);
		fputc('\n', logf);
		fflush(logf);
		va_end(ap);
	}
	exit(code);
}

static bool all_registrants(uint8_t type)
{
	return type == 7 || type == 8;
}

static void format_view(const struct view *v, char *out, size_t len)
{
	uint64_t k[2];
	unsigned n = 0;
	int off;

	for (int i = 0; i < 2; i++)
		if (v->key[i])
			k[n++] = v->key[i];
	if (n == 2 && k[0] > k[1]) {
		uint64_t t = k[0];

		k[0] = k[1];
		k[1] = t;
	}
	off = snprintf(out, len, "gen=%u keys=", v->gen);
	for (unsigned i = 0; i < n; i++)
		off += snprintf(out + off, len - (size_t)off, "%s0x%llx", i ? "," : "",
				(unsigned long long)k[i]);
	if (!v->reserved)
		snprintf(out + off, len - (size_t)off, " res=none");
	else
		snprintf(out + off, len - (size_t)off, " res=%u/0x%llx", v->type,
			 v->holder < 0 ? 0ull : (unsigned long long)v->key[v->holder]);
}

static void log_view(const char *what, const struct view *v)
{
	char text[160];

	format_view(v, text, sizeof(text));
	fprintf(logf, "%s %s\n", what, text);
	fflush(logf);
}

static struct iscsi_context *login(const char *portal, const char *target, const char *initiator,
				   uint16_t qualifier)
{
	struct iscsi_context *c = iscsi_create_context(initiator);
	struct scsi_task *t;

	if (!c)
		die(1, "cannot create a libiscsi context");
	iscsi_set_isid_random(c, 0x5a5a5a, qualifier);
	iscsi_set_targetname(c, target);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(c, 20);
	/* A lost connection is the end: the target was killed. */
	iscsi_set_reconnect_max_retries(c, 0);
	if (iscsi_full_connect_sync(c, portal, 0))
		die(3, "login to %s at %s: %s", target, portal, iscsi_get_error(c));
	/* POWER ON and whatever else is pending. */
	for (int i = 0; i < 8; i++) {
		t = iscsi_testunitready_sync(c, 0);
		if (!t)
			die(3, "TEST UNIT READY: %s", iscsi_get_error(c));
		if (t->status == SCSI_STATUS_GOOD) {
			scsi_free_scsi_task(t);
			return c;
		}
		scsi_free_scsi_task(t);
	}
	die(1, "TEST UNIT READY never GOOD");
	return NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int owner_of(uint64_t key)
{
	if ((key & OWNER_MASK) == KEY_A)
		return 0;
	if ((key & OWNER_MASK) == KEY_B)
		return 1;
	return -2;
}

/* A PERSISTENT RESERVE IN, retried past unit attentions. */
static struct scsi_task *prin(struct iscsi_context *c, int sa)
{
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_persistent_reserve_in_sync(c, 0, sa, 1024);

		if (!t)
			die(3, "PERSISTENT RESERVE IN %d: %s", sa, iscsi_get_error(c));
		if (t->status == SCSI_STATUS_GOOD)
			return t;
		if (t->status != SCSI_STATUS_CHECK_CONDITION ||
		    t->sense.key != SCSI_SENSE_UNIT_ATTENTION)
			die(1, "PERSISTENT RESERVE IN %d: status 0x%x sense %x/%04x", sa, t->status,
			    t->sense.key, t->sense.ascq);
		scsi_free_scsi_task(t);
	}
	die(1, "PERSISTENT RESERVE IN %d: unit attentions without end", sa);
	return NULL;
}

static void read_view(struct iscsi_context *c, struct view *v)
{
	struct scsi_task *t = prin(c, SA_READ_KEYS);
	const uint8_t *d = t->datain.data;
	uint32_t add;

	memset(v, 0, sizeof(*v));
	if (t->datain.size < 8)
		die(1, "READ KEYS: %d bytes", t->datain.size);
	v->gen = be32(d);
	add = be32(d + 4);
	if (add % 8 || 8 + add > (uint32_t)t->datain.size)
		die(1, "READ KEYS: ADDITIONAL LENGTH %u of %d bytes", add, t->datain.size);
	for (uint32_t off = 8; off < 8 + add; off += 8) {
		uint64_t key = be64(d + off);
		int who = owner_of(key);

		if (who < 0 || v->key[who])
			die(1, "READ KEYS: key 0x%llx is neither A's nor B's, or a second one",
			    (unsigned long long)key);
		v->key[who] = key;
	}
	scsi_free_scsi_task(t);

	t = prin(c, SA_READ_RESERVATION);
	d = t->datain.data;
	if (t->datain.size < 8)
		die(1, "READ RESERVATION: %d bytes", t->datain.size);
	if (be32(d) != v->gen)
		die(1, "READ RESERVATION generation %u, READ KEYS %u", be32(d), v->gen);
	if (be32(d + 4) >= 16 && t->datain.size >= 24) {
		uint64_t key = be64(d + 8);

		v->reserved = true;
		v->type = d[21] & 0x0f;
		if (all_registrants(v->type)) {
			v->holder = -1;
		} else {
			v->holder = owner_of(key);
			if (v->holder < 0 || v->key[v->holder] != key)
				die(1, "READ RESERVATION: holder key 0x%llx is not registered",
				    (unsigned long long)key);
		}
	}
	scsi_free_scsi_task(t);
}

/* One PERSISTENT RESERVE OUT from nexus @who, APTPL=1. Returns true when
 * GOOD; a unit attention (the command did not run) is retried. */
static void prout(int who, int sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
	struct scsi_persistent_reserve_out_basic p = {
		.reservation_key = key,
		.service_action_reservation_key = sa_key,
		.aptpl = 1,
	};

	for (int i = 0; i < 8; i++) {
		struct scsi_task *t =
			iscsi_persistent_reserve_out_sync(nexus[who], 0, sa, 0, type, &p);

		if (!t)
			die(3, "PERSISTENT RESERVE OUT %d from %c: %s", sa, 'A' + who,
			    iscsi_get_error(nexus[who]));
		if (t->status == SCSI_STATUS_GOOD) {
			scsi_free_scsi_task(t);
			return;
		}
		if (t->status != SCSI_STATUS_CHECK_CONDITION ||
		    t->sense.key != SCSI_SENSE_UNIT_ATTENTION)
			die(1, "PERSISTENT RESERVE OUT %d type %u from %c: status 0x%x sense %x/%04x",
			    sa, type, 'A' + who, t->status, t->sense.key, t->sense.ascq);
		scsi_free_scsi_task(t);
	}
	die(1, "PERSISTENT RESERVE OUT %d: unit attentions without end", sa);
}

static void traffic(const char *portal, const char *target, const char *initiator,
		    const char *log_path, unsigned seed)
{
	struct view v, next;
	uint64_t counter;

	logf = fopen(log_path, "a");
	if (!logf)
		die(1, "%s: cannot open", log_path);
	nexus[0] = login(portal, target, initiator, 1);
	nexus[1] = login(portal, target, initiator, 2);
	read_view(nexus[0], &v);
	log_view("start", &v);
	srandom(seed);
	/* Keys no earlier round used: the seed's. */
	counter = (uint64_t)seed << 32;
	for (;;) {
		int who = (int)(random() % 2), action = (int)(random() % 8);

		next = v;
		if (action < 4) {
			/* REGISTER AND IGNORE EXISTING KEY with a new key. */
			uint64_t key = (who ? KEY_B : KEY_A) | ++counter;

			next.key[who] = key;
			next.gen++;
			log_view("pending", &next);
			prout(who, SA_REGISTER_AND_IGNORE, 0, 0, key);
		} else if (action == 4 && v.key[who]) {
			/* Unregister: a holder's reservation goes with it, an
			 * all-registrants one with the last registrant. */
			next.key[who] = 0;
			next.gen++;
			if (next.reserved &&
			    (next.holder == who || (next.holder < 0 && !next.key[!who])))
				next.reserved = false;
			log_view("pending", &next);
			prout(who, SA_REGISTER_AND_IGNORE, 0, 0, 0);
		} else if (!v.reserved && v.key[who]) {
			uint8_t type = types[random() % sizeof(types)];

			next.reserved = true;
			next.type = type;
			next.holder = all_registrants(type) ? -1 : who;
			log_view("pending", &next);
			prout(who, SA_RESERVE, type, v.key[who], 0);
		} else if (v.reserved && v.key[who] && (v.holder == who || v.holder < 0)) {
			next.reserved = false;
			log_view("pending", &next);
			prout(who, SA_RELEASE, v.type, v.key[who], 0);
		} else {
			continue;
		}
		if (!next.reserved) {
			next.type = 0;
			next.holder = 0;
		}
		v = next;
		log_view("acked", &v);
	}
}

int main(int argc, char **argv)
{
	struct view v;
	char text[160];

	if (argc == 7 && !strcmp(argv[1], "traffic")) {
		traffic(argv[2], argv[3], argv[4], argv[5], (unsigned)strtoul(argv[6], NULL, 0));
		return 0;
	}
	if (argc == 5 && (!strcmp(argv[1], "read") || !strcmp(argv[1], "register"))) {
		nexus[0] = login(argv[2], argv[3], argv[4], 1);
		if (!strcmp(argv[1], "register"))
			prout(0, SA_REGISTER_AND_IGNORE, 0, 0, KEY_A | 0xfeed);
		read_view(nexus[0], &v);
		format_view(&v, text, sizeof(text));
		printf("view %s\n", text);
		iscsi_logout_sync(nexus[0]);
		iscsi_destroy_context(nexus[0]);
		return 0;
	}
	fprintf(stderr, "usage: %s traffic HOST:PORT TARGET INITIATOR LOG SEED\n"
			"       %s read|register HOST:PORT TARGET INITIATOR\n",
		argv[0], argv[0]);
	return 2;
}
