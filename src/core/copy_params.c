/* EXTENDED COPY(LID1) parameter list decoding (SPC-4 6.4.3): the header,
 * the CSCD (target) descriptor list and the segment descriptor list, each
 * field checked in the order a reader of the list meets it, so that a
 * list with several faults is refused for the first. Pure: copy_params.h.
 *
 * The order of the length checks is the standard's, and libiscsi's
 * ExtendedCopy.DescrLimits holds it to them: a list longer than the
 * maximum descriptor list length is a PARAMETER LIST LENGTH ERROR even
 * when it also has too many descriptors; within that length, too many
 * CSCD or segment descriptors say so (TOO MANY TARGET / SEGMENT
 * DESCRIPTORS). */
#include <string.h>

#include "base/bytes.h"
#include "core/copy_params.h"
#include "scsi/scsi.h"

#define CSCD_DESC_LEN 32
#define SEG_HEADER_LEN 4
/* DESCRIPTOR LENGTH of each supported segment type: the bytes after the
 * first four. */
#define SEG_B2B_DESC_LEN 0x18
#define SEG_B2B_OFFSET_DESC_LEN 0x1c

static bool fail(struct scsi_sense *sense, uint16_t asc)
{
	*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, asc);
	return false;
}

static bool bad_field(struct scsi_sense *sense, size_t byte, int bit)
{
	*sense = scsi_sense_invalid_param_field((uint16_t)byte, bit);
	return false;
}

/* Whether a CSCD descriptor type code is one the standard defines (and
 * so gets UNSUPPORTED TARGET DESCRIPTOR TYPE CODE) or not a CSCD
 * descriptor at all: both are refused the same way, the first byte
 * being all the copy manager can go by. */
static bool parse_cscd(const uint8_t *p, size_t off, struct copy_cscd *c,
		       struct scsi_sense *sense)
{
	const uint8_t *d = p + off;

	if (d[0] != COPY_CSCD_IDENTIFICATION) {
		*sense = scsi_sense_invalid_param_field((uint16_t)off, -1);
		sense->asc = ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE;
		return false;
	}
	/* Byte 1: LU ID TYPE (7..6) and NUL (5) are obsolete in SPC-4 and
	 * ignored (libiscsi's ValidTgtDescr sends a reserved LU ID TYPE to
	 * an SPC-4 device and expects GOOD). Only block devices are copied. */
	c->device_type = d[1] & 0x1f;
	if (c->device_type != TYPE_DISK)
		return bad_field(sense, off + 1, 4);
	/* Bytes 2-3, RELATIVE INITIATOR PORT IDENTIFIER: the copy manager
	 * reaches every LUN through the requesting I_T nexus's own LUN
	 * map, so which initiator port is meant does not matter. */
	/* Bytes 4-27: a designation descriptor (SPC-4 7.8.6.1). */
	c->code_set = d[4] & 0x0f;
	c->association = (d[5] >> 4) & 0x03;
	c->designator_type = d[5] & 0x0f;
	c->designator_len = d[7];
	if (c->designator_len > sizeof(c->designator))
		return bad_field(sense, off + 7, -1);
	memcpy(c->designator, d + 8, c->designator_len);
	/* Bytes 28-31, block device parameters (SPC-4 6.4.5.3.2): PAD (bit
	 * 2 of byte 28) matters only to stream devices; the rest of byte 28
	 * is reserved. */
	if (d[28] & ~0x04)
		return bad_field(sense, off + 28, -1);
	c->block_len = get_be24(d + 29);
	if (c->block_len == 0)
		return bad_field(sense, off + 29, -1);
	c->offset = (uint16_t)off;
	return true;
}

/* One segment descriptor at @off, of which @avail bytes are in the list.
 * Returns its length, or 0 with @sense set. */
static size_t parse_segment(const uint8_t *p, size_t off, size_t avail,
			    struct copy_segment *s, struct scsi_sense *sense)
{
	const uint8_t *d = p + off;
	size_t desc_len;

