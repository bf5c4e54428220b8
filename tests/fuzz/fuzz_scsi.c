/* libFuzzer harness: SCSI commands straight into the core, as an initiator
 * sends them, through a minimal in-process target driver (no network, no
 * iSCSI): what the vdisk handler and the core's own commands (the copy
 * manager among them) make of any CDB and any parameter list.
 *
 * The input is a sequence of records, one command each:
 *
 *   byte 0     bits 0-1  LUN: 0 the fileio device, 1 the nullio device,
 *                        2 the fileio device again, mapped read-only,
 *                        3 LUN 9, which is not mapped
 *              bits 2-3  expected direction: 0 none, 1 Data-In, 2 Data-Out,
 *                        3 Data-Out whose transfer fails (the initiator
 *                        gives up mid-way: scst_rx_data(cmd, false))
 *              bits 4-5  task attribute: SIMPLE, ORDERED, HEAD OF QUEUE, ACA
 *              bit 6     a task management function instead: the record
 *                        is 3 bytes, this one, the function (enum scst_tmf,
 *                        modulo its size) and the number of the command of
 *                        this input it names (ABORT TASK, QUERY TASK);
 *                        function 0xff is a restart instead: the session,
 *                        the target and the devices go and come back, with
 *                        the store and the state directory as they are
 *                        (saved mode pages, persistent reservations, a
 *                        failed SANITIZE's state), as across a daemon
 *                        restart
 *              bit 7     do not wait for the response before the next
 *                        record (commands then overlap in the task set, and
 *                        a task management function meets them)
 *   byte 1     CDB length, 1..32 (0 counts as 6, more than 32 wraps)
 *   CDB        that many bytes
 *   3 bytes    expected transfer length, big-endian (iSCSI's EDTL; more
 *              than 1 MiB counts as 1 MiB)
 *   2 bytes    Data-Out length n, big-endian, then n bytes: the first bytes
 *              of the Data-Out buffer; the rest of what the command asks
 *              for is zeros
 *
 * A record cut short by the end of the input is dropped.
 *
 * Each input gets a fresh target: a vdisk_fileio device on a 512 KiB file
 * (thin_provisioned 1, removable 1) in a temporary directory made once, a
 * vdisk_nullio device (thin_provisioned 1), a target with LUNs 0..2 as
 * above and one session on the only reactor; the devices' names are fixed,
 * so their NAA designators are too (FNV-1a of the name, core/registry.c,
 * which make_seeds.py repeats for EXTENDED COPY's CSCD descriptors). The
 * state directory (saved mode pages, persistent reservations) is emptied
 * and the file zeroed before each input, so that an input does the same
 * whatever ran before it. The harness clears the session's power-on unit
 * attentions itself (a REQUEST SENSE per LUN) so that the fuzzer's first
 * command of each LUN is not spent on them.
 *
 * What aborts (and makes libFuzzer report the input):
 *   - a command does not end within RESPONSE_TIMEOUT_MS, gets two
 *     responses, or none without a task management function in the input
 *     that could have aborted it; a task management function that does
 *     not complete;
 *   - a response is malformed: a status SAM does not define, sense with a
 *     status other than CHECK CONDITION or none with it, sense whose
 *     response code is not 70h/72h (current error, fixed or descriptor
 *     format) or whose ADDITIONAL SENSE LENGTH disagrees with its length,
 *     descriptors that run past the end, more Data-In than the buffer;
 *   - a command ended with ILLEGAL REQUEST, DATA PROTECT, NOT READY or
 *     UNIT ATTENTION (refused: nothing may have been written) and the
 *     fileio store differs from its copy taken before it (issue 9: a
 *     malformed UNMAP or EXTENDED COPY parameter list is refused whole,
 *     never written in part). Only checked for a command alone in flight;
 *   - a background SANITIZE or FORMAT UNIT is still running
 *     QUIESCE_TIMEOUT_MS after the command that started it;
 *   - at the end, a command not freed, a device with active commands, a
 *     session not unregistered in time or a device not released after
 *     the target and the devices were destroyed.
 * Memory errors are ASan's and UBSan's.
 *
 * FUZZ_LOG=1 keeps the daemon's usual log level; FUZZ_TRACE=1 prints each
 * command's CDB and how it ended. Seeds: tests/fuzz/make_seeds.py. */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/reactor.h"
