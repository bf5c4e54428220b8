/* Windows ODX: POPULATE TOKEN (SBC-4 5.9), WRITE USING TOKEN (5.44) and
 * RECEIVE ROD TOKEN INFORMATION (SPC-4 6.18.9), for every LUN of a block
 * device (the rows' available(): scst_copy_available()).
 *
 * POPULATE TOKEN checks its ranges against its own LUN and puts a token
 * in the store (copy_token.c); nothing is read then: the token is
 * "change vulnerable", revoked by any write to its ranges before WRITE
 * USING TOKEN reads them. WRITE USING TOKEN finds the token by its 512
 * bytes, finds a LUN of the requesting session on the token's source
 * device (a session without one cannot use it: LUN masking holds, as for
 * EXTENDED COPY's CSCD descriptors), maps its destination ranges onto the
 * token's ranges from OFFSET INTO ROD on, and has the copy manager's job
 * (copy_job.c) copy the pieces with internal READs and WRITEs of the
 * requesting session, so reservations, ALUA, read-only and the range
 * lock of both LUNs apply; abort is the job's. The block device zero ROD
 * token (ROD type FFFF0001h) needs no store: its pieces write zeros.
 *
 * A WRITE USING TOKEN whose destination overlaps its own token's blocks
 * (a copy within one file) claims the token (copy_token.h), so that its
 * own writes do not revoke it while every other write does, orders its
 * pieces so that each reads its source before any piece overwrites it
 * (order_pieces(); within a piece copy_job.c orders the chunks), and
 * revokes the token when it ends (wut_end_claim()).
 *
 * Both record their result under their LIST IDENTIFIER per I_T nexus
 * (struct odx_record below) for RECEIVE ROD TOKEN INFORMATION: the token
 * of a POPULATE TOKEN, the status and TRANSFER COUNT of a WRITE USING
 * TOKEN. Records are kept per nexus (struct odx_nexus) in one global list
 * under their own mutex (a nexus's commands all run on one reactor, but
 * a mutex is simpler and they are few), at most ODX_RECORDS_MAX per
 * nexus, the oldest ended one going first; they go with their session
 * (copy_odx_session_gone(), from session.c). The tokens do not: they
 * are the device's (copy_token.h), and Windows uses a token made through
 * one host from another host of its cluster. */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/list.h"
#include "base/log.h"
#include "core/copy_mgr.h"
#include "core/copy_odx.h"
#include "core/copy_token.h"
#include "core/core_internal.h"

#define ODX_CDB_LIST_ID 6
#define ODX_CDB_LIST_LEN 10
#define ODX_CDB_GROUP 14
#define PT_HEADER_LEN 16
#define WUT_HEADER_LEN 536
#define RANGE_DESC_LEN 16
#define ODX_RECORDS_MAX 256

#define RRTI_CDB_LIST_ID 2
#define RRTI_CDB_ALLOC_LEN 10

/* The records of one I_T nexus: a session's, named by pointer and
 * serial (compared, never dereferenced). Made with its first record,
 * freed with its last; copy_odx_session_gone() drops it whole. */
struct odx_nexus {
	struct list_head entry;          /* nexuses */
	const struct scst_session *sess;
	uint64_t sess_serial;
	struct list_head records;        /* newest last */
	unsigned nrecords;               /* at most ODX_RECORDS_MAX */
};

struct odx_record {
	struct list_head entry;          /* its nexus's records */
	struct odx_nexus *nexus;
	uint32_t list_id;
	uint8_t sa;                      /* POPULATE TOKEN or WRITE USING TOKEN */
	bool active;
	bool background;                 /* WRITE USING TOKEN with IMMED, running on */
	uint8_t status;
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_BUFFERSIZE];
	uint64_t transfer_blocks;        /* TRANSFER COUNT, in logical blocks */
	bool has_token;
	uint8_t token[COPY_TOKEN_LEN];
};

static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head nexuses = LIST_HEAD_INIT(nexuses);

static struct odx_nexus *nexus_find_locked(const struct scst_session *sess)
{
	struct odx_nexus *nx;

