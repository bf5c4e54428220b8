/* MODE SELECT and MODE SENSE (6/10): the device's mode parameters, built
 * and checked by scsi/mode_pages.c. The changeable values live in the
 * device: the write path reads WCE; the core reads D_SENSE to pick the
 * sense format, QAM to decide whether overlapping commands may be
 * reordered, TST, QERR and TAS for task management (core/tmf.c) and
 * UA_INTLCK_CTRL for unit attentions. */
#include "handlers/vdisk/vdisk_internal.h"
#include "scsi/mode_pages.h"

static void mode_params_snapshot(struct scst_cmd *cmd, struct mode_disk_params *p)
{
	struct vdisk_dev *vd = vdisk_of(cmd);

	*p = (struct mode_disk_params){
		.nblocks = cmd->dev->nblocks,
		.block_size = cmd->dev->block_size,
		.read_only = cmd->tgt_dev ? atomic_load(&cmd->tgt_dev->read_only) : cmd->dev->read_only,
		.rotational = vd->cfg.rotational,
		.wce = atomic_load(&cmd->dev->wce),
		.d_sense = atomic_load(&cmd->dev->d_sense),
		.qam = (uint8_t)atomic_load(&cmd->dev->qam),
		.default_wce = !vd->cfg.write_through,
		.default_d_sense = false,
		.default_qam = MODE_QAM_RESTRICTED,
		.tst = (uint8_t)atomic_load(&cmd->dev->tst),
		.qerr = (uint8_t)atomic_load(&cmd->dev->qerr),
		.tas = atomic_load(&cmd->dev->tas),
		.ua_intlck_ctrl = (uint8_t)atomic_load(&cmd->dev->ua_intlck_ctrl),
	};
}

int vdisk_parse_mode_sense(struct scst_cmd *cmd)
{
	struct scsi_mode_sense_cdb ms;

	if (!scsi_cdb_decode_mode_sense(cmd->cdb, cmd->cdb_len, &ms)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = ms.alloc_len;
	return 0;
}

void vdisk_exec_mode_sense(struct scst_cmd *cmd)
{
	struct scsi_mode_sense_cdb ms;
	struct mode_disk_params p;
	struct scsi_sense err;
	uint8_t data[MODE_SENSE_MAX_LEN];
	int len;

	scsi_cdb_decode_mode_sense(cmd->cdb, cmd->cdb_len, &ms); /* PARSE accepted it */
	mode_params_snapshot(cmd, &p);
	len = mode_sense_build(&ms, &p, data, &err);
	if (len < 0)
		scst_set_cmd_error(cmd, err);
	else
		scst_cmd_copy_response(cmd, data, (size_t)len);
	scst_cmd_done(cmd);
}

int vdisk_parse_mode_select(struct scst_cmd *cmd)
{
	struct scsi_mode_select_cdb sel;

	if (!scsi_cdb_decode_mode_select(cmd->cdb, cmd->cdb_len, &sel)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	cmd->data_dir = sel.param_len ? SCST_DATA_WRITE : SCST_DATA_NONE;
	cmd->data_len = sel.param_len;
	return 0;
}

/* Stores the new values; other nexuses learn of a change through MODE
 * PARAMETERS CHANGED (SPC-4 5.14, the nexus that changed them does not). */
static void mode_params_apply(struct scst_cmd *cmd, const struct mode_select_result *r)
{
	struct scst_device *dev = cmd->dev;
	bool changed;

	pthread_mutex_lock(&dev->lock);
	changed = atomic_load(&dev->wce) != r->wce || atomic_load(&dev->d_sense) != r->d_sense ||
		  atomic_load(&dev->qam) != r->qam || atomic_load(&dev->tst) != r->tst ||
		  atomic_load(&dev->qerr) != r->qerr || atomic_load(&dev->tas) != r->tas ||
		  atomic_load(&dev->ua_intlck_ctrl) != r->ua_intlck_ctrl;
	atomic_store(&dev->wce, r->wce);
	atomic_store(&dev->d_sense, r->d_sense);
	atomic_store(&dev->qam, r->qam);
	atomic_store(&dev->tst, r->tst);
	atomic_store(&dev->qerr, r->qerr);
	atomic_store(&dev->tas, r->tas);
	atomic_store(&dev->ua_intlck_ctrl, r->ua_intlck_ctrl);
	pthread_mutex_unlock(&dev->lock);
	if (changed)
		scst_dev_queue_ua(dev, cmd->tgt_dev,
				  scsi_sense_make(SK_UNIT_ATTENTION, ASC_MODE_PARAMETERS_CHANGED));
}

void vdisk_exec_mode_select(struct scst_cmd *cmd)
{
	struct scsi_mode_select_cdb sel;
	struct mode_disk_params p;
	struct mode_select_result r;
	struct scsi_sense err;

	scsi_cdb_decode_mode_select(cmd->cdb, cmd->cdb_len, &sel); /* PARSE accepted it */
	mode_params_snapshot(cmd, &p);
	if (mode_select_parse(&sel, cmd->buf, vdisk_write_len(cmd), &p, &r, &err))
		scst_set_cmd_error(cmd, err);
	else
		mode_params_apply(cmd, &r);
	scst_cmd_done(cmd);
}
