/* I/O in flight while uscstadmin changes the running daemon
 * (mgmt_admin.sh): one libiscsi session that keeps QUEUE_DEPTH commands
 * outstanding on each of its LUNs until a stop file appears, and checks
 * every byte.
 *
 *   mgmt_admin_io PORTAL TARGET INITIATOR STATUS_FILE STOP_FILE SPEC...
 *
 * SPEC is one of
 *   w:LUN:BLOCKS       write a block, read it back, compare; round robin
 *                      over blocks [0, BLOCKS) of LUN, each block with its
 *                      own generation number;
 *   r:LUN:BLOCKS:FILE  read blocks [0, BLOCKS) of LUN over and over and
 *                      compare with FILE's bytes (read once at start):
 *                      the LUN's device that nobody writes must stay as it
 *                      was, whatever happens to the other LUNs.
 *
 * A UNIT ATTENTION is counted by ASC/ASCQ and the command sent again (the
 * changes raise them; they are not errors). Anything else that is not
 * GOOD, a miscompare, or the session's loss (libiscsi's reconnect is off,
 * so a dropped session shows) is a failure. Every 200 ms the counters go
 * to STATUS_FILE ("ops N errors N"), so that the test can see that I/O
 * went on while each change was made; at the end one summary line, and
 * exit status 0 only without a failure. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

enum { BLOCK = 512, QUEUE_DEPTH = 4, MAX_SPECS = 8, MAX_UA_KINDS = 16, MAX_RETRIES = 20 };
/* At most this many commands per 50 ms (2000 per second): enough to have
 * commands in flight at every change, without taking a whole core of the
 * machine the other tests share. */
enum { OPS_PER_WINDOW = 100 };

struct spec {
	bool writes;
	int lun;
	uint32_t blocks;
	unsigned char *expected;  /* r: the file's bytes; w: the last written */
	uint32_t *generation;     /* w: per block */
};

/* One outstanding command: slot k of a spec works on the blocks
 * k, k + QUEUE_DEPTH, ..., so no two commands in flight overlap. */
struct slot {
	struct spec *spec;
	int index;
	uint32_t lba;
	bool reading;             /* w: the read-back after the write */
	int retries;
	bool stopped;
	bool parked;              /* waits for the next window's budget */
	unsigned char buf[BLOCK];
};

static struct iscsi_context *ctx;
static const char *initiator;
static struct spec specs[MAX_SPECS];
static int n_specs;
static struct slot slots[MAX_SPECS * QUEUE_DEPTH];
static int n_slots, in_flight, parked;
static unsigned long window_ops;
static unsigned long ops, writes, reads, errors, miscompares;
static struct { int asc_ascq; unsigned long count; } uas[MAX_UA_KINDS];
static bool stopping, dropped;

static void issue(struct slot *s);

static void fail_msg(const char *fmt, const char *a, long b)
{
	fprintf(stderr, "mgmt_admin_io %s: FAIL: ", initiator);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
}

static void count_ua(int asc_ascq)
{
	for (int i = 0; i < MAX_UA_KINDS; i++) {
		if (uas[i].count == 0 || uas[i].asc_ascq == asc_ascq) {
			uas[i].asc_ascq = asc_ascq;
			uas[i].count++;
			return;
		}
	}
}

static void fill_block(struct slot *s)
{
	struct spec *sp = s->spec;
	unsigned char *want = sp->expected + (size_t)s->lba * BLOCK;

	memset(want, 'a' + (int)(sp->generation[s->lba] % 26), BLOCK);
	snprintf((char *)want, 64, "io:%s:lun%d:lba%08u:gen%08u:", initiator, sp->lun,
		 s->lba, sp->generation[s->lba]);
	memcpy(s->buf, want, BLOCK);
}

static void next_block(struct slot *s)
{
	s->lba += QUEUE_DEPTH;
	if (s->lba >= s->spec->blocks)
		s->lba = (uint32_t)s->index;
	s->reading = !s->spec->writes;
	if (s->spec->writes) {
		s->spec->generation[s->lba]++;
		fill_block(s);
	}
}