	list_for_each_entry(nx, &nexuses, entry) {
		if (nx->sess == sess && nx->sess_serial == sess->serial)
			return nx;
	}
	return NULL;
}

static struct odx_record *find_locked(const struct scst_session *sess, uint32_t list_id)
{
	struct odx_nexus *nx = nexus_find_locked(sess);
	struct odx_record *r;

	if (!nx)
		return NULL;
	list_for_each_entry(r, &nx->records, entry) {
		if (r->list_id == list_id)
			return r;
	}
	return NULL;
}

/* The record goes, and its nexus with its last one. */
static void drop_locked(struct odx_record *r)
{
	struct odx_nexus *nx = r->nexus;

	assert(nx->nrecords > 0);
	list_del(&r->entry);
	free(r);
	if (--nx->nrecords == 0) {
		list_del(&nx->entry);
		free(nx);
	}
}

/* A record for a new operation; NULL with @busy set when one with that
 * identifier still runs on the nexus (OPERATION IN PROGRESS), clear when
 * there is no memory. A full nexus (ODX_RECORDS_MAX) loses its oldest
 * ended record: an initiator that never asks for its results (a
 * thousand POPULATE TOKENs and no RECEIVE ROD TOKEN INFORMATION) costs
 * at most that many. */
static struct odx_record *record_begin(struct scst_cmd *cmd, bool *busy)
{
	uint32_t id = get_be32(cmd->cdb + ODX_CDB_LIST_ID);
	struct odx_record *r, *old;
	struct odx_nexus *nx;

	*busy = false;
	pthread_mutex_lock(&records_lock);
	old = find_locked(cmd->sess, id);
	if (old && old->active) {
		pthread_mutex_unlock(&records_lock);
		*busy = true;
		return NULL;
	}
	if (old)
		drop_locked(old);
	nx = nexus_find_locked(cmd->sess);
	if (nx && nx->nrecords >= ODX_RECORDS_MAX) {
		list_for_each_entry(old, &nx->records, entry) {
			if (!old->active) {
				drop_locked(old);
				break;
			}
		}
		/* The nexus stays: a full one has a record left. */
	}
	if (!nx) {
		nx = calloc(1, sizeof(*nx));
		if (!nx) {
			pthread_mutex_unlock(&records_lock);
			return NULL;
		}
		nx->sess = cmd->sess;
		nx->sess_serial = cmd->sess->serial;
		list_init(&nx->records);
		list_add_tail(&nx->entry, &nexuses);
	}
	/* Every one active: a nexus runs at most as many commands as it
	 * may queue, far fewer than ODX_RECORDS_MAX. */
	r = nx->nrecords < ODX_RECORDS_MAX ? calloc(1, sizeof(*r)) : NULL;
	if (r) {
		r->nexus = nx;
		r->list_id = id;
		r->sa = cmd->cdb[1] & 0x1f;
		r->active = true;
		list_add_tail(&r->entry, &nx->records);
		nx->nrecords++;
	} else if (nx->nrecords == 0) {
		list_del(&nx->entry);
		free(nx);
	}
	pthread_mutex_unlock(&records_lock);
	return r;
}

void copy_odx_session_gone(const struct scst_session *sess)
{
	struct odx_nexus *nx;
	unsigned n = 0;

	pthread_mutex_lock(&records_lock);
	nx = nexus_find_locked(sess);
	for (unsigned left = nx ? nx->nrecords : 0; left; left--, n++) {
		struct odx_record *r = list_first_entry(&nx->records, struct odx_record, entry);

		/* Its operation was a command of the session: ended. */
		assert(!r->active);
		drop_locked(r); /* the last one frees nx */
	}
	pthread_mutex_unlock(&records_lock);
	if (n)
		log_info("session %s: %u ODX record(s) (RECEIVE ROD TOKEN INFORMATION) dropped",
			 sess->initiator_name, n);
}

static void record_end_result(struct odx_record *r, uint8_t status, const uint8_t *sense,
			      uint8_t sense_len, uint64_t blocks)
{
	pthread_mutex_lock(&records_lock);
	r->active = false;
	r->status = status;
	r->sense_len = (uint8_t)(sense_len < sizeof(r->sense) ? sense_len : sizeof(r->sense));
	memcpy(r->sense, sense, r->sense_len);
	r->transfer_blocks = blocks;
	pthread_mutex_unlock(&records_lock);
}

