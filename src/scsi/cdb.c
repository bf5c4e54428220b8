/* CDB decoding (see cdb.h). Every reader checks the CDB length first: the
 * caller may hand us a CDB shorter than its opcode implies. */
#include "scsi/cdb.h"

#include <stddef.h>

#include "base/bytes.h"
#include "scsi/scsi.h"

/* Layout of one READ/WRITE/VERIFY CDB family member. */
struct rw_layout {
	uint8_t opcode;
	uint8_t len;          /* CDB length */
	uint8_t lba_byte;
	uint8_t lba_size;     /* 4 or 8 bytes (the 6-byte CDB is special-cased) */
	uint8_t xfer_byte;
	uint8_t xfer_size;    /* 2 or 4 bytes */
	uint8_t group_byte;
	bool has_fua;         /* VERIFY and WRITE AND VERIFY have none */
	bool has_bytchk;
};

static const struct rw_layout rw_layouts[] = {
	{ .opcode = READ_10, .len = 10, .lba_byte = 2, .lba_size = 4, .xfer_byte = 7,
	  .xfer_size = 2, .group_byte = 6, .has_fua = true },
	{ .opcode = WRITE_10, .len = 10, .lba_byte = 2, .lba_size = 4, .xfer_byte = 7,
	  .xfer_size = 2, .group_byte = 6, .has_fua = true },
	{ .opcode = VERIFY_10, .len = 10, .lba_byte = 2, .lba_size = 4, .xfer_byte = 7,
	  .xfer_size = 2, .group_byte = 6, .has_bytchk = true },
	{ .opcode = WRITE_VERIFY_10, .len = 10, .lba_byte = 2, .lba_size = 4, .xfer_byte = 7,
	  .xfer_size = 2, .group_byte = 6, .has_bytchk = true },
	{ .opcode = READ_12, .len = 12, .lba_byte = 2, .lba_size = 4, .xfer_byte = 6,
	  .xfer_size = 4, .group_byte = 10, .has_fua = true },
	{ .opcode = WRITE_12, .len = 12, .lba_byte = 2, .lba_size = 4, .xfer_byte = 6,
	  .xfer_size = 4, .group_byte = 10, .has_fua = true },
	{ .opcode = VERIFY_12, .len = 12, .lba_byte = 2, .lba_size = 4, .xfer_byte = 6,
	  .xfer_size = 4, .group_byte = 10, .has_bytchk = true },
	{ .opcode = WRITE_VERIFY_12, .len = 12, .lba_byte = 2, .lba_size = 4, .xfer_byte = 6,
	  .xfer_size = 4, .group_byte = 10, .has_bytchk = true },
	{ .opcode = READ_16, .len = 16, .lba_byte = 2, .lba_size = 8, .xfer_byte = 10,
	  .xfer_size = 4, .group_byte = 14, .has_fua = true },
	{ .opcode = WRITE_16, .len = 16, .lba_byte = 2, .lba_size = 8, .xfer_byte = 10,
	  .xfer_size = 4, .group_byte = 14, .has_fua = true },
	{ .opcode = VERIFY_16, .len = 16, .lba_byte = 2, .lba_size = 8, .xfer_byte = 10,
	  .xfer_size = 4, .group_byte = 14, .has_bytchk = true },
	{ .opcode = WRITE_VERIFY_16, .len = 16, .lba_byte = 2, .lba_size = 8, .xfer_byte = 10,
	  .xfer_size = 4, .group_byte = 14, .has_bytchk = true },
};

static const struct rw_layout *rw_layout_find(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(rw_layouts) / sizeof(rw_layouts[0]); i++)
		if (rw_layouts[i].opcode == opcode)
			return &rw_layouts[i];
	return NULL;
}

bool scsi_cdb_is_rw(uint8_t opcode)
{
	return opcode == READ_6 || opcode == WRITE_6 || rw_layout_find(opcode) != NULL;
}

unsigned scsi_cdb_group_len(uint8_t opcode)
{
	switch (opcode >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 0;
	}
}

