/* AsyncEvent 0 (RFC 7143 11.9.1, "a SCSI asynchronous event is reported
 * in the sense data"): a unit attention the core queued on a nexus of a
 * target with the `aen` attribute goes to the initiator unasked, with
 * the LUN and SenseLength + fixed-format sense data as the data
 * segment, on one full-feature connection of the session. The condition
 * stays queued: an initiator that ignores the message (most do) still
 * gets CHECK CONDITION on its next command.
 *
 * Off by default: iSCSI has no key by which an initiator accepts it,
 * SPC-4 made the control mode page's EAERP/UAAERP/RAERP obsolete, so the
 * administrator decides per target (docs/iscsi_async.md). */
#ifndef USCST_TARGETS_ISCSI_AEN_H
#define USCST_TARGETS_ISCSI_AEN_H

#include <stdbool.h>
#include <stdint.h>

struct scst_attr_table;
struct scst_tgt_dev;

/* A TARGET's `aen` attribute (changeable live: the next condition sees
 * the new value). */
struct iscsi_aen_settings {
	bool aen;
};
extern const struct scst_attr_table iscsi_aen_attr_table;
/* Where a live target keeps it (the table's object_of; @tgt is a struct
 * scst_tgt). */
void *iscsi_target_aen_of(void *tgt);

/* The template's ua_queued: on the session's reactor. */
void iscsi_ua_queued(struct scst_tgt_dev *td, const uint8_t *sense, unsigned len);

#endif