	if (avail < SEG_HEADER_LEN) {
		fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return 0;
	}
	switch (d[0]) {
	case COPY_SEG_BLOCK_TO_BLOCK:
		desc_len = SEG_B2B_DESC_LEN;
		break;
	case COPY_SEG_BLOCK_TO_BLOCK_OFFSET:
		desc_len = SEG_B2B_OFFSET_DESC_LEN;
		break;
	default:
		*sense = scsi_sense_invalid_param_field((uint16_t)off, -1);
		sense->asc = ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE;
		return 0;
	}
	if (get_be16(d + 2) != desc_len) {
		bad_field(sense, off + 2, -1);
		return 0;
	}
	if (avail < SEG_HEADER_LEN + desc_len) {
		fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return 0;
	}
	memset(s, 0, sizeof(*s));
	s->type = d[0];
	s->offset = (uint16_t)off;
	/* Byte 1: DC (bit 1, 0x02 only) and CAT (bit 0). CAT is about
	 * residues of inexact segments, which these never leave: 0x02
	 * moves whole blocks (else COPY SEGMENT GRANULARITY VIOLATION), and
	 * 0x0A merges the destination's partial blocks; the other bits are
	 * reserved. */
	if (d[1] & (d[0] == COPY_SEG_BLOCK_TO_BLOCK ? ~0x03 : ~0x01)) {
		bad_field(sense, off + 1, -1);
		return 0;
	}
	s->dc = d[0] == COPY_SEG_BLOCK_TO_BLOCK && (d[1] & 0x02);
	s->src = get_be16(d + 4);
	s->dst = get_be16(d + 6);
	s->src_lba = get_be64(d + 12);
	s->dst_lba = get_be64(d + 20);
	if (d[0] == COPY_SEG_BLOCK_TO_BLOCK) {
		if (d[8] || d[9]) {
			bad_field(sense, off + 8, -1);
			return 0;
		}
		s->nblocks = get_be16(d + 10);
	} else {
		/* NUMBER OF BYTES, and where in their first blocks they
		 * start: checked against the block sizes once the CSCD
		 * descriptors are resolved (copy_job.c). */
		s->nbytes = get_be32(d + 8);
		s->src_byte_off = get_be16(d + 28);
		s->dst_byte_off = get_be16(d + 30);
	}
	return SEG_HEADER_LEN + desc_len;
}

/* Byte 1 of either header: reserved (7..6), STR (5, a hint about
 * striped sources, ignored), LIST ID USAGE (4..3), PRIORITY (2..0, every
 * priority is served alike). @id_byte is where the LIST IDENTIFIER is,
 * for the pointer when usage 11b comes with one. */
static bool parse_flags(const uint8_t *p, struct copy_plan *plan, size_t id_byte,
			struct scsi_sense *sense)
{
	if (p[1] & 0xc0)
		return bad_field(sense, 1, 7);
	switch ((p[1] >> 3) & 0x03) {
	case 0:
		plan->list_id_usage = COPY_LIST_ID_HOLD;
		break;
	case 2:
		plan->list_id_usage = COPY_LIST_ID_DISCARD;
		break;
	case 3:
		plan->list_id_usage = COPY_LIST_ID_NONE;
		if (plan->list_id)
			return bad_field(sense, id_byte, -1);
		break;
	default:
		return bad_field(sense, 1, 4);
	}
	return true;
}

/* The CSCD and segment descriptor lists and the inline data after a
 * header of @hdr bytes, the same for LID1 and LID4. */
static bool parse_lists(const uint8_t *p, size_t len, size_t hdr, size_t cscd_len,
			size_t seg_len, size_t inline_len, struct copy_plan *plan,
			struct scsi_sense *sense)
{
	size_t off, end;

	if (hdr + cscd_len + seg_len + inline_len > len)
		return fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
	if (cscd_len + seg_len > COPY_MAX_DESC_LIST_LEN)
		return fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* No inline data is taken (MAXIMUM INLINE DATA LENGTH 0): no
	 * supported segment descriptor type uses it. */
	if (inline_len)
		return fail(sense, ASC_INLINE_DATA_LENGTH_EXCEEDED);
	/* Every supported CSCD descriptor is 32 bytes. */
	if (cscd_len % CSCD_DESC_LEN)
		return bad_field(sense, hdr == COPY_LID1_HEADER_LEN ? 2 : 42, -1);
	if (cscd_len / CSCD_DESC_LEN > COPY_MAX_CSCD_DESCS)
		return fail(sense, ASC_TOO_MANY_TARGET_DESCRIPTORS);
	off = hdr;
	end = off + cscd_len;
	for (; off < end; off += CSCD_DESC_LEN) {
		if (!parse_cscd(p, off, &plan->cscds[plan->ncscds], sense))
			return false;
		plan->ncscds++;
	}
	end = off + seg_len;
	while (off < end) {
		size_t n;

		if (plan->nsegments == COPY_MAX_SEG_DESCS)
			return fail(sense, ASC_TOO_MANY_SEGMENT_DESCRIPTORS);
		n = parse_segment(p, off, end - off, &plan->segments[plan->nsegments], sense);
		if (!n)
			return false;
		plan->nsegments++;
		off += n;
	}
	return true;
}