/* READ(6)/WRITE(6): a 21-bit LBA in bytes 1..3 and an 8-bit length in
 * which 0 means 256 blocks (SBC-3 5.15). No flags at all. */
static void decode_rw6(const uint8_t *cdb, struct scsi_rw_cdb *out)
{
	out->lba = get_be24(cdb + 1) & 0x1fffff;
	out->nblocks = cdb[4] ? cdb[4] : 256;
	out->lba_byte = 1;
	out->len_byte = 4;
	out->flags_byte = 0;
}

bool scsi_cdb_decode_rw(const uint8_t *cdb, unsigned cdb_len, struct scsi_rw_cdb *out)
{
	*out = (struct scsi_rw_cdb){ 0 };
	if (cdb_len < 1)
		return false;
	if (cdb[0] == READ_6 || cdb[0] == WRITE_6) {
		if (cdb_len < 6)
			return false;
		decode_rw6(cdb, out);
		return true;
	}
	const struct rw_layout *l = rw_layout_find(cdb[0]);
	if (!l || cdb_len < l->len)
		return false;
	out->lba = l->lba_size == 8 ? get_be64(cdb + l->lba_byte) : get_be32(cdb + l->lba_byte);
	out->nblocks = l->xfer_size == 4 ? get_be32(cdb + l->xfer_byte)
					 : get_be16(cdb + l->xfer_byte);
	out->protect = cdb[1] >> 5;
	out->dpo = cdb[1] & 0x10;
	out->fua = l->has_fua && (cdb[1] & 0x08);
	/* SBC-4 widened BYTCHK to bits 2..1; SBC-3's one-bit field is bit 1,
	 * i.e. the value 1 of the wide field, so one decoder serves both. */
	out->bytchk = l->has_bytchk ? (cdb[1] >> 1) & 0x3 : 0;
	out->group = cdb[l->group_byte] & 0x1f;
	out->lba_byte = l->lba_byte;
	out->len_byte = l->xfer_byte;
	out->flags_byte = 1;
	return true;
}

bool scsi_cdb_decode_write_same(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_write_same_cdb *out)
{
	*out = (struct scsi_write_same_cdb){ 0 };
	if (cdb_len >= 10 && cdb[0] == WRITE_SAME_10) {
		out->lba = get_be32(cdb + 2);
		out->group = cdb[6] & 0x1f;
		out->nblocks = get_be16(cdb + 7);
		out->len_byte = 7;
	} else if (cdb_len >= 16 && cdb[0] == WRITE_SAME_16) {
		out->lba = get_be64(cdb + 2);
		out->nblocks = get_be32(cdb + 10);
		out->group = cdb[14] & 0x1f;
		out->ndob = cdb[1] & 0x01;
		out->len_byte = 10;
	} else {
		return false;
	}
	out->protect = cdb[1] >> 5;
	out->anchor = cdb[1] & 0x10;
	out->unmap = cdb[1] & 0x08;
	out->lbdata_pbdata = cdb[1] & 0x06;
	out->lba_byte = 2;
	out->flags_byte = 1;
	return true;
}

bool scsi_cdb_decode_compare_and_write(const uint8_t *cdb, unsigned cdb_len,
				       struct scsi_caw_cdb *out)
{
	*out = (struct scsi_caw_cdb){ 0 };
	if (cdb_len < 16 || cdb[0] != COMPARE_AND_WRITE)
		return false;
	out->protect = cdb[1] >> 5;
	out->dpo = cdb[1] & 0x10;
	out->fua = cdb[1] & 0x08;
	out->lba = get_be64(cdb + 2);
	out->nblocks = cdb[13];
	out->group = cdb[14] & 0x1f;
	out->lba_byte = 2;
	out->len_byte = 13;
	out->flags_byte = 1;
	return true;
}

/* What ORWRITE(16) and WRITE ATOMIC(16) share with WRITE(16): byte 1's
 * protect, DPO and FUA, the LBA at 2, the group at 14. */
static void decode_write16_like(const uint8_t *cdb, struct scsi_rw_cdb *out)
{
	out->protect = cdb[1] >> 5;
	out->dpo = cdb[1] & 0x10;
	out->fua = cdb[1] & 0x08;
	out->lba = get_be64(cdb + 2);
	out->group = cdb[14] & 0x1f;
	out->lba_byte = 2;
	out->flags_byte = 1;
}

