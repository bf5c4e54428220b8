/* UNMAP, SBC-4 5.30: deallocate the ranges an UNMAP parameter list names,
 * on a thin-provisioned LUN (thin_provisioned 1), and the deallocation
 * WRITE SAME with UNMAP shares.
 *
 * The parameter list is validated whole before a single block is
 * deallocated (scsi/unmap_list.c, which names each fault's sense): a
 * malformed list is refused and changes nothing. ANCHOR=1 gets INVALID
 * FIELD IN CDB (byte 1 bit 0: we report ANC_SUP=0), a PARAMETER LIST
 * LENGTH of 1 to 7 PARAMETER LIST LENGTH ERROR before any Data-Out is
 * asked for, and 0 is GOOD with nothing done (SBC-4: not an error).
 *
 * Then each descriptor is one VDISK_IO_DISCARD, one after the other (a
 * file's hole punch is metadata work; running them in parallel would only
 * contend for the inode). An abort between descriptors ends the command.
 * The data of a partial file system block at a range's edge is zeroed by
 * the hole punch itself, so every unmapped block reads back as zeros
 * (LBPRZ=1) whatever the alignment. */
#include <assert.h>
#include <stdlib.h>

#include "base/bytes.h"
#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"
#include "scsi/unmap_list.h"

bool vdisk_thin_available(const struct scst_tgt_dev *td)
{
	const struct vdisk_dev *vd = td->dev->handler_priv;

	return vd && vdisk_is_thin(vd);
}

uint32_t vdisk_unmap_granularity(const struct vdisk_dev *vd)
{
	uint32_t per_physical = vdisk_blocks_per_physical(vd);
	uint32_t per_fs_block = vd->dealloc_granularity / vd->cfg.block_size;

	return per_fs_block > per_physical ? per_fs_block : per_physical;
}

int vdisk_parse_unmap(struct scst_cmd *cmd)
{
	uint16_t param_len = get_be16(cmd->cdb + 7);
	uint64_t capacity = scst_dev_nblocks(cmd->dev);

	if (cmd->cdb[1] & 0x01) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 0));
		return -1;
	}
	if (param_len == 0)
		return vdisk_parse_no_data(cmd);
	if (param_len < SCSI_UNMAP_HEADER_LEN) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	/* Which blocks it touches is in the Data-Out, which has not come
	 * yet: for the task set and the write range lock it touches the
	 * whole medium (as far as the 32-bit count reaches). */
	cmd->lba = 0;
	cmd->nblocks = capacity > UINT32_MAX ? UINT32_MAX : (uint32_t)capacity;
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = param_len;
	return 0;
}

/* Checks the list whole (scsi/unmap_list.c); on a fault sets its sense
 * and returns false. *ndesc is how many descriptors there are. */
static bool unmap_list_valid(struct scst_cmd *cmd, const uint8_t *list, uint32_t len,
			     uint32_t *ndesc)
{
	struct scsi_unmap_limits lim = {
		.capacity = scst_dev_nblocks(cmd->dev),
		.max_lba_count = vdisk_max_unmap_blocks(cmd->dev),
		.max_descriptors = VDISK_MAX_UNMAP_DESCRIPTORS,
	};
	struct scsi_sense fault;

	if (scsi_unmap_list_check(list, len, &lim, ndesc, &fault))
		return true;
	log_warn_rl("session %s: UNMAP parameter list refused (ASC %04x, %u byte(s), UNMAP DATA "
		    "LENGTH %u, BLOCK DESCRIPTOR DATA LENGTH %u)", cmd->sess->initiator_name,
		    fault.asc, len, len >= 2 ? get_be16(list) : 0, len >= 4 ? get_be16(list + 2) : 0);
	scst_set_cmd_error(cmd, fault);
	return false;
}

/* One UNMAP (or WRITE SAME with UNMAP) in progress: the descriptor whose
 * range is being deallocated, one vdisk_io at a time. */
struct unmap_job {
	struct vdisk_io io;
	const uint8_t *list; /* the descriptors (cmd->buf); NULL: one range */
	uint32_t ndesc;
	uint32_t next;       /* the descriptor to deallocate next */
	uint64_t lba;        /* the range in flight */
};

static void unmap_next(struct unmap_job *j);

static void unmap_finish(struct unmap_job *j)
{
	struct scst_cmd *cmd = j->io.cmd;

	cmd->dev_priv = NULL;
	free(j);
	scst_cmd_done(cmd);
}

static void unmap_range_done(struct vdisk_io *io, int err)
{
	struct unmap_job *j = container_of(io, struct unmap_job, io);

	if (err) {
		vdisk_set_io_error(io->cmd, VDISK_IO_DISCARD, err, j->lba);
		unmap_finish(j);
		return;
	}
	unmap_next(j);
}

static void unmap_submit(struct unmap_job *j, uint64_t lba, uint32_t nblocks)
{
	struct scst_cmd *cmd = j->io.cmd;
	uint32_t bs = cmd->dev->block_size;

	/* VDISK_MAX_UNMAP_BYTES and MAXIMUM WRITE SAME LENGTH bound it. */
	assert((uint64_t)nblocks * bs <= UINT32_MAX);
	j->lba = lba;
	vdisk_io_init(&j->io, cmd, VDISK_IO_DISCARD, NULL, lba * bs, nblocks * bs);
	j->io.complete = unmap_range_done;
	vdisk_of(cmd)->mode->backend->submit(&j->io);
}

/* Submits the next descriptor with blocks in it, or ends the command.
 * The completion of a file's fallocate comes from the ring, never from
 * within submit, so this does not recurse. */
static void unmap_next(struct unmap_job *j)
{
	struct scst_cmd *cmd = j->io.cmd;

	while (j->next < j->ndesc && !atomic_load(&cmd->aborted)) {
		struct scsi_unmap_range r = scsi_unmap_descriptor(j->list, j->next++);

		if (r.nblocks) {
			unmap_submit(j, r.lba, r.nblocks);
			return;
		}
	}
	unmap_finish(j);
}

static struct unmap_job *unmap_job_new(struct scst_cmd *cmd)
{
	struct unmap_job *j = calloc(1, sizeof(*j));

	if (!j) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return NULL;
	}
	j->io.cmd = cmd;
	cmd->dev_priv = j;
	return j;
}

void vdisk_exec_unmap(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct unmap_job *j;
	uint32_t ndesc;

	if (cmd->data_len == 0) {
		scst_cmd_done(cmd);
		return;
	}
	if (!unmap_list_valid(cmd, cmd->buf, vdisk_write_len(cmd), &ndesc)) {
		scst_cmd_done(cmd);
		return;
	}
	/* nullio: nothing is stored, so nothing is allocated. */
	if (vd->mode->backend->no_medium) {
		scst_cmd_done(cmd);
		return;
	}
	j = unmap_job_new(cmd);
	if (!j)
		return;
	j->list = cmd->buf;
	j->ndesc = ndesc;
	unmap_next(j);
}

void vdisk_deallocate_and_finish(struct scst_cmd *cmd, uint64_t lba, uint32_t nblocks)
{
	struct unmap_job *j;

	assert(nblocks > 0);
	if (vdisk_of(cmd)->mode->backend->no_medium) {
		scst_cmd_done(cmd);
		return;
	}
	j = unmap_job_new(cmd);
	if (!j)
		return;
	/* No list: this one range, then unmap_next() finds nothing more. */
	unmap_submit(j, lba, nblocks);
}