static void record_end(struct odx_record *r, const struct scst_cmd *cmd, uint64_t blocks)
{
	record_end_result(r, cmd->status, cmd->sense, cmd->sense_len, blocks);
}

/* ---- PARSE ---- */

int scst_odx_parse(struct scst_cmd *cmd)
{
	bool populate = (cmd->cdb[1] & 0x1f) == COPY_SA_POPULATE_TOKEN;
	unsigned max = (populate ? PT_HEADER_LEN : WUT_HEADER_LEN) +
		       COPY_TOKEN_MAX_RANGES * RANGE_DESC_LEN;

	/* Bytes 2-5 are reserved, and bits 7-5 of GROUP NUMBER. */
	for (unsigned i = 2; i < ODX_CDB_LIST_ID; i++) {
		if (cmd->cdb[i]) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field((uint16_t)i, -1));
			return -1;
		}
	}
	if (cmd->cdb[ODX_CDB_GROUP] & 0xe0) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(ODX_CDB_GROUP, 7));
		return -1;
	}
	cmd->data_len = get_be32(cmd->cdb + ODX_CDB_LIST_LEN);
	cmd->data_dir = cmd->data_len ? SCST_DATA_WRITE : SCST_DATA_NONE;
	if (cmd->data_len > max) {
		log_warn_rl("session %s: %s with a %u-byte parameter list (at most %u): refused",
			    cmd->sess->initiator_name, populate ? "POPULATE TOKEN" : "WRITE USING TOKEN",
			    cmd->data_len, max);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	return 0;
}

/* ---- the parameter lists ---- */

static struct scsi_sense param_field(size_t byte, int bit)
{
	return scsi_sense_invalid_param_field((uint16_t)byte, bit);
}

/* The block device range descriptors at @p + @at, @list_len bytes
 * (checked for whole descriptors by the caller), against @dev: in range,
 * not overlapping each other. Descriptors of 0 blocks are left out.
 * Returns the number taken, or -1 with @sense set. */
static int decode_ranges(const uint8_t *p, size_t at, size_t list_len,
			 const struct scst_device *dev, struct copy_token_range *r,
			 uint64_t *total, struct scsi_sense *sense)
{
	uint64_t end = scst_dev_nblocks(dev);
	int n = 0;

	*total = 0;
	for (size_t off = at; off < at + list_len; off += RANGE_DESC_LEN) {
		uint64_t lba = get_be64(p + off);
		uint32_t nb = get_be32(p + off + 8);

		if (get_be32(p + off + 12)) {
			*sense = param_field(off + 12, -1);
			return -1;
		}
		if (lba > end || nb > end - lba) {
			*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
			return -1;
		}
		if (nb == 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (lba < r[i].lba + r[i].nblocks && r[i].lba < lba + nb) {
				*sense = param_field(off, -1);
				return -1;
			}
		}
		r[n].lba = lba;
		r[n].nblocks = nb;
		*total += nb;
		n++;
	}
	return n;
}

/* The checks both lists share: DATA LENGTH, the flags byte (IMMED is
 * taken: POPULATE TOKEN completes at once anyway, WRITE USING TOKEN goes
 * on in the background, copy_job_background()), the range descriptor
 * list length at @rdl_at. Returns the list's length, or 0 with @sense
 * set. */
static size_t check_header(const uint8_t *p, size_t len, size_t header, size_t rdl_at,
			   size_t flags_mask, struct scsi_sense *sense)
{
	size_t data_len, rdl;

	if (len < header) {
		*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return 0;
	}
	data_len = get_be16(p);
	rdl = get_be16(p + rdl_at);
	if (data_len + 2 > len || data_len + 2 < header + rdl) {
		*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return 0;
	}
	if (p[2] & ~flags_mask) {
		*sense = param_field(2, 7);
		return 0;
	}
	if (rdl % RANGE_DESC_LEN || rdl == 0) {
		*sense = param_field(rdl_at, -1);
		return 0;
	}
	if (rdl / RANGE_DESC_LEN > COPY_TOKEN_MAX_RANGES) {
		*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_TOO_MANY_SEGMENT_DESCRIPTORS);
		return 0;
	}
	return header + rdl;
}