#include "core/pr_store.h"
#include "core/scst.h"
#include "handlers/vdisk/vdisk.h"

#define REC_LUN_MASK 0x03
#define REC_DIR_SHIFT 2
#define REC_ATTR_SHIFT 4
#define REC_TMF 0x40
#define REC_NOWAIT 0x80
#define REC_TMF_LEN 3
#define REC_RESTART 0xff
#define MAX_RESTARTS 4
#define NTMFS (SCST_TMF_QUERY_ASYNC_EVENT + 1)
#define REC_DIR_FAILED_OUT 3

#define UNMAPPED_LUN 9
#define MAX_EXPECTED_LEN (1u << 20)
/* Commands one input may send (a bound on the work per input). */
#define MAX_CMDS 64

/* The fileio store: small enough to compare whole after every refused
 * command, large enough for UNMAP and EXTENDED COPY to name ranges. */
#define FILE_SIZE (512u * 1024)
#define STORE_BLOCK_SIZE 512

/* Generous for an ASan build on a loaded machine; a lost command never
 * answers. */
#define RESPONSE_TIMEOUT_MS 10000
#define QUIESCE_TIMEOUT_MS 20000
#define RELEASE_TIMEOUT_S 10

static const char file_dev_name[] = "fuzz_file";
static const char null_dev_name[] = "fuzz_null";
static const char target_name[] = "fuzz_scsi_target";
static const char initiator_name[] = "fuzz-initiator";

static char tmp_dir[64];
static char state_dir[96];
static char store_path[96];
static int store_fd = -1;
static uint8_t *shadow; /* the store as it was before the command */
static uint8_t *current;
static bool trace;

static struct reactor *reactor;

/* What the driver side saw; under @lock, which the reactor's callbacks and
 * the fuzzing thread share. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned issued;     /* commands handed to the core */
static unsigned responded;  /* responses (xmit_response calls) */
static unsigned freed;      /* on_free_cmd calls: commands that ended */
static bool session_gone;   /* unreg_done has run */
static unsigned tmf_sent, tmf_done;
/* Task management functions the input asked for (the harness sends its
 * own CLEAR ACAs at the end): only these may have aborted a command. */
static unsigned input_tmfs;

/* One command as the initiator knows it. */
struct fuzz_cmd {
	struct reactor_msg msg;
	uint64_t tag;
	uint8_t cdb[SCSI_MAX_CDB_LEN];
	unsigned cdb_len;
	uint64_t lun;
	enum scst_data_dir dir;
	bool fail_transfer;
	enum scst_task_attr attr;
	uint32_t expected_len;
	const uint8_t *data_out;
	size_t data_out_len;
	/* The response, written on the reactor. */
	bool answered;
	bool ended;
	uint8_t status;
	uint8_t sense[SCSI_SENSE_BUFFERSIZE];
	uint8_t sense_len;
	uint32_t resp_data_len;
};

static struct fuzz_cmd cmds[MAX_CMDS];
static unsigned ncmds;
static uint64_t next_tag;

static struct scst_session *session;
static struct scst_tgt *target;
static struct scst_device *file_dev, *null_dev;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "fuzz_scsi: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	abort();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Checks of a response. */

static void dump_cmd(const struct fuzz_cmd *fc)
{
	fprintf(stderr, "fuzz_scsi: command %u, LUN %llu, CDB", (unsigned)(fc - cmds),
		(unsigned long long)fc->lun);
	for (unsigned i = 0; i < fc->cdb_len; i++)
		fprintf(stderr, " %02x", fc->cdb[i]);
	fprintf(stderr, "; status 0x%02x, sense", fc->status);
	for (unsigned i = 0; i < fc->sense_len; i++)
		fprintf(stderr, " %02x", fc->sense[i]);
	fprintf(stderr, "\n");
}

static void bad_response(const struct fuzz_cmd *fc, const char *why)
{
	dump_cmd(fc);
	die("malformed response: %s", why);
}

