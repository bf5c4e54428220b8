/* The rules of a unit attention queue (SAM-5 5.14, SPC-4 7.5.8), as pure
 * functions over one I_T_L nexus's queue: what establishing a condition
 * does to the conditions already queued, which one a command reports,
 * and what clears it. No locks and no allocation: ua.c keeps the queue
 * under dev->lock and applies these; tests/unit/test_ua.c runs them
 * alone.
 *
 * The queue is ordered by precedence (SAM-5's table, highest first) and,
 * within one precedence, oldest first; the head is what gets reported.
 * It holds each condition (sense key, ASC, ASCQ) at most once: the same
 * condition established twice tells the initiator nothing new. */
#ifndef USCST_CORE_UA_RULES_H
#define USCST_CORE_UA_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/sense.h"

/* More than the distinct conditions the target establishes today (about
 * a dozen with the reservation and ALUA ones to come): a full queue means
 * an initiator that never collects, and must not cost more memory. */
#define SCST_UA_QUEUE_MAX 16

struct scst_ua_queue {
	unsigned n;
	struct scsi_sense ua[SCST_UA_QUEUE_MAX];
};

/* The control page's UA_INTLCK_CTRL (SPC-4 7.5.8, table 458; 01b is
 * reserved). */
enum scst_ua_intlck_ctrl {
	/* A CHECK CONDITION that reports a unit attention clears it; BUSY,
	 * TASK SET FULL and RESERVATION CONFLICT establish nothing. */
	SCST_UA_INTLCK_CLEAR = 0,
	/* A CHECK CONDITION reports the unit attention and leaves it: every
	 * such command reports it again until REQUEST SENSE takes it. */
	SCST_UA_INTLCK_KEEP = 2,
	/* As 2, and a command ending with BUSY, TASK SET FULL or
	 * RESERVATION CONFLICT establishes PREVIOUS ... STATUS, once until
	 * REQUEST SENSE clears it. */
	SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS = 3,
};

/* SAM-5 5.14's precedence of a unit attention's ASC/ASCQ, 1 the highest:
 *   1 POWER ON, RESET, OR BUS DEVICE RESET OCCURRED
 *   2 POWER ON OCCURRED, DEVICE INTERNAL RESET
 *   3 SCSI BUS RESET OCCURRED, MICROCODE HAS BEEN CHANGED, the protocol
 *     specific 29h codes (transceiver mode changes)
 *   4 BUS DEVICE RESET FUNCTION OCCURRED
 *   5 I_T NEXUS LOSS OCCURRED
 *   6 COMMANDS CLEARED BY POWER LOSS NOTIFICATION
 *   7 every other condition */
unsigned scst_ua_precedence(uint16_t asc);

enum scst_ua_add_result {
	SCST_UA_ADDED,
	SCST_UA_DUPLICATE, /* already queued: nothing changed */
	/* The queue was full: it now holds the single condition POWER ON,
	 * RESET, OR BUS DEVICE RESET OCCURRED. The standard names no queue
	 * overflow condition; that one, of the highest precedence, tells
	 * the initiator that whatever it knew of the logical unit may be
	 * stale, which covers every condition it replaced. */
	SCST_UA_OVERFLOW,
};

/* Establishes @sense on the queue. A condition of precedence 1 or 2 (the
 * logical unit was reset or powered on: the initiator must rediscover
 * everything) supersedes, and removes, every queued condition of lower
 * precedence; the others stay, since nothing they describe was reset
 * (a LUN reset does not restore mode parameters or capacity here). */
enum scst_ua_add_result scst_ua_queue_add(struct scst_ua_queue *q, struct scsi_sense sense);

/* A command that reports unit attentions (every one but INQUIRY, REPORT
 * LUNS and REQUEST SENSE: SCST_OP_SKIP_UA) meets a non-empty queue: it
 * ends with CHECK CONDITION and the head's sense (into @out). The head
 * is cleared under UA_INTLCK_CTRL 00b and stays under 10b and 11b.
 * Returns false, leaving @out alone, if the queue is empty. */
bool scst_ua_queue_check_condition(struct scst_ua_queue *q, unsigned ua_intlck_ctrl,
				   struct scsi_sense *out);

/* REQUEST SENSE (SPC-4 6.39): the head becomes the sense data returned
 * (into @out) and is cleared, whatever UA_INTLCK_CTRL says. False if the
 * queue is empty. */
bool scst_ua_queue_request_sense(struct scst_ua_queue *q, struct scsi_sense *out);

/* What the next command that reports unit attentions would report (into
 * @out), without clearing anything, and how many conditions are queued
 * (QUERY ASYNCHRONOUS EVENT, SAM-5 7.8). False if none is. */
bool scst_ua_queue_peek(const struct scst_ua_queue *q, struct scsi_sense *out, unsigned *n);

/* Clears the condition with ASC/ASCQ @asc if it is queued (REPORT LUNS
 * clears REPORTED LUNS DATA HAS CHANGED, SPC-4 6.33); whether it was. */
bool scst_ua_queue_remove(struct scst_ua_queue *q, uint16_t asc);

/* The condition a command ending with @status establishes for its own
 * nexus under @ua_intlck_ctrl (11b: PREVIOUS BUSY STATUS, PREVIOUS TASK
 * SET FULL STATUS, PREVIOUS RESERVATION CONFLICT STATUS), or 0 for none.
 * Duplicates are ignored by the queue, which makes it "once until
 * REQUEST SENSE clears it". */
uint16_t scst_ua_for_status(uint8_t status, unsigned ua_intlck_ctrl);

/* Initiator ports whose I_T nexus was lost (SAM-5 6.3.4): the I_T NEXUS
 * LOSS OCCURRED condition belongs to the I_T nexus, which outlives the
 * session object that carried it. A port that logs in again to the same
 * target port (same target name, same TransportID: for iSCSI the
 * initiator name and the ISID) is the same I_T nexus and is told I_T
 * NEXUS LOSS OCCURRED, what really happened (its tasks were aborted, its
 * nexus state reset, the logical unit was not), instead of the POWER ON
 * that a port never seen before gets. Bounded: the oldest entries are
 * forgotten first, and a port forgotten gets POWER ON, RESET, OR BUS
 * DEVICE RESET OCCURRED, which tells it no less. */
#define SCST_LOST_NEXUS_MAX 64
#define SCST_LOST_NEXUS_KEY_MAX 512

struct scst_lost_nexuses {
	unsigned next; /* slot the next loss overwrites */
	struct {
		uint16_t len; /* 0: free */
		uint8_t key[SCST_LOST_NEXUS_KEY_MAX];
	} e[SCST_LOST_NEXUS_MAX];
};

/* The key of an I_T nexus: the target port's name, a NUL, the initiator
 * port's TransportID. Returns its length, 0 if it does not fit. */
size_t scst_lost_nexus_key(const char *tgt_name, const uint8_t *transport_id,
			   size_t transport_id_len, uint8_t *key);
/* Records the loss of the nexus @key (once: a second loss of the same
 * nexus before it logs in again keeps one entry). */
void scst_lost_nexus_add(struct scst_lost_nexuses *l, const uint8_t *key, size_t len);
/* Whether the nexus @key was lost and not yet told; forgets it. */
bool scst_lost_nexus_take(struct scst_lost_nexuses *l, const uint8_t *key, size_t len);

#endif