bool scsi_cdb_decode_orwrite16(const uint8_t *cdb, unsigned cdb_len, struct scsi_rw_cdb *out)
{
	*out = (struct scsi_rw_cdb){ 0 };
	if (cdb_len < 16 || cdb[0] != ORWRITE_16)
		return false;
	decode_write16_like(cdb, out);
	out->nblocks = get_be32(cdb + 10);
	out->len_byte = 10;
	return true;
}

bool scsi_cdb_decode_orwrite32(const uint8_t *cdb, unsigned cdb_len,
			       struct scsi_orwrite32_cdb *out)
{
	*out = (struct scsi_orwrite32_cdb){ 0 };
	if (cdb_len < 32 || cdb[0] != VARIABLE_LENGTH_CMD || get_be16(cdb + 8) != VLC_ORWRITE_32)
		return false;
	out->bmop = cdb[2] & 0x07;
	out->pgp = cdb[3] & 0x0f;
	out->additional_len = cdb[7];
	out->expected_generation = get_be32(cdb + 20);
	out->new_generation = get_be32(cdb + 24);
	out->rw.protect = cdb[10] >> 5;
	out->rw.dpo = cdb[10] & 0x10;
	out->rw.fua = cdb[10] & 0x08;
	out->rw.group = cdb[6] & 0x1f;
	out->rw.lba = get_be64(cdb + 12);
	out->rw.nblocks = get_be32(cdb + 28);
	out->rw.lba_byte = 12;
	out->rw.len_byte = 28;
	out->rw.flags_byte = 10;
	return true;
}

uint16_t scsi_cdb_service_action(const uint8_t *cdb, unsigned cdb_len)
{
	if (cdb[0] == VARIABLE_LENGTH_CMD)
		return cdb_len >= 10 ? get_be16(cdb + 8) : 0;
	return cdb_len >= 2 ? cdb[1] & 0x1f : 0;
}

unsigned scsi_cdb_service_action_byte(uint8_t opcode)
{
	return opcode == VARIABLE_LENGTH_CMD ? 8 : 1;
}

unsigned scsi_cdb_control_byte(uint8_t opcode, unsigned cdb_len)
{
	unsigned len = scsi_cdb_group_len(opcode);

	if (opcode == VARIABLE_LENGTH_CMD)
		return 1;
	if (len == 0 || len > cdb_len)
		len = cdb_len; /* vendor specific */
	return len ? len - 1 : 0;
}

bool scsi_cdb_decode_write_atomic16(const uint8_t *cdb, unsigned cdb_len,
				    struct scsi_rw_cdb *out)
{
	*out = (struct scsi_rw_cdb){ 0 };
	if (cdb_len < 16 || cdb[0] != WRITE_ATOMIC_16)
		return false;
	decode_write16_like(cdb, out);
	out->nblocks = get_be16(cdb + 12);
	out->len_byte = 12;
	return true;
}

bool scsi_cdb_decode_prefetch(const uint8_t *cdb, unsigned cdb_len,
			      struct scsi_prefetch_cdb *out)
{
	*out = (struct scsi_prefetch_cdb){ 0 };
	if (cdb_len >= 10 && cdb[0] == PRE_FETCH_10) {
		out->lba = get_be32(cdb + 2);
		out->group = cdb[6] & 0x1f;
		out->nblocks = get_be16(cdb + 7);
		out->len_byte = 7;
	} else if (cdb_len >= 16 && cdb[0] == PRE_FETCH_16) {
		out->lba = get_be64(cdb + 2);
		out->nblocks = get_be32(cdb + 10);
		out->group = cdb[14] & 0x1f;
		out->len_byte = 10;
	} else {
		return false;
	}
	out->immed = cdb[1] & 0x02;
	out->lba_byte = 2;
	return true;
}

bool scsi_cdb_decode_read_defect_data(const uint8_t *cdb, unsigned cdb_len,
				      struct scsi_read_defect_cdb *out)
{
	uint8_t flags;

