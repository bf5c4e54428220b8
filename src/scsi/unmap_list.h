/* The UNMAP parameter list, SBC-4 5.30.2: an 8-byte header (UNMAP DATA
 * LENGTH, UNMAP BLOCK DESCRIPTOR DATA LENGTH) and 16-byte block
 * descriptors (LBA, NUMBER OF LOGICAL BLOCKS). Pure: the list is checked
 * whole against the device's limits, and the verdict is the sense a
 * fault gets (see unmap_list.c for each), so that a caller deallocates
 * nothing of a list that has one. */
#ifndef USCST_SCSI_UNMAP_LIST_H
#define USCST_SCSI_UNMAP_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include "scsi/sense.h"

#define SCSI_UNMAP_HEADER_LEN 8
#define SCSI_UNMAP_DESCRIPTOR_LEN 16

/* What the device reports in Block Limits, and its capacity. */
struct scsi_unmap_limits {
	uint64_t capacity;          /* blocks on the medium */
	uint64_t max_lba_count;     /* MAXIMUM UNMAP LBA COUNT, all descriptors */
	uint32_t max_descriptors;   /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
};

struct scsi_unmap_range {
	uint64_t lba;
	uint32_t nblocks;
};

/* Checks the @len bytes of Data-Out at @list (len >= 1; a PARAMETER LIST
 * LENGTH of 0 sends none and is no error). True with *ndesc, the number
 * of descriptors (an incomplete last one is ignored, as SBC-4 says);
 * false with *fault, the sense the command ends with. */
bool scsi_unmap_list_check(const uint8_t *list, uint32_t len,
			   const struct scsi_unmap_limits *lim, uint32_t *ndesc,
			   struct scsi_sense *fault);

/* Descriptor @i (< *ndesc) of a list scsi_unmap_list_check() accepted. */
struct scsi_unmap_range scsi_unmap_descriptor(const uint8_t *list, uint32_t i);

#endif