static bool status_defined(uint8_t s)
{
	return s == SAM_STAT_GOOD || s == SAM_STAT_CHECK_CONDITION ||
	       s == SAM_STAT_CONDITION_MET || s == SAM_STAT_BUSY ||
	       s == SAM_STAT_RESERVATION_CONFLICT || s == SAM_STAT_TASK_SET_FULL ||
	       s == SAM_STAT_ACA_ACTIVE || s == SAM_STAT_TASK_ABORTED;
}

/* SPC-4 4.5: the sense data of a current error, fixed (70h) or descriptor
 * (72h) format, whose lengths agree with what was sent. */
static void check_sense(const struct fuzz_cmd *fc)
{
	const uint8_t *s = fc->sense;
	unsigned len = fc->sense_len;

	if (len < 8)
		bad_response(fc, "sense shorter than 8 bytes");
	if ((s[0] & 0x7f) == 0x70) {
		if (len < 18)
			bad_response(fc, "fixed-format sense shorter than 18 bytes");
		if (8u + s[7] != len)
			bad_response(fc, "fixed-format ADDITIONAL SENSE LENGTH disagrees");
		if ((s[2] & 0x0f) == 0)
			bad_response(fc, "CHECK CONDITION with sense key NO SENSE");
		return;
	}
	if (s[0] != 0x72)
		bad_response(fc, "response code neither 70h nor 72h");
	if (8u + s[7] != len)
		bad_response(fc, "descriptor ADDITIONAL SENSE LENGTH disagrees");
	if ((s[1] & 0x0f) == 0)
		bad_response(fc, "CHECK CONDITION with sense key NO SENSE");
	for (unsigned off = 8; off < len;) {
		if (off + 2 > len || off + 2u + s[off + 1] > len)
			bad_response(fc, "a sense descriptor runs past the end");
		off += 2u + s[off + 1];
	}
}

static uint8_t sense_key(const struct fuzz_cmd *fc)
{
	if (!fc->sense_len)
		return 0;
	return (fc->sense[0] & 0x7f) == 0x70 ? fc->sense[2] & 0x0f : fc->sense[1] & 0x0f;
}

static void check_response(const struct fuzz_cmd *fc)
{
	if (!status_defined(fc->status))
		bad_response(fc, "status SAM does not define");
	if (fc->status == SAM_STAT_CHECK_CONDITION)
		check_sense(fc);
	else if (fc->sense_len)
		bad_response(fc, "sense data without CHECK CONDITION");
}

/* ------------------------------------------------------------------ */
/* The target driver: hands each command's data over at once and records
 * its response. */

static unsigned fuzz_transport_id(const struct scst_session *sess, uint8_t *buf)
{
	(void)sess;
	/* SAS (SPC-4 7.6.4.7): protocol 6, an 8-byte SAS address. */
	memset(buf, 0, 24);
	buf[0] = SCST_PROTOCOL_SAS;
	buf[4] = 0x50;
	buf[11] = 0x01;
	return 24;
}

static void fuzz_rdy_to_xfer(struct scst_cmd *cmd)
{
	struct fuzz_cmd *fc = cmd->tgt_priv;

	/* The rest of the Data-Out buffer: zeros (the input's bytes went in
	 * before the command started). */
	if (cmd->data_received < cmd->bufflen)
		memset(cmd->buf + cmd->data_received, 0, cmd->bufflen - cmd->data_received);
	cmd->data_received = cmd->bufflen;
	scst_rx_data(cmd, !fc->fail_transfer);
}