static void done(struct iscsi_context *c, int status, void *command_data, void *private_data)
{
	struct scsi_task *task = command_data;
	struct slot *s = private_data;

	(void)c;
	in_flight--;
	if (status == SCSI_STATUS_CHECK_CONDITION && task &&
	    task->sense.key == SCSI_SENSE_UNIT_ATTENTION && s->retries < MAX_RETRIES) {
		count_ua(task->sense.ascq);
		s->retries++;
		scsi_free_scsi_task(task);
		issue(s);
		return;
	}
	if (status != SCSI_STATUS_GOOD || !task) {
		errors++;
		if (status == SCSI_STATUS_CHECK_CONDITION && task)
			fprintf(stderr, "mgmt_admin_io %s: FAIL: LUN %d LBA %u %s: sense %s 0x%04x\n",
				initiator, s->spec->lun, s->lba, s->reading ? "READ" : "WRITE",
				scsi_sense_key_str(task->sense.key), task->sense.ascq);
		else
			fprintf(stderr, "mgmt_admin_io %s: FAIL: LUN %d LBA %u %s: status 0x%x: %s\n",
				initiator, s->spec->lun, s->lba, s->reading ? "READ" : "WRITE",
				status, iscsi_get_error(ctx));
		if (status == SCSI_STATUS_ERROR || status == SCSI_STATUS_CANCELLED ||
		    status == SCSI_STATUS_TIMEOUT)
			dropped = true;
		if (task)
			scsi_free_scsi_task(task);
		s->stopped = true;
		return;
	}
	ops++;
	s->retries = 0;
	if (s->reading) {
		const unsigned char *want = s->spec->expected + (size_t)s->lba * BLOCK;

		reads++;
		if (task->datain.size != BLOCK || memcmp(task->datain.data, want, BLOCK) != 0) {
			miscompares++;
			fprintf(stderr, "mgmt_admin_io %s: FAIL: LUN %d LBA %u: read back '%.40s', "
				"expected '%.40s'\n", initiator, s->spec->lun, s->lba,
				task->datain.size ? (const char *)task->datain.data : "", want);
		}
		next_block(s);
	} else {
		writes++;
		s->reading = true;
	}
	scsi_free_scsi_task(task);
	if (stopping) {
		s->stopped = true;
		return;
	}
	if (++window_ops > OPS_PER_WINDOW) {
		s->parked = true;
		parked++;
		return;
	}
	issue(s);
}

static void issue(struct slot *s)
{
	struct scsi_task *t;

	if (s->reading)
		t = iscsi_read10_task(ctx, s->spec->lun, s->lba, BLOCK, BLOCK, 0, 0, 0, 0, 0, done, s);
	else
		t = iscsi_write10_task(ctx, s->spec->lun, s->lba, s->buf, BLOCK, BLOCK, 0, 0, 0, 0, 0,
				       done, s);
	if (!t) {
		errors++;
		fail_msg("cannot queue a command: %s%ld", iscsi_get_error(ctx), 0);
		s->stopped = true;
		return;
	}
	in_flight++;
}

static bool parse_spec(const char *text, struct spec *sp)
{
	char file[4096];
	unsigned lun, blocks;

	if (sscanf(text, "w:%u:%u", &lun, &blocks) == 2 && text[0] == 'w') {
		sp->writes = true;
	} else if (sscanf(text, "r:%u:%u:%4095s", &lun, &blocks, file) == 3) {
		sp->writes = false;
	} else {
		return false;
	}
	if (blocks < QUEUE_DEPTH)
		return false;
	sp->lun = (int)lun;
	sp->blocks = blocks;
	sp->expected = calloc(blocks, BLOCK);
	sp->generation = calloc(blocks, sizeof(uint32_t));
	if (!sp->expected || !sp->generation)
		return false;
	if (!sp->writes) {
		int fd = open(file, O_RDONLY);
		ssize_t got = fd < 0 ? -1 : pread(fd, sp->expected, (size_t)blocks * BLOCK, 0);

		if (fd >= 0)
			close(fd);
		if (got != (ssize_t)blocks * BLOCK) {
			fprintf(stderr, "mgmt_admin_io: cannot read %u blocks of %s: %s\n", blocks,
				file, got < 0 ? strerror(errno) : "short file");
			return false;
		}
	}
	return true;
}

