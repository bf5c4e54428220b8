/* WRITE ATOMIC(16), SBC-4 5.48: a write that no other command sees half
 * done, up to Block Limits' MAXIMUM ATOMIC TRANSFER LENGTH.
 *
 * What "atomic" is made of here:
 *  - against other writers, of every session and reactor: the op row's
 *    SCST_OP_EXCLUSIVE_RANGE. The core's write range lock
 *    (core/range_lock.c) waits for the writers of overlapping blocks
 *    already executing, and holds every later one until our write has
 *    completed, so two overlapping writes never interleave: the blocks
 *    end as all of one or all of the other;
 *  - against readers: the READ rows carry SCST_OP_RANGE_READER, so a
 *    READ of overlapping blocks waits for the write to complete (and the
 *    write for the READs executing before it). Without that, a READ
 *    racing the write sees some old and some new pages: the kernel
 *    copies a file's pages one by one with no lock against a writer
 *    (ext4, buffered and O_DIRECT; block_cmds.py shows it);
 *  - the transfer is one backend write (one io_uring WRITE of the whole
 *    range; the file backend resubmits the rest only after a short
 *    write, which a regular file or block device gives on an error only).
 * What it is not: atomic across a crash or power loss. Debian 12's
 * kernel has no RWF_ATOMIC, so a write cut by a crash may leave the range
 * part old, part new (at the store's sector granularity). The contract is
 * the one SBC-4 states for concurrent commands, not for power loss.
 * VERIFY reads in chunks of its own and is not held.
 *
 * Alignment and granularity: whole pages (4 KiB) or physical blocks,
 * whichever is larger. Nothing above needs it today (any whole blocks
 * are atomic under the lock), but it is the unit the page cache and
 * O_DIRECT move and the unit a kernel's RWF_ATOMIC takes (a power of two,
 * naturally aligned), so that a later backend can give crash atomicity
 * without narrowing what initiators were told. Block Limits reports it as
 * ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY; a WRITE ATOMIC
 * that is not aligned, or not a multiple, is refused (INVALID FIELD IN
 * CDB), never written non-atomically. */
#include <assert.h>

#include "handlers/vdisk/vdisk_internal.h"

#define ATOMIC_UNIT_BYTES 4096u

uint32_t vdisk_atomic_granularity(const struct scst_device *dev)
{
	uint32_t bs = dev->block_size;
	uint32_t page = bs < ATOMIC_UNIT_BYTES ? ATOMIC_UNIT_BYTES / bs : 1;
	uint32_t physical = vdisk_blocks_per_physical(dev->handler_priv);
	uint32_t granule = page > physical ? page : physical;

	/* Both are powers of two (block sizes are), so RWF_ATOMIC could take it. */
	assert(granule && (granule & (granule - 1)) == 0);
	return granule;
}

uint32_t vdisk_max_atomic_blocks(const struct scst_device *dev)
{
	uint32_t blocks = VDISK_MAX_XFER_BYTES / dev->block_size;

	/* The CDB's TRANSFER LENGTH has two bytes; a whole number of
	 * granules. */
	if (blocks > UINT16_MAX)
		blocks = UINT16_MAX;
	return blocks - blocks % vdisk_atomic_granularity(dev);
}

int vdisk_parse_write_atomic(struct scst_cmd *cmd)
{
	uint32_t granule = vdisk_atomic_granularity(cmd->dev);
	struct scsi_rw_cdb rw;

	/* SBC-4 5.48: above the maximum atomic transfer length is INVALID
	 * FIELD IN CDB, never a write that is not atomic. */
	if (vdisk_decode_block_cdb(cmd, scsi_cdb_decode_write_atomic16,
				   vdisk_max_atomic_blocks(cmd->dev), &rw))
		return -1;
	if (rw.lba % granule) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(rw.lba_byte, -1));
		return -1;
	}
	if (rw.nblocks % granule) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(rw.len_byte, -1));
		return -1;
	}
	return vdisk_parse_data_out_blocks(cmd, &rw);
}

void vdisk_exec_write_atomic(struct scst_cmd *cmd)
{
	struct scsi_rw_cdb rw;

	scsi_cdb_decode_write_atomic16(cmd->cdb, cmd->cdb_len, &rw); /* PARSE accepted it */
	vdisk_submit_write(cmd, vdisk_write_needs_sync(cmd, rw.fua));
}