static void fuzz_xmit_response(struct scst_cmd *cmd)
{
	struct fuzz_cmd *fc = cmd->tgt_priv;

	if (!scst_cmd_aborted_silently(cmd)) {
		pthread_mutex_lock(&lock);
		if (fc->answered) {
			pthread_mutex_unlock(&lock);
			bad_response(fc, "a second response");
		}
		fc->answered = true;
		fc->status = cmd->status;
		fc->sense_len = cmd->sense_len;
		memcpy(fc->sense, cmd->sense, cmd->sense_len);
		fc->resp_data_len = cmd->data_dir == SCST_DATA_READ ? cmd->resp_data_len : 0;
		if (fc->resp_data_len > cmd->bufflen || cmd->bufflen > fc->expected_len) {
			pthread_mutex_unlock(&lock);
			bad_response(fc, "more data than the initiator expected");
		}
		responded++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	scst_tgt_cmd_done(cmd);
}

/* Commands are never held by this driver: their data is handed over in
 * rdy_to_xfer itself, and each starts as soon as it is received. */
static void fuzz_on_abort_cmd(struct scst_cmd *cmd)
{
	(void)cmd;
}

static void fuzz_on_free_cmd(struct scst_cmd *cmd)
{
	struct fuzz_cmd *fc = cmd->tgt_priv;

	pthread_mutex_lock(&lock);
	if (fc->ended) {
		pthread_mutex_unlock(&lock);
		bad_response(fc, "freed twice");
	}
	fc->ended = true;
	freed++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void fuzz_task_mgmt_fn_done(struct scst_mgmt_cmd *mcmd)
{
	scst_mgmt_cmd_free(mcmd);
	pthread_mutex_lock(&lock);
	tmf_done++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Only shutdown asks this; the harness unregisters its session itself at
 * the end of each input. */
static void fuzz_close_sessions(struct scst_tgt *tgt)
{
	(void)tgt;
}

static struct scst_tgt_template fuzz_tgtt = {
	.name = "fuzz_scsi",
	.protocol_id = SCST_PROTOCOL_SAS,
	.get_transport_id = fuzz_transport_id,
	.rdy_to_xfer = fuzz_rdy_to_xfer,
	.xmit_response = fuzz_xmit_response,
	.on_abort_cmd = fuzz_on_abort_cmd,
	.on_free_cmd = fuzz_on_free_cmd,
	.task_mgmt_fn_done = fuzz_task_mgmt_fn_done,
	.close_sessions = fuzz_close_sessions,
};

/* ------------------------------------------------------------------ */
/* Work on the reactor. */

static void send_cmd_here(struct reactor_msg *m)
{
	struct fuzz_cmd *fc = container_of(m, struct fuzz_cmd, msg);
	struct scst_cmd *cmd = scst_rx_cmd(session, fc->lun, fc->cdb, fc->cdb_len, fc->tag,
					   fc->attr, fc->dir, fc->expected_len);

	if (!cmd)
		die("%s", "scst_rx_cmd: out of memory");
	cmd->tgt_priv = fc;
	scst_cmd_prepare(cmd);
	scst_cmd_alloc_space(cmd);
	/* Immediate data, as iSCSI would place it; only into a buffer of a
	 * command that takes Data-Out. */
	if (cmd->buf && cmd->bufflen && cmd->data_dir == SCST_DATA_WRITE &&
	    fc->dir == SCST_DATA_WRITE) {
		size_t n = fc->data_out_len < cmd->bufflen ? fc->data_out_len : cmd->bufflen;
		memcpy(cmd->buf, fc->data_out, n);
		cmd->data_received = (uint32_t)n;
	}
	scst_cmd_start(cmd);
}

struct fuzz_tmf {
	struct reactor_msg msg;
	enum scst_tmf fn;
	uint64_t lun;
	uint64_t tag;
};

static void send_tmf_here(struct reactor_msg *m)
{
	struct fuzz_tmf *t = container_of(m, struct fuzz_tmf, msg);

	if (!scst_rx_mgmt_fn(session, t->fn, t->lun, t->tag, NULL))
		die("%s", "scst_rx_mgmt_fn: out of memory");
}

static void session_unreg_done(struct scst_session *sess)
{
	(void)sess;
	pthread_mutex_lock(&lock);
	session_gone = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

struct session_job {
	struct reactor_msg msg;
	bool done;
};

static void register_here(struct reactor_msg *m)
{
	struct session_job *j = container_of(m, struct session_job, msg);

	session = scst_register_session(target, initiator_name, NULL);
	pthread_mutex_lock(&lock);
	j->done = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void unregister_here(struct reactor_msg *m)
{
	(void)m;
	scst_unregister_session(session, session_unreg_done);
}

/* Waits (lock held) until @pred holds, at most @ms; returns whether it did. */
#define WAIT_UNTIL(pred, ms)                                                       \
	({                                                                         \
		uint64_t deadline_ = now_ms() + (ms);                              \
		while (!(pred) && now_ms() < deadline_) {                         \
			struct timespec ts_;                                       \
			clock_gettime(CLOCK_REALTIME, &ts_);                       \
			ts_.tv_nsec += 10 * 1000000;                               \
			if (ts_.tv_nsec >= 1000000000) {                           \
				ts_.tv_sec++;                                      \
				ts_.tv_nsec -= 1000000000;                         \
			}                                                          \
			pthread_cond_timedwait(&cond, &lock, &ts_);                \
		}                                                                  \
		(pred);                                                            \
	})

/* ------------------------------------------------------------------ */
/* Set-up: once per process, then per input. */

static void setup_once(void)
{
	static bool done;
	char err[256];

	if (done)
		return;
	done = true;
	if (!getenv("FUZZ_LOG"))
		log_threshold = LOG_LVL_ERROR;
	trace = getenv("FUZZ_TRACE") != NULL;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/fuzz_scsi.XXXXXX");
	if (!mkdtemp(tmp_dir))
		die("mkdtemp: %s", tmp_dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmp_dir);
	snprintf(store_path, sizeof(store_path), "%s/store", tmp_dir);
	if (mkdir(state_dir, 0700))
		die("cannot make %s", state_dir);
	store_fd = open(store_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (store_fd < 0)
		die("cannot make %s", store_path);
	shadow = malloc(FILE_SIZE);
	current = malloc(FILE_SIZE);
	if (!shadow || !current)
		die("%s", "out of memory");
	scst_core_init();
	if (vdisk_register() || scst_register_target_template(&fuzz_tgtt))
		die("%s", "cannot register vdisk and the fuzz driver");
	if (reactors_start(1))
		die("%s", "cannot start the reactor");
	reactor = reactor_by_index(0);
	if (pr_store_start(state_dir, err, sizeof(err)))
		die("pr_store_start: %s", err);
}

/* Removes every file under @path (the state directory's pr/ and mode/). */
static void empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (e->d_type == DT_DIR)
			empty_dir(sub);
		else
			unlink(sub);
	}
	closedir(d);
}

static struct scst_device *make_device(const char *handler, const char *name, bool file)
{
	char size[32];
	char err[256];
	struct scst_attr attrs[6];
	unsigned n = 0;

	snprintf(size, sizeof(size), "%u", FILE_SIZE);
	attrs[n++] = (struct scst_attr){ .name = "size", .value = size };
	attrs[n++] = (struct scst_attr){ .name = "thin_provisioned", .value = "1" };
	if (file) {
		attrs[n++] = (struct scst_attr){ .name = "filename", .value = store_path };
		attrs[n++] = (struct scst_attr){ .name = "removable", .value = "1" };
		attrs[n++] = (struct scst_attr){ .name = "blocksize", .value = "512" };
	}
	struct scst_device *dev = scst_device_create(handler, name, attrs, n, err, sizeof(err));
	if (!dev)
		die("device: %s", err);
	return dev;
}

/* @fresh: a new input, with an empty state directory and a zeroed store;
 * else a restart within one, which keeps both. */
static void setup_target(bool fresh)
{
	char err[256];

	if (fresh) {
		empty_dir(state_dir);
		if (ftruncate(store_fd, 0) || ftruncate(store_fd, FILE_SIZE))
			die("cannot reset %s", store_path);
		memset(shadow, 0, FILE_SIZE);
	}
	pthread_mutex_lock(&scst_mutex);
	file_dev = make_device("vdisk_fileio", file_dev_name, true);
	null_dev = make_device("vdisk_nullio", null_dev_name, false);
	target = scst_target_create(&fuzz_tgtt, target_name, NULL, 0, err, sizeof(err));
	if (!target)
		die("target: %s", err);
	if (scst_target_add_lun(target, 0, file_dev, false, err, sizeof(err)) ||
	    scst_target_add_lun(target, 1, null_dev, false, err, sizeof(err)) ||
	    scst_target_add_lun(target, 2, file_dev, true, err, sizeof(err)))
		die("LUN: %s", err);
	scst_target_set_enabled(target, true);
	pthread_mutex_unlock(&scst_mutex);

	struct session_job j = { 0 };
	reactor_send(reactor, &j.msg, register_here);
	pthread_mutex_lock(&lock);
	if (!WAIT_UNTIL(j.done, RESPONSE_TIMEOUT_MS))
		die("%s", "session registration did not run");
	pthread_mutex_unlock(&lock);
	if (!session)
		die("%s", "scst_register_session failed");
	session_gone = false;
	issued = responded = freed = tmf_sent = tmf_done = input_tmfs = 0;
	ncmds = 0;
}

static void teardown_target(void)
{
	char err[256];

	reactor_send(reactor, &(struct reactor_msg){ 0 }, unregister_here);
	pthread_mutex_lock(&lock);
	if (!WAIT_UNTIL(session_gone && freed == issued, RESPONSE_TIMEOUT_MS)) {
		pthread_mutex_unlock(&lock);
		die("%s", "session not unregistered (or a command not freed) in time");
	}
	pthread_mutex_unlock(&lock);
	uint64_t deadline = now_ms() + RESPONSE_TIMEOUT_MS;
	for (;;) {
		pthread_mutex_lock(&scst_mutex);
		if (target->sessions_alive == 0)
			break;
		pthread_mutex_unlock(&scst_mutex);
		if (now_ms() > deadline)
			die("%s", "the session did not leave its target");
		usleep(200);
	}
	scst_target_destroy(target);
	if (scst_device_destroy(file_dev, err, sizeof(err)) ||
	    scst_device_destroy(null_dev, err, sizeof(err)))
		die("device destroy: %s", err);
	pthread_mutex_unlock(&scst_mutex);
	if (!scst_wait_devices_released(RELEASE_TIMEOUT_S))
		die("%s", "a device was not released after the target went");
	session = NULL;
	target = NULL;
	file_dev = null_dev = NULL;
}

/* ------------------------------------------------------------------ */
/* Per command. */

static void read_store(uint8_t *into)
{
	size_t got = 0;

	while (got < FILE_SIZE) {
		ssize_t r = pread(store_fd, into + got, FILE_SIZE - got, (off_t)got);
		if (r <= 0)
			die("cannot read %s", store_path);
		got += (size_t)r;
	}
}

/* A SANITIZE or FORMAT UNIT goes on after its command completed: wait until
 * the unit is ready again (or stays not ready for another reason), so that
 * the next command and the store comparison see it finished. */
static void quiesce(void)
{
	uint64_t deadline = now_ms() + QUIESCE_TIMEOUT_MS;
	struct scsi_sense s;

	if (!file_dev->handler->not_ready)
		return;
	while (file_dev->handler->not_ready(file_dev, 0, &s) && s.key == 0x2 &&
	       (s.asc == 0x041b || s.asc == 0x0404)) {
		if (now_ms() > deadline)
			die("%s", "a SANITIZE or FORMAT UNIT still runs long after its command");
		usleep(1000);
	}
}

/* Where each command still active is (on the reactor: the lists are
 * reactor-local), for a command that never ends. */
static void dump_stuck_here(void *arg)
{
	struct scst_cmd *c;

	(void)arg;
	list_for_each_entry(c, &session->cmds, sess_entry)
		fprintf(stderr,
			"fuzz_scsi: active: tag %llu op 0x%02x attr %d state %s lba %llu+%u"
			" in_task_set %d parked %d range_state %d started %d aborted %d\n",
			(unsigned long long)c->tag, c->cdb[0], c->task_attr,
			scst_cmd_state_name(c->state), (unsigned long long)c->lba, c->nblocks,
			c->in_task_set, c->parked, (int)c->range_state, c->started,
			(int)atomic_load(&c->aborted));
}

/* Until every command sent has ended and every task management function
 * has completed; then each command must have had its response, unless a
 * task management function may have aborted it. */
static void wait_quiet(void)
{
	pthread_mutex_lock(&lock);
	if (!WAIT_UNTIL(freed == issued && tmf_done == tmf_sent, RESPONSE_TIMEOUT_MS)) {
		for (unsigned i = 0; i < ncmds; i++)
			if (!cmds[i].ended)
				dump_cmd(&cmds[i]);
		pthread_mutex_unlock(&lock);
		reactor_run_on_all(dump_stuck_here, NULL);
		die("%s", freed == issued ? "a task management function did not complete in time"
					  : "a command did not end in time");
	}
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < ncmds; i++) {
		if (!cmds[i].answered && !input_tmfs)
			bad_response(&cmds[i], "no response, and nothing aborted it");
		if (cmds[i].answered)
			check_response(&cmds[i]);
	}
}

static void run_cmd(struct fuzz_cmd *fc, bool wait)
{
	bool alone;

	pthread_mutex_lock(&lock);
	alone = wait && freed == issued && tmf_done == tmf_sent;
	pthread_mutex_unlock(&lock);
	fc->tag = next_tag++;

	if (alone)
		read_store(shadow);
	pthread_mutex_lock(&lock);
	issued++;
	pthread_mutex_unlock(&lock);
	reactor_send(reactor, &fc->msg, send_cmd_here);
	if (!wait)
		return;
	/* This command only: an earlier one may be blocked by an ACA
	 * condition until the input clears it (or the end of the input). */
	pthread_mutex_lock(&lock);
	if (!WAIT_UNTIL(fc->ended, RESPONSE_TIMEOUT_MS)) {
		pthread_mutex_unlock(&lock);
		reactor_run_on_all(dump_stuck_here, NULL);
		dump_cmd(fc);
		die("%s", "a command did not end in time");
	}
	pthread_mutex_unlock(&lock);
	if (!fc->answered && !input_tmfs)
		bad_response(fc, "no response, and nothing aborted it");
	if (fc->answered)
		check_response(fc);
	quiesce();
	if (trace)
		dump_cmd(fc);
	uint8_t key = sense_key(fc);
	/* Refused whole: ILLEGAL REQUEST, DATA PROTECT, NOT READY, UNIT
	 * ATTENTION. */
	if (alone && fc->status == SAM_STAT_CHECK_CONDITION &&
	    (key == 0x5 || key == 0x7 || key == 0x2 || key == 0x6)) {
		read_store(current);
		if (memcmp(current, shadow, FILE_SIZE)) {
			size_t off = 0;
			while (current[off] == shadow[off])
				off++;
			dump_cmd(fc);
			fprintf(stderr, "fuzz_scsi: first changed byte at offset %zu (LBA %zu)\n",
				off, off / STORE_BLOCK_SIZE);
			die("%s", "a refused command changed the medium");
		}
	}
}

static const uint64_t luns[4] = { 0, 1, 2, UNMAPPED_LUN };

static void send_tmf(enum scst_tmf fn, uint64_t lun, uint64_t tag)
{
	static struct fuzz_tmf tmfs[MAX_CMDS + 3];

	assert(tmf_sent < sizeof(tmfs) / sizeof(tmfs[0]));
	struct fuzz_tmf *t = &tmfs[tmf_sent];
	*t = (struct fuzz_tmf){ .fn = fn, .lun = lun, .tag = tag };
	pthread_mutex_lock(&lock);
	tmf_sent++;
	pthread_mutex_unlock(&lock);
	reactor_send(reactor, &t->msg, send_tmf_here);
}

static void run_tmf(uint8_t flags, uint8_t fn, uint8_t ref)
{
	if (input_tmfs == MAX_CMDS)
		return;
	input_tmfs++;
	/* The tag of an earlier command, or one never used. */
	send_tmf((enum scst_tmf)(fn % NTMFS), luns[flags & REC_LUN_MASK],
		 ref < ncmds ? cmds[ref].tag : next_tag + ref);
	if (flags & REC_NOWAIT)
		return;
	/* The function only: commands it did not end may be blocked by an
	 * ACA condition. */
	pthread_mutex_lock(&lock);
	if (!WAIT_UNTIL(tmf_done == tmf_sent, RESPONSE_TIMEOUT_MS)) {
		pthread_mutex_unlock(&lock);
		reactor_run_on_all(dump_stuck_here, NULL);
		die("%s", "a task management function did not complete in time");
	}
	pthread_mutex_unlock(&lock);
}

/* The session's POWER ON, RESET OR BUS DEVICE RESET unit attentions,
 * which would take the first command of each LUN: a REQUEST SENSE reports
 * and clears one whatever UA_INTLCK_CTRL a restart brought back (under
 * 10b a CHECK CONDITION leaves it pending, SPC-4 7.5.8). */
static void clear_power_on_uas(void)
{
	static const uint8_t request_sense[6] = { 0x03, 0, 0, 0, 252, 0 };

	for (unsigned l = 0; l < 3; l++) {
		struct fuzz_cmd *fc = &cmds[ncmds++];
		*fc = (struct fuzz_cmd){ .cdb_len = 6, .lun = l, .dir = SCST_DATA_READ,
					 .expected_len = 252 };
		memcpy(fc->cdb, request_sense, sizeof(request_sense));
		run_cmd(fc, true);
	}
}

/* What an initiator does before it logs out: an ACA condition the input
 * left (a CHECK CONDITION with NACA=1) would hold the commands it blocks
 * until the session goes. Then every command must have ended. */
static void end_session(void)
{
	for (unsigned l = 0; l < 3; l++)
		send_tmf(SCST_TMF_CLEAR_ACA, l, 0);
	wait_quiet();
	quiesce();
	/* The copy manager's internal commands included. */
	struct scst_device *devs[] = { file_dev, null_dev };
	for (unsigned i = 0; i < 2; i++) {
		pthread_mutex_lock(&devs[i]->lock);
		unsigned n = devs[i]->active_cmds;
		pthread_mutex_unlock(&devs[i]->lock);
		if (n)
			die("%s has active commands after every command ended", devs[i]->name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned restarts = 0;

	setup_once();
	setup_target(true);
	clear_power_on_uas();

	while (size >= 2 && ncmds < MAX_CMDS) {
		struct fuzz_cmd *fc = &cmds[ncmds];
		uint8_t flags = data[0];
		if (flags & REC_TMF) {
			if (size < REC_TMF_LEN)
				break;
			if (data[1] != REC_RESTART) {
				run_tmf(flags, data[1], data[2]);
			} else if (restarts < MAX_RESTARTS) {
				restarts++;
				end_session();
				teardown_target();
				setup_target(false);
				clear_power_on_uas();
			}
			data += REC_TMF_LEN;
			size -= REC_TMF_LEN;
			continue;
		}
		unsigned cdb_len = data[1] ? (data[1] - 1u) % SCSI_MAX_CDB_LEN + 1 : 6;
		if (size < 2 + cdb_len + 5)
			break;
		*fc = (struct fuzz_cmd){ .cdb_len = cdb_len, .lun = luns[flags & REC_LUN_MASK],
					 .attr = (enum scst_task_attr)(flags >> REC_ATTR_SHIFT & 3) };
		memcpy(fc->cdb, data + 2, cdb_len);
		data += 2 + cdb_len;
		size -= 2 + cdb_len;
		uint32_t elen = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];
		fc->expected_len = elen > MAX_EXPECTED_LEN ? MAX_EXPECTED_LEN : elen;
		size_t n = (size_t)data[3] << 8 | data[4];
		data += 5;
		size -= 5;
		if (n > size)
			n = size;
		fc->data_out = data;
		fc->data_out_len = n;
		data += n;
		size -= n;
		switch (flags >> REC_DIR_SHIFT & 3) {
		case 0:
			fc->dir = SCST_DATA_NONE;
			break;
		case 1:
			fc->dir = SCST_DATA_READ;
			break;
		case REC_DIR_FAILED_OUT:
			fc->fail_transfer = true;
			/* fall through */
		default:
			fc->dir = SCST_DATA_WRITE;
			break;
		}
		ncmds++;
		run_cmd(fc, !(flags & REC_NOWAIT));
	}
	end_session();
	teardown_target();
	return 0;
}
