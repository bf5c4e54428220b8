/* List identifiers of EXTENDED COPY(LID1) operations and RECEIVE COPY
 * RESULTS (SPC-4 6.18): COPY STATUS, RECEIVE DATA, OPERATING PARAMETERS
 * and FAILED SEGMENT DETAILS. Lifetimes: copy_results.h. */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "core/copy_mgr.h"
#include "core/copy_params.h"
#include "core/copy_results.h"
#include "core/core_internal.h"

/* Each reactor's records, touched only by that reactor. What is left
 * when its thread ends (held results nobody collected) is freed then,
 * by the thread-specific key's destructor. */
static _Thread_local struct list_head records;
static _Thread_local unsigned nrecords;
static pthread_key_t records_key;
static pthread_once_t records_once = PTHREAD_ONCE_INIT;

static void free_records(void *list)
{
	struct list_head *head = list;

	while (!list_empty(head)) {
		struct copy_record *rec = list_first_entry(head, struct copy_record, entry);

		list_del(&rec->entry);
		free(rec);
	}
}

static void records_key_create(void)
{
	pthread_key_create(&records_key, free_records);
}

static struct list_head *reactor_records(void)
{
	if (!records.next) {
		list_init(&records);
		pthread_once(&records_once, records_key_create);
		pthread_setspecific(records_key, &records);
	}
	return &records;
}

static struct copy_record *find(const struct scst_session *sess, uint32_t list_id)
{
	struct copy_record *rec;

	list_for_each_entry(rec, reactor_records(), entry) {
		if (rec->sess == sess && rec->sess_serial == sess->serial &&
		    rec->list_id == list_id)
			return rec;
	}
	return NULL;
}

static void discard(struct copy_record *rec)
{
	assert(!rec->active && nrecords > 0);
	list_del(&rec->entry);
	nrecords--;
	free(rec);
}

/* Makes room for one more: the oldest ended record goes. Running ones
 * never do (their job points at them); there are at most as many of
 * those as EXTENDED COPY commands in flight. */
static void make_room(void)
{
	struct copy_record *rec;

	if (nrecords < COPY_HELD_RECORDS_MAX)
		return;
	list_for_each_entry(rec, reactor_records(), entry) {
		if (!rec->active) {
			discard(rec);
			return;
		}
	}
}

struct copy_record *copy_record_begin(const struct scst_session *sess, uint32_t list_id,
				      bool lid4, bool hold, struct scsi_sense *sense)
{
	struct copy_record *rec;

	assert(reactor_self() == sess->reactor);
	rec = find(sess, list_id);
	if (rec && rec->active) {
		*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_OPERATION_IN_PROGRESS);
		return NULL;
	}
	if (rec)
		discard(rec);
	make_room();
	rec = calloc(1, sizeof(*rec));
	if (!rec) {
		memset(sense, 0, sizeof(*sense));
		return NULL;
	}
	rec->sess = sess;
	rec->sess_serial = sess->serial;
	rec->list_id = list_id;
	rec->lid4 = lid4;
	rec->hold = hold;
	rec->active = true;
	list_add_tail(&rec->entry, reactor_records());
	nrecords++;
	return rec;
}

void copy_record_end(struct copy_record *rec, uint8_t status, const uint8_t *sense,
		     uint8_t sense_len)
{
	assert(rec->active && sense_len <= sizeof(rec->sense));
	rec->active = false;
	rec->status = status;
	rec->sense_len = sense_len;
	memcpy(rec->sense, sense, sense_len);
	if (!rec->hold)
		discard(rec);
}

bool copy_record_known(const struct scst_session *sess, uint32_t list_id)
{
	assert(reactor_self() == sess->reactor);
	return find(sess, list_id) != NULL;
}

void copy_records_session_gone(const struct scst_session *sess)
{
	struct copy_record *rec, *tmp;
	unsigned n = 0;

	assert(reactor_self() == sess->reactor);
	if (!records.next)
		return; /* this reactor never had one */
	list_for_each_entry_safe(rec, tmp, &records, entry) {
		if (rec->sess != sess || rec->sess_serial != sess->serial)
			continue;
		/* Its copy was a command of the session: it has ended. */
		assert(!rec->active);
		discard(rec);
		n++;
	}
	if (n)
		log_info("session %s: %u list identifier record(s) of its copies dropped",
			 sess->initiator_name, n);
}

/* ---- RECEIVE COPY RESULTS ---- */

#define RCR_CDB_LIST_ID 2
#define RCR_CDB_ALLOC_LEN 10