static void refuse(struct scst_cmd *cmd, const char *what, struct scsi_sense sense,
		   const char *why)
{
	char at[32] = "";

	if (sense.has_field_pointer)
		snprintf(at, sizeof(at), " at byte %u", sense.byte);
	log_warn_rl("session %s: %s (tag %#llx, LUN %llu): %s (sense %x/%02x/%02x%s): refused",
		    cmd->sess->initiator_name, what, (unsigned long long)cmd->tag,
		    (unsigned long long)cmd->lun, why, sense.key, sense.asc >> 8,
		    sense.asc & 0xff, at);
	scst_set_cmd_error(cmd, sense);
}

/* ---- POPULATE TOKEN ---- */

static void populate_token(struct scst_cmd *cmd)
{
	const uint8_t *p = cmd->buf;
	struct copy_token_range r[COPY_TOKEN_MAX_RANGES];
	struct scsi_sense sense;
	struct odx_record *rec;
	struct copy_token *t;
	uint64_t total;
	uint32_t timeout, rod_type;
	bool busy, too_many;
	int n;

	if (!check_header(p, cmd->bufflen, PT_HEADER_LEN, 14, 0x03, &sense)) {
		refuse(cmd, "POPULATE TOKEN", sense, "bad parameter list header");
		return;
	}
	if (p[3] || get_be16(p + 12)) {
		refuse(cmd, "POPULATE TOKEN", param_field(p[3] ? 3 : 12, -1), "reserved bytes set");
		return;
	}
	timeout = get_be32(p + 4);
	if (timeout > COPY_TOKEN_MAX_TIMEOUT) {
		refuse(cmd, "POPULATE TOKEN", param_field(4, -1), "inactivity timeout too long");
		return;
	}
	if (timeout == 0)
		timeout = COPY_TOKEN_DEFAULT_TIMEOUT;
	/* RTV: the initiator names the ROD type; the change vulnerable
	 * point-in-time copy is the one made, and the default stands for it. */
	rod_type = p[2] & 0x02 ? get_be32(p + 8) : 0;
	if (rod_type != 0 && rod_type != COPY_ROD_TYPE_PIT_DEFAULT &&
	    rod_type != COPY_ROD_TYPE_PIT_CHANGE_VULNERABLE) {
		refuse(cmd, "POPULATE TOKEN", param_field(8, -1), "ROD type not served");
		return;
	}
	if (!(p[2] & 0x02) && get_be32(p + 8)) {
		refuse(cmd, "POPULATE TOKEN", param_field(8, -1), "ROD TYPE without RTV");
		return;
	}
	n = decode_ranges(p, PT_HEADER_LEN, get_be16(p + 14), cmd->dev, r, &total, &sense);
	if (n < 0) {
		refuse(cmd, "POPULATE TOKEN", sense, "bad block device range descriptor");
		return;
	}
	if (n == 0 || total > COPY_TOKEN_MAX_BLOCKS ||
	    total * cmd->dev->block_size > (uint64_t)COPY_TOKEN_MAX_BLOCKS * 512) {
		refuse(cmd, "POPULATE TOKEN", param_field(14, -1),
		       n == 0 ? "no blocks" : "more blocks than a token represents");
		return;
	}
	rec = record_begin(cmd, &busy);
	if (!rec) {
		if (busy)
			refuse(cmd, "POPULATE TOKEN",
			       scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_OPERATION_IN_PROGRESS),
			       "its list identifier is in use");
		else
			scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		return;
	}
	t = copy_token_create(cmd->dev, r, (unsigned)n, timeout, &too_many);
	if (!t) {
		if (too_many)
			refuse(cmd, "POPULATE TOKEN",
			       scsi_sense_make(SK_ILLEGAL_REQUEST,
					       ASC_INSUFFICIENT_RESOURCES_TO_CREATE_ROD_TOKEN),
			       "the device has as many live tokens as it may");
		else
			scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		record_end(rec, cmd, 0);
		return;
	}
	atomic_fetch_add(&cmd->dev->odx_tokens_made, 1);
	pthread_mutex_lock(&records_lock);
	memcpy(rec->token, t->bytes, COPY_TOKEN_LEN);
	rec->has_token = true;
	pthread_mutex_unlock(&records_lock);
	record_end(rec, cmd, total);
}

