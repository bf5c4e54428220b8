/* GET LBA STATUS, SBC-4 5.7 (SERVICE ACTION IN(16), service action 0x12):
 * which blocks from the STARTING LOGICAL BLOCK ADDRESS on are mapped and
 * which are deallocated, as LBA status descriptors, each one run of blocks
 * in one state. Served on thin LUNs only (the row's available()).
 *
 * The backend's extent() answers in bytes (a file: SEEK_DATA/SEEK_HOLE, so
 * at file system block granularity; a block device: all mapped; nullio:
 * all deallocated). A logical block is deallocated only when all of it
 * lies in a hole: a block a hole covers in part is reported mapped, since
 * part of it holds data.
 *
 * The descriptors start at the starting LBA and run on in order until
 * the allocation length is full or the medium ends (at most
 * MAX_DESCRIPTORS: the initiator asks again from where we stopped); what
 * does not fit the allocation length is cut off, as SPC-4 4.2.5.6 has it,
 * with PARAMETER DATA LENGTH saying what was built. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "handlers/vdisk/vdisk_internal.h"

#define LBA_STATUS_HEADER_LEN 8
#define LBA_STATUS_DESCRIPTOR_LEN 16
#define MAX_DESCRIPTORS 64u
#define PROVISIONING_MAPPED 0x0
#define PROVISIONING_DEALLOCATED 0x1
/* Extent look-ups one command makes at most, each two lseeks on the
 * reactor: runs of one state merge into one descriptor, so without a
 * bound a file of holes smaller than a logical block (1 KiB file system
 * blocks under 4 KiB logical ones) could cost one look-up per block of
 * the LUN. The answer then ends early; the initiator asks again. */
#define MAX_LOOKUPS 4096u
/* One descriptor's NUMBER OF LOGICAL BLOCKS field is 32 bits. */
#define MAX_DESCRIPTOR_BLOCKS UINT32_MAX

int vdisk_parse_get_lba_status(struct scst_cmd *cmd)
{
	uint64_t lba;
	uint32_t alloc_len;

	if (!scsi_cdb_sai16_alloc_len(cmd->cdb, cmd->cdb_len, &alloc_len)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	lba = get_be64(cmd->cdb + 2);
	/* The STARTING LOGICAL BLOCK ADDRESS must be on the medium. */
	if (vdisk_check_range(cmd, lba, 0))
		return -1;
	/* A length beyond what we could ever build asks for no buffer
	 * larger than that. */
	if (alloc_len > LBA_STATUS_HEADER_LEN + MAX_DESCRIPTORS * LBA_STATUS_DESCRIPTOR_LEN)
		alloc_len = LBA_STATUS_HEADER_LEN + MAX_DESCRIPTORS * LBA_STATUS_DESCRIPTOR_LEN;
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = alloc_len; /* 0 is legal: GOOD, no data */
	return 0;
}

/* The run of blocks in one state from @lba (< @capacity): its end (past
 * @lba) and whether it is mapped. */
static uint64_t block_run(struct vdisk_dev *vd, uint64_t lba, uint64_t capacity, bool *mapped)
{
	uint32_t bs = vd->cfg.block_size;
	uint64_t off = lba * bs, end = capacity * bs;
	uint64_t run_end = vd->mode->backend->extent(vd, off, end, mapped);

	if (*mapped) {
		/* A block the data reaches into is mapped: round up. */
		uint64_t blk = (run_end + bs - 1) / bs;

		return blk < capacity ? blk : capacity;
	}
	/* Deallocated: whole blocks only. A hole that ends inside the first
	 * block leaves that block part data: mapped, up to where the next
	 * run (data) starts. */
	if (run_end / bs > lba)
		return run_end / bs;
	*mapped = true;
	return lba + 1;
}

struct lba_run {
	uint64_t lba;
	uint64_t end;
	bool mapped;
};

void vdisk_exec_get_lba_status(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	uint8_t data[LBA_STATUS_HEADER_LEN + MAX_DESCRIPTORS * LBA_STATUS_DESCRIPTOR_LEN];
	struct lba_run runs[MAX_DESCRIPTORS];
	uint64_t capacity = scst_dev_nblocks(cmd->dev);
	uint64_t lba = get_be64(cmd->cdb + 2);
	/* At least one descriptor, even when the allocation length cuts it. */
	uint32_t room = 1, n = 0, lookups = 0;

	if (cmd->data_len > LBA_STATUS_HEADER_LEN + LBA_STATUS_DESCRIPTOR_LEN)
		room = (cmd->data_len - LBA_STATUS_HEADER_LEN) / LBA_STATUS_DESCRIPTOR_LEN;
	if (room > MAX_DESCRIPTORS)
		room = MAX_DESCRIPTORS;
	/* PARSE checked the start against the capacity then; a reload may
	 * have shrunk the store since. */
	if (lba >= capacity) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		scst_cmd_done(cmd);
		return;
	}
	while (lba < capacity && lookups++ < MAX_LOOKUPS) {
		bool mapped;
		uint64_t end = block_run(vd, lba, capacity, &mapped);
		struct lba_run *last = n ? &runs[n - 1] : NULL;

		/* The store's extents may split one state into runs back to
		 * back: one descriptor holds them, up to its 32-bit count. */
		if (last && last->mapped == mapped && end - last->lba <= MAX_DESCRIPTOR_BLOCKS) {
			last->end = end;
		} else {
			if (n == room)
				break;
			if (end - lba > MAX_DESCRIPTOR_BLOCKS)
				end = lba + MAX_DESCRIPTOR_BLOCKS;
			runs[n++] = (struct lba_run){ .lba = lba, .end = end, .mapped = mapped };
		}
		lba = end;
	}
	memset(data, 0, sizeof(data));
	/* PARAMETER DATA LENGTH: the bytes after itself. */
	put_be32(data, 4 + n * LBA_STATUS_DESCRIPTOR_LEN);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *d = data + LBA_STATUS_HEADER_LEN + (size_t)i * LBA_STATUS_DESCRIPTOR_LEN;

		put_be64(d, runs[i].lba);
		put_be32(d + 8, (uint32_t)(runs[i].end - runs[i].lba));
		d[12] = runs[i].mapped ? PROVISIONING_MAPPED : PROVISIONING_DEALLOCATED;
	}
	scst_cmd_copy_response(cmd, data, LBA_STATUS_HEADER_LEN + n * LBA_STATUS_DESCRIPTOR_LEN);
	scst_cmd_done(cmd);
}
