/* MODE SELECT and MODE SENSE (6/10): the device's mode parameters, built
 * and checked by scsi/mode_pages.c. The current values of the changeable
 * fields live in the device, where the code they steer reads them: the
 * write path reads WCE (0: every write is durable before GOOD); the core
 * reads D_SENSE to pick the sense format, SWP to refuse writes with DATA
 * PROTECT, QAM to decide whether overlapping commands may be reordered,
 * TST, QERR and TAS for task management (core/tmf.c) and UA_INTLCK_CTRL
 * for unit attentions. The defaults (from the attributes) and the saved
 * values (vdisk_mode_store.c) are the handler's; at attach the current
 * values start as the saved ones (SPC-4 7.5.1: saved, or default when
 * nothing was saved). */
#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

/* The device's current values; dev->lock held or not (each is one
 * atomic; a MODE SENSE racing a MODE SELECT may see a mix, as it would
 * on a disk). */
static struct mode_values current_values(const struct scst_device *dev)
{
	return (struct mode_values){
		.wce = atomic_load(&dev->wce),
		.d_sense = atomic_load(&dev->d_sense),
		.swp = atomic_load(&dev->swp),
		.qam = (uint8_t)atomic_load(&dev->qam),
		.tst = (uint8_t)atomic_load(&dev->tst),
		.qerr = (uint8_t)atomic_load(&dev->qerr),
		.tas = atomic_load(&dev->tas),
		.ua_intlck_ctrl = (uint8_t)atomic_load(&dev->ua_intlck_ctrl),
	};
}

/* dev->lock held. */
static void set_current_values(struct scst_device *dev, const struct mode_values *v)
{
	atomic_store(&dev->wce, v->wce);
	atomic_store(&dev->d_sense, v->d_sense);
	atomic_store(&dev->swp, v->swp);
	atomic_store(&dev->qam, v->qam);
	atomic_store(&dev->tst, v->tst);
	atomic_store(&dev->qerr, v->qerr);
	atomic_store(&dev->tas, v->tas);
	atomic_store(&dev->ua_intlck_ctrl, v->ua_intlck_ctrl);
}

void vdisk_mode_attach(struct vdisk_dev *vd)
{
	struct scst_device *dev = vd->dev;
	struct mode_values saved;
	char err[512];
	int rc;

	/* write_through: every write is durable, so the cache reads as off
	 * and cannot be turned on. Everything else powers on as 0 (SPC-4's
	 * defaults: one task set, QErr 00b, no TASK ABORTED status, unit
	 * attentions cleared when reported, no write protection) and QAM
	 * restricted. */
	vd->mode_default = (struct mode_values){
		.wce = !vd->cfg.write_through,
		.qam = MODE_QAM_RESTRICTED,
	};
	vd->mode_saved = vd->mode_default;
	rc = vdisk_mode_load(dev->name, &saved, err, sizeof(err));
	if (rc < 0) {
		log_error("vdisk: %s: saved mode pages not used, the defaults are: %s", dev->name,
			  err);
	} else if (rc > 0) {
		if (vd->cfg.write_through)
			saved.wce = false;
		vd->mode_saved = saved;
		log_info("vdisk: %s: mode pages from the saved values", dev->name);
	}
	set_current_values(dev, &vd->mode_saved);
}

static void mode_params_snapshot(struct scst_cmd *cmd, struct mode_disk_params *p)
{
	struct vdisk_dev *vd = vdisk_of(cmd);

	*p = (struct mode_disk_params){
		.nblocks = scst_dev_nblocks(cmd->dev),
		.block_size = cmd->dev->block_size,
		.read_only = cmd->tgt_dev ? atomic_load(&cmd->tgt_dev->read_only) : cmd->dev->read_only,
		.rotational = vd->cfg.rotational,
		.wce_fixed = vd->cfg.write_through,
		.cur = current_values(cmd->dev),
	};
	pthread_mutex_lock(&cmd->dev->lock);
	p->def = vd->mode_default;
	p->saved = vd->mode_saved;
	pthread_mutex_unlock(&cmd->dev->lock);
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

/* Stores the new current values (and, with SP=1, the saved ones, whose
 * file is written before the command completes); other nexuses learn of
 * a change of the current ones through MODE PARAMETERS CHANGED (SPC-4
 * 5.14, the nexus that changed them does not). Returns whether @cmd
 * completes later (the save is under way). */
static bool mode_params_apply(struct scst_cmd *cmd, const struct mode_select_result *r)
{
	struct scst_device *dev = cmd->dev;
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct mode_values cur;
	bool changed, saving = false;

	pthread_mutex_lock(&dev->lock);
	cur = current_values(dev);
	changed = !mode_values_equal(&cur, &r->v);
	set_current_values(dev, &r->v);
	if (r->save) {
		/* Submitted under the lock: the files are written in the
		 * order the values were saved. */
		saving = vdisk_mode_save_submit(cmd, &r->v, &vd->mode_saved);
		if (saving)
			vd->mode_saved = r->v;
	}
	pthread_mutex_unlock(&dev->lock);
	if (changed) {
		log_info("vdisk: %s: mode parameters changed: WCE %d D_SENSE %d SWP %d QAM %u "
			 "TST %u QERR %u TAS %d UA_INTLCK_CTRL %u",
			 dev->name, r->v.wce, r->v.d_sense, r->v.swp, r->v.qam, r->v.tst, r->v.qerr,
			 r->v.tas, r->v.ua_intlck_ctrl);
		scst_dev_queue_ua(dev, cmd->tgt_dev,
				  scsi_sense_make(SK_UNIT_ATTENTION, ASC_MODE_PARAMETERS_CHANGED));
	}
	if (r->save && !saving)
		scst_set_cmd_status(cmd, SAM_STAT_BUSY); /* no memory for the save */
	return saving;
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
	else if (mode_params_apply(cmd, &r))
		return;
	scst_cmd_done(cmd);
}