int scst_rcv_copy_results_parse(struct scst_cmd *cmd)
{
	switch (cmd->cdb[1] & 0x1f) {
	case COPY_SA_COPY_STATUS_LID1:
	case COPY_SA_RECEIVE_DATA_LID1:
	case COPY_SA_FAILED_SEGMENT_DETAILS_LID1:
	case COPY_SA_COPY_STATUS_LID4:
	case COPY_SA_RECEIVE_DATA_LID4:
		break;
	case COPY_SA_OPERATING_PARAMETERS:
		/* No list identifier: the field is reserved. */
		if (cmd->cdb[RCR_CDB_LIST_ID]) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(RCR_CDB_LIST_ID, -1));
			return -1;
		}
		break;
	default:
		/* The row's service action was looked up: not reached. */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 4));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be32(cmd->cdb + RCR_CDB_ALLOC_LEN);
	return 0;
}

/* SPC-4 6.18.4. */
static size_t operating_parameters(uint8_t *d)
{
	static const uint8_t implemented[] = {
		COPY_SEG_BLOCK_TO_BLOCK, COPY_SEG_BLOCK_TO_BLOCK_OFFSET, COPY_CSCD_IDENTIFICATION,
	};
	size_t n = 44 + sizeof(implemented);

	memset(d, 0, n);
	put_be32(d, (uint32_t)(n - 4));
	d[4] = 0x01; /* SNLID: list identifiers are kept per I_T nexus */
	put_be16(d + 8, COPY_MAX_CSCD_DESCS);
	put_be16(d + 10, COPY_MAX_SEG_DESCS);
	put_be32(d + 12, COPY_MAX_DESC_LIST_LEN);
	put_be32(d + 16, COPY_MAX_SEGMENT_LEN);
	/* 20-23 MAXIMUM INLINE DATA LENGTH, 24-27 HELD DATA LIMIT and
	 * 28-31 MAXIMUM STREAM DEVICE TRANSFER SIZE: 0, none. */
	/* TOTAL CONCURRENT COPIES and MAXIMUM CONCURRENT COPIES: bounded
	 * only by the list identifiers (256 per nexus). */
	put_be16(d + 34, 0xffff);
	d[36] = 0xff;
	d[37] = COPY_DATA_SEGMENT_GRANULARITY;
	d[43] = sizeof(implemented);
	memcpy(d + 44, implemented, sizeof(implemented));
	return n;
}

/* SPC-4 6.18.2: COPY MANAGER STATUS 00h running, 01h completed without
 * errors, 02h completed with errors; TRANSFER COUNT in KiB (units 01h).
 * A copy that ended well is forgotten once reported; one that failed is
 * kept for FAILED SEGMENT DETAILS. */
static size_t copy_status(struct copy_record *rec, uint8_t *d)
{
	memset(d, 0, 12);
	put_be32(d, 8);
	d[4] = rec->active ? 0x00 : rec->status == SAM_STAT_GOOD ? 0x01 : 0x02;
	put_be16(d + 5, rec->segments_processed);
	d[7] = 0x01;
	put_be32(d + 8, (uint32_t)(rec->bytes_written >> 10));
	if (!rec->active && rec->status == SAM_STAT_GOOD)
		discard(rec);
	return 12;
}

/* How often a copy's status may change noticeably, for ESTIMATED STATUS
 * UPDATE DELAY (milliseconds): a 1 MiB chunk of a fileio LUN takes a
 * few; an initiator polling a background copy need not ask faster. */
#define COPY_STATUS_UPDATE_DELAY_MS 100

/* RECEIVE COPY STATUS(LID4) (SPC-4 6.18.3), of a copy of either kind:
 * COPY OPERATION STATUS 11h while it runs in the foreground (the
 * command is still executing), 12h in the background (IMMED), then 01h
 * / 02h (60h: terminated by task management or COPY OPERATION ABORT),
 * with the EXTENDED COPY's status and sense data (a background copy's:
 * what the command would have ended with); TRANSFER COUNT in bytes
 * (units 00h). Forgotten once it has reported an ended copy whole
 * (there is no FAILED SEGMENT DETAILS for LID4). */
/* The fields RECEIVE COPY STATUS(LID4) and RECEIVE COPY DATA(LID4)
 * share (SPC-5 tables 240 and 248): @n bytes, the sense data's end. */
