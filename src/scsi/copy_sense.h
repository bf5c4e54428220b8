/* The sense data of an EXTENDED COPY ended by a copy target's failure
 * (SPC-4 "sense data and the EXTENDED COPY command"): COPY ABORTED, the
 * number of the segment being processed, a segment pointer at the CSCD
 * descriptor of the copy target that failed, and that target's own
 * status and sense data, forwarded. Pure: copy_job.c fills it in from the
 * internal command that failed.
 *
 * Fixed format (0x70): COMMAND-SPECIFIC INFORMATION is four fields, byte
 * 8 SOURCE SENSE DATA OFFSET, byte 9 DESTINATION SENSE DATA OFFSET, bytes
 * 10-11 SEGMENT NUMBER; the offset of the side that failed is 18, where
 * the additional sense bytes begin: the copy target's status byte, then
 * its sense data (as much as fits in @len); the other offset is 0.
 *
 * Descriptor format (0x72): a command-specific information descriptor
 * whose 8-byte field is the SEGMENT NUMBER (the fixed format's four
 * bytes, offsets 0, right-aligned), a sense key specific descriptor with
 * the segment pointer, and a forwarded sense data descriptor (0Ch):
 * SENSE DATA SOURCE 1h (the copy source) or 2h (the copy destination),
 * FORWARDED STATUS, the sense data; FSDT set when it had to be cut to fit.
 *
 * The segment pointer (sense key specific, SKSV 1): SD 0, the field
 * pointer is a byte of the parameter list, the failing copy target's CSCD
 * descriptor; no bit pointer. */
#ifndef USCST_SCSI_COPY_SENSE_H
#define USCST_SCSI_COPY_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SENSE DATA SOURCE of the forwarded sense data descriptor. */
enum copy_sense_side {
	COPY_SENSE_SOURCE = 1,
	COPY_SENSE_DESTINATION = 2,
};

struct copy_target_failure {
	uint16_t asc;            /* e.g. THIRD PARTY DEVICE FAILURE (0D/01) */
	uint16_t segment;        /* SEGMENT NUMBER: 0 is the first */
	uint16_t cscd_byte;      /* the failing CSCD descriptor in the list */
	enum copy_sense_side side;
	uint8_t status;          /* the copy target's status */
	const uint8_t *sense;    /* its sense data, @sense_len bytes */
	size_t sense_len;
};

/* Encodes @f into @buf (at most @len bytes, at least 18 fixed / 32
 * descriptor) in descriptor format when @descriptor, else fixed.
 * Returns the number of bytes written. */
size_t scsi_copy_aborted_sense(const struct copy_target_failure *f, bool descriptor,
			       uint8_t *buf, size_t len);

#endif
