/* The list identifiers of EXTENDED COPY(LID1) operations (SPC-4 5.16.4.3)
 * and LID4: one record per I_T nexus and LIST IDENTIFIER (one name space
 * for both: a LID1 identifier is a LID4 one below 256) while the copy runs (so
 * that a second copy with the same identifier is refused, and COPY
 * STATUS reports progress) and, under LIST ID USAGE 00b, after it has
 * ended until RECEIVE COPY RESULTS has reported it.
 *
 * Lifetime: records live on the reactor of the session they belong to
 * (a session's commands all run there), in that reactor's own list, with
 * no lock. A record is created by copy_record_begin() when a copy starts,
 * updated by its job, and ended by copy_record_end(); an ended record of
 * a held copy stays until COPY STATUS (success) or FAILED SEGMENT DETAILS
 * report it, or another copy reuses its identifier, or it is the oldest
 * ended one of a full list (COPY_HELD_RECORDS_MAX per reactor). A record
 * names its session by pointer and serial, and is never followed to the
 * session; when the session ends its records go with it
 * (copy_records_session_gone()). */
#ifndef USCST_CORE_COPY_RESULTS_H
#define USCST_CORE_COPY_RESULTS_H

#include "base/list.h"
#include "core/scst.h"

#define COPY_HELD_RECORDS_MAX 256

struct copy_record {
	struct list_head entry;          /* the reactor's list, newest last */
	const struct scst_session *sess; /* compared, never dereferenced */
	uint64_t sess_serial;
	uint32_t list_id;                /* LID1's are 0..255 */
	bool lid4;                       /* made by EXTENDED COPY(LID4) */
	bool active;                     /* the copy is running */
	bool hold;                       /* LIST ID USAGE 00b */
	/* IMMED: the EXTENDED COPY completed at once and the copy runs in
	 * the background (COPY OPERATION STATUS 12h while it does). */
	bool background;
	uint16_t segments_processed;
	uint64_t bytes_written;
	/* The EXTENDED COPY's own result, once ended. */
	uint8_t status;
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_BUFFERSIZE];
};

/* A new copy with @list_id on @sess starts. Returns its record, or NULL
 * with @sense set: ILLEGAL REQUEST, OPERATION IN PROGRESS when a copy
 * with that identifier still runs on the nexus, or no memory (then
 * @sense is zero: the caller answers BUSY). An ended record of the same
 * identifier is discarded. On the session's reactor. */
struct copy_record *copy_record_begin(const struct scst_session *sess, uint32_t list_id,
				      bool lid4, bool hold, struct scsi_sense *sense);
/* The copy has ended with @status and @sense_len bytes of @sense (the
 * EXTENDED COPY's, or for a background copy what it would have ended
 * with; SAM_STAT_TASK_ABORTED: terminated, COPY OPERATION STATUS 60h):
 * the record is kept if held, freed if not. */
void copy_record_end(struct copy_record *rec, uint8_t status, const uint8_t *sense,
		     uint8_t sense_len);
/* Whether @sess has a record of @list_id, running or ended (RECEIVE COPY
 * DATA(LID4) and COPY OPERATION ABORT ask). On the session's reactor. */
bool copy_record_known(const struct scst_session *sess, uint32_t list_id);
/* @sess has ended (session.c, on its reactor, once no command of it is
 * left): its records, held results nobody collected, are dropped. */
void copy_records_session_gone(const struct scst_session *sess);

#endif
