/* The initiator side of metrics.sh: one session that sends a known set
 * of commands and task management functions to one LUN, and prints what
 * the target's counters must have grown by, as "expect KEY VALUE" lines.
 *
 *   metrics_io PORTAL TARGET INITIATOR ISID_QUALIFIER N LUN [gate]
 *
 * Logs in without libiscsi's full connect (which sends TEST UNIT READYs
 * of its own), then: TEST UNIT READY (CHECK CONDITION, UNIT ATTENTION:
 * the nexus's POWER ON), READ CAPACITY(10), N WRITE(10)s of 4 KiB, N
 * READ(10)s of them back (checked), one READ(10) past the end (CHECK
 * CONDITION, ILLEGAL REQUEST), ABORT TASK of a task that does not exist
 * and LOGICAL UNIT RESET. Prints "ready" and waits for a line on stdin
 * (the script scrapes the live session meanwhile), then logs out and
 * prints "done". With "gate", it also prints "logged in" and waits for a
 * line before the commands (so that a watcher is there before they
 * start). Exit 1 when a command did not end as planned. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define XFER 4096

static void die(struct iscsi_context *c, const char *what)
{
	printf("FAIL: %s: %s\n", what, c ? iscsi_get_error(c) : "?");
	exit(1);
}

/* The task ended with @status (and, for CHECK CONDITION, @key). */
static void expect_status(struct iscsi_context *c, struct scsi_task *t, int status, int key,
			  const char *what)
{
	if (!t)
		die(c, what);
	if (t->status != status || (status == SCSI_STATUS_CHECK_CONDITION && (int)t->sense.key != key)) {
		printf("FAIL: %s: status %#x sense key %#x, expected %#x / %#x\n", what, t->status,
		       t->sense.key, status, key);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	uint64_t read_bytes = 0, written_bytes = 0;
	unsigned char data[XFER], line[64];
	struct iscsi_context *c;
	struct scsi_task *t;
	uint32_t last_lba, block;
	int n, lun;

	if (argc != 7 && !(argc == 8 && !strcmp(argv[7], "gate"))) {
		fprintf(stderr, "usage: %s PORTAL TARGET INITIATOR ISID_QUALIFIER N LUN [gate]\n",
			argv[0]);
		return 2;
	}
	n = atoi(argv[5]);
	lun = atoi(argv[6]);
	c = iscsi_create_context(argv[3]);
	if (!c)
		die(NULL, "create a libiscsi context");
	iscsi_set_isid_random(c, 0x4d4554, (uint16_t)atoi(argv[4])); /* "MET" */
	iscsi_set_targetname(c, argv[2]);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(c, 30);
	if (iscsi_connect_sync(c, argv[1]) || iscsi_login_sync(c))
		die(c, "log in");
	if (argc == 8) {
		printf("logged in\n");
		fflush(stdout);
		if (!fgets((char *)line, sizeof(line), stdin))
			die(NULL, "no line on stdin to start");
	}

	t = iscsi_testunitready_sync(c, lun);
	expect_status(c, t, SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_UNIT_ATTENTION,
		      "TEST UNIT READY with POWER ON pending");
	scsi_free_scsi_task(t);

	t = iscsi_readcapacity10_sync(c, lun, 0, 0);
	expect_status(c, t, SCSI_STATUS_GOOD, 0, "READ CAPACITY(10)");
	read_bytes += (uint64_t)t->datain.size;
	struct scsi_readcapacity10 *rc10 = scsi_datain_unmarshall(t);
	if (!rc10)
		die(c, "decode READ CAPACITY(10)");
	last_lba = rc10->lba;
	block = rc10->block_size;
	scsi_free_scsi_task(t);

	for (int i = 0; i < n; i++) {
		memset(data, 'a' + i % 26, sizeof(data));
		t = iscsi_write10_sync(c, lun, (uint32_t)i * (XFER / block), data, XFER, (int)block, 0,
				       0, 0, 0, 0);
		expect_status(c, t, SCSI_STATUS_GOOD, 0, "WRITE(10)");
		written_bytes += XFER;
		scsi_free_scsi_task(t);
	}
	for (int i = 0; i < n; i++) {
		t = iscsi_read10_sync(c, lun, (uint32_t)i * (XFER / block), XFER, (int)block, 0, 0, 0,
				      0, 0);
		expect_status(c, t, SCSI_STATUS_GOOD, 0, "READ(10)");
		if (t->datain.size != XFER || t->datain.data[0] != 'a' + i % 26 ||
		    t->datain.data[XFER - 1] != 'a' + i % 26) {
			printf("FAIL: READ(10) %d: %d bytes, not what was written\n", i,
			       t->datain.size);
			return 1;
		}
		read_bytes += (uint64_t)t->datain.size;
		scsi_free_scsi_task(t);
	}
	t = iscsi_read10_sync(c, lun, last_lba + 1, block, (int)block, 0, 0, 0, 0, 0);
	expect_status(c, t, SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_ILLEGAL_REQUEST,
		      "READ(10) past the last block");
	scsi_free_scsi_task(t);

	/* ABORT TASK of an ITT never used: answered TASK DOES NOT EXIST
	 * (which libiscsi reports as a failure), still one function received. */
	if (iscsi_task_mgmt_sync(c, lun, ISCSI_TM_ABORT_TASK, 0x7ffffff0, 0) != 0 &&
	    !strstr(iscsi_get_error(c), "Does Not Exist"))
		die(c, "ABORT TASK");
	if (iscsi_task_mgmt_lun_reset_sync(c, lun) != 0)
		die(c, "LOGICAL UNIT RESET");

	printf("expect commands_other %d\n", 1);
	printf("expect commands_read %d\n", n + 2);
	printf("expect commands_write %d\n", n);
	printf("expect read_bytes %llu\n", (unsigned long long)read_bytes);
	printf("expect written_bytes %llu\n", (unsigned long long)written_bytes);
	printf("expect check_UNIT_ATTENTION 1\n");
	printf("expect check_ILLEGAL_REQUEST 1\n");
	printf("expect tmf_ABORT_TASK 1\n");
	printf("expect tmf_LOGICAL_UNIT_RESET 1\n");
	printf("expect latency_count %d\n", 2 * n + 3);
	printf("ready\n");
	fflush(stdout);
	if (!fgets((char *)line, sizeof(line), stdin))
		line[0] = '\0';
	iscsi_logout_sync(c);
	iscsi_destroy_context(c);
	printf("done\n");
	return 0;
}