static void write_status(const char *path)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "ops %lu errors %lu\n", ops, errors + miscompares);
	fclose(f);
	rename(tmp, path);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *portal, *target, *status_file, *stop_file;
	double last_status = 0, stop_at = 0, window_start = 0;

	if (argc < 7) {
		fprintf(stderr, "usage: %s PORTAL TARGET INITIATOR STATUS_FILE STOP_FILE SPEC...\n",
			argv[0]);
		return 2;
	}
	portal = argv[1];
	target = argv[2];
	initiator = argv[3];
	status_file = argv[4];
	stop_file = argv[5];
	for (int i = 6; i < argc; i++) {
		if (n_specs == MAX_SPECS || !parse_spec(argv[i], &specs[n_specs])) {
			fprintf(stderr, "mgmt_admin_io: bad spec '%s'\n", argv[i]);
			return 2;
		}
		n_specs++;
	}

	ctx = iscsi_create_context(initiator);
	if (!ctx)
		return 2;
	iscsi_set_targetname(ctx, target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	/* A dropped session must fail the test, not be hidden by a new login. */
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_timeout(ctx, 30);
	if (iscsi_full_connect_sync(ctx, portal, specs[0].lun) != 0) {
		fprintf(stderr, "mgmt_admin_io %s: FAIL: login to %s at %s: %s\n", initiator, target,
			portal, iscsi_get_error(ctx));
		return 1;
	}

	for (int i = 0; i < n_specs; i++) {
		for (int k = 0; k < QUEUE_DEPTH; k++) {
			struct slot *s = &slots[n_slots++];

			s->spec = &specs[i];
			s->index = k;
			s->lba = (uint32_t)k;
			s->reading = !specs[i].writes;
			if (specs[i].writes) {
				specs[i].generation[s->lba] = 1;
				fill_block(s);
			}
			issue(s);
		}
	}

	while (in_flight > 0 || (parked > 0 && !stopping)) {
		struct pollfd pfd = { .fd = iscsi_get_fd(ctx), .events = (short)iscsi_which_events(ctx) };
		int n = poll(&pfd, 1, 10);
		double t = now();

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && iscsi_service(ctx, pfd.revents) < 0) {
			fail_msg("the session failed: %s%ld", iscsi_get_error(ctx), 0);
			dropped = true;
			break;
		}
		if (t - window_start >= 0.05) {
			window_start = t;
			window_ops = 0;
			for (int i = 0; i < n_slots && !stopping; i++) {
				if (slots[i].parked) {
					slots[i].parked = false;
					parked--;
					window_ops++;
					issue(&slots[i]);
				}
			}
		}
		if (t - last_status > 0.2) {
			write_status(status_file);
			last_status = t;
		}
		if (!stopping && access(stop_file, F_OK) == 0) {
			stopping = true;
			stop_at = t;
		}
		if (stopping && t - stop_at > 30) {
			fail_msg("%s%ld command(s) still outstanding 30 s after the stop", "",
				 in_flight);
			errors++;
			break;
		}
	}
	write_status(status_file);

	printf("mgmt_admin_io %s: %lu commands: %lu writes, %lu reads verified, %lu miscompare(s), "
	       "%lu error(s), session %s; unit attentions:", initiator, ops, writes, reads,
	       miscompares, errors, dropped ? "DROPPED" : "kept");
	for (int i = 0; i < MAX_UA_KINDS && uas[i].count; i++)
		printf(" %02x/%02x x%lu", uas[i].asc_ascq >> 8, uas[i].asc_ascq & 0xff, uas[i].count);
	printf("\n");
	if (!dropped)
		iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	return (errors || miscompares || dropped || !stopping) ? 1 : 0;
}