/* ---- WRITE USING TOKEN ---- */

/* The requesting session's LUN on @dev, or NULL. */
static struct scst_tgt_dev *session_lun_of(struct scst_session *sess,
					   const struct scst_device *dev)
{
	struct scst_lun_table *t = scst_session_luns(sess);

	for (unsigned i = 0; t && i < t->n; i++) {
		if (t->tgt_devs[i]->dev == dev)
			return t->tgt_devs[i];
	}
	return NULL;
}

struct wut_ctx {
	struct odx_record *rec;
	struct copy_token *del; /* DEL_TKN: deleted once the copy has ended well */
	/* Claimed (its pieces write the token's blocks): referenced, and
	 * revoked when the copy ends, however it ends. */
	struct copy_token *claimed;
	uint64_t claim;
	uint32_t block_size;
	/* The destination, for its ODX counters (the dump): held by the
	 * command's nexus, and in the background by the session the job
	 * holds. */
	struct scst_device *dst;
};

/* A WRITE USING TOKEN ended GOOD after @blocks: the destination counts
 * it (the state dump). */
static void wut_count(const struct wut_ctx *w, uint8_t status, uint64_t blocks)
{
	if (status != SAM_STAT_GOOD)
		return;
	atomic_fetch_add(&w->dst->odx_wut_done, 1);
	atomic_fetch_add(&w->dst->odx_wut_blocks, blocks);
}

/* The copy of a claimant has ended: its token's blocks are no longer
 * what POPULATE TOKEN saw (or may not be, for a copy cut short). */
static void wut_end_claim(struct wut_ctx *w)
{
	if (!w->claimed)
		return;
	copy_token_claim_end(w->claimed, w->claim);
	copy_token_put(w->claimed);
	w->claimed = NULL;
}

static void wut_ended(struct scst_cmd *cmd, uint64_t bytes, void *ctx)
{
	struct wut_ctx *w = ctx;

	wut_end_claim(w);
	wut_count(w, cmd->status, bytes / w->block_size);
	if (w->del) {
		if (cmd->status == SAM_STAT_GOOD)
			copy_token_delete(w->del);
		copy_token_put(w->del);
	}
	if (w->rec)
		record_end(w->rec, cmd, bytes / w->block_size);
	free(w);
}

/* The same for a WRITE USING TOKEN with IMMED, whose command completed
 * when its copy went to the background. */
static void wut_bg_ended(const struct copy_job_result *res, void *ctx)
{
	struct wut_ctx *w = ctx;

	wut_end_claim(w);
	wut_count(w, res->status, res->bytes_written / w->block_size);
	if (w->del) {
		if (res->status == SAM_STAT_GOOD)
			copy_token_delete(w->del);
		copy_token_put(w->del);
	}
	if (w->rec)
		record_end_result(w->rec, res->status, res->sense, res->sense_len,
				  res->bytes_written / w->block_size);
	free(w);
}

/* Whether piece @w writes a block piece @r reads. */
static bool piece_overwrites_source(const struct copy_piece *w, const struct copy_piece *r)
{
	uint32_t bs = w->dst->dev->block_size;

	return !r->zeros && w->dst->dev == r->src->dev && w->dst_lba < r->src_lba + r->len / bs &&
	       r->src_lba < w->dst_lba + w->len / bs;
}

/* Whether one of the @n pieces writes a block of @t's ranges. */
static bool pieces_write_token(const struct copy_token *t, const struct copy_piece *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t nb = p[i].len / p[i].dst->dev->block_size;

		if (p[i].dst->dev != t->dev)
			continue;
		for (unsigned k = 0; k < t->nranges; k++) {
			if (p[i].dst_lba < t->ranges[k].lba + t->ranges[k].nblocks &&
			    t->ranges[k].lba < p[i].dst_lba + nb)
				return true;
		}
	}
	return false;
}