bool copy_lid1_parse(const uint8_t *p, size_t len, struct copy_plan *plan,
		     struct scsi_sense *sense)
{
	memset(plan, 0, sizeof(*plan));
	if (len < COPY_LID1_HEADER_LEN)
		return fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
	plan->list_id = p[0];
	if (!parse_flags(p, plan, 0, sense))
		return false;
	if (get_be32(p + 4))
		return bad_field(sense, 4, -1);
	return parse_lists(p, len, COPY_LID1_HEADER_LEN, get_be16(p + 2), get_be32(p + 8),
			   get_be32(p + 12), plan, sense);
}

/* A LID4 header CSCD descriptor list (bytes 2-3, the descriptors from
 * byte 48 on, before the CSCD descriptor list): what a copy that reads
 * or writes a ROD names its ROD CSCD descriptors (type FEh) in. The copy
 * manager has neither ROD CSCD descriptors nor the segment types that
 * use them (VPD 0x8F's Supported Descriptors lists 02h, 0Ah and E4h), so
 * no descriptor is taken there: a list that fits in the parameter list
 * is refused at its first descriptor, UNSUPPORTED TARGET DESCRIPTOR TYPE
 * CODE, whatever its type (an E4h one there could be named by no
 * segment). Always false. */
static bool header_cscds(const uint8_t *p, size_t len, struct scsi_sense *sense)
{
	size_t hdr_cscd_len = get_be16(p + 2);

	if (COPY_LID4_HEADER_LEN + hdr_cscd_len + get_be16(p + 42) + get_be16(p + 44) +
		    get_be16(p + 46) >
	    len)
		return fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
	*sense = scsi_sense_invalid_param_field(COPY_LID4_HEADER_LEN, -1);
	sense->asc = ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE;
	return false;
}

/* EXTENDED COPY(LID4) (SPC-4 6.4.4): a 48-byte header. */
bool copy_lid4_parse(const uint8_t *p, size_t len, struct copy_plan *plan,
		     struct scsi_sense *sense)
{
	memset(plan, 0, sizeof(*plan));
	plan->lid4 = true;
	if (len < COPY_LID4_HEADER_LEN)
		return fail(sense, ASC_PARAMETER_LIST_LENGTH_ERROR);
	if (p[0] != 0x01) /* LIST FORMAT */
		return bad_field(sense, 0, -1);
	plan->list_id = get_be32(p + 20);
	if (!parse_flags(p, plan, 20, sense))
		return false;
	for (size_t i = 4; i < 15; i++) {
		if (p[i])
			return bad_field(sense, i, -1);
	}
	/* Byte 15: IMMED (bit 0) has the command complete once the list
	 * is checked, the copy going on in the background (copy_job.c);
	 * G_SENSE (bit 1) asks for the copy targets' sense data, which
	 * RECEIVE COPY STATUS(LID4) has anyway. */
	plan->immed = p[15] & 0x01;
	if (p[15] & ~0x03)
		return bad_field(sense, 15, -1);
	/* A background copy without a list identifier could never be asked
	 * about (RECEIVE COPY STATUS(LID4)) nor stopped (COPY OPERATION
	 * ABORT). */
	if (plan->immed && plan->list_id_usage == COPY_LIST_ID_NONE)
		return bad_field(sense, 15, 0);
	for (size_t i = 16; i < 20; i++) {
		if (p[i])
			return bad_field(sense, i, -1);
	}
	for (size_t i = 24; i < 42; i++) {
		if (p[i])
			return bad_field(sense, i, -1);
	}
	if (get_be16(p + 2))
		return header_cscds(p, len, sense);
	return parse_lists(p, len, COPY_LID4_HEADER_LEN, get_be16(p + 42), get_be16(p + 44),
			   get_be16(p + 46), plan, sense);
}
