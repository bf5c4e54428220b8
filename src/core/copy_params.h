/* The EXTENDED COPY(LID1) parameter list (SPC-4 6.4.3), decoded and
 * checked as a pure function: bytes in, a plan or the exact sense out.
 * Nothing here knows a session or a device: resolving the CSCD
 * descriptors to LUNs and checking the segments against them is
 * copy_job.c's, after this has accepted the list.
 *
 * The limits below are what RECEIVE COPY RESULTS' OPERATING PARAMETERS
 * and VPD page 0x8F report (copy_results.c, copy_vpd.c): one place, so
 * that the report and the checks agree. */
#ifndef USCST_CORE_COPY_PARAMS_H
#define USCST_CORE_COPY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/sense.h"

#define COPY_MAX_CSCD_DESCS 16
#define COPY_MAX_SEG_DESCS 128
/* CSCD plus segment descriptor lists (the header and inline data not
 * counted); 16 CSCD descriptors and 128 block-to-block segments fit. */
#define COPY_MAX_DESC_LIST_LEN 4096
/* Bytes one segment descriptor may move. */
#define COPY_MAX_SEGMENT_LEN (256u << 20)
/* log2 of the granularity of a segment's length: one byte, since a 0x0A
 * segment copies any NUMBER OF BYTES (copy_offset.h). A 0x02 segment's
 * length is in blocks; one that is not whole blocks of both devices
 * (DC 0 from 512- to 4096-byte blocks) gets COPY SEGMENT GRANULARITY
 * VIOLATION. */
#define COPY_DATA_SEGMENT_GRANULARITY 0
#define COPY_LID1_HEADER_LEN 16
#define COPY_LID4_HEADER_LEN 48

/* Descriptor type codes (SPC-4 tables 108 and 109). */
#define COPY_SEG_BLOCK_TO_BLOCK 0x02
#define COPY_SEG_BLOCK_TO_BLOCK_OFFSET 0x0a
#define COPY_CSCD_IDENTIFICATION 0xe4

/* LIST ID USAGE (SPC-4 table 103). */
enum copy_list_id_usage {
	COPY_LIST_ID_HOLD = 0,    /* results held for RECEIVE COPY RESULTS */
	COPY_LIST_ID_DISCARD = 2, /* list id in use while running, nothing held */
	COPY_LIST_ID_NONE = 3,    /* no list id (it must be zero) */
};

/* An Identification descriptor CSCD descriptor (0xE4, SPC-4 6.4.5.2):
 * the LU's designator as VPD page 0x83 gives it, and the block device
 * parameters. */
struct copy_cscd {
	uint8_t device_type;     /* PERIPHERAL DEVICE TYPE */
	uint8_t code_set;        /* designation descriptor byte 0, bits 3..0 */
	uint8_t association;     /* byte 1, bits 5..4 */
	uint8_t designator_type; /* byte 1, bits 3..0 */
	uint8_t designator_len;
	uint8_t designator[20];
	uint32_t block_len;      /* DISK BLOCK LENGTH */
	uint16_t offset;         /* of the descriptor in the parameter list */
};

/* A block-to-block segment (0x02, or 0x0A with byte offsets). The
 * length is in bytes: 0x02 gives blocks of the source (DC 0) or the
 * destination (DC 1), resolved once the devices are known. The offsets
 * are checked against the block sizes then too (copy_offset.h). */
struct copy_segment {
	uint8_t type;
	bool dc;
	uint16_t src, dst;       /* CSCD descriptor indexes */
	uint32_t nblocks;        /* 0x02: BLOCK DEVICE NUMBER OF BLOCKS */
	uint32_t nbytes;         /* 0x0A: NUMBER OF BYTES */
	uint64_t src_lba, dst_lba;
	uint16_t src_byte_off;   /* 0x0A: SOURCE BYTE OFFSET */
	uint16_t dst_byte_off;   /* 0x0A: DESTINATION BYTE OFFSET */
	uint16_t offset;         /* of the descriptor in the parameter list */
};

struct copy_plan {
	bool lid4;          /* from EXTENDED COPY(LID4) */
	bool immed;         /* LID4's IMMED: GOOD at once, the copy in the background */
	uint32_t list_id;   /* LID1: 0..255 */
	enum copy_list_id_usage list_id_usage;
	unsigned ncscds, nsegments;
	struct copy_cscd cscds[COPY_MAX_CSCD_DESCS];
	struct copy_segment segments[COPY_MAX_SEG_DESCS];
};

/* Decodes the @len bytes at @p (the whole parameter list: @len is the
 * PARAMETER LIST LENGTH, at least the header's 16). Returns true with
 * @plan filled, or false with @sense set to ILLEGAL REQUEST and
 * PARAMETER LIST LENGTH ERROR, INVALID FIELD IN PARAMETER LIST (field
 * pointer into the list), TOO MANY TARGET / SEGMENT DESCRIPTORS,
 * UNSUPPORTED TARGET / SEGMENT DESCRIPTOR TYPE CODE or INLINE DATA
 * LENGTH EXCEEDED. */
bool copy_lid1_parse(const uint8_t *p, size_t len, struct copy_plan *plan,
		     struct scsi_sense *sense);
/* The same for EXTENDED COPY(LID4) (SPC-4 6.4.4): a 48-byte header
 * (LIST FORMAT 01h, a 4-byte LIST IDENTIFIER at 20, the lists' lengths
 * at 42, 44 and 46), then the same descriptors; IMMED (byte 15 bit 0)
 * sets plan->immed. A header CSCD descriptor list (bytes 2-3) is
 * refused: UNSUPPORTED TARGET DESCRIPTOR TYPE CODE at byte 48, its first
 * descriptor (PARAMETER LIST LENGTH ERROR when it does not fit). */
bool copy_lid4_parse(const uint8_t *p, size_t len, struct copy_plan *plan,
		     struct scsi_sense *sense);

#endif