/* The pieces of a WRITE USING TOKEN onto its own token's blocks, put in
 * an order where every piece runs before the pieces that overwrite its
 * source, so that each reads the blocks as POPULATE TOKEN saw them (the
 * job runs one piece after the other; within one piece whose source and
 * destination overlap copy_job.c orders the chunks: from the end down
 * when the destination is above, one at a time). Stable: the pieces
 * keep the destination's order where they may. False when no order
 * exists: the pieces overwrite each other's sources in a cycle (a swap
 * of two extents), which only a copy held in memory could do. */
static bool order_pieces(struct copy_piece *p, unsigned n)
{
	struct copy_piece out[2 * COPY_TOKEN_MAX_RANGES];
	bool taken[2 * COPY_TOKEN_MAX_RANGES] = { false };

	assert(n <= sizeof(out) / sizeof(out[0]));
	for (unsigned k = 0; k < n; k++) {
		unsigned i;

		for (i = 0; i < n; i++) {
			bool waits = false;

			if (taken[i])
				continue;
			/* @i must wait while a piece not yet run reads what
			 * @i writes. */
			for (unsigned j = 0; j < n && !waits; j++)
				waits = j != i && !taken[j] && piece_overwrites_source(&p[i], &p[j]);
			if (!waits)
				break;
		}
		if (i == n)
			return false;
		taken[i] = true;
		out[k] = p[i];
	}
	memcpy(p, out, n * sizeof(*p));
	return true;
}

/* Returns true when the command is to be ended by the caller (@w still
 * the caller's), false when the job has it (and @w). */