	*out = (struct scsi_read_defect_cdb){ 0 };
	if (cdb_len >= 10 && cdb[0] == READ_DEFECT_DATA_10) {
		out->flags_byte = 2;
		out->alloc_len = get_be16(cdb + 7);
	} else if (cdb_len >= 12 && cdb[0] == READ_DEFECT_DATA_12) {
		out->flags_byte = 1;
		out->index = get_be32(cdb + 2);
		out->alloc_len = get_be32(cdb + 6);
		out->twelve = true;
	} else {
		return false;
	}
	flags = cdb[out->flags_byte];
	out->req_plist = flags & 0x10;
	out->req_glist = flags & 0x08;
	out->format = flags & 0x07;
	return true;
}

bool scsi_cdb_decode_sync_cache(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_sync_cache_cdb *out)
{
	*out = (struct scsi_sync_cache_cdb){ 0 };
	if (cdb_len >= 10 && cdb[0] == SYNCHRONIZE_CACHE_10) {
		out->lba = get_be32(cdb + 2);
		out->nblocks = get_be16(cdb + 7);
	} else if (cdb_len >= 16 && cdb[0] == SYNCHRONIZE_CACHE_16) {
		out->lba = get_be64(cdb + 2);
		out->nblocks = get_be32(cdb + 10);
	} else {
		return false;
	}
	out->immed = cdb[1] & 0x02;
	out->lba_byte = 2;
	return true;
}

bool scsi_cdb_decode_mode_sense(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_mode_sense_cdb *out)
{
	*out = (struct scsi_mode_sense_cdb){ 0 };
	if (cdb_len >= 6 && cdb[0] == MODE_SENSE_6) {
		out->alloc_len = cdb[4];
	} else if (cdb_len >= 10 && cdb[0] == MODE_SENSE_10) {
		out->ten = true;
		out->llbaa = cdb[1] & 0x10;
		out->alloc_len = get_be16(cdb + 7);
	} else {
		return false;
	}
	out->dbd = cdb[1] & 0x08;
	out->pc = cdb[2] >> 6;
	out->page = cdb[2] & 0x3f;
	out->subpage = cdb[3];
	return true;
}

bool scsi_cdb_decode_mode_select(const uint8_t *cdb, unsigned cdb_len,
				 struct scsi_mode_select_cdb *out)
{
	*out = (struct scsi_mode_select_cdb){ 0 };
	if (cdb_len >= 6 && cdb[0] == MODE_SELECT_6) {
		out->param_len = cdb[4];
	} else if (cdb_len >= 10 && cdb[0] == MODE_SELECT_10) {
		out->ten = true;
		out->param_len = get_be16(cdb + 7);
	} else {
		return false;
	}
	out->pf = cdb[1] & 0x10;
	out->sp = cdb[1] & 0x01;
	return true;
}

bool scsi_cdb_decode_start_stop(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_start_stop_cdb *out)
{
	*out = (struct scsi_start_stop_cdb){ 0 };
	if (cdb_len < 6 || cdb[0] != START_STOP_UNIT)
		return false;
	out->immed = cdb[1] & 0x01;
	out->pc_modifier = cdb[3] & 0x0f;
	out->power_condition = cdb[4] >> 4;
	out->no_flush = cdb[4] & 0x04;
	out->loej = cdb[4] & 0x02;
	out->start = cdb[4] & 0x01;
	return true;
}

bool scsi_cdb_decode_read_capacity10(const uint8_t *cdb, unsigned cdb_len,
				     struct scsi_read_capacity10_cdb *out)
{
	*out = (struct scsi_read_capacity10_cdb){ 0 };
	if (cdb_len < 10 || cdb[0] != READ_CAPACITY_10)
		return false;
	out->lba = get_be32(cdb + 2);
	out->pmi = cdb[8] & 0x01;
	return true;
}

bool scsi_cdb_sai16_alloc_len(const uint8_t *cdb, unsigned cdb_len, uint32_t *out)
{
	if (cdb_len < 16)
		return false;
	*out = get_be32(cdb + 10);
	return true;
}
