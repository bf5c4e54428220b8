/* Checking an UNMAP parameter list (SBC-4 5.30.2). Each fault and the sense
 * it gets:
 *
 *   less than the 8-byte header              PARAMETER LIST LENGTH ERROR
 *   UNMAP DATA LENGTH or BLOCK DESCRIPTOR
 *     DATA LENGTH past the list's end        PARAMETER LIST LENGTH ERROR (the
 *                                            list truncates what its header
 *                                            announces, SPC-4's meaning)
 *   BLOCK DESCRIPTOR DATA LENGTH larger
 *     than UNMAP DATA LENGTH leaves room     INVALID FIELD IN PARAMETER LIST,
 *                                            byte 2
 *   more descriptors than MAXIMUM UNMAP
 *     BLOCK DESCRIPTOR COUNT                 INVALID FIELD IN PARAMETER LIST,
 *                                            byte 2 (SBC-4 names the ASC)
 *   a range past the last block              LOGICAL BLOCK ADDRESS OUT OF RANGE
 *   more blocks in all than MAXIMUM UNMAP
 *     LBA COUNT                              INVALID FIELD IN PARAMETER LIST,
 *                                            at the NUMBER OF LOGICAL BLOCKS
 *                                            that crosses it
 *
 * Descriptors are checked in order and the first fault is reported. A
 * descriptor of no blocks may name the capacity itself (nothing lies past
 * the medium). */
#include "scsi/unmap_list.h"

#include <stddef.h>

#include "base/bytes.h"
#include "scsi/scsi.h"

bool scsi_unmap_list_check(const uint8_t *list, uint32_t len,
			   const struct scsi_unmap_limits *lim, uint32_t *ndesc,
			   struct scsi_sense *fault)
{
	uint32_t data_len, bd_len;
	uint64_t total = 0;

	if (len < SCSI_UNMAP_HEADER_LEN) {
		*fault = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	data_len = get_be16(list);
	bd_len = get_be16(list + 2);
	if (data_len + 2 > len || bd_len + SCSI_UNMAP_HEADER_LEN > len) {
		*fault = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	/* UNMAP DATA LENGTH counts the 6 header bytes after itself. */
	if (bd_len + (SCSI_UNMAP_HEADER_LEN - 2) > data_len) {
		*fault = scsi_sense_invalid_param_field(2, -1);
		return false;
	}
	*ndesc = bd_len / SCSI_UNMAP_DESCRIPTOR_LEN;
	if (*ndesc > lim->max_descriptors) {
		*fault = scsi_sense_invalid_param_field(2, -1);
		return false;
	}
	for (uint32_t i = 0; i < *ndesc; i++) {
		struct scsi_unmap_range r = scsi_unmap_descriptor(list, i);

		/* Written so that no sum wraps: the LBA may be anything. */
		if (r.lba > lim->capacity || r.nblocks > lim->capacity - r.lba) {
			*fault = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
			return false;
		}
		total += r.nblocks;
		if (total > lim->max_lba_count) {
			*fault = scsi_sense_invalid_param_field(
				(uint16_t)(SCSI_UNMAP_HEADER_LEN + i * SCSI_UNMAP_DESCRIPTOR_LEN + 8), -1);
			return false;
		}
	}
	return true;
}

struct scsi_unmap_range scsi_unmap_descriptor(const uint8_t *list, uint32_t i)
{
	const uint8_t *d = list + SCSI_UNMAP_HEADER_LEN + (size_t)i * SCSI_UNMAP_DESCRIPTOR_LEN;

	return (struct scsi_unmap_range){ .lba = get_be64(d), .nblocks = get_be32(d + 8) };
}