static bool write_using_token(struct scst_cmd *cmd, struct wut_ctx *w)
{
	const uint8_t *p = cmd->buf;
	const uint8_t *tok = p + 16;
	struct copy_token_range dst[COPY_TOKEN_MAX_RANGES];
	struct copy_piece pieces[2 * COPY_TOKEN_MAX_RANGES];
	struct scsi_sense sense;
	struct copy_token *t = NULL;
	struct scst_tgt_dev *src = NULL;
	uint64_t total, offset, skip;
	unsigned npieces = 0, ti = 0;
	bool zero;
	uint16_t why;
	int n;

	if (!check_header(p, cmd->bufflen, WUT_HEADER_LEN, 534, 0x03, &sense)) {
		refuse(cmd, "WRITE USING TOKEN", sense, "bad parameter list header");
		return true;
	}
	for (unsigned i = 3; i < 8; i++) {
		if (p[i]) {
			refuse(cmd, "WRITE USING TOKEN", param_field(i, -1), "reserved byte set");
			return true;
		}
	}
	for (unsigned i = 528; i < 534; i++) {
		if (p[i]) {
			refuse(cmd, "WRITE USING TOKEN", param_field(i, -1), "reserved byte set");
			return true;
		}
	}
	n = decode_ranges(p, WUT_HEADER_LEN, get_be16(p + 534), cmd->dev, dst, &total, &sense);
	if (n < 0) {
		refuse(cmd, "WRITE USING TOKEN", sense, "bad block device range descriptor");
		return true;
	}
	offset = get_be64(p + 8);
	zero = get_be32(tok) == COPY_ROD_TYPE_BLOCK_ZERO;
	if (get_be16(tok + 6) != COPY_TOKEN_LEN - 8) {
		refuse(cmd, "WRITE USING TOKEN",
		       scsi_sense_make(SK_COPY_ABORTED, ASC_INVALID_TOKEN_LENGTH),
		       "ROD TOKEN LENGTH is not 01F8h");
		return true;
	}
	if (!zero) {
		t = copy_token_get(tok, &why);
		if (!t) {
			refuse(cmd, "WRITE USING TOKEN", scsi_sense_make(SK_COPY_ABORTED, why),
			       why == ASC_TOKEN_EXPIRED   ? "its ROD token has expired"
			       : why == ASC_TOKEN_DELETED ? "its ROD token was deleted"
			       : why == ASC_TOKEN_REVOKED ? "its ROD token was revoked"
							  : "no such ROD token");
			return true;
		}
		if (atomic_load(&t->revoked)) {
			copy_token_put(t);
			refuse(cmd, "WRITE USING TOKEN",
			       scsi_sense_make(SK_COPY_ABORTED, ASC_TOKEN_REVOKED),
			       "its ROD token was revoked by a write to its source");
			return true;
		}
		/* Masking: the session must see the source device itself. */
		src = session_lun_of(cmd->sess, t->dev);
		if (!src) {
			copy_token_put(t);
			refuse(cmd, "WRITE USING TOKEN",
			       scsi_sense_make(SK_COPY_ABORTED,
					       ASC_COPY_TARGET_DEVICE_NOT_REACHABLE),
			       "the session has no LUN of the token's source device");
			return true;
		}
		if (src->dev->block_size != cmd->dev->block_size) {
			copy_token_put(t);
			refuse(cmd, "WRITE USING TOKEN",
			       scsi_sense_make(SK_COPY_ABORTED, ASC_INVALID_TOKEN_OPERATION),
			       "the token's device has another block size");
			return true;
		}
		if (offset >= t->nblocks) {
			copy_token_put(t);
			refuse(cmd, "WRITE USING TOKEN", param_field(8, -1),
			       "OFFSET INTO ROD beyond the token's blocks");
			return true;
		}
	}
	if (atomic_load(&cmd->tgt_dev->read_only) || atomic_load(&cmd->dev->swp)) {
		if (t)
			copy_token_put(t);
		scst_set_cmd_error_asc(cmd, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
		return true;
	}
	/* The destination ranges in order, each cut where the token's ranges
	 * (from OFFSET INTO ROD on) are cut; what the ROD does not cover is
	 * not written (a partial transfer: TRANSFER COUNT says how much). */
	skip = offset;
	for (int d = 0; d < n; d++) {
		uint64_t dlba = dst[d].lba, left = dst[d].nblocks;

		while (left) {
			uint64_t k = left;

			if (!zero) {
				while (ti < t->nranges && skip >= t->ranges[ti].nblocks)
					skip -= t->ranges[ti++].nblocks;
				if (ti == t->nranges)
					break;
				if (k > t->ranges[ti].nblocks - skip)
					k = t->ranges[ti].nblocks - skip;
			}
			assert(npieces < sizeof(pieces) / sizeof(pieces[0]));
			pieces[npieces++] = (struct copy_piece){
				.src = src,
				.dst = cmd->tgt_dev,
				.src_lba = zero ? 0 : t->ranges[ti].lba + skip,
				.dst_lba = dlba,
				.len = k * cmd->dev->block_size,
				.zeros = zero,
			};
			skip += k;
			dlba += k;
			left -= k;
		}
	}
	if (npieces == 0) {
		if (t)
			copy_token_put(t);
		return true;
	}
	if (t && (p[2] & 0x02)) {
		/* DEL_TKN: a second reference, dropped by wut_ended(). */
		w->del = copy_token_get(tok, &why);
	}
	/* Onto its own token's blocks (a copy within one file): the token
	 * is claimed, so that these writes do not revoke it while every
	 * other write still does, the pieces are ordered to keep the point
	 * in time, and the token is revoked at the end (wut_end_claim()). */
	if (t && pieces_write_token(t, pieces, npieces)) {
		if (!order_pieces(pieces, npieces)) {
			copy_token_put(t);
			refuse(cmd, "WRITE USING TOKEN",
			       scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_INSUFFICIENT_RESOURCES_TO_ORDER),
			       "its ranges overwrite each other's sources in a cycle");
			return true;
		}
		w->claim = copy_token_claim(t);
		if (!w->claim) {
			copy_token_put(t);
			refuse(cmd, "WRITE USING TOKEN",
			       scsi_sense_make(SK_COPY_ABORTED, ASC_TOKEN_REVOKED),
			       "its ROD token was revoked or is being overwritten by another");
			return true;
		}
		copy_token_hold(t);
		w->claimed = t;
	}
	copy_job_run_pieces(cmd, pieces, npieces, t, w->claim, wut_ended, w);
	/* IMMED: GOOD now, RECEIVE ROD TOKEN INFORMATION says 12h until the
	 * job ends (unless it has ended already: then @w is gone). */
	if ((p[2] & 0x01) && copy_job_background(cmd, wut_bg_ended, w)) {
		pthread_mutex_lock(&records_lock);
		w->rec->background = true;
		pthread_mutex_unlock(&records_lock);
	}
	return false;
}