static void status_lid4_fields(const struct copy_record *rec, uint8_t *d, size_t n)
{
	memset(d, 0, n);
	put_be32(d, (uint32_t)(n - 4));
	d[4] = rec->lid4 ? COPY_SA_EXTENDED_COPY_LID4 : COPY_SA_EXTENDED_COPY_LID1;
	if (rec->active) {
		d[5] = rec->background ? 0x12 : 0x11;
		put_be32(d + 8, COPY_STATUS_UPDATE_DELAY_MS);
	} else if (rec->status == SAM_STAT_GOOD)
		d[5] = 0x01;
	else if (rec->status == SAM_STAT_TASK_ABORTED)
		d[5] = 0x60;
	else
		d[5] = 0x02;
	if (!rec->active) {
		d[12] = rec->status;
		d[13] = rec->sense_len;
		d[14] = rec->sense_len;
		memcpy(d + 32, rec->sense, rec->sense_len);
	}
	d[15] = 0x00;
	put_be64(d + 16, rec->bytes_written);
	put_be16(d + 24, rec->segments_processed);
}

static size_t copy_status_lid4(struct copy_record *rec, uint8_t *d, uint32_t room)
{
	size_t n = 32 + rec->sense_len;

	status_lid4_fields(rec, d, n);
	if (!rec->active && room >= n)
		discard(rec);
	return n;
}

/* RECEIVE COPY DATA(LID4) (SPC-5 6.20): the status fields as RECEIVE
 * COPY STATUS(LID4) has them (RESPONSE TO SERVICE ACTION: the command
 * that made the copy), then HELD DATA LENGTH and the held data. No
 * segment type the copy manager takes holds data: HELD DATA LENGTH is
 * always 0 (and HDD 0: nothing was discarded). The record stays: held
 * data read is not the status RECEIVE COPY STATUS(LID4) reports. */
static size_t receive_data_lid4(const struct copy_record *rec, uint8_t *d)
{
	size_t n = 32 + rec->sense_len + 4;

	status_lid4_fields(rec, d, n);
	return n;
}

/* SPC-4 6.18.5: the EXTENDED COPY's status and sense data; forgotten
 * once reported whole. */
static size_t failed_segment_details(struct copy_record *rec, uint8_t *d, uint32_t room)
{
	size_t n = 60 + rec->sense_len;

	memset(d, 0, n);
	put_be32(d, (uint32_t)(n - 4));
	d[56] = rec->status;
	put_be16(d + 58, rec->sense_len);
	memcpy(d + 60, rec->sense, rec->sense_len);
	if (room >= n)
		discard(rec);
	return n;
}

void scst_rcv_copy_results_exec(struct scst_cmd *cmd)
{
	uint8_t d[64 + SCSI_SENSE_BUFFERSIZE];
	uint8_t sa = cmd->cdb[1] & 0x1f;
	struct copy_record *rec = NULL;
	size_t n;

	if (sa != COPY_SA_OPERATING_PARAMETERS) {
		/* LID4 forms: a 4-byte LIST IDENTIFIER at byte 2. */
		uint32_t id = sa == COPY_SA_COPY_STATUS_LID4 || sa == COPY_SA_RECEIVE_DATA_LID4
				      ? get_be32(cmd->cdb + RCR_CDB_LIST_ID)
				      : cmd->cdb[RCR_CDB_LIST_ID];

		rec = find(cmd->sess, id);
		/* No such copy, or (FAILED SEGMENT DETAILS, RECEIVE DATA(LID1))
		 * one that has not ended: the list identifier is what is
		 * wrong. RECEIVE COPY DATA(LID4) may ask while a copy runs:
		 * what it has held so far (nothing, ever). */
		if (!rec || (rec->active && sa != COPY_SA_COPY_STATUS_LID1 &&
			     sa != COPY_SA_COPY_STATUS_LID4 && sa != COPY_SA_RECEIVE_DATA_LID4)) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(RCR_CDB_LIST_ID, -1));
			scst_cmd_done(cmd);
			return;
		}
	}
	switch (sa) {
	case COPY_SA_OPERATING_PARAMETERS:
		n = operating_parameters(d);
		break;
	case COPY_SA_COPY_STATUS_LID1:
		n = copy_status(rec, d);
		break;
	case COPY_SA_COPY_STATUS_LID4:
		n = copy_status_lid4(rec, d, cmd->bufflen);
		break;
	case COPY_SA_RECEIVE_DATA_LID1:
		/* No segment type the copy manager takes holds data: the
		 * held data is empty (AVAILABLE DATA 0). */
		memset(d, 0, 4);
		n = 4;
		break;
	case COPY_SA_RECEIVE_DATA_LID4:
		n = receive_data_lid4(rec, d);
		break;
	default:
		assert(sa == COPY_SA_FAILED_SEGMENT_DETAILS_LID1);
		n = failed_segment_details(rec, d, cmd->bufflen);
		break;
	}
	scst_cmd_copy_response(cmd, d, n);
	scst_cmd_done(cmd);
}