void scst_odx_exec(struct scst_cmd *cmd)
{
	struct wut_ctx *w;
	bool busy;

	/* PARAMETER LIST LENGTH 0: nothing to do, not an error. */
	if (cmd->data_len == 0) {
		scst_cmd_done(cmd);
		return;
	}
	if ((cmd->cdb[1] & 0x1f) == COPY_SA_POPULATE_TOKEN) {
		populate_token(cmd);
		scst_cmd_done(cmd);
		return;
	}
	/* The record first: a WRITE USING TOKEN refused for its list or its
	 * token is reported by RECEIVE ROD TOKEN INFORMATION too. */
	w = calloc(1, sizeof(*w));
	if (!w) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	w->block_size = cmd->dev->block_size;
	w->dst = cmd->dev;
	w->rec = record_begin(cmd, &busy);
	if (!w->rec) {
		free(w);
		if (busy)
			refuse(cmd, "WRITE USING TOKEN",
			       scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_OPERATION_IN_PROGRESS),
			       "its list identifier is in use");
		else
			scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	if (write_using_token(cmd, w)) {
		wut_ended(cmd, 0, w);
		scst_cmd_done(cmd);
	}
}

/* ---- RECEIVE ROD TOKEN INFORMATION ---- */

int scst_rrti_parse(struct scst_cmd *cmd)
{
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be32(cmd->cdb + RRTI_CDB_ALLOC_LEN);
	return 0;
}

void scst_rrti_exec(struct scst_cmd *cmd)
{
	uint8_t d[32 + SCSI_SENSE_BUFFERSIZE + 4 + 2 + COPY_TOKEN_LEN];
	uint32_t id = get_be32(cmd->cdb + RRTI_CDB_LIST_ID);
	struct odx_record *r;
	size_t n, at;

	pthread_mutex_lock(&records_lock);
	r = find_locked(cmd->sess, id);
	if (!r) {
		pthread_mutex_unlock(&records_lock);
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(RRTI_CDB_LIST_ID, -1));
		scst_cmd_done(cmd);
		return;
	}
	at = 32 + r->sense_len;
	n = at + 4 + (r->has_token && !r->active ? 2 + COPY_TOKEN_LEN : 0);
	memset(d, 0, n);
	put_be32(d, (uint32_t)(n - 4));
	d[4] = r->sa;
	if (r->active) {
		d[5] = r->background ? 0x12 : 0x11;
		put_be32(d + 8, 100); /* ESTIMATED STATUS UPDATE DELAY, ms */
	} else if (r->status == SAM_STAT_GOOD)
		d[5] = 0x01;
	else if (r->status == SAM_STAT_TASK_ABORTED)
		d[5] = 0x60;
	else
		d[5] = 0x02;
	if (!r->active) {
		d[12] = r->status;
		d[13] = r->sense_len;
		d[14] = r->sense_len;
		memcpy(d + 32, r->sense, r->sense_len);
	}
	d[15] = 0xf1; /* TRANSFER COUNT in logical blocks */
	put_be64(d + 16, r->transfer_blocks);
	if (n > at + 4) {
		put_be32(d + at, 2 + COPY_TOKEN_LEN);
		memcpy(d + at + 4 + 2, r->token, COPY_TOKEN_LEN);
	}
	/* Reported whole: forgotten. */
	if (!r->active && cmd->bufflen >= n)
		drop_locked(r);
	pthread_mutex_unlock(&records_lock);
	scst_cmd_copy_response(cmd, d, n);
	scst_cmd_done(cmd);
}
